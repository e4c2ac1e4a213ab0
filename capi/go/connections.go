package connections

/*
#include <datahub/connections.h>
#include <stdlib.h>
*/
import "C"

import (
	"encoding/json"
	"time"
	"unsafe"
)

// Migrate applies every pending schema migration. Idempotent.
func (s *Store) Migrate() error {
	return s.call(func(h *C.dhc_store) error {
		var e *C.dhc_error
		if code := C.dhc_schema_migrate(h, &e); code != C.DHC_OK {
			return takeError(code, e)
		}
		return nil
	})
}

// SchemaStatus reports the applied and the latest schema version.
func (s *Store) SchemaStatus() (SchemaStatus, error) {
	var st SchemaStatus
	err := s.call(func(h *C.dhc_store) error {
		var cur, latest C.int
		var e *C.dhc_error
		if code := C.dhc_schema_status(h, &cur, &latest, &e); code != C.DHC_OK {
			return takeError(code, e)
		}
		st = SchemaStatus{CurrentVersion: int(cur), LatestVersion: int(latest)}
		return nil
	})
	return st, err
}

// RollbackIndexes drops the indexes, keeping the table and its rows.
func (s *Store) RollbackIndexes() error {
	return s.call(func(h *C.dhc_store) error {
		var e *C.dhc_error
		if code := C.dhc_schema_rollback_indexes(h, &e); code != C.DHC_OK {
			return takeError(code, e)
		}
		return nil
	})
}

// DropTable DESTROYS DATA: it drops the table and every row in it.
func (s *Store) DropTable() error {
	return s.call(func(h *C.dhc_store) error {
		var e *C.dhc_error
		if code := C.dhc_schema_drop_table(h, &e); code != C.DHC_OK {
			return takeError(code, e)
		}
		return nil
	})
}

// Create stores a new connection; actor becomes created_by. Secrets come back redacted.
func (s *Store) Create(c NewConnection, actor string) (*Connection, error) {
	if err := checkNew(c); err != nil {
		return nil, err
	}
	body, err := json.Marshal(c)
	if err != nil {
		return nil, invalid("connection", err.Error())
	}
	defer wipe(body)
	cactor, err := cText("actor", actor)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cactor))
	cbody := cSecret(body)
	defer freeSecret(cbody, len(body))
	var out Connection
	err = s.jsonCall(&out, func(h *C.dhc_store, res **C.char, e **C.dhc_error) C.dhc_code {
		return C.dhc_connection_create(h, cbody, cactor, res, e)
	})
	return result(&out, err)
}

// Get returns the connection with this id (errors.Is(err, ErrNotFound) when there is none).
func (s *Store) Get(id int64, secrets Secrets) (*Connection, error) {
	var out Connection
	err := s.jsonCall(&out, func(h *C.dhc_store, res **C.char, e **C.dhc_error) C.dhc_code {
		return C.dhc_connection_get(h, C.int64_t(id), C.uint32_t(secrets), res, e)
	})
	return result(&out, err)
}

// FindByName returns every connection with exactly this name (names are not unique).
func (s *Store) FindByName(name string, secrets Secrets) ([]Connection, error) {
	cname, err := cText("name", name)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cname))
	var out struct {
		Items []Connection `json:"items"`
	}
	err = s.jsonCall(&out, func(h *C.dhc_store, res **C.char, e **C.dhc_error) C.dhc_code {
		return C.dhc_connection_find_by_name(h, cname, C.uint32_t(secrets), res, e)
	})
	if err != nil {
		return nil, err
	}
	return out.Items, nil
}

// List returns one page of connections matching q, by id.
func (s *Store) List(q Query, secrets Secrets) (*Page, error) {
	if err := checkQuery(q); err != nil {
		return nil, err
	}
	body, err := json.Marshal(q)
	if err != nil {
		return nil, invalid("query", err.Error())
	}
	cbody := cSecret(body)
	defer C.free(unsafe.Pointer(cbody))
	var out Page
	err = s.jsonCall(&out, func(h *C.dhc_store, res **C.char, e **C.dhc_error) C.dhc_code {
		return C.dhc_connection_list(h, cbody, C.uint32_t(secrets), res, e)
	})
	return result(&out, err)
}

// Update applies p if the row's updated_at still equals expectedUpdatedAt (the value you
// read), else fails with Conflict (errors.Is(err, ErrConflict)).
func (s *Store) Update(id int64, p Patch, actor string, expectedUpdatedAt time.Time) (*Connection, error) {
	return s.update(id, p, actor, map[string]any{
		"expected_updated_at": expectedUpdatedAt.UTC().Format("2006-01-02T15:04:05.000000Z")})
}

// ForceUpdate applies p without the version check: the last writer wins.
func (s *Store) ForceUpdate(id int64, p Patch, actor string) (*Connection, error) {
	return s.update(id, p, actor, map[string]any{"force": true})
}

func (s *Store) update(id int64, p Patch, actor string, body map[string]any) (*Connection, error) {
	if err := p.fill(body); err != nil {
		return nil, err
	}
	text, err := json.Marshal(body)
	if err != nil {
		return nil, invalid("patch", err.Error())
	}
	defer wipe(text)
	cactor, err := cText("actor", actor)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cactor))
	ctext := cSecret(text)
	defer freeSecret(ctext, len(text))
	var out Connection
	err = s.jsonCall(&out, func(h *C.dhc_store, res **C.char, e **C.dhc_error) C.dhc_code {
		return C.dhc_connection_update(h, C.int64_t(id), ctext, cactor, res, e)
	})
	return result(&out, err)
}

// jsonCall runs a dhc_* call that returns JSON and decodes it into v.
func (s *Store) jsonCall(v any, fn func(h *C.dhc_store, out **C.char, e **C.dhc_error) C.dhc_code) error {
	return s.call(func(h *C.dhc_store) error {
		var out *C.char
		var e *C.dhc_error
		if code := fn(h, &out, &e); code != C.DHC_OK {
			return takeError(code, e)
		}
		return takeJSON(out, v)
	})
}

func result[T any](v *T, err error) (*T, error) {
	if err != nil {
		return nil, err
	}
	return v, nil
}

// Delete deletes a connection (errors.Is(err, ErrNotFound) when there is none).
func (s *Store) Delete(id int64) error {
	return s.call(func(h *C.dhc_store) error {
		var e *C.dhc_error
		if code := C.dhc_connection_delete(h, C.int64_t(id), &e); code != C.DHC_OK {
			return takeError(code, e)
		}
		return nil
	})
}
