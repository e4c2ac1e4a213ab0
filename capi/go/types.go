package connections

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"time"
)

// TypePostgreSQL is the one connection type today.
const TypePostgreSQL = "POSTGRESQL"

// Details are a connection's fields (host, port, password, ...): values are string or int64.
type Details map[string]any

// secretFields are the detail fields the library treats as secret (the types' secret
// FieldSpecs, lib/model/connection_type.cpp).
var secretFields = map[string]bool{"password": true}

// Format prints d as fmt prints a map, with the value of every secret field (password)
// replaced by "[redacted]", so a Connection, NewConnection or Patch logged with %v, %+v or
// %#v does not show it. The map itself, and its JSON, keep the value.
//
// fmt calls Format only on a Details it reaches through exported fields: one behind an
// unexported struct field (struct{ conn NewConnection }) is printed by reflection, password
// included. Hold such a value in an exported field or through a pointer (printed as an
// address), or give the struct its own String or Format method.
func (d Details) Format(f fmt.State, verb rune) {
	var shown map[string]any
	if d != nil {
		shown = make(map[string]any, len(d))
		for k, v := range d {
			if secretFields[k] && v != nil {
				v = "[redacted]"
			}
			shown[k] = v
		}
	}
	spec := "%"
	for _, flag := range "+-# 0" {
		if f.Flag(int(flag)) {
			spec += string(flag)
		}
	}
	if w, ok := f.Width(); ok {
		spec += strconv.Itoa(w)
	}
	if p, ok := f.Precision(); ok {
		spec += "." + strconv.Itoa(p)
	}
	fmt.Fprintf(f, spec+string(verb), shown)
}

// UnmarshalJSON keeps integers as int64 (encoding/json would make them float64). It decodes
// from b itself: no copy of the text (which holds a revealed password) is made, so wiping
// b wipes it.
func (d *Details) UnmarshalJSON(b []byte) error {
	var raw map[string]rawDetail
	if err := json.Unmarshal(b, &raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Type == reflect.TypeOf(raw) {
			te.Type = reflect.TypeOf(Details(nil)) // not the internal type's name
		}
		return err
	}
	if raw == nil {
		*d = nil
		return nil
	}
	out := make(Details, len(raw))
	for k, v := range raw {
		switch {
		case v[0] == '"':
			var x string
			if err := json.Unmarshal(v, &x); err != nil {
				return fmt.Errorf("connection_details.%s: %w", k, err)
			}
			out[k] = x
		case v[0] == '-' || '0' <= v[0] && v[0] <= '9':
			n, err := strconv.ParseInt(string(v), 10, 64)
			if err != nil {
				return fmt.Errorf("connection_details.%s: %w", k, err)
			}
			out[k] = n
		default:
			var x any // null, true, false, an object or an array
			_ = json.Unmarshal(v, &x)
			return fmt.Errorf("connection_details.%s: unexpected %T", k, x)
		}
	}
	*d = out
	return nil
}

// rawDetail is one detail value's JSON text: a slice of the text UnmarshalJSON decodes,
// not a copy (json.RawMessage would copy it), valid only during that call.
type rawDetail []byte

func (r *rawDetail) UnmarshalJSON(b []byte) error {
	*r = b
	return nil
}

// Connection is a stored record, in the table's column names.
type Connection struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Description *string   `json:"description"`
	Type        string    `json:"type"`
	Details     Details   `json:"connection_details"` // nil when Err is set
	Redacted    []string  `json:"redacted"`           // secret fields set but left out
	Tags        []string  `json:"tags"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	UpdatedAt   time.Time `json:"updated_at"` // pass to Update as expectedUpdatedAt
	UpdatedBy   string    `json:"updated_by"`
	KeyID       string    `json:"key_id"` // the key the details are sealed under
	Alg         string    `json:"alg"`
	Stale       bool      `json:"stale"`           // sealed under a key that is not the primary
	Err         *RowError `json:"error,omitempty"` // List only: the details could not be opened
}

// RowError says why one row of a list could not be opened. Its methods accept a nil
// *RowError (a healthy row's Err): a ForEach fn may return c.Err as it is.
type RowError struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

func (e *RowError) Error() string {
	if e == nil {
		return "<nil>"
	}
	return "datahub " + e.Code.String() + ": " + e.Message
}

// Is makes errors.Is(c.Err, ErrKeyUnavailable) (or any sentinel) match by code, as for
// Error. A nil *RowError matches nothing.
func (e *RowError) Is(target error) bool {
	if e == nil {
		return false
	}
	return (&Error{Code: e.Code, Message: e.Message}).Is(target)
}

// NewConnection is what Create takes.
type NewConnection struct {
	Name        string   `json:"name"`
	Description *string  `json:"description,omitempty"`
	Type        string   `json:"type"` // e.g. TypePostgreSQL
	Details     Details  `json:"connection_details"`
	Tags        []string `json:"tags,omitempty"`
}

// Patch is what Update changes; zero fields are kept.
type Patch struct {
	Name             *string
	Description      *string
	ClearDescription bool     // sets description to null
	Tags             []string // nil keeps the tags; non-nil (even empty) replaces them
	// Merged into the stored details: a field set to nil is removed, others replace the
	// stored value, fields not named are kept (so a redacted password can stay as is).
	Details Details
}

// Query filters List; all given filters must hold.
type Query struct {
	Type       string   `json:"type,omitempty"`
	TagsAll    []string `json:"tags_all,omitempty"`
	TagsAny    []string `json:"tags_any,omitempty"`
	NamePrefix string   `json:"name_prefix,omitempty"`
	AfterID    int64    `json:"after_id,omitempty"` // keyset pagination: ids greater than this
	Limit      int      `json:"limit,omitempty"`    // 1-1000; 0 means the default (100)
}

// Page is one page of List.
type Page struct {
	Items       []Connection `json:"items"`
	NextAfterID *int64       `json:"next_after_id"` // nil at the end
}

// SchemaStatus is the applied and the latest schema version.
type SchemaStatus struct {
	CurrentVersion int
	LatestVersion  int
}

// Secrets says whether secret detail fields (passwords) are returned.
type Secrets uint32

const (
	Redact Secrets = 0 // leave secrets out; list them in Connection.Redacted
	Reveal Secrets = 1 // only for code that actually connects to the target database
)
