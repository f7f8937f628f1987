package sources

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// PickField selects the value a reference names from a secret made of fields
// (a Vault secret's data, a JSON SecretString or JSON file):
//
//   - field "" with exactly one field: that field's value;
//   - field "" with several fields: an error naming them (names only);
//   - field "name": that top-level key;
//   - field "/a/b": a JSON pointer (RFC 6901) into nested objects and arrays.
//
// The value must be a JSON string: a number, boolean, object or array is an
// error that says which it is.
// Errors wrap ErrNotFound or ErrInvalid and never contain values.
func PickField(data map[string]any, field string) (string, error) {
	if field == "" {
		switch len(data) {
		case 0:
			return "", fmt.Errorf("the secret has no fields: %w", ErrNotFound)
		case 1:
			for k, v := range data {
				return scalar(v, k)
			}
		}
		return "", fmt.Errorf("the secret has several fields (%s): add #FIELD to the reference: %w", FieldNames(data), ErrInvalid)
	}
	if !strings.HasPrefix(field, "/") {
		v, ok := data[field]
		if !ok {
			return "", fmt.Errorf("no field %q; fields present: %s: %w", field, FieldNames(data), ErrNotFound)
		}
		return scalar(v, field)
	}
	var cur any = data
	walked := ""
	for _, tok := range strings.Split(field[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch c := cur.(type) {
		case map[string]any:
			v, ok := c[tok]
			if !ok {
				return "", fmt.Errorf("no key %q at %q; keys present: %s: %w", tok, orRoot(walked), FieldNames(c), ErrNotFound)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(c) {
				return "", fmt.Errorf("no index %q at %q (an array of %d): %w", tok, orRoot(walked), len(c), ErrNotFound)
			}
			cur = c[i]
		default:
			return "", fmt.Errorf("%q is a %s, not an object: %w", orRoot(walked), jsonKind(c), ErrInvalid)
		}
		walked += "/" + tok
	}
	return scalar(cur, field)
}

// PickText selects what ref names from a secret stored as text (a file, a
// SecretString, a variable): with #FIELD, that field of the JSON object the
// text holds; without, the text itself, unless it is a JSON object, which is
// read as PickField reads fields (its one field, or an error naming several),
// so that a whole JSON document never becomes a "key". ?raw=true takes the
// text as it is, JSON or not.
func PickText(text string, ref Ref) (string, error) {
	if ref.Raw != "" && ref.Query.Get("raw") == "true" {
		return text, nil
	}
	if ref.Field == "" {
		t := strings.TrimSpace(text)
		if !strings.HasPrefix(t, "{") {
			return text, nil
		}
		var obj map[string]any
		if json.Unmarshal([]byte(t), &obj) != nil {
			return text, nil // not JSON: a value that starts with a brace
		}
		if len(obj) > 1 {
			return "", fmt.Errorf("the value is a JSON object with several fields (%s): add #FIELD to the reference, or ?raw=true to take the whole document: %w", FieldNames(obj), ErrInvalid)
		}
		return PickField(obj, "")
	}
	obj, err := ParseJSONObject([]byte(text))
	if err != nil {
		return "", err
	}
	return PickField(obj, ref.Field)
}

// ParseJSONObject parses data as a JSON object for PickField. The error says
// what the text is instead, never what it holds.
func ParseJSONObject(data []byte) (map[string]any, error) {
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		return nil, fmt.Errorf("the value is not JSON, so it has no keys (drop #KEY to use the whole value): %w", ErrInvalid)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the value is a JSON %s, not an object with keys: %w", jsonKind(v), ErrInvalid)
	}
	return obj, nil
}

// FieldNames lists the keys of an object, sorted, for error messages.
func FieldNames(m map[string]any) string {
	if len(m) == 0 {
		return "(none)"
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, strconv.Quote(k))
	}
	sort.Strings(names)
	if len(names) > 20 {
		names = append(names[:20], fmt.Sprintf("and %d more", len(names)-20))
	}
	return strings.Join(names, ", ")
}

func scalar(v any, name string) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	}
	return "", fmt.Errorf("field %q is a JSON %s, not a string: point the reference at a string inside it: %w", name, jsonKind(v), ErrInvalid)
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case bool:
		return "boolean"
	case json.Number, float64:
		return "number"
	default:
		return "number"
	}
}

func orRoot(p string) string {
	if p == "" {
		return "/"
	}
	return p
}
