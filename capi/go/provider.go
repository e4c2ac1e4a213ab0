package connections

/*
#include <datahub/connections.h>
#include <stdint.h>

// The exported Go callbacks (callbacks.go), and adapters adding the const the C ABI's
// callback types have: cgo cannot export functions with const parameters.
extern int dhcGoPrimaryKeyID(void *, char *, size_t, size_t *);
extern int dhcGoWrap(void *, char *, uint8_t *, size_t, uint8_t *, size_t, uint8_t *, size_t, size_t *);
extern int dhcGoUnwrap(void *, char *, uint8_t *, size_t, uint8_t *, size_t, uint8_t *, size_t, size_t *);
extern void dhcGoDestroy(void *);

static int dhc_go_wrap(void *ud, const char *kid, const uint8_t *in, size_t n,
                       const uint8_t *aad, size_t aad_len, uint8_t *out, size_t cap, size_t *len) {
  return dhcGoWrap(ud, (char *)kid, (uint8_t *)in, n, (uint8_t *)aad, aad_len, out, cap, len);
}

static int dhc_go_unwrap(void *ud, const char *kid, const uint8_t *in, size_t n,
                         const uint8_t *aad, size_t aad_len, uint8_t *out, size_t cap, size_t *len) {
  return dhcGoUnwrap(ud, (char *)kid, (uint8_t *)in, n, (uint8_t *)aad, aad_len, out, cap, len);
}

// user_data is a runtime/cgo.Handle (an integer), never a Go pointer.
static dhc_code dhc_go_open(const char *config, uintptr_t handle, dhc_store **out, dhc_error **err) {
  dhc_key_provider p = {DHC_KEY_PROVIDER_VERSION, (void *)handle, dhcGoPrimaryKeyID,
                        dhc_go_wrap, dhc_go_unwrap, dhcGoDestroy};
  return dhc_store_open_with_provider(config, &p, out, err);
}
*/
import "C"

import "runtime/cgo"

// KeyProvider holds the key-encryption keys that wrap each record's 32-byte data key, e.g.
// a cloud KMS client. The store calls it from many threads at once: it must be safe for
// concurrent use. An error (or a panic) becomes KeyUnavailable for the store's caller,
// except an error matching ErrIntegrity from Unwrap, which becomes Integrity.
//
// A method must not call its own store when the store's pool_size is 1: the operation that
// calls the method holds the store's only database session meanwhile, so the nested call
// waits for a session for the store's acquire_timeout (30 s unless the config sets
// it), not forever, then fails with Unavailable; the outer operation then goes on with
// what the method returns. With a larger pool_size the nested call takes another session,
// and the same wait happens once every session is held by an operation inside the provider.
//
// A method must not call runtime.Goexit (so not t.Fatal, t.FailNow or t.SkipNow in a
// test): the goroutine's unwinding would cross the library's C frames, which have no way
// to clean up. On a thread of the library (KeysRotate with Workers > 1 calls the provider
// there) the Go runtime ends the process ("fatal error: internal lockOSThread error"). On
// the calling goroutine's thread the goroutine ends and the process goes on, but the
// library's frames are abandoned mid-operation: the database session they held is never
// given back (with pool_size 1, every later call fails with Unavailable after
// acquire_timeout), locks they held stay held, and what they were to wipe and free is not.
// Report a failure by returning an error (in a test, t.Error, then return one).
type KeyProvider interface {
	// PrimaryKeyID is the id new records are sealed under: an opaque label.
	PrimaryKeyID() (string, error)
	// Wrap encrypts dek under key keyID, bound to aad (authenticated, not secret). dek and
	// aad are only valid during the call (dek is wiped after it).
	Wrap(keyID string, dek, aad []byte) ([]byte, error)
	// Unwrap reverses Wrap. edk and aad are only valid during the call. The slice it
	// returns is wiped once copied to the library: return a fresh one (a cache of data keys
	// must return a copy, or its entry is zeroed and later reads fail with Integrity).
	Unwrap(keyID string, edk, aad []byte) ([]byte, error)
}

// OpenWithKeyProvider opens a store whose keys come from p; config must not have "keys".
// The store keeps p until Close.
func OpenWithKeyProvider(config any, p KeyProvider) (*Store, error) {
	if p == nil {
		return nil, invalid("provider", "must not be nil")
	}
	st := newStoreState()
	h := cgo.NewHandle(&boundProvider{p: p, st: st})
	s, err := open(config, st, &h)
	if err != nil {
		h.Delete() // on failure the library does not call destroy
		return nil, err
	}
	return s, nil
}

func openWithProvider(config *C.char, h cgo.Handle, out **C.dhc_store, e **C.dhc_error) C.dhc_code {
	return C.dhc_go_open(config, C.uintptr_t(h), out, e)
}
