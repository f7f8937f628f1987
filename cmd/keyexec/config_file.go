package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"go.yaml.in/yaml/v3"

	"github.com/keyexec/keyexec/sources"
)

// maxConfigSize bounds the config file: it is a few dozen lines.
const maxConfigSize = 1 << 20

// readConfigFile parses YAML, JSON or TOML by extension into a generic map.
func readConfigFile(path string) (map[string]any, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("config file %s does not exist: fix --config / KEYEXEC_CONFIG: %w: %w", path, fs.ErrNotExist, sources.ErrInvalid)
		}
		return nil, configError("config file %s: %v", path, err)
	}
	if fi.Size() > maxConfigSize {
		return nil, configError("config file %s is %d bytes; a keyexec config is a few lines: check the path", path, fi.Size())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, configError("config file %s: %v", path, err)
	}
	raw := map[string]any{}
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".yaml", ".yml", "":
		err = yaml.Unmarshal(data, &raw)
	case ".json":
		err = json.Unmarshal(data, &raw)
	case ".toml":
		err = toml.Unmarshal(data, &raw)
	default:
		return nil, configError("config file %s: unknown extension %q: use .yaml, .yml, .json or .toml", path, ext)
	}
	if err != nil {
		return nil, configError("config file %s is not valid %s: %v", path, strings.TrimPrefix(filepath.Ext(path), "."), err)
	}
	if raw == nil {
		raw = map[string]any{}
	}
	return raw, nil
}

// checkKeys walks the parsed file against Config's mapstructure tags and
// names the first unknown keys; map-typed fields take any keys.
func checkKeys(raw map[string]any, t reflect.Type, prefix, file string) error {
	known := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		known[tag] = f.Type
	}
	keys := make([]string, 0, len(raw))
	for k := range raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var errs []error
	for _, k := range keys {
		ft, ok := known[k]
		if !ok {
			names := make([]string, 0, len(known))
			for n := range known {
				names = append(names, n)
			}
			sort.Strings(names)
			errs = append(errs, configError("%s: unknown key %q (known keys here: %s)", file, sources.RedactText(prefix+k), strings.Join(names, ", ")))
			continue
		}
		if ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct {
			items, _ := raw[k].([]any)
			for i, it := range items {
				if sub, ok := it.(map[string]any); ok {
					if err := checkKeys(sub, ft.Elem(), fmt.Sprintf("%s%s[%d].", prefix, k, i), file); err != nil {
						errs = append(errs, err)
					}
				}
			}
			continue
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Duration(0)) {
			sub, ok := raw[k].(map[string]any)
			if !ok {
				if raw[k] == nil {
					continue
				}
				errs = append(errs, configError("%s: %q must be a mapping of keys, got %s", file, sources.RedactText(prefix+k), yamlKind(raw[k])))
				continue
			}
			if err := checkKeys(sub, ft, prefix+k+".", file); err != nil {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}

// stringMap reads a map of variable names to strings (secrets:, aliases:).
// A value that is not a string is an error: YAML turns yes, 0123 and 1e3 into
// other types, and a silently converted secret is a wrong secret.
func stringMap(v any, file, key string) (map[string]string, error) {
	if v == nil {
		return nil, nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, configError("%s: %s must be a mapping of NAME: value, got %s", file, key, yamlKind(v))
	}
	out := make(map[string]string, len(m))
	for k, val := range m {
		str, ok := val.(string)
		if !ok {
			return nil, configError("%s: %s.%s must be a string, got %s: quote the value", file, key, sources.RedactText(k), yamlKind(val))
		}
		out[k] = str
	}
	return out, nil
}

func yamlKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "a mapping"
	case []any:
		return "a list"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	case string:
		return "a string"
	}
	return "a number"
}

func decodeInto(in any, out any) error {
	data, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, out)
}

func deepCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = deepCopy(sub)
		}
		out[k] = v
	}
	return out
}

func setNested(m map[string]any, key string, val any) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		sub, ok := m[p].(map[string]any)
		if !ok {
			sub = map[string]any{}
			m[p] = sub
		}
		m = sub
	}
	m[parts[len(parts)-1]] = val
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("want true or false")
}
