package connections

/*
#include <datahub/connections.h>
#include <stdint.h>
#include <stdlib.h>

extern int dhcGoVisitJSON(void *, char *);

static int dhc_go_record(void *ud, const char *json) { return dhcGoVisitJSON(ud, (char *)json); }

static dhc_code dhc_go_for_each(dhc_store *store, const char *query, uint32_t flags,
                                uintptr_t handle, dhc_error **err) {
  return dhc_connection_for_each(store, query, flags, dhc_go_record, (void *)handle, err);
}
*/
import "C"

import (
	"encoding/json"
	"errors"
	"fmt"
	"unsafe"
)

// Stop is returned by a ForEach callback to end the iteration early; ForEach then returns
// nil.
var Stop = errors.New("connections: stop iteration")

// CreateMany creates every connection in cs, or none: all are validated first (an error
// names the record, "connections[i].<field>"), then written in one transaction. It returns
// the stored records in input order, secrets redacted.
func (s *Store) CreateMany(cs []NewConnection, actor string) ([]Connection, error) {
	for i, c := range cs {
		if err := checkNew(c); err != nil {
			var e *Error
			if errors.As(err, &e) {
				return nil, &Error{Code: e.Code, Message: fmt.Sprintf("connections[%d].%s", i, e.Message)}
			}
			return nil, err
		}
	}
	if cs == nil {
		cs = []NewConnection{} // [] and not null
	}
	body, err := json.Marshal(cs)
	if err != nil {
		return nil, invalid("connections", err.Error())
	}
	defer wipe(body)
	cactor, err := cText("actor", actor)
	if err != nil {
		return nil, err
	}
	defer C.free(unsafe.Pointer(cactor))
	cbody := cSecret(body)
	defer freeSecret(cbody, len(body))
	var out struct {
		Items []Connection `json:"items"`
	}
	err = s.jsonCall(&out, func(h *C.dhc_store, res **C.char, e **C.dhc_error) C.dhc_code {
		return C.dhc_connection_create_many(h, cbody, cactor, res, e)
	})
	if err != nil {
		return nil, err
	}
	return out.Items, nil
}

// ForEach calls fn with every connection matching q, in id order, streaming in constant
// memory (q.Limit is the page size fetched at a time; q.AfterID where to start). A row
// whose details cannot be opened comes with Err set, as in List.
//
// fn returns nil to go on, Stop to end early (ForEach returns nil), or another error to end
// early with that error; a nil *RowError counts as nil (so fn may return c.Err). A panic
// in fn is recovered and returned as a *PanicError. fn runs on the calling goroutine and
// may call the store's other methods (no session is held between pages), Close included
// (ForEach then goes on to the end, or until fn returns Stop, and fn's calls to the store
// fail); it must not call runtime.Goexit (t.Fatal in a test): that would unwind through
// the library's C frames.
func (s *Store) ForEach(q Query, secrets Secrets, fn func(*Connection) error) error {
	if fn == nil {
		return invalid("fn", "must not be nil")
	}
	if err := checkQuery(q); err != nil {
		return err
	}
	body, err := json.Marshal(q)
	if err != nil {
		return invalid("query", err.Error())
	}
	cbody := cSecret(body)
	defer C.free(unsafe.Pointer(cbody))
	visit := func(text []byte) (bool, error) {
		var c Connection
		if err := json.Unmarshal(text, &c); err != nil {
			return false, decodeError(err)
		}
		if err := fn(&c); err != nil {
			if re, ok := err.(*RowError); ok && re == nil {
				return true, nil // c.Err of a healthy row: no error
			}
			if errors.Is(err, Stop) {
				return false, nil
			}
			return false, err
		}
		return true, nil
	}
	return s.call(func(h *C.dhc_store) error {
		return visitCall(s.ref.st, visit, func(handle C.uintptr_t) error {
			var e *C.dhc_error
			if code := C.dhc_go_for_each(h, cbody, C.uint32_t(secrets), handle, &e); code != C.DHC_OK {
				return takeError(code, e)
			}
			return nil
		})
	})
}
