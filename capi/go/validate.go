package connections

import (
	"fmt"
	"reflect"
	"unicode/utf8"
)

// encoding/json silently replaces invalid UTF-8 with U+FFFD; the library's contract is to
// refuse it, so strings are checked here before they are marshalled.
func checkText(field, s string) error {
	if !utf8.ValidString(s) {
		return invalid(field, "must be valid UTF-8")
	}
	return nil
}

// checkConfigStrings checks every string reachable from v as encoding/json would marshal
// it (map keys and values, slice and array elements, exported struct fields): a config
// given as a map or a struct. []byte is left alone: json writes it as base64. Errors name
// no map key: in a keyring, a key pasted where its id belongs would be one.
func checkConfigStrings(v reflect.Value, depth int) error {
	if depth > 100 {
		return invalid("config", "nested too deeply")
	}
	switch v.Kind() {
	case reflect.String:
		return checkText("config", v.String())
	case reflect.Interface, reflect.Pointer:
		if !v.IsNil() {
			return checkConfigStrings(v.Elem(), depth+1)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			if err := checkConfigStrings(it.Key(), depth+1); err != nil {
				return err
			}
			if err := checkConfigStrings(it.Value(), depth+1); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return nil
		}
		for i := 0; i < v.Len(); i++ {
			if err := checkConfigStrings(v.Index(i), depth+1); err != nil {
				return err
			}
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				if err := checkConfigStrings(v.Field(i), depth+1); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func checkTexts(field string, items []string) error {
	for i, s := range items {
		if err := checkText(fmt.Sprintf("%s[%d]", field, i), s); err != nil {
			return err
		}
	}
	return nil
}

// checkDetails allows string and integer values (and nil, a removal, in patches).
func checkDetails(d map[string]any, allowNil bool) error {
	for k, v := range d {
		field := "connection_details." + k
		if err := checkText("connection_details", k); err != nil {
			return err
		}
		switch x := v.(type) {
		case string:
			if err := checkText(field, x); err != nil {
				return err
			}
		case int, int8, int16, int32, int64, uint8, uint16, uint32:
		case nil:
			if !allowNil {
				return invalid(field, "must be a string or an integer")
			}
		default:
			return invalid(field, fmt.Sprintf("must be a string or an integer, not %T", v))
		}
	}
	return nil
}

func checkNew(c NewConnection) error {
	for field, s := range map[string]string{"name": c.Name, "type": c.Type} {
		if err := checkText(field, s); err != nil {
			return err
		}
	}
	if c.Description != nil {
		if err := checkText("description", *c.Description); err != nil {
			return err
		}
	}
	if err := checkTexts("tags", c.Tags); err != nil {
		return err
	}
	return checkDetails(c.Details, false)
}

func checkQuery(q Query) error {
	for field, s := range map[string]string{"type": q.Type, "name_prefix": q.NamePrefix} {
		if err := checkText(field, s); err != nil {
			return err
		}
	}
	if err := checkTexts("tags_all", q.TagsAll); err != nil {
		return err
	}
	return checkTexts("tags_any", q.TagsAny)
}

// fill adds the patch's fields to the JSON body of an update.
func (p Patch) fill(body map[string]any) error {
	if p.Name != nil {
		if err := checkText("name", *p.Name); err != nil {
			return err
		}
		body["name"] = *p.Name
	}
	if p.Description != nil && p.ClearDescription {
		return invalid("description", "set Description or ClearDescription, not both")
	}
	if p.Description != nil {
		if err := checkText("description", *p.Description); err != nil {
			return err
		}
		body["description"] = *p.Description
	}
	if p.ClearDescription {
		body["description"] = nil
	}
	if p.Tags != nil {
		if err := checkTexts("tags", p.Tags); err != nil {
			return err
		}
		body["tags"] = p.Tags
	}
	if p.Details != nil {
		if err := checkDetails(p.Details, true); err != nil {
			return err
		}
		body["connection_details"] = p.Details
	}
	return nil
}
