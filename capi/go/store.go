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
// CGO_LDFLAGS pointing at the headers and the library (see docs/bindings.md).
package connections

/*
#cgo LDFLAGS: -ldatahub_connections
#include <datahub/connections.h>
#include <stdlib.h>
#include <string.h>
*/
import "C"

import (
	"bytes"
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

// Store is an open connection store. A copy of a Store (kept := *s, or a struct embedding
// one) is the same store: every copy stays usable while any is reachable, and Close on one
// closes them all.
type Store struct {
	ref *storeRef
}

// storeRef is what every copy of a Store shares, and what the finalizer is set on: it runs
// once no copy of the Store is reachable. (On the Store itself, it ran when the *Store that
// Open returned was dropped, closing the copies still in use.)
type storeRef struct {
	st *storeState
}

// storeState is a Store's C handle and the calls using it. A KeyProvider's callbacks reach
// it through their cgo.Handle, so it never points back to the storeRef: the finalizer needs
// the storeRef to become unreachable.
//
// A call counts itself in calls while it may use the handle; a callback of the store (a
// KeyProvider method, a ForEach fn, a KeysRotate progress) counts itself in callbacks while
// it runs. Close sets closing, which refuses new calls, then waits while calls > callbacks:
// some call in progress is then running in the library outside every callback. It never
// waits for a call that is inside a callback, which may be the one running Close, or be
// waiting for it. callbacks counts callbacks, not calls (a provider callback cannot tell
// its call, and may run on a library thread while its call waits in C): while one call
// runs several at once (KeysRotate's workers), Close may stop waiting while another call
// is still in C. The handle is freed exactly once (take, under mu), when closing is set and
// calls is 0: by Close, or else by the last call to return; never while a call may still
// pass it to C.
//
// (A sync.RWMutex deadlocked: a ForEach callback taking the read lock again queued behind a
// waiting Close, which waited for ForEach.)
type storeState struct {
	mu        sync.Mutex
	settled   sync.Cond // on mu: broadcast, once closing, when calls - callbacks drops
	calls     int
	callbacks int
	closing   bool
	handle    *C.dhc_store  // nil once taken to be freed
	freed     chan struct{} // closed when dhc_store_close has returned
}

func newStoreState() *storeState {
	st := &storeState{freed: make(chan struct{})}
	st.settled.L = &st.mu
	return st
}

// Open opens a store; config is dhc_store_open's JSON, as text or as a value that
// encoding/json marshals to it (e.g. map[string]any).
func Open(config any) (*Store, error) {
	return open(config, newStoreState(), nil)
}

// open opens the store that st will hold; provider is the KeyProvider's handle, or nil.
func open(config any, st *storeState, provider *cgo.Handle) (*Store, error) {
	text, ours, err := configBytes(config)
	if err != nil {
		return nil, err
	}
	if ours {
		defer wipe(text) // static keys are key material
	}
	cconfig := cSecret(text)
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
	st.handle = h
	ref := &storeRef{st: st}
	// A Store dropped without Close would keep its sessions (and its KeyProvider) for
	// the life of the process. No call is in progress once ref is unreachable (call keeps
	// it alive).
	runtime.SetFinalizer(ref, func(r *storeRef) { r.st.close() })
	return &Store{ref: ref}, nil
}

// configBytes is the config as JSON bytes, and whether they are a copy of ours (to wipe:
// a static keyring's keys are in it). No Go string is made of it.
func configBytes(config any) ([]byte, bool, error) {
	switch c := config.(type) {
	case string:
		if err := checkNUL("config", c); err != nil {
			return nil, false, err
		}
		return []byte(c), true, nil
	case []byte:
		if bytes.IndexByte(c, 0) >= 0 {
			return nil, false, invalid("config", "must not contain NUL characters")
		}
		return c, false, nil
	default:
		if err := checkConfigStrings(reflect.ValueOf(c), 0); err != nil {
			return nil, false, err
		}
		b, err := json.Marshal(c)
		if err != nil {
			return nil, false, invalid("config", err.Error())
		}
		return b, true, nil
	}
}

// Close closes the store. Calls made from then on fail (InvalidArgument, "store: closed").
// Close waits for the calls in progress, except those inside one of the store's callbacks
// (a KeyProvider method, a ForEach fn, a KeysRotate progress): once every call still in
// progress is inside one, Close returns and the last of them closes the store as it
// returns. So a callback may call Close (its own call then runs to its end; its calls to
// the store fail). Idempotent; safe from any goroutine.
func (s *Store) Close() error {
	if s != nil && s.ref != nil { // a nil or zero Store was never open
		s.ref.st.close()
	}
	return nil
}

func (st *storeState) close() {
	st.mu.Lock()
	st.closing = true
	for st.calls > st.callbacks {
		st.settled.Wait()
	}
	h, busy := st.take(), st.calls > 0
	st.mu.Unlock()
	switch {
	case h != nil:
		st.free(h)
	case !busy:
		<-st.freed // another Close, or the last call, is freeing it now
	}
	// busy: every call left is inside a callback; the last to return frees the handle.
}

// take returns the handle to free, and forgets it, once no call may use it; nil before
// that, and after it was taken. Under mu, with closing set.
func (st *storeState) take() *C.dhc_store {
	if st.calls > 0 {
		return nil
	}
	h := st.handle
	st.handle = nil
	return h
}

func (st *storeState) free(h *C.dhc_store) {
	C.dhc_store_close(h) // calls the provider's destroy, nothing else of it
	close(st.freed)
}

// call runs fn with the C handle, holding the store open meanwhile.
func (s *Store) call(fn func(h *C.dhc_store) error) error {
	if s == nil || s.ref == nil {
		return &Error{Code: InvalidArgument, Message: "store: not open (a nil or zero Store)"}
	}
	ref := s.ref
	err := ref.st.call(fn)
	runtime.KeepAlive(ref) // the finalizer must not close the store during a call
	return err
}

func (st *storeState) call(fn func(h *C.dhc_store) error) error {
	st.mu.Lock()
	h := st.handle
	if h == nil || st.closing {
		st.mu.Unlock()
		return &Error{Code: InvalidArgument, Message: "store: closed"}
	}
	st.calls++
	st.mu.Unlock()
	defer st.callDone()
	return fn(h)
}

func (st *storeState) callDone() {
	st.mu.Lock()
	st.calls--
	var h *C.dhc_store
	if st.closing {
		st.settled.Broadcast()
		h = st.take()
	}
	st.mu.Unlock()
	if h != nil {
		st.free(h)
	}
}

// enterCallback and leaveCallback bracket every Go callback the library makes for this
// store (callbacks.go, visit_callback.go).
func (st *storeState) enterCallback() {
	st.mu.Lock()
	st.callbacks++
	if st.closing {
		st.settled.Broadcast()
	}
	st.mu.Unlock()
}

func (st *storeState) leaveCallback() {
	st.mu.Lock()
	st.callbacks--
	st.mu.Unlock()
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

// cBytes copies a NUL-terminated C string of any length (C.GoBytes takes a C.int).
func cBytes(p *C.char) []byte {
	n := int(C.strlen(p))
	b := make([]byte, n)
	copy(b, unsafe.Slice((*byte)(unsafe.Pointer(p)), n))
	return b
}

// cSecret copies JSON that may hold a password into C memory, NUL-terminated, without the
// Go string C.CString would need (a Go string cannot be wiped). Free it with freeSecret.
// json.Marshal escapes NUL, so the text has none inside.
func cSecret(b []byte) *C.char {
	p := C.malloc(C.size_t(len(b) + 1))
	dst := unsafe.Slice((*byte)(p), len(b)+1)
	copy(dst, b)
	dst[len(b)] = 0
	return (*C.char)(p)
}

// freeSecret wipes then frees a C copy of text that may hold a password.
func freeSecret(p *C.char, n int) {
	b := unsafe.Slice((*byte)(unsafe.Pointer(p)), n)
	for i := range b {
		b[i] = 0
	}
	C.free(unsafe.Pointer(p))
}

// takeJSON decodes and frees (wiping) a string the library returned. The text goes through
// one Go copy, wiped after decoding (a Go string could not be).
func takeJSON(out *C.char, v any) error {
	text := cBytes(out)
	C.dhc_string_free(out)
	defer wipe(text)
	if err := json.Unmarshal(text, v); err != nil {
		return &Error{Code: Internal, Message: "decoding the library's JSON: " + err.Error()}
	}
	return nil
}
