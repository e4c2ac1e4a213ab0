package connections_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	connections "datahub.example/connections"
)

func TestTestConninfoAndURIKeepThePasswordBack(t *testing.T) {
	s, p := openStore(t)
	c, err := s.Create(connections.NewConnection{Name: p + "unreachable", Type: connections.TypePostgreSQL,
		Details: connections.Details{"host": "127.0.0.1", "port": int64(1), "database": "d",
			"username": "u", "password": "go-never-shown"}}, "go-test")
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Test(c.ID, 3*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if r.OK || r.Failure == nil || *r.Failure != "unreachable" {
		t.Fatalf("want a failed test with failure \"unreachable\", got %+v", r)
	}
	if body, _ := json.Marshal(r); strings.Contains(string(body), "go-never-shown") {
		t.Fatalf("the password is in the result: %s", body)
	}
	for _, tc := range []struct {
		secrets connections.Secrets
		want    string
	}{{connections.Redact, "postgresql://u@127.0.0.1:1/d"}, {connections.Reveal, "postgresql://u:go-never-shown@127.0.0.1:1/d"}} {
		if got, err := s.URI(c.ID, tc.secrets); err != nil || got != tc.want {
			t.Fatalf("URI: got %q, %v; want %q", got, err, tc.want)
		}
	}
	if got, err := s.Conninfo(c.ID, connections.Redact); err != nil || strings.Contains(got, "go-never-shown") {
		t.Fatalf("Conninfo redacted: got %q, %v", got, err)
	}
	if got, err := s.Conninfo(c.ID, connections.Reveal); err != nil || !strings.Contains(got, "password='go-never-shown'") {
		t.Fatalf("Conninfo revealed: got %q, %v", got, err)
	}
}

func TestTestRejectsAnOutOfRangeTimeoutAndAMissingID(t *testing.T) {
	s, _ := openStore(t)
	if _, err := s.Test(1, time.Millisecond); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Fatalf("timeout 1 ms: want ErrInvalidArgument, got %v", err)
	}
	if _, err := s.Test(-1, 0); !errors.Is(err, connections.ErrNotFound) { // no row can have it
		t.Fatalf("id -1: want ErrNotFound, got %v", err)
	}
	if _, err := s.Test(2000000000, 0); !errors.Is(err, connections.ErrNotFound) {
		t.Fatalf("id 2000000000: want ErrNotFound, got %v", err)
	}
}
