package connections

/*
#include <datahub/connections.h>
#include <stdint.h>
*/
import "C"

import (
	"errors"
	"runtime/cgo"
	"unsafe"
)

// The C side of KeyProvider. Each callback finds the Go provider through its cgo.Handle,
// copies its result into the library's buffer (reporting the size it needs when that is
// too small) and never keeps a C pointer. A panic is recovered: it must not unwind into C.
// Each counts itself as a callback of the store while it runs (see storeState).

// boundProvider is what the provider's cgo.Handle holds: the provider, and the state of
// its store, not the Store (the handle would keep the Store reachable, and its finalizer
// would never run).
type boundProvider struct {
	p  KeyProvider
	st *storeState
}

// providerOf returns userData's provider, counted as in a callback until done is called.
func providerOf(userData unsafe.Pointer) (p KeyProvider, done func()) {
	b := cgo.Handle(uintptr(userData)).Value().(*boundProvider)
	b.st.enterCallback()
	return b.p, b.st.leaveCallback
}

func copyOut(result []byte, out unsafe.Pointer, capacity C.size_t, outLen *C.size_t) C.int {
	*outLen = C.size_t(len(result))
	if len(result) <= int(capacity) && len(result) > 0 {
		copy(unsafe.Slice((*byte)(out), int(capacity)), result)
	}
	return C.DHC_OK
}

func failure(err error) C.int {
	if errors.Is(err, ErrIntegrity) {
		return C.DHC_INTEGRITY
	}
	return C.DHC_KEY_UNAVAILABLE
}

func guard(rc *C.int) {
	if recover() != nil {
		*rc = C.DHC_KEY_UNAVAILABLE
	}
}

func goBytes(p *C.uint8_t, n C.size_t) []byte {
	if n == 0 {
		return nil
	}
	return C.GoBytes(unsafe.Pointer(p), C.int(n))
}

//export dhcGoPrimaryKeyID
func dhcGoPrimaryKeyID(userData unsafe.Pointer, out *C.char, capacity C.size_t, outLen *C.size_t) (rc C.int) {
	defer guard(&rc)
	p, done := providerOf(userData)
	defer done()
	id, err := p.PrimaryKeyID()
	if err != nil {
		return failure(err)
	}
	return copyOut([]byte(id), unsafe.Pointer(out), capacity, outLen)
}

//export dhcGoWrap
func dhcGoWrap(userData unsafe.Pointer, keyID *C.char, dek *C.uint8_t, dekLen C.size_t,
	aad *C.uint8_t, aadLen C.size_t, out *C.uint8_t, capacity C.size_t, outLen *C.size_t) (rc C.int) {
	defer guard(&rc)
	p, done := providerOf(userData)
	defer done()
	plain := goBytes(dek, dekLen)
	defer wipe(plain)
	edk, err := p.Wrap(C.GoString(keyID), plain, goBytes(aad, aadLen))
	if err != nil {
		return failure(err)
	}
	return copyOut(edk, unsafe.Pointer(out), capacity, outLen)
}

//export dhcGoUnwrap
func dhcGoUnwrap(userData unsafe.Pointer, keyID *C.char, edk *C.uint8_t, edkLen C.size_t,
	aad *C.uint8_t, aadLen C.size_t, out *C.uint8_t, capacity C.size_t, outLen *C.size_t) (rc C.int) {
	defer guard(&rc)
	p, done := providerOf(userData)
	defer done()
	dek, err := p.Unwrap(C.GoString(keyID), goBytes(edk, edkLen), goBytes(aad, aadLen))
	defer wipe(dek)
	if err != nil {
		return failure(err)
	}
	return copyOut(dek, unsafe.Pointer(out), capacity, outLen)
}

//export dhcGoDestroy
func dhcGoDestroy(userData unsafe.Pointer) {
	cgo.Handle(uintptr(userData)).Delete()
}

func wipe(b []byte) {
	for i := range b {
		b[i] = 0
	}
}
