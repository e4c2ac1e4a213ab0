// Package connections is the DataHub Connections SDK for Go: a cgo binding of the C ABI
// (include/datahub/connections.h, libdatahub_connections).
//
//	store, err := connections.Open(`{"database": "host=/run/postgresql dbname=datahub",
//	                                 "keys": {"provider": "env"}}`)
//	if err != nil { ... }
//	defer store.Close()
//	c, err := store.Create(connections.NewConnection{Name: "Production DB",
//		Type: connections.TypePostgreSQL, Details: connections.Details{"host": "db",
//		"database": "main", "username": "app", "password": "s3cret"}}, "user_01")
//
// A Store is safe for concurrent use by many goroutines. Build with CGO_CFLAGS and
// CGO_LDFLAGS pointing at the headers and the library (see docs/c-api.md).
package connections

/*
#cgo LDFLAGS: -ldatahub_connections
#include <datahub/connections.h>
#include <stdlib.h>
*/
import "C"

import (
	"encoding/json"
	"reflect"
	"runtime"
	"runtime/cgo"
	"strings"
	"sync"
	"unsafe"
)

// Version is the C library's version, e.g. "0.1.0".
func Version() string { return C.GoString(C.dhc_version()) }

// Store is an open connection store.
type Store struct {
	// Calls count themselves in calls; Close sets closing, which refuses new calls, and
	// waits on idle for calls to drop to 0. (A sync.RWMutex deadlocked: a ForEach callback
	// taking the read lock again queued behind a waiting Close, which waited for ForEach.)
	mu      sync.Mutex
	idle    sync.Cond // on mu: calls dropped to 0
	calls   int
	closing bool
	handle  *C.dhc_store
}

// Open opens a store; config is dhc_store_open's JSON, as text or as a value that
// encoding/json marshals to it (e.g. map[string]any).
func Open(config any) (*Store, error) {
	return open(config, nil)
}

func open(config any, provider *cgo.Handle) (*Store, error) {
	text, err := configText(config)
	if err != nil {
		return nil, err
	}
	cconfig := C.CString(text)
	defer freeSecret(cconfig, len(text))
	var h *C.dhc_store
	var cerr *C.dhc_error
	var code C.dhc_code
	if provider == nil {
		code = C.dhc_store_open(cconfig, &h, &cerr)
	} else {
		code = openWithProvider(cconfig, *provider, &h, &cerr)
	}
	if code != C.DHC_OK {
		return nil, takeError(code, cerr)
	}
	s := &Store{handle: h}
	s.idle.L = &s.mu
	// A Store dropped without Close would keep its sessions (and its KeyProvider) for
	// the life of the process. No call is in progress once it is unreachable.
	runtime.SetFinalizer(s, (*Store).Close)
	return s, nil
}

func configText(config any) (string, error) {
	switch c := config.(type) {
	case string:
		return c, checkNUL("config", c)
	case []byte:
		return string(c), checkNUL("config", string(c))
	default:
		if err := checkConfigStrings(reflect.ValueOf(c), 0); err != nil {
			return "", err
		}
		b, err := json.Marshal(c)
		if err != nil {
			return "", invalid("config", err.Error())
		}
		return string(b), nil
	}
}

// Close closes the store, after waiting for calls in progress; calls made meanwhile fail
// (InvalidArgument, "store: closed"). Idempotent.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closing = true
	for s.calls > 0 {
		s.idle.Wait()
	}
	if s.handle != nil {
		C.dhc_store_close(s.handle)
		s.handle = nil
	}
	return nil
}

// call runs fn with the C handle, holding the store open meanwhile.
func (s *Store) call(fn func(h *C.dhc_store) error) error {
	s.mu.Lock()
	h := s.handle
	if h == nil || s.closing {
		s.mu.Unlock()
		return &Error{Code: InvalidArgument, Message: "store: closed"}
	}
	s.calls++
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.calls--; s.calls == 0 {
			s.idle.Broadcast()
		}
		s.mu.Unlock()
	}()
	return fn(h)
}

// takeError converts and frees a C error.
func takeError(code C.dhc_code, e *C.dhc_error) error {
	if e == nil {
		return &Error{Code: Code(code), Message: "(no message)"}
	}
	defer C.dhc_error_free(e)
	return &Error{Code: Code(C.dhc_error_code(e)), Message: C.GoString(C.dhc_error_message(e)),
		SQLState: C.GoString(C.dhc_error_sqlstate(e))}
}

// cText copies a Go string to C, refusing what C would silently truncate.
func cText(field, s string) (*C.char, error) {
	if err := checkNUL(field, s); err != nil {
		return nil, err
	}
	return C.CString(s), nil
}

// checkNUL refuses a NUL byte: C would read the text only up to it.
func checkNUL(field, s string) error {
	if strings.IndexByte(s, 0) >= 0 {
		return invalid(field, "must not contain NUL characters")
	}
	return nil
}

// freeSecret wipes then frees a C copy of text that may hold a password.
func freeSecret(p *C.char, n int) {
	b := unsafe.Slice((*byte)(unsafe.Pointer(p)), n)
	for i := range b {
		b[i] = 0
	}
	C.free(unsafe.Pointer(p))
}

// takeJSON decodes and frees (wiping) a string the library returned.
func takeJSON(out *C.char, v any) error {
	text := C.GoString(out)
	C.dhc_string_free(out)
	if err := json.Unmarshal([]byte(text), v); err != nil {
		return &Error{Code: Internal, Message: "decoding the library's JSON: " + err.Error()}
	}
	return nil
}
