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
	"github.com/spf13/pflag"
	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/awssm"
	"github.com/keyexec/keyexec/sources/vault"
)

// Config is keyexec's whole configuration, built once from defaults, the
// config file, KEYEXEC_* variables and flags, in that order of precedence.
type Config struct {
	Provider    string            `mapstructure:"provider"`
	Timeout     time.Duration     `mapstructure:"timeout"`
	Secrets     map[string]string `mapstructure:"secrets"`
	Aliases     map[string]string `mapstructure:"aliases"`
	KeepAliases bool              `mapstructure:"keep_aliases"`
	Scrub       []string          `mapstructure:"scrub"`
	Probe       ProbeConfig       `mapstructure:"probe"`
	Vault       vault.Config      `mapstructure:"vault"`
	AWS         awssm.Config      `mapstructure:"aws"`
	ConfigList  ConfigListConfig  `mapstructure:"config_list"`
	Supervise   SuperviseConfig   `mapstructure:"supervise"`
	Log         LogConfig         `mapstructure:"log"`

	file     string   // the config file read, "" when none
	warnings []string // logged once the logger exists
}

// ProbeConfig is the probe: section.
type ProbeConfig struct {
	Enabled       bool          `mapstructure:"enabled"`
	Timeout       time.Duration `mapstructure:"timeout"`
	Model         string        `mapstructure:"model"`
	Deployment    string        `mapstructure:"deployment"`
	OnUnreachable string        `mapstructure:"on_unreachable"`
	AllowHTTP     bool          `mapstructure:"allow_http"`
}

// ConfigListConfig is the config_list: section (AutoGen OAI_CONFIG_LIST).
type ConfigListConfig struct {
	Env            string         `mapstructure:"env"`
	File           string         `mapstructure:"file"`
	OnEntryFailure string         `mapstructure:"on_entry_failure"`
	Filter         map[string]any `mapstructure:"filter"`
}

// SuperviseConfig is the supervise: section.
type SuperviseConfig struct {
	Enabled       string        `mapstructure:"enabled"` // auto (as PID 1) | true | false
	Watch         time.Duration `mapstructure:"watch"`
	RestartSignal string        `mapstructure:"restart_signal"`
	RestartGrace  time.Duration `mapstructure:"restart_grace"`
	OnChange      string        `mapstructure:"on_change"`
	ChangeSignal  string        `mapstructure:"change_signal"`
}

// LogConfig is the log: section.
type LogConfig struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"`
}

// defaults are the values before any file, variable or flag.
var defaultValues = map[string]any{
	"provider":                     "auto",
	"timeout":                      "30s",
	"scrub":                        []string{"VAULT_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID"},
	"probe.enabled":                true,
	"probe.timeout":                "10s",
	"probe.on_unreachable":         "fail",
	"config_list.env":              "OAI_CONFIG_LIST",
	"config_list.on_entry_failure": "fail",
	"supervise.enabled":            "auto",
	"supervise.restart_signal":     "SIGTERM",
	"supervise.restart_grace":      "10s",
	"supervise.on_change":          "restart",
	"supervise.change_signal":      "SIGHUP",
	"log.level":                    "info",
	"log.format":                   "text",
}

// setting ties a flag to its config key and KEYEXEC_ variable.
type setting struct {
	flag, key string
	invert    bool // --no-probe sets probe.enabled=false
}

var settings = []setting{
	{flag: "provider", key: "provider"},
	{flag: "timeout", key: "timeout"},
	{flag: "no-probe", key: "probe.enabled", invert: true},
	{flag: "probe-timeout", key: "probe.timeout"},
	{flag: "model", key: "probe.model"},
	{flag: "watch", key: "supervise.watch"},
	{flag: "restart-signal", key: "supervise.restart_signal"},
	{flag: "restart-grace", key: "supervise.restart_grace"},
	{flag: "on-change", key: "supervise.on_change"},
	{flag: "log-level", key: "log.level"},
	{flag: "log-format", key: "log.format"},
}

// envName is the KEYEXEC_ variable of a flag.
func envName(flag string) string {
	return "KEYEXEC_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// configError is a problem with the configuration (exit 78).
func configError(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, sources.ErrInvalid)...)
}

