package connections_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	connections "datahub.example/connections"
)

// A callback that panics with a nil value (panic(nil): recover() returns nil before Go
// 1.21, and with this module's go directive on later toolchains) used to be taken for a
// callback that returned normally: the iteration went on and ForEach returned nil.
func TestForEachPanicWithNilIsAPanicError(t *testing.T) {
	s, p := openStore(t)
	if _, err := s.CreateMany(samples(p, 3), "t"); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := s.ForEach(connections.Query{NamePrefix: p}, connections.Redact, func(*connections.Connection) error {
		n++
		panic(nil)
	})
	var pe *connections.PanicError
	if !errors.As(err, &pe) || n != 1 {
		t.Fatalf("want a PanicError after 1 record, got %v after %d", err, n)
	}
	if got := countPrefix(t, s, p); got != 3 {
		t.Fatalf("after the panic: %d rows", got)
	}
}

// fmt printed a Details map as is: a revealed record, a new record or a patch logged with
// %v or %+v carried its password.
func TestFormattingNeverShowsAPassword(t *testing.T) {
	s, p := openStore(t)
	c, err := s.Create(sample(p+"fmt"), "t")
	if err != nil {
		t.Fatal(err)
	}
	full, err := s.Get(c.ID, connections.Reveal)
	if err != nil || full.Details["password"] != "s3cret" {
		t.Fatalf("%v %v", err, full)
	}
	page, err := s.List(connections.Query{NamePrefix: p}, connections.Reveal)
	if err != nil {
		t.Fatal(err)
	}
	patch := connections.Patch{Details: map[string]any{"password": "s3cret", "port": 6432}}
	for _, v := range []any{full, *full, full.Details, page, sample(p), &patch, patch} {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X"} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, "s3cret") ||
				strings.Contains(out, fmt.Sprintf("%x", "s3cret")) || strings.Contains(out, fmt.Sprintf("%X", "s3cret")) {
				t.Errorf("%s of %T shows the password: %s", verb, v, out)
			}
		}
	}
	// The other fields still show, and the map itself is untouched.
	if out := fmt.Sprint(full.Details); !strings.Contains(out, "host:db.example.com") || !strings.Contains(out, "password:") {
		t.Errorf("Details printed as %s", out)
	}
	if full.Details["password"] != "s3cret" || patch.Details["password"] != "s3cret" {
		t.Error("formatting changed the map")
	}
}

// A nil *Store (Open failed, or a zero Store) used to panic with a nil dereference.
func TestANilOrZeroStoreIsAnErrorNotAPanic(t *testing.T) {
	var nilStore *connections.Store
	for name, s := range map[string]*connections.Store{"nil": nilStore, "zero": {}} {
		if err := s.Close(); err != nil {
			t.Errorf("%s: Close: %v", name, err)
		}
		if _, err := s.Get(1, connections.Redact); !errors.Is(err, connections.ErrInvalidArgument) {
			t.Errorf("%s: Get: %v", name, err)
		}
		if err := s.ForEach(connections.Query{}, connections.Redact, func(*connections.Connection) error { return nil }); !errors.Is(err, connections.ErrInvalidArgument) {
			t.Errorf("%s: ForEach: %v", name, err)
		}
		if _, err := s.KeysRotate(connections.RotateOptions{}, func(connections.RotateReport) bool { return true }); !errors.Is(err, connections.ErrInvalidArgument) {
			t.Errorf("%s: KeysRotate: %v", name, err)
		}
	}
}

// A list item's error (Connection.Err) matched no sentinel: errors.Is(c.Err,
// ErrKeyUnavailable) was false for a row whose key is unavailable.
func TestARowErrorMatchesItsSentinel(t *testing.T) {
	k := newKeyring(t)
	writer := k.open("k1")
	if _, err := writer.Create(sample(k.prefix+"row"), "t"); err != nil {
		t.Fatal(err)
	}
	reader := k.open("k2") // lacks k1
	page, err := reader.List(connections.Query{NamePrefix: k.prefix}, connections.Redact)
	if err != nil || len(page.Items) != 1 || page.Items[0].Err == nil {
		t.Fatalf("%v %+v", err, page)
	}
	rowErr := page.Items[0].Err
	if !errors.Is(rowErr, connections.ErrKeyUnavailable) || errors.Is(rowErr, connections.ErrIntegrity) {
		t.Errorf("errors.Is(%v, ErrKeyUnavailable) = %v", rowErr, errors.Is(rowErr, connections.ErrKeyUnavailable))
	}
}

// A ForEach fn returning c.Err of a healthy row (a nil *RowError in a non-nil error) made
// ForEach call (*RowError).Is on nil: a nil dereference, returned as a PanicError. A nil
// *RowError is now no error, and its methods accept nil.
func TestForEachReturningTheErrOfAHealthyRowGoesOn(t *testing.T) {
	s, p := openStore(t)
	if _, err := s.CreateMany(samples(p, 3), "t"); err != nil {
		t.Fatal(err)
	}
	n := 0
	err := s.ForEach(connections.Query{NamePrefix: p}, connections.Redact, func(c *connections.Connection) error {
		n++
		return c.Err
	})
	if err != nil || n != 3 {
		t.Fatalf("want nil after 3 records, got %v after %d", err, n)
	}
	var nilRow *connections.RowError
	var asError error = nilRow
	if errors.Is(asError, connections.ErrKeyUnavailable) || errors.Is(asError, connections.Stop) ||
		nilRow.Error() != "<nil>" {
		t.Errorf("a nil *RowError: Is matched, or Error() = %q", nilRow.Error())
	}
}
