package connections

import "fmt"

// Code is the library's error code (the C ABI's dhc_code).
type Code int

// The codes; their numbers are stable.
const (
	OK              Code = 0
	InvalidArgument Code = 1 // bad input; nothing was changed
	NotFound        Code = 2 // no connection with that id
	Conflict        Code = 3 // the row changed since it was read
	Integrity       Code = 4 // stored ciphertext tampered with, swapped or malformed
	KeyUnavailable  Code = 5 // the key provider does not have, or cannot use, the key
	Database        Code = 6 // the server rejected a statement; see Error.SQLState
	Unavailable     Code = 7 // the server cannot be reached
	Internal        Code = 8 // a bug in the library, or out of memory
)

var codeNames = [...]string{"ok", "invalid_argument", "not_found", "conflict", "integrity",
	"key_unavailable", "database", "unavailable", "internal"}

func (c Code) String() string {
	if c >= 0 && int(c) < len(codeNames) {
		return codeNames[c]
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// Error is every failure the library reports. The message never contains a secret.
//
//	var e *connections.Error
//	if errors.As(err, &e) && e.Code == connections.Conflict { ... }
//	if errors.Is(err, connections.ErrNotFound) { ... }
type Error struct {
	Code     Code
	Message  string
	SQLState string // the server's SQLSTATE for Database errors, else ""
}

func (e *Error) Error() string { return "datahub " + e.Code.String() + ": " + e.Message }

// Is makes errors.Is(err, ErrNotFound) (or any *Error without a message) match by code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.Code == e.Code
}

// Sentinels for errors.Is. A KeyProvider returns ErrIntegrity (possibly wrapped) from
// Unwrap when the wrapped key or its associated data was altered.
var (
	ErrInvalidArgument = &Error{Code: InvalidArgument}
	ErrNotFound        = &Error{Code: NotFound}
	ErrConflict        = &Error{Code: Conflict}
	ErrIntegrity       = &Error{Code: Integrity}
	ErrKeyUnavailable  = &Error{Code: KeyUnavailable}
	ErrDatabase        = &Error{Code: Database}
	ErrUnavailable     = &Error{Code: Unavailable}
	ErrInternal        = &Error{Code: Internal}
)

func invalid(field, reason string) error {
	return &Error{Code: InvalidArgument, Message: field + ": " + reason}
}
