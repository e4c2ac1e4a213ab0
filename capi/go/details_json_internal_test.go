package connections

import (
	"encoding/json"
	"strings"
	"testing"
)

// Details.UnmarshalJSON decoded through a json.Decoder, whose buffer is a copy of the text
// (a revealed password in it) that nothing wiped. It now decodes from the text itself
// (json.Unmarshal on b, each value a slice of b): that it makes no copy holds by
// construction; this checks that it still decodes as before (int64 kept, the same errors).
func TestDetailsDecodeFromTheTextItself(t *testing.T) {
	b := []byte(`{"host":"db","port":5432,"password":"s3\u0063ret","neg":-7}`)
	var d Details
	if err := d.UnmarshalJSON(b); err != nil {
		t.Fatal(err)
	}
	if d["host"] != "db" || d["port"] != int64(5432) || d["password"] != "s3cret" || d["neg"] != int64(-7) || len(d) != 4 {
		t.Fatalf("decoded %#v", map[string]any(d))
	}
	for in, want := range map[string]string{
		`{"port":1.5}`:               `connection_details.port: strconv.ParseInt: parsing "1.5": invalid syntax`,
		`{"port":1e3}`:               `connection_details.port: strconv.ParseInt: parsing "1e3": invalid syntax`,
		`{"ssl":true}`:               `connection_details.ssl: unexpected bool`,
		`{"x":null}`:                 `connection_details.x: unexpected <nil>`,
		`{"x":{"a":1}}`:              `connection_details.x: unexpected map[string]interface {}`,
		`{"x":[1]}`:                  `connection_details.x: unexpected []interface {}`,
		`{"x":99999999999999999999}`: `connection_details.x: strconv.ParseInt: parsing "99999999999999999999": value out of range`,
		`[1]`:                        `json: cannot unmarshal array into Go value of type connections.Details`,
	} {
		var d Details
		if err := json.Unmarshal([]byte(in), &d); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %s", in, err, want)
		}
	}
	d = Details{"a": "b"}
	if err := json.Unmarshal([]byte(`null`), &d); err != nil || d != nil {
		t.Errorf("null: %v %v", err, d)
	}
	var c struct {
		D Details `json:"connection_details"`
	}
	if err := json.Unmarshal([]byte(`{"connection_details": {"password": "p", "port": 9223372036854775807}}`), &c); err != nil ||
		c.D["password"] != "p" || c.D["port"] != int64(9223372036854775807) {
		t.Errorf("nested: %v %v", err, c.D)
	}
}
