package resolve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/keyexec/keyexec/sources"
)

// listShape is how a config list was written, so that the child gets it
// back the same way: a JSON list of entries (OAI_CONFIG_LIST), one entry,
// or an AG2 LLMConfig object {"config_list": [...] or {...}, options…}.
type listShape struct {
	kind    string         // "list", "entry" or "llm_config"
	inner   string         // llm_config: "list" or "entry"
	options map[string]any // llm_config: every key but config_list
}

// ParseConfigList parses an AutoGen config list: a JSON array of objects
// whose known string fields (model, api_key, base_url, api_type,
// api_version, azure_endpoint, azure_ad_token, azure_deployment,
// organization) are strings or null, and whose tags are a list of strings;
// AG2's LLMConfig shapes (one entry, or {"config_list": …} with options)
// are read too. Numbers are kept as written (json.Number). Every problem is
// reported, naming the entry index and field, never a value; errors wrap
// sources.ErrInvalid.
func ParseConfigList(data []byte) ([]map[string]any, error) {
	entries, _, err := parseConfigDoc(data)
	return entries, err
}

func parseConfigDoc(data []byte) ([]map[string]any, listShape, error) {
	shape := listShape{kind: "list"}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, shape, fmt.Errorf("the list is empty: want a JSON list of entries like [{\"model\": \"gpt-4o\", \"api_key\": \"…\"}]: %w", sources.ErrInvalid)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var top any
	if err := dec.Decode(&top); err != nil {
		return nil, shape, jsonError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		off := dec.InputOffset()
		line, col := position(data, off)
		return nil, shape, fmt.Errorf("not valid JSON: more data after the list at line %d, column %d (two lists, or a stray character?): %w", line, col, sources.ErrInvalid)
	}
	items, ok := top.([]any)
	if obj, isObj := top.(map[string]any); isObj {
		switch inner := obj["config_list"].(type) {
		case []any:
			items, ok = inner, true
			shape = listShape{kind: "llm_config", inner: "list", options: without(obj, "config_list")}
		case map[string]any:
			items, ok = []any{inner}, true
			shape = listShape{kind: "llm_config", inner: "entry", options: without(obj, "config_list")}
		case nil:
			if isEntryLike(obj) {
				items, ok = []any{obj}, true
				shape = listShape{kind: "entry"}
			}
		}
	}
	if !ok {
		hint := ""
		if _, isObj := top.(map[string]any); isObj {
			hint = ": an entry needs a \"model\", an LLMConfig a \"config_list\" (a list of entries)"
		}
		return nil, shape, fmt.Errorf("the list is a JSON %s, want a list of entries%s: %w", jsonKind(top), hint, sources.ErrInvalid)
	}
	entries, err := parseEntries(items)
	return entries, shape, err
}

// isEntryLike reports whether an object is one config-list entry.
func isEntryLike(obj map[string]any) bool {
	for _, k := range []string{"model", "api_type", "api_key", "base_url"} {
		if _, ok := obj[k]; ok {
			return true
		}
	}
	return false
}

func without(obj map[string]any, key string) map[string]any {
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != key {
			out[k] = v
		}
	}
	return out
}

// parseEntries checks the entries' field types.
func parseEntries(items []any) ([]map[string]any, error) {
	var errs []error
	out := make([]map[string]any, 0, len(items))
	for i, item := range items {
		fields, ok := item.(map[string]any)
		if !ok {
			errs = append(errs, fmt.Errorf("entry %d is a JSON %s, want an object like {\"model\": \"gpt-4o\", \"api_key\": \"…\"}: %w", i, jsonKind(item), sources.ErrInvalid))
			continue
		}
		for _, f := range stringFields {
			if v, present := fields[f]; present && v != nil && !isString(v) {
				errs = append(errs, fmt.Errorf("entry %d: %q is a JSON %s, want a string: %w", i, f, jsonKind(v), sources.ErrInvalid))
			}
		}
		switch tags := fields["tags"].(type) {
		case nil, string:
		case []any:
			for j, t := range tags {
				if !isString(t) {
					errs = append(errs, fmt.Errorf("entry %d: \"tags\"[%d] is a JSON %s, want a string: %w", i, j, jsonKind(t), sources.ErrInvalid))
				}
			}
		default:
			errs = append(errs, fmt.Errorf("entry %d: \"tags\" is a JSON %s, want a list of strings like [\"gpt-4o\", \"fast\"]: %w", i, jsonKind(tags), sources.ErrInvalid))
		}
		out = append(out, fields)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// jsonError turns a decoding error into a message with a line and column
// and without any piece of the input (encoding/json quotes the offending
// character, which may be part of a key).
func jsonError(data []byte, err error) error {
	var syn *json.SyntaxError
	switch {
	case errors.As(err, &syn):
		line, col := position(data, syn.Offset)
		return fmt.Errorf("not valid JSON: syntax error at line %d, column %d (a trailing comma, a comment or single quotes?): %w", line, col, sources.ErrInvalid)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("not valid JSON: the list ends too early (a missing ] or }?): %w", sources.ErrInvalid)
	}
	return fmt.Errorf("not valid JSON: %w", sources.ErrInvalid)
}

// position converts a byte offset to a 1-based line and column.
func position(data []byte, off int64) (line, col int) {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(off) - bytes.LastIndexByte(before, '\n')
	return line, col
}

// jsonKind names a decoded JSON value's type as JSON calls it.
func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "list"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