// loadConfig builds the Config. flags are the command's parsed flags; env is
// keyexec's environment.
func loadConfig(flags *pflag.FlagSet, env map[string]string) (*Config, error) {
	v := viper.New()
	for k, d := range defaultValues {
		v.SetDefault(k, d)
	}
	path, explicit := "", false
	if f := flags.Lookup("config"); f != nil && f.Changed {
		path, explicit = f.Value.String(), true
	} else if p := env["KEYEXEC_CONFIG"]; p != "" {
		path, explicit = p, true
	} else if _, err := os.Stat("keyexec.yaml"); err == nil {
		path = "keyexec.yaml"
	}
	var raw map[string]any
	if path != "" {
		var err error
		raw, err = readConfigFile(path)
		if err != nil {
			if !explicit && errors.Is(err, fs.ErrNotExist) {
				path = ""
			} else {
				return nil, err
			}
		}
		if err := checkKeys(raw, reflect.TypeOf(Config{}), "", path); err != nil {
			return nil, err
		}
		// viper folds the case of keys in the map it is given; variable
		// names are case-sensitive, so it gets a copy.
		if err := v.MergeConfigMap(deepCopy(raw)); err != nil {
			return nil, configError("%s: %v", path, err)
		}
	}
	// KEYEXEC_* variables sit between the file and the flags.
	envLayer := map[string]any{}
	for _, s := range settings {
		val, ok := env[envName(s.flag)]
		if !ok {
			continue
		}
		if s.invert {
			b, err := parseBool(val)
			if err != nil {
				return nil, configError("%s=%q: %v", envName(s.flag), val, err)
			}
			setNested(envLayer, s.key, !b)
			continue
		}
		setNested(envLayer, s.key, val)
	}
	if val, ok := env["KEYEXEC_SUPERVISE"]; ok {
		setNested(envLayer, "supervise.enabled", val)
	}
	if err := v.MergeConfigMap(envLayer); err != nil {
		return nil, configError("KEYEXEC_ variables: %v", err)
	}
	for _, s := range settings {
		f := flags.Lookup(s.flag)
		if f == nil || !f.Changed {
			continue
		}
		if s.invert {
			v.Set(s.key, f.Value.String() != "true")
			continue
		}
		if err := v.BindPFlag(s.key, f); err != nil {
			return nil, err
		}
	}
	if f := flags.Lookup("supervise"); f != nil && f.Changed {
		v.Set("supervise.enabled", f.Value.String())
	}
	if f := flags.Lookup("no-supervise"); f != nil && f.Changed && f.Value.String() == "true" {
		v.Set("supervise.enabled", "false")
	}
	cfg := &Config{file: path}
	if err := v.Unmarshal(cfg); err != nil {
		where := "configuration"
		if path != "" {
			where = path
		}
		return nil, configError("%s: %v", where, err)
	}
	// viper folds key case; variable names are case-sensitive, so the maps
	// keyed by variable names come from the file as written.
	var err error
	if cfg.Secrets, err = stringMap(raw["secrets"], path, "secrets"); err != nil {
		return nil, err
	}
	if cfg.Aliases, err = stringMap(raw["aliases"], path, "aliases"); err != nil {
		return nil, err
	}
	cfg.warnings = unknownEnvSettings(env)
	if vs, ok := raw["vault"].(map[string]any); ok {
		if kv := vs["kv_version"]; kv != nil {
			cfg.Vault.KVVersion = nil
			if err := decodeInto(kv, &cfg.Vault.KVVersion); err != nil {
				return nil, configError("%s: vault.kv_version: %v", path, err)
			}
		}
	}
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func (c *Config) validate() error {
	where := "keyexec"
	if c.file != "" {
		where = c.file
	}
	oneOf := func(key, val string, allowed ...string) error {
		for _, a := range allowed {
			if val == a {
				return nil
			}
		}
		return configError("%s: %s is %q, want one of %s", where, key, val, strings.Join(allowed, ", "))
	}
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	add(oneOf("provider", c.Provider, "auto", "openai", "azure", "anthropic", "none"))
	add(oneOf("probe.on_unreachable", c.Probe.OnUnreachable, "fail", "warn"))
	add(oneOf("config_list.on_entry_failure", c.ConfigList.OnEntryFailure, "fail", "drop"))
	add(oneOf("supervise.on_change", c.Supervise.OnChange, "restart", "signal"))
	add(oneOf("supervise.enabled", strings.ToLower(c.Supervise.Enabled), "auto", "true", "false"))
	add(oneOf("log.level", strings.ToLower(c.Log.Level), "debug", "info", "warn", "error"))
	add(oneOf("log.format", c.Log.Format, "text", "json"))
	for key, d := range map[string]time.Duration{"timeout": c.Timeout, "probe.timeout": c.Probe.Timeout, "supervise.restart_grace": c.Supervise.RestartGrace} {
		if d <= 0 {
			add(configError("%s: %s must be a positive duration such as 30s, got %s", where, key, d))
		}
	}
	if c.Supervise.Watch < 0 {
		add(configError("%s: supervise.watch must be a duration such as 5m, got %s", where, c.Supervise.Watch))
	}
	for name, target := range c.Aliases {
		if !isVarName(name) || !isVarName(target) {
			add(configError("%s: aliases: %q → %q: both sides must be variable names", where, name, target))
		}
	}
	for name := range c.Secrets {
		if !isVarName(name) {
			add(configError("%s: secrets: %q is not a variable name (letters, digits and _, not starting with a digit)", where, name))
		}
	}
	return errors.Join(errs...)
}

func isVarName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, c := range s {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

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
			errs = append(errs, configError("%s: unknown key %q (known keys here: %s)", file, prefix+k, strings.Join(names, ", ")))
			continue
		}
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Duration(0)) {
			sub, ok := raw[k].(map[string]any)
			if !ok {
				if raw[k] == nil {
					continue
				}
				errs = append(errs, configError("%s: %q must be a mapping of keys, got %T", file, prefix+k, raw[k]))
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
			return nil, configError("%s: %s.%s must be a string, got %s: quote the value", file, key, k, yamlKind(val))
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

// unknownEnvSettings names KEYEXEC_ variables keyexec does not read, so a
// typo such as KEYEXEC_PROVDER does not go unnoticed.
func unknownEnvSettings(env map[string]string) []string {
	known := map[string]bool{"KEYEXEC_CONFIG": true, "KEYEXEC_SUPERVISE": true}
	for _, s := range settings {
		known[envName(s.flag)] = true
	}
	var out []string
	for k := range env {
		if strings.HasPrefix(k, "KEYEXEC_") && !known[k] && !strings.HasPrefix(k, "KEYEXEC_TEST_") {
			out = append(out, fmt.Sprintf("%s is not a keyexec setting and is ignored (known: KEYEXEC_CONFIG, KEYEXEC_PROVIDER, KEYEXEC_TIMEOUT, KEYEXEC_NO_PROBE, …; see keyexec --help)", k))
		}
	}
	sort.Strings(out)
	return out
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
