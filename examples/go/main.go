// DataHub Connections from Go (cgo): create, read, list, update, delete.
//
// After the quickstart, from the repository root:
//
//	export DATAHUB_DATABASE="host=/run/postgresql dbname=datahub"      # a libpq conninfo
//	export DATAHUB_CONNECTIONS_KEYS="local-1:$(head -c 32 /dev/urandom | base64 -w0)"
//	export CGO_CFLAGS="-I$PWD/include -I$PWD/build/include" CGO_LDFLAGS="-L$PWD/build/lib"
//	export LD_LIBRARY_PATH=$PWD/build/lib GOFLAGS=-mod=mod
//	(cd examples/go && go run .)
package main

import (
	"errors"
	"fmt"
	"os"

	connections "datahub.example/connections"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func run() error {
	database := os.Getenv("DATAHUB_DATABASE")
	if database == "" || os.Getenv("DATAHUB_CONNECTIONS_KEYS") == "" {
		fmt.Fprintln(os.Stderr, "set DATAHUB_DATABASE (a libpq conninfo) and DATAHUB_CONNECTIONS_KEYS")
		os.Exit(2)
	}
	fmt.Println("libdatahub_connections", connections.Version())

	// Keys from DATAHUB_CONNECTIONS_KEYS ("kid:base64,..."; the first one is the primary).
	store, err := connections.Open(map[string]any{"database": database, "pool_size": 2,
		"keys": map[string]any{"provider": "env"}})
	if err != nil {
		return err
	}
	defer store.Close()
	if err := store.Migrate(); err != nil {
		return err
	}

	description := "made by examples/go"
	created, err := store.Create(connections.NewConnection{
		Name: "Example DB (Go)", Description: &description, Type: connections.TypePostgreSQL,
		Details: connections.Details{"host": "db.example.com", "database": "main_db",
			"username": "app_user", "password": "s3cret"},
		Tags: []string{"example"},
	}, "example-go")
	if err != nil {
		return err
	}
	fmt.Println("created: ", created.ID, created.Details, "redacted:", created.Redacted)

	// Only code that really connects to the target database should reveal secrets.
	full, err := store.Get(created.ID, connections.Reveal)
	if err != nil {
		return err
	}
	_, has := full.Details["password"]
	fmt.Println("revealed: password present:", has)

	// Optimistic concurrency: pass back the UpdatedAt you read. Only the port changes.
	updated, err := store.Update(created.ID, connections.Patch{Details: map[string]any{"port": 6432}},
		"example-go", created.UpdatedAt)
	if err != nil {
		return err
	}
	fmt.Println("updated: ", updated.Details)
	late := "late"
	if _, err := store.Update(created.ID, connections.Patch{Name: &late}, "example-go",
		created.UpdatedAt); errors.Is(err, connections.ErrConflict) {
		fmt.Println("conflict:", err)
	}

	err = store.ForEach(connections.Query{TagsAll: []string{"example"}, Limit: 50}, connections.Redact,
		func(c *connections.Connection) error {
			fmt.Println("listed:  ", c.ID, c.Name)
			return nil
		})
	if err != nil {
		return err
	}

	// Bulk: every record or none, in one transaction; then streamed back in constant memory
	// (returning connections.Stop from the callback would end early).
	var replicas []connections.NewConnection
	for i := 1; i <= 2; i++ {
		replicas = append(replicas, connections.NewConnection{
			Name: fmt.Sprintf("Example replica %d (Go)", i), Type: connections.TypePostgreSQL,
			Details: connections.Details{"host": fmt.Sprintf("replica%d.example.com", i),
				"database": "main_db", "username": "app_user", "password": "s3cret"},
			Tags: []string{"example", "replica"},
		})
	}
	stored, err := store.CreateMany(replicas, "example-go")
	if err != nil {
		return err
	}
	err = store.ForEach(connections.Query{TagsAll: []string{"example", "replica"}}, connections.Redact,
		func(c *connections.Connection) error {
			fmt.Println("streamed:", c.ID, c.Name)
			return nil
		})
	if err != nil {
		return err
	}
	census, err := store.KeysCensus()
	if err != nil {
		return err
	}
	var underPrimary int64
	for _, k := range census.Keys {
		if k.KeyID == census.Primary {
			underPrimary += k.Rows
		}
	}
	fmt.Println("census:  ", underPrimary, "row(s) under the primary key", census.Primary)
	for _, r := range stored {
		if err := store.Delete(r.ID); err != nil {
			return err
		}
	}

	if err := store.Delete(created.ID); err != nil {
		return err
	}
	var e *connections.Error
	if _, err := store.Get(created.ID, connections.Redact); errors.As(err, &e) && e.Code == connections.NotFound {
		fmt.Println("deleted: ", e.Message)
	}
	return nil
}
