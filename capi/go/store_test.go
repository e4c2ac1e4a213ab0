package connections_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	connections "datahub.example/connections"
)

func TestCreateGetRedactedAndRevealed(t *testing.T) {
	s, p := openStore(t)
	in := sample(p + "a")
	in.Tags = []string{"prod", "main"}
	c, err := s.Create(in, "user_01")
	if err != nil {
		t.Fatal(err)
	}
	if c.Name != p+"a" || c.Description != nil || len(c.Tags) != 2 || c.CreatedBy != "user_01" {
		t.Errorf("unexpected record %+v", c)
	}
	if _, ok := c.Details["password"]; ok || len(c.Redacted) != 1 || c.Redacted[0] != "password" {
		t.Errorf("password not redacted: %+v", c.Details)
	}
	if port, ok := c.Details["port"].(int64); !ok || port != 5432 {
		t.Errorf("port = %#v, want int64 5432", c.Details["port"])
	}
	full, err := s.Get(c.ID, connections.Reveal)
	if err != nil || full.Details["password"] != "s3cret" || len(full.Redacted) != 0 {
		t.Fatalf("reveal: %v %+v", err, full)
	}
	if !full.UpdatedAt.Equal(c.UpdatedAt) || full.UpdatedAt.Nanosecond()%1000 != 0 {
		t.Errorf("updated_at %v vs %v", full.UpdatedAt, c.UpdatedAt)
	}
}

func TestUpdateDeleteAndErrors(t *testing.T) {
	s, p := openStore(t)
	c, err := s.Create(sample(p+"u"), "alice")
	if err != nil {
		t.Fatal(err)
	}
	desc := "changed"
	u, err := s.Update(c.ID, connections.Patch{Description: &desc,
		Details: map[string]any{"port": 6543}}, "bob", c.UpdatedAt)
	if err != nil || *u.Description != desc || u.Details["port"] != int64(6543) || u.UpdatedBy != "bob" {
		t.Fatalf("update: %v %+v", err, u)
	}
	// The same expected_updated_at again is stale.
	_, err = s.Update(c.ID, connections.Patch{Description: &desc}, "bob", c.UpdatedAt)
	var e *connections.Error
	if !errors.As(err, &e) || e.Code != connections.Conflict || !errors.Is(err, connections.ErrConflict) {
		t.Fatalf("want Conflict, got %v", err)
	}
	f, err := s.ForceUpdate(c.ID, connections.Patch{ClearDescription: true, Tags: []string{},
		Details: map[string]any{"password": nil}}, "carol")
	if err != nil || f.Description != nil || len(f.Tags) != 0 || len(f.Redacted) != 0 {
		t.Fatalf("force update: %v %+v", err, f)
	}
	if err := s.Delete(c.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(c.ID, connections.Redact); !errors.Is(err, connections.ErrNotFound) {
		t.Fatalf("want NotFound, got %v", err)
	}
}

func TestListPagesAndFindByName(t *testing.T) {
	s, p := openStore(t)
	var ids []int64
	for i := 0; i < 5; i++ {
		c, err := s.Create(sample(fmt.Sprintf("%s%d", p, i)), "t")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, c.ID)
	}
	page, err := s.List(connections.Query{NamePrefix: p, Limit: 2}, connections.Redact)
	if err != nil || len(page.Items) != 2 || page.NextAfterID == nil || *page.NextAfterID != ids[1] {
		t.Fatalf("first page: %v %+v", err, page)
	}
	var seen []int64
	err = s.ForEach(connections.Query{NamePrefix: p, Limit: 2}, connections.Redact, func(c *connections.Connection) error {
		seen = append(seen, c.ID)
		return nil
	})
	if err != nil || fmt.Sprint(seen) != fmt.Sprint(ids) {
		t.Fatalf("ForEach: %v %v", err, seen)
	}
	found, err := s.FindByName(p+"3", connections.Redact)
	if err != nil || len(found) != 1 || found[0].ID != ids[3] {
		t.Fatalf("FindByName: %v %+v", err, found)
	}
}

