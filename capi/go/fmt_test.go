package connections_test

import (
	"fmt"
	"strings"
	"testing"

	connections "datahub.example/connections"
)

// fmt calls Details.Format only on values it can interface: those reached through
// exported fields. These hold (no password) for Connection, NewConnection, Patch,
// []Connection and a map holding them, printed as they are and in exported fields; and for
// pointers to them in unexported fields (fmt prints a nested pointer as an address).
//
// A Details reached through an unexported field (the reviewer's case, struct{ conn
// NewConnection }) is printed by reflection, which calls no method: its password shows.
// That is the limit docs/bindings.md states: the binding cannot change it, as Details is a
// map[string]any whose values the caller reads (and writes) as plain strings, and fmt
// prints a string reached by reflection as it is. The last loop pins that limit, so a Go
// release that changes it tells us to revise the doc.
func TestFormattingAndItsLimitForUnexportedFields(t *testing.T) {
	secret := func() connections.Details {
		return connections.Details{"host": "db", "port": int64(5432), "password": "s3cret"}
	}
	c := connections.Connection{ID: 1, Name: "c", Type: connections.TypePostgreSQL, Details: secret()}
	n := connections.NewConnection{Name: "n", Type: connections.TypePostgreSQL, Details: secret()}
	p := connections.Patch{Details: secret()}
	type exported struct {
		C  connections.Connection
		N  connections.NewConnection
		P  connections.Patch
		L  []connections.Connection
		M  map[string]connections.Connection
		PC *connections.Connection
	}
	type pointers struct {
		c *connections.Connection
		n *connections.NewConnection
		p *connections.Patch
		l *[]connections.Connection
		m *map[string]connections.Connection
	}
	l := []connections.Connection{c, c}
	m := map[string]connections.Connection{"a": c}
	safe := []any{c, &c, n, &n, p, &p, l, m, map[string]any{"n": n, "p": p},
		exported{C: c, N: n, P: p, L: l, M: m, PC: &c}, &exported{C: c, L: l},
		[]exported{{N: n}}, pointers{&c, &n, &p, &l, &m}}
	for _, v := range safe {
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			if out := fmt.Sprintf(verb, v); strings.Contains(out, "s3cret") {
				t.Errorf("%s of %T shows the password: %s", verb, v, out)
			} else if !strings.Contains(out, "[redacted]") && !strings.Contains(out, "0x") {
				t.Errorf("%s of %T shows neither [redacted] nor a pointer: %s", verb, v, out)
			}
		}
	}
	type unexported struct{ conn connections.NewConnection }
	leaky := []any{unexported{n}, struct{ c connections.Connection }{c}, struct{ p connections.Patch }{p},
		struct{ l []connections.Connection }{l}, struct {
			m map[string]connections.Connection
		}{m},
		struct{ d connections.Details }{n.Details}}
	for _, v := range leaky {
		if out := fmt.Sprintf("%+v", v); !strings.Contains(out, "s3cret") {
			t.Errorf("fmt now hides a password behind an unexported field (%T: %s): revise docs/bindings.md", v, out)
		}
	}
}
