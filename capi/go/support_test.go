package connections_test

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"strings"
	"testing"

	connections "datahub.example/connections"
)

// database is DATAHUB_TEST_DATABASE; a test fails (not skips) without it.
func database(t *testing.T) string {
	t.Helper()
	db := os.Getenv("DATAHUB_TEST_DATABASE")
	if db == "" {
		t.Fatal("DATAHUB_TEST_DATABASE is not set (a libpq conninfo of a scratch database)")
	}
	return db
}

func randomKey(t *testing.T) []byte {
	t.Helper()
	k := make([]byte, 32)
	if _, err := rand.Read(k); err != nil {
		t.Fatal(err)
	}
	return k
}

func staticConfig(t *testing.T) map[string]any {
	return map[string]any{"database": database(t), "pool_size": 4,
		"keys": map[string]any{"provider": "static", "primary": "go-test",
			"keys": map[string]string{"go-test": base64.StdEncoding.EncodeToString(randomKey(t))}}}
}

// prefix is a name prefix unique to the test; cleanup deletes the rows that carry it.
func prefix(t *testing.T) string {
	return fmt.Sprintf("go-%s-%x-", strings.ReplaceAll(t.Name(), "/", "_"), randomKey(t)[:4])
}

func openStore(t *testing.T) (*connections.Store, string) {
	t.Helper()
	s, err := connections.Open(staticConfig(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(); err != nil {
		t.Fatal(err)
	}
	p := prefix(t)
	t.Cleanup(func() { cleanup(t, s, p); s.Close() })
	return s, p
}

// storeToClose opens a store for a test that closes it, on n rows with the test's prefix
// that another store (the owner) writes, and deletes when the test ends.
func storeToClose(t *testing.T, n int) (*connections.Store, string) {
	t.Helper()
	config, p := staticConfig(t), prefix(t)
	owner, err := connections.Open(config)
	if err != nil {
		t.Fatal(err)
	}
	if err := owner.Migrate(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanup(t, owner, p); owner.Close() })
	if _, err := owner.CreateMany(samples(p, n), "t"); err != nil {
		t.Fatal(err)
	}
	s, err := connections.Open(config)
	if err != nil {
		t.Fatal(err)
	}
	return s, p
}

func cleanup(t *testing.T, s *connections.Store, p string) {
	var ids []int64
	_ = s.ForEach(connections.Query{NamePrefix: p}, connections.Redact, func(c *connections.Connection) error {
		ids = append(ids, c.ID)
		return nil
	})
	for _, id := range ids {
		if err := s.Delete(id); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	}
}

func sample(name string) connections.NewConnection {
	return connections.NewConnection{Name: name, Type: connections.TypePostgreSQL,
		Details: connections.Details{"host": "db.example.com", "database": "main_db",
			"username": "app_user", "password": "s3cret"}}
}
