package resolve

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// DefaultConfigListVar is the variable AutoGen apps read their config list
// from (config_list_from_json("OAI_CONFIG_LIST")).
const DefaultConfigListVar = "OAI_CONFIG_LIST"

// MaxConfigListSize bounds a config list, inline or in a file: real lists
// are a few kilobytes, and a path mistake should not read a disk image.
const MaxConfigListSize = 1 << 20

// stringFields are the entry fields AutoGen hands to the SDK clients as
// strings; any other JSON type there is an error (null means "not set").
var stringFields = []string{"model", "api_key", "base_url", "api_type", "api_version",
	"azure_endpoint", "azure_ad_token", "azure_deployment", "organization"}

// keyFields hold credentials: sanitized with the key rules.
func isKeyField(path string) bool { return path == "api_key" || path == "azure_ad_token" }

// ListOptions says where the config list is and what to keep of it.
type ListOptions struct {
	// Var is config_list.env, the variable holding the list or a path to it
	// (DefaultConfigListVar when empty); the child gets the list back in it.
	Var string
	// File is config_list.file, a list file used when Var is unset.
	File string
	// Filter is config_list.filter, applied as AutoGen's filter_dict.
	Filter map[string]any
	// Dir is the directory relative paths start from ("" for the current one).
	Dir string
}

// ConfigList is an AutoGen config list being resolved. It holds values:
// print its report, never its fields.
type ConfigList struct {
	Var     string       // the variable the child reads the list from
	From    string       // where the list came from, for the report
	Notes   []string     // remarks for the report (BOM removed, file ignored)
	Entries []*ListEntry // every entry as written, filtered ones included
	shape   listShape
}

// ListEntry is one entry of the list.
type ListEntry struct {
	Doc
	Index int // position in the list as written, from 0
	// Filtered is set when config_list.filter left the entry out: it is
	// neither checked nor handed to the child.
	Filtered bool
	// Dropped says why the entry was removed (config_list.on_entry_failure:
	// drop); a dropped entry is not handed to the child.
	Dropped string

	model string
}

// ShownModel is the model as reports may show it: the name, "no model", or
// a fingerprint when the field holds something shaped like a key.
func (e *ListEntry) ShownModel() string { return e.model }

// Kept reports whether the entry goes to the child.
func (e *ListEntry) Kept() bool { return !e.Filtered && e.Dropped == "" }

