package connections

/*
#include <stdint.h>
#include <string.h>
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"runtime/debug"
	"unsafe"
)

// The C side of ForEach and KeysRotate's progress: one exported function serves both
// dhc_record_callback and dhc_progress_callback (the adapters adding const are in bulk.go
// and keys.go, since a file with //export may only declare in its preamble). user_data is a
// runtime/cgo.Handle of a *jsonVisitor, never a Go pointer.

// jsonVisitor receives each JSON document of one C call. visit returns false, or an error,
// to stop the call; err keeps that error, or the recovered panic, for after the call.
type jsonVisitor struct {
	visit func(text []byte) (bool, error)
	st    *storeState // counts the callback as one of the store's (see storeState)
	err   error
}

// PanicError is returned by ForEach and KeysRotate when their callback panicked. The panic
// is recovered before it reaches the C frames below the callback (unwinding through them
// would skip the library's cleanup: its session lease, its wiping of the record).
type PanicError struct {
	Value any    // what was passed to panic
	Stack []byte // the callback goroutine's stack when it panicked
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("connections: callback panicked: %v", e.Value)
}

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	if err, ok := e.Value.(error); ok {
		return err
	}
	return nil
}

//export dhcGoVisitJSON
func dhcGoVisitJSON(userData unsafe.Pointer, text *C.char) (rc C.int) {
	v := cgo.Handle(uintptr(userData)).Value().(*jsonVisitor)
	v.st.enterCallback()
	defer v.st.leaveCallback()
	returned := false
	defer func() {
		// panic(nil) recovers as nil (before Go 1.21, and under this module's go 1.19
		// directive after): returned tells it from a visit that returned.
		if r := recover(); r != nil || !returned {
			v.err = &PanicError{Value: r, Stack: debug.Stack()}
			rc = 1
		}
	}()
	// A byte copy, wiped once decoded: a revealed record holds a password.
	b := cBytes(text)
	defer wipe(b)
	goOn, err := v.visit(b)
	returned = true
	if err != nil {
		v.err = err
		return 1
	}
	if !goOn {
		return 1
	}
	return 0
}

// visitCall runs a C call on st's store that reports JSON documents to a jsonVisitor: call
// gets the cgo.Handle to pass as user_data. The handle is released when the call returns.
func visitCall(st *storeState, visit func(text []byte) (bool, error), call func(handle C.uintptr_t) error) error {
	v := &jsonVisitor{visit: visit, st: st}
	h := cgo.NewHandle(v)
	defer h.Delete()
	err := call(C.uintptr_t(h))
	if v.err != nil {
		return v.err // the callback stopped the call: its error, not the call's
	}
	return err
}

func decodeError(err error) error {
	return &Error{Code: Internal, Message: "decoding the library's JSON: " + err.Error()}
}
