package connections

/*
#include <datahub/connections.h>
#include <stdint.h>
#include <stdlib.h>

extern int dhcGoVisitJSON(void *, char *);

static int dhc_go_progress(void *ud, const char *json) { return dhcGoVisitJSON(ud, (char *)json); }

static dhc_code dhc_go_rotate_with_progress(dhc_store *store, const char *options,
                                            uintptr_t handle, char **report, dhc_error **err) {
  return dhc_keys_rotate_with_progress(store, options, dhc_go_progress, (void *)handle, report, err);
}
*/
import "C"

import (
	"encoding/json"
	"unsafe"
)

// Census is how many rows each key id and cipher protect (KeysCensus).
type Census struct {
	Primary string     `json:"primary"` // the key new records are sealed under
	Keys    []KeyCount `json:"keys"`    // by key id, then cipher
}

// KeyCount is one line of a Census.
type KeyCount struct {
	KeyID string `json:"kid"` // "": rows with no key id (another client's: in clear, or damaged)
	Alg   string `json:"alg"`
	Rows  int64  `json:"rows"`
}

// RotateOptions tunes KeysRotate; the zero value is the defaults.
type RotateOptions struct {
	BatchSize int  `json:"batch_size,omitempty"` // ids per batch (one transaction each), 1-10000; 0: 500
	DryRun    bool `json:"dry_run,omitempty"`    // read and re-wrap in memory, write nothing
	// Seal afresh with a new data key under the store's cipher instead of re-wrapping the
	// data key only; also moves rows sealed with another cipher.
	Reencrypt bool `json:"reencrypt,omitempty"`
	// Batches in flight at once, 1-16, each holding a pooled session only for its
	// statements (so they may outnumber pool_size); 0: 1. progress is still called on the
	// calling goroutine's thread.
	Workers int `json:"workers,omitempty"`
}

// RotateReport is KeysRotate's result, and what its progress callback sees.
type RotateReport struct {
	// Rows looked at; Scanned = Rewritten + SkippedChanged + Failed (a row another writer
	// deleted, or moved to the primary, meanwhile is not counted).
	Scanned           int64 `json:"scanned"`
	Rewritten         int64 `json:"rewritten"`          // rows moved (in a dry run: would be)
	SkippedChanged    int64 `json:"skipped_changed"`    // edited concurrently on every retry: run again
	Failed            int64 `json:"failed"`             // left as they were (key not unwrapped, not re-wrapped, or with a host's provider the ciphertext not opened): see KeysVerify
	RemainingEstimate int64 `json:"remaining_estimate"` // rows to rotate, counted at the start
}

// VerifyReport is KeysVerify's result.
type VerifyReport struct {
	Checked int64           `json:"checked"`
	Failed  []VerifyFailure `json:"failed"`
}

// VerifyFailure is a row that does not open.
type VerifyFailure struct {
	ID      int64  `json:"id"`
	Code    Code   `json:"code"` // Integrity or KeyUnavailable
	Message string `json:"message"`
}

// KeysCensus counts the rows under each key id and cipher, in one pass over the table.
func (s *Store) KeysCensus() (Census, error) {
	var out Census
	err := s.jsonCall(&out, func(h *C.dhc_store, res **C.char, e **C.dhc_error) C.dhc_code {
		return C.dhc_keys_census(h, res, e)
	})
	return out, err
}

// KeysRotate moves every row sealed under a key other than the primary onto it, online,
// in batches, never overwriting a concurrent edit; run it again after any interruption.
//
// progress (may be nil) is called after every batch with the totals so far; returning
// false stops the rotation (batches written stay written) and KeysRotate returns the
// report so far with a nil error. A panic in progress is recovered and returned as a
// *PanicError, with the report of the batches written before it. progress runs on the
// calling goroutine; it may call Close (the rotation goes on unless progress returns
// false), but not runtime.Goexit.
func (s *Store) KeysRotate(opts RotateOptions, progress func(RotateReport) bool) (RotateReport, error) {
	body, err := json.Marshal(opts)
	if err != nil {
		return RotateReport{}, invalid("options", err.Error())
	}
	coptions := C.CString(string(body))
	defer C.free(unsafe.Pointer(coptions))
	var out RotateReport
	if progress == nil {
		err = s.jsonCall(&out, func(h *C.dhc_store, res **C.char, e **C.dhc_error) C.dhc_code {
			return C.dhc_keys_rotate(h, coptions, res, e)
		})
		return out, err
	}
	visit := func(text []byte) (bool, error) {
		var r RotateReport
		if err := json.Unmarshal(text, &r); err != nil {
			return false, decodeError(err)
		}
		out = r // what was done, should progress panic
		return progress(r), nil
	}
	err = s.call(func(h *C.dhc_store) error {
		return visitCall(s.ref.st, visit, func(handle C.uintptr_t) error {
			var res *C.char
			var e *C.dhc_error
			if code := C.dhc_go_rotate_with_progress(h, coptions, handle, &res, &e); code != C.DHC_OK {
				return takeError(code, e)
			}
			return takeJSON(res, &out)
		})
	})
	return out, err
}

// KeysVerify opens every row and lists those that fail; it changes nothing.
func (s *Store) KeysVerify() (VerifyReport, error) {
	var out VerifyReport
	err := s.jsonCall(&out, func(h *C.dhc_store, res **C.char, e **C.dhc_error) C.dhc_code {
		return C.dhc_keys_verify(h, res, e)
	})
	return out, err
}