func TestBadInputIsInvalidArgument(t *testing.T) {
	s, p := openStore(t)
	cases := map[string]connections.NewConnection{
		"unknown detail": {Name: p + "x", Type: "POSTGRESQL", Details: connections.Details{"host": "h", "database": "d", "username": "u", "passwrd": "hunter2-secret"}},
		"long name":      {Name: p + strings.Repeat("n", 101), Type: "POSTGRESQL", Details: connections.Details{"host": "h", "database": "d", "username": "u"}},
		"bad utf8":       {Name: p + "\xff", Type: "POSTGRESQL", Details: connections.Details{"host": "h", "database": "d", "username": "u"}},
		"float port":     {Name: p + "x", Type: "POSTGRESQL", Details: connections.Details{"host": "h", "database": "d", "username": "u", "port": 5432.5}},
		"no type":        {Name: p + "x", Details: connections.Details{"host": "h", "database": "d", "username": "u"}},
	}
	for name, in := range cases {
		_, err := s.Create(in, "t")
		var e *connections.Error
		if !errors.As(err, &e) || e.Code != connections.InvalidArgument {
			t.Errorf("%s: want InvalidArgument, got %v", name, err)
		} else if strings.Contains(e.Message, "hunter2") {
			t.Errorf("%s: secret in message %q", name, e.Message)
		}
	}
	if _, err := s.Create(sample(p+"x"), "nul\x00actor"); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("NUL in actor: %v", err)
	}
	if _, err := s.List(connections.Query{Limit: 5000}, connections.Redact); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("limit 5000: %v", err)
	}
	if _, err := connections.Open(`{"database": "x", "colour": "red"}`); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("config: %v", err)
	}
}

// A config text is a C string: it used to be read up to a NUL, the rest silently ignored.
func TestConfigTextWithANULIsInvalidArgument(t *testing.T) {
	good, err := json.Marshal(staticConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, config := range []any{string(good) + "\x00trailing", append(good, 0, '}')} {
		s, err := connections.Open(config)
		if s != nil {
			s.Close()
		}
		if !errors.Is(err, connections.ErrInvalidArgument) || !strings.Contains(err.Error(), "NUL") {
			t.Errorf("%T config with a NUL: %v", config, err)
		}
	}
}

// encoding/json would have replaced the bad bytes with U+FFFD: a config that is not the
// one given, opened without a word.
func TestConfigMapWithInvalidUTF8IsInvalidArgument(t *testing.T) {
	config := staticConfig(t)
	config["cipher"] = "A256GCM\xff"
	s, err := connections.Open(config)
	if s != nil {
		s.Close()
	}
	if !errors.Is(err, connections.ErrInvalidArgument) || !strings.Contains(err.Error(), "UTF-8") {
		t.Fatalf("config map with invalid UTF-8: %v", err)
	}
	config["cipher"] = "A256GCM"
	s, err = connections.Open(config) // the same map, valid: opens
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

func TestConcurrentUseAndClose(t *testing.T) {
	s, p := openStore(t)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for r := 0; r < 5; r++ {
				c, err := s.Create(sample(fmt.Sprintf("%s%d-%d", p, g, r)), "t")
				if err == nil {
					_, err = s.Get(c.ID, connections.Reveal)
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st, err := s.SchemaStatus()
	if err != nil || st.CurrentVersion != st.LatestVersion {
		t.Errorf("schema status %+v %v", st, err)
	}
	other, _ := connections.Open(staticConfig(t))
	other.Close()
	if err := other.Close(); err != nil {
		t.Error(err)
	}
	if err := other.Migrate(); !errors.Is(err, connections.ErrInvalidArgument) {
		t.Errorf("use after Close: %v", err)
	}

	// Close from another goroutine waits for a call in progress outside every callback (a
	// Test waiting on a server that never answers), which ends normally; calls made
	// meanwhile fail at once.
	port, accepted := silentServer(t)
	w, err := connections.Open(staticConfig(t)) // the one closed; s deletes its row
	if err != nil {
		t.Fatal(err)
	}
	silent, err := w.Create(silentConnection(p+"silent", port), "t")
	if err != nil {
		t.Fatal(err)
	}
	const timeout = 4 * time.Second
	test := blockedTest(t, w, silent.ID, timeout, accepted)
	start, closed := time.Now(), make(chan time.Duration, 1)
	go func() {
		w.Close()
		closed <- time.Since(start)
	}()
	for deadline := time.Now().Add(deadlock); ; {
		if _, err := w.KeysCensus(); isClosed(err) {
			break
		} else if err != nil || time.Now().After(deadline) {
			t.Fatalf("a call while Close waits: %v", err)
		}
	}
	select {
	case took := <-closed:
		if took < timeout/2 {
			t.Errorf("Close returned after %v, before the Test in progress (%v timeout) ended", took, timeout)
		}
		if !connections.HandleFreed(w) {
			t.Error("the handle is still open after Close returned")
		}
	case <-time.After(deadlock):
		t.Fatal("Close never returned")
	}
	checkTimedOut(t, test)
}
