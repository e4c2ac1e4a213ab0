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

// TestResult is what Test found. A target that refused or never answered is a result
// (OK false, Failure set), not an error; the message never holds the password.
type TestResult struct {
	OK               bool    `json:"ok"`
	LatencyMS        float64 `json:"latency_ms"`
	ServerVersion    *string `json:"server_version"`     // nil unless OK
	ServerVersionNum *int64  `json:"server_version_num"` // e.g. 150018; nil unless OK
	// "unreachable", "authentication_failed", "database_missing", "tls", "timeout" or
	// "other"; nil when OK.
	Failure  *string `json:"failure"`
	SQLState *string `json:"sqlstate"` // e.g. "28P01"; nil when the server sent none
	Message  *string `json:"message"`
}

// Test opens one real session to connection id's target database with its decrypted
// details, then closes it (dhc_connection_test). timeout bounds the whole attempt
// (100 ms to 1 h); 0 means the library's default (10 s). Errors are those of Get.
func (s *Store) Test(id int64, timeout time.Duration) (*TestResult, error) {
	var options *C.char
	if timeout != 0 {
		body, _ := json.Marshal(map[string]int64{"timeout_ms": timeout.Milliseconds()})
		options = C.CString(string(body))
		defer C.free(unsafe.Pointer(options))
	}
	var out TestResult
	err := s.jsonCall(&out, func(h *C.dhc_store, res **C.char, e **C.dhc_error) C.dhc_code {
		return C.dhc_connection_test(h, C.int64_t(id), options, res, e)
	})
	return result(&out, err)
}

// Conninfo returns connection id as a libpq conninfo string, every value quoted. The
// password is in it only with Reveal; the string is then a secret.
func (s *Store) Conninfo(id int64, secrets Secrets) (string, error) {
	return s.textCall(func(h *C.dhc_store, out **C.char, e **C.dhc_error) C.dhc_code {
		return C.dhc_connection_conninfo(h, C.int64_t(id), C.uint32_t(secrets), out, e)
	})
}

// URI returns connection id as a postgresql:// URI, percent-encoded; the password only
// with Reveal.
func (s *Store) URI(id int64, secrets Secrets) (string, error) {
	return s.textCall(func(h *C.dhc_store, out **C.char, e **C.dhc_error) C.dhc_code {
		return C.dhc_connection_uri(h, C.int64_t(id), C.uint32_t(secrets), out, e)
	})
}

func (s *Store) textCall(fn func(h *C.dhc_store, out **C.char, e **C.dhc_error) C.dhc_code) (string, error) {
	var text string
	err := s.call(func(h *C.dhc_store) error {
		var out *C.char
		var e *C.dhc_error
		if code := fn(h, &out, &e); code != C.DHC_OK {
			return takeError(code, e)
		}
		text = C.GoString(out)
		C.dhc_string_free(out)
		return nil
	})
	return text, err
}