// LoadConfigList reads the list as AutoGen's config_list_from_json does:
// a non-empty Var names a file when one exists there, else holds the JSON
// itself; an unset Var falls back to opts.File, then to a file named like
// Var in Dir. values is the resolved environment (so Var may itself be a
// reference to a list kept in a secret store). It returns nil and no error
// when there is no list. Errors wrap sources.ErrInvalid.
func LoadConfigList(values map[string]string, opts ListOptions) (*ConfigList, error) {
	name := cmp.Or(opts.Var, DefaultConfigListVar)
	l := &ConfigList{Var: name}
	var data []byte
	var err error
	switch v := strings.TrimSpace(values[name]); {
	case v != "":
		if path := opts.path(v); isFile(path) {
			l.From = name + " → file " + v
			data, err = readListFile(path, name+" names "+v)
		} else {
			l.From = name + " (inline JSON)"
			data, err = inlineList(name, v)
		}
		if opts.File != "" {
			l.Notes = append(l.Notes, fmt.Sprintf("config_list.file %s is ignored: %s is set, and config_list_from_json reads the variable first", opts.File, name))
		}
	case opts.File != "":
		l.From = "config_list.file " + opts.File
		data, err = readListFile(opts.path(opts.File), "config_list.file "+opts.File)
	case isFile(opts.path(name)):
		l.From = "file " + name + " (config_list_from_json reads it when " + name + " is unset)"
		data, err = readListFile(opts.path(name), "file "+name)
	default:
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if b, ok := bytes.CutPrefix(data, []byte("\ufeff")); ok {
		data = b
		l.Notes = append(l.Notes, "removed a byte-order mark (U+FEFF) before the list: Python's json.loads refuses it")
	}
	list, shape, err := parseConfigDoc(data)
	l.shape = shape
	if shape.kind != "list" {
		l.Notes = append(l.Notes, fmt.Sprintf("the list is an AG2 LLMConfig object (%s), handed back in the same shape: load it with LLMConfig(**json.loads(os.environ[%q])); config_list_from_json and LLMConfig.from_json need a JSON list", shape.kind, name))
	}
	if err != nil {
		return nil, fmt.Errorf("config list from %s: %w", l.From, err)
	}
	for i, fields := range list {
		e := &ListEntry{Index: i, Doc: newDoc(fields)}
		e.Filtered = !matchFilter(fields, opts.Filter)
		l.Entries = append(l.Entries, e)
		l.prepare(e)
		relabel(e)
	}
	return l, nil
}

func (o ListOptions) path(p string) string {
	if filepath.IsAbs(p) || o.Dir == "" {
		return p
	}
	return filepath.Join(o.Dir, p)
}

// isFile reports whether p names an existing regular file (os.path.exists,
// minus directories, which json.load could not read anyway).
func isFile(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}

func readListFile(path, what string) ([]byte, error) {
	data, err := readSmall(path, MaxConfigListSize)
	switch {
	case errors.Is(err, errTooBig):
		return nil, fmt.Errorf("config list: %s: the file is over %d KiB, far more than any config list: check the path: %w", what, MaxConfigListSize>>10, sources.ErrInvalid)
	case errors.As(err, new(openError)):
		return nil, fmt.Errorf("config list: %s: %v: fix the path: %w", what, err, sources.ErrInvalid)
	case err != nil:
		return nil, fmt.Errorf("config list: read %s: %v: %w", what, err, sources.ErrInvalid)
	}
	return data, nil
}

var errTooBig = errors.New("file over the size limit")

// openError is a file that cannot be opened; it reads as the reason alone
// ("no such file or directory"), the caller names the file.
type openError struct{ reason error }

func (e openError) Error() string { return e.reason.Error() }

// readSmall reads a file of at most limit bytes. It fails with errTooBig
// past the limit, and with an openError when the file cannot be opened.
func readSmall(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, openError{errors.Unwrap(err)}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, errTooBig
	}
	return data, nil
}

// inlineList checks a variable that names no file: it must hold JSON.
func inlineList(name, v string) ([]byte, error) {
	if len(v) > MaxConfigListSize {
		return nil, fmt.Errorf("config list: %s holds %d KiB, over the %d KiB limit: %w", name, len(v)>>10, MaxConfigListSize>>10, sources.ErrInvalid)
	}
	if c := v[0]; c == '[' || c == '{' || c == '"' {
		return []byte(v), nil
	}
	shown := sources.Fingerprint(v)
	if len(v) <= 256 && strings.ContainsAny(v, "/.") && !strings.ContainsFunc(v, unicode.IsSpace) &&
		!provider.LooksLikeKey(v) {
		shown = fmt.Sprintf("%q", v)
	}
	return nil, fmt.Errorf("config list: %s (%s) names no file and is not a JSON list: set it to the path of an existing file or to the list itself, like [{\"model\": \"gpt-4o\", \"api_key\": \"vault://…\"}]: %w",
		name, shown, sources.ErrInvalid)
}

// relabel sets e's label from its model, shown only when it cannot be a
// secret.
func relabel(e *ListEntry) {
	e.model = modelName(e.Fields["model"])
	e.label = fmt.Sprintf("config list entry %d (%s)", e.Index, e.model)
}

// modelName is a model field as labels may show it: the name, "no model",
// or a fingerprint when the field holds something shaped like a key.
func modelName(v any) string {
	m, isStr := v.(string)
	switch {
	case !isStr || m == "":
		return "no model"
	case sources.IsRef(m):
		return m
	case len(m) > 64 || strings.ContainsFunc(m, func(r rune) bool { return r <= ' ' || r > '~' || r == ';' }) || provider.LooksLikeKey(m):
		return "model " + sources.Fingerprint(m)
	}
	return m
}

