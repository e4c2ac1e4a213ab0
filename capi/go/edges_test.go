package connections_test

import (
	"errors"
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