// JSON returns the list to hand the child: the kept entries, resolved and
// sanitized, in their original order.
func (l *ConfigList) JSON() (string, error) {
	kept := []any{}
	for _, e := range l.Entries {
		if e.Kept() {
			kept = append(kept, e.Fields)
		}
	}
	var doc any = kept
	switch {
	case l.shape.kind == "entry" && len(kept) == 1:
		doc = kept[0]
	case l.shape.kind == "llm_config":
		obj := without(l.shape.options, "config_list")
		obj["config_list"] = kept
		if l.shape.inner == "entry" && len(kept) == 1 {
			obj["config_list"] = kept[0]
		}
		doc = obj
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return "", fmt.Errorf("encode the config list: %v: %w", err, sources.ErrInvalid)
	}
	return strings.TrimSuffix(buf.String(), "\n"), nil
}

// Check refuses a list AutoGen could not use: no entry, or none left by
// config_list.filter.
func (l *ConfigList) Check() error {
	if len(l.Entries) == 0 {
		return fmt.Errorf("config list from %s is empty: AutoGen would have no model to call; add an entry like {\"model\": \"gpt-4o\", \"api_key\": \"vault://…\"}: %w", l.From, sources.ErrInvalid)
	}
	if len(l.Kept()) == 0 {
		return fmt.Errorf("config_list.filter matches none of the %d entries of the config list from %s: fix the filter or the entries' model/tags: %w", len(l.Entries), l.From, sources.ErrInvalid)
	}
	s, err := l.JSON()
	if err != nil {
		return err
	}
	if len(l.Var)+len(s)+1 >= MaxEnvString {
		return fmt.Errorf("the config list is %d KiB, over Linux's %d KiB limit for one environment variable (%s): remove unused entries or use config_list.filter: %w",
			len(s)>>10, MaxEnvString>>10, l.Var, sources.ErrInvalid)
	}
	return nil
}

// Drop removes entry i from the list handed to the child, saying why
// (config_list.on_entry_failure: drop).
func (l *ConfigList) Drop(i int, why string) {
	if i >= 0 && i < len(l.Entries) {
		l.Entries[i].Dropped = why
	}
}

// Environ is env with the resolved list, as inline JSON, in the list's
// variable (replacing what was there).
func (l *ConfigList) Environ(env []string) ([]string, error) {
	if l == nil {
		return env, nil
	}
	s, err := l.JSON()
	if err != nil {
		return nil, err
	}
	return replaceVar(env, l.Var, s), nil
}

// Kept returns the entries handed to the child.
func (l *ConfigList) Kept() []*ListEntry {
	var out []*ListEntry
	for _, e := range l.Entries {
		if e.Kept() {
			out = append(out, e)
		}
	}
	return out
}

// matchFilter applies AutoGen's filter_dict to one entry: every key must be
// satisfied; a list value (tags) matches when it shares an element with the
// accepted values, a scalar when it is one of them. A missing or null field
// matches only when the accepted values include null (AutoGen 0.2's rule).
func matchFilter(fields map[string]any, filter map[string]any) bool {
	keys := make([]string, 0, len(filter))
	for k := range filter {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		accepted, isList := filter[k].([]any)
		if !isList {
			accepted = []any{filter[k]}
		}
		v := fields[k]
		switch vs := v.(type) {
		case nil:
			if !containsJSON(accepted, nil) {
				return false
			}
		case []any:
			hit := false
			for _, x := range vs {
				hit = hit || (x != nil && containsJSON(accepted, x))
			}
			if !hit {
				return false
			}
		default:
			if !containsJSON(accepted, v) {
				return false
			}
		}
	}
	return true
}

// containsJSON compares JSON scalars by kind and text, so that 1 from YAML
// matches 1 from JSON.
func containsJSON(list []any, v any) bool {
	for _, x := range list {
		switch {
		case x == nil || v == nil:
			if x == nil && v == nil {
				return true
			}
		case isString(x) != isString(v):
		case fmt.Sprint(x) == fmt.Sprint(v):
			return true
		}
	}
	return false
}

func isString(v any) bool {
	_, ok := v.(string)
	return ok
}
