package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"github.com/spf13/viper"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/awssm"
	"github.com/keyexec/keyexec/sources/vault"
	"github.com/keyexec/keyexec/verify/provider"
)

// Config is keyexec's whole configuration, built once from defaults, the
// config file, KEYEXEC_* variables and flags, in that order of precedence.
type Config struct {
	Provider    any               `mapstructure:"provider"` // a name, a comma list, or a list; read into Providers
	Timeout     time.Duration     `mapstructure:"timeout"`
	Secrets     map[string]string `mapstructure:"secrets"`
	Aliases     map[string]string `mapstructure:"aliases"`
	KeepAliases bool              `mapstructure:"keep_aliases"`
	Scrub       []string          `mapstructure:"scrub"`
	PassThrough []string          `mapstructure:"pass_through"`
	BaseURLs    map[string]string `mapstructure:"base_urls"` // provider → base URL, where its SDK reads none from the environment
	Probe       ProbeConfig       `mapstructure:"probe"`
	Components  []ComponentConfig `mapstructure:"components"`
	Azure       AzureConfig       `mapstructure:"azure"`
	Vault       vault.Config      `mapstructure:"vault"`
	AWS         awssm.Config      `mapstructure:"aws"`
	ConfigList  ConfigListConfig  `mapstructure:"config_list"`
	Supervise   SuperviseConfig   `mapstructure:"supervise"`
	Log         LogConfig         `mapstructure:"log"`

	Providers []string `mapstructure:"-"` // auto, none, or provider names
	file      string   // the config file read, "" when none
	warnings  []string // logged once the logger exists
}

// ProbeConfig is the probe: section.
type ProbeConfig struct {
	Enabled       bool          `mapstructure:"enabled"`
	Timeout       time.Duration `mapstructure:"timeout"`
	Model         string        `mapstructure:"model"`
	Deployment    string        `mapstructure:"deployment"`
	OnUnreachable string        `mapstructure:"on_unreachable"`
	AllowHTTP     bool          `mapstructure:"allow_http"`
	MinTokenTTL   time.Duration `mapstructure:"min_token_ttl"`
}

// ComponentConfig is one entry of components: an AutoGen component file,
// and the variable its resolved form goes to (needed when it holds
// references).
type ComponentConfig struct {
	File string `mapstructure:"file"`
	Env  string `mapstructure:"env"`
}

// AzureConfig is the azure: section.
type AzureConfig struct {
	Auth  string `mapstructure:"auth"` // auto | key | entra
	Scope string `mapstructure:"scope"`
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

// defaultValues are the values before any file, variable or flag (a
// function, so that building them is no package init work).
func defaultValues() map[string]any {
	return map[string]any{
		"provider":                     "auto",
		"timeout":                      "30s",
		"probe.enabled":                true,
		"probe.timeout":                "10s",
		"probe.on_unreachable":         "fail",
		"probe.min_token_ttl":          "10m",
		"azure.auth":                   "auto",
		"azure.scope":                  provider.CognitiveServicesScope,
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
}

// setting ties a flag to its config key and KEYEXEC_ variable.
type setting struct {
	flag, key string
	invert    bool // --no-probe sets probe.enabled=false
}

// settings are the flags that are also config keys and KEYEXEC_ variables.
func settings() []setting {
	return []setting{
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
}

// extraEnv are the KEYEXEC_ variables that are not a setting's.
func extraEnv() []string {
	return []string{"KEYEXEC_CONFIG", "KEYEXEC_SUPERVISE", "KEYEXEC_NO_SUPERVISE", "KEYEXEC_JSON", "KEYEXEC_COMPONENT"}
}

// envName is the KEYEXEC_ variable of a flag.
func envName(flag string) string {
	return "KEYEXEC_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// configError is a problem with the configuration (exit 78).
func configError(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, sources.ErrInvalid)...)
}

// configPath finds the config file: --config, KEYEXEC_CONFIG, else
// ./keyexec.yaml when present; explicit says a missing file is an error.
func configPath(flags *pflag.FlagSet, env map[string]string) (path string, explicit bool) {
	if f := flags.Lookup("config"); f != nil && f.Changed {
		return f.Value.String(), true
	}
	if p := env["KEYEXEC_CONFIG"]; p != "" {
		return p, true
	}
	if _, err := os.Stat("keyexec.yaml"); err == nil {
		return "keyexec.yaml", false
	}
	return "", false
}

// loadConfig builds the Config. flags are the command's parsed flags; env is
// keyexec's environment.
func loadConfig(flags *pflag.FlagSet, env map[string]string) (*Config, error) {
	v := viper.New()
	for k, d := range defaultValues() {
		v.SetDefault(k, d)
	}
	path, explicit := configPath(flags, env)
	raw, path, err := readLayerFile(v, path, explicit)
	if err != nil {
		return nil, err
	}
	if err := mergeEnvLayer(v, env); err != nil {
		return nil, err
	}
	if err := mergeFlagLayer(v, flags); err != nil {
		return nil, err
	}
	cfg := &Config{file: path}
	if err := v.Unmarshal(cfg); err != nil {
		return nil, configError("%s: %v", orConfiguration(path), sources.RedactText(err.Error()))
	}
	// viper folds key case; variable names are case-sensitive, so the maps
	// keyed by variable names come from the file as written.
	if cfg.Secrets, err = stringMap(raw["secrets"], path, "secrets"); err != nil {
		return nil, err
	}
	if cfg.Aliases, err = stringMap(raw["aliases"], path, "aliases"); err != nil {
		return nil, err
	}
	if cfg.BaseURLs, err = stringMap(raw["base_urls"], path, "base_urls"); err != nil {
		return nil, err
	}
	if cfg.Components, err = components(raw["components"], path, flags, env); err != nil {
		return nil, err
	}
	if cfg.Providers, err = providerList(cfg.Provider); err != nil {
		return nil, err
	}
	if vs, ok := raw["vault"].(map[string]any); ok && vs["kv_version"] != nil {
		cfg.Vault.KVVersion = nil
		if err := decodeInto(vs["kv_version"], &cfg.Vault.KVVersion); err != nil {
			return nil, configError("%s: vault.kv_version: %v", path, err)
		}
	}
	cfg.warnings = unknownEnvSettings(env)
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// readLayerFile reads the config file into v and returns its raw map.
func readLayerFile(v *viper.Viper, path string, explicit bool) (map[string]any, string, error) {
	if path == "" {
		return nil, "", nil
	}
	raw, err := readConfigFile(path)
	if err != nil {
		if !explicit && errors.Is(err, fs.ErrNotExist) {
			return nil, "", nil
		}
		return nil, "", err
	}
	if err := checkKeys(raw, reflect.TypeOf(Config{}), "", path); err != nil {
		return nil, "", err
	}
	// viper folds the case of keys in the map it is given; variable names
	// are case-sensitive, so it gets a copy.
	if err := v.MergeConfigMap(deepCopy(raw)); err != nil {
		return nil, "", configError("%s: %v", path, err)
	}
	return raw, path, nil
}

// mergeEnvLayer puts the KEYEXEC_* variables between the file and the flags.
func mergeEnvLayer(v *viper.Viper, env map[string]string) error {
	layer := map[string]any{}
	for _, s := range settings() {
		val, ok := env[envName(s.flag)]
		if !ok {
			continue
		}
		if s.invert {
			b, err := parseBool(val)
			if err != nil {
				return configError("%s=%s: %v", envName(s.flag), sources.ShowValue(val), err)
			}
			setNested(layer, s.key, !b)
			continue
		}
		setNested(layer, s.key, val)
	}
	if val, ok := env["KEYEXEC_SUPERVISE"]; ok {
		setNested(layer, "supervise.enabled", val)
	}
	if val, ok := env["KEYEXEC_NO_SUPERVISE"]; ok {
		no, err := parseBool(val)
		if err != nil {
			return configError("KEYEXEC_NO_SUPERVISE=%s: %v", sources.ShowValue(val), err)
		}
		if no {
			setNested(layer, "supervise.enabled", "false")
		}
	}
	if err := v.MergeConfigMap(layer); err != nil {
		return configError("KEYEXEC_ variables: %v", err)
	}
	return nil
}

// mergeFlagLayer applies the flags given on the command line.
func mergeFlagLayer(v *viper.Viper, flags *pflag.FlagSet) error {
	for _, s := range settings() {
		f := flags.Lookup(s.flag)
		if f == nil || !f.Changed {
			continue
		}
		if s.invert {
			v.Set(s.key, f.Value.String() != "true")
			continue
		}
		if err := v.BindPFlag(s.key, f); err != nil {
			return err
		}
	}
	if f := flags.Lookup("supervise"); f != nil && f.Changed {
		v.Set("supervise.enabled", f.Value.String())
	}
	if f := flags.Lookup("no-supervise"); f != nil && f.Changed && f.Value.String() == "true" {
		v.Set("supervise.enabled", "false")
	}
	return nil
}

// providerList reads provider: auto, none, a name, "a,b", or a list.
func providerList(v any) ([]string, error) {
	var names []string
	switch x := v.(type) {
	case string:
		for _, p := range strings.Split(x, ",") {
			if p = strings.ToLower(strings.TrimSpace(p)); p != "" {
				names = append(names, p)
			}
		}
	case []any:
		for _, p := range x {
			s, ok := p.(string)
			if !ok {
				return nil, configError("provider: a list of names, got an item that is %s", yamlKind(p))
			}
			names = append(names, strings.ToLower(strings.TrimSpace(s)))
		}
	case []string:
		names = x
	case nil:
	default:
		return nil, configError("provider: a name or a list of names, got %s", yamlKind(v))
	}
	if len(names) == 0 {
		return []string{"auto"}, nil
	}
	known := append([]string{"auto", "none"}, provider.List()...)
	for _, n := range names {
		if !contains(known, n) {
			return nil, configError("provider %s is not one keyexec knows: use auto, none, or one or more of %s", sources.ShowValue(n), strings.Join(provider.List(), ", "))
		}
		if (n == "auto" || n == "none") && len(names) > 1 {
			return nil, configError("provider %s cannot be combined with other names", n)
		}
	}
	return names, nil
}

// components reads components: (a list of {file, env} or of file names),
// then --component FILE[=ENV] and KEYEXEC_COMPONENT (comma separated).
func components(raw any, path string, flags *pflag.FlagSet, env map[string]string) ([]ComponentConfig, error) {
	var out []ComponentConfig
	list, ok := raw.([]any)
	if raw != nil && !ok {
		return nil, configError("%s: components must be a list of {file: …, env: …}, got %s", path, yamlKind(raw))
	}
	for i, item := range list {
		switch x := item.(type) {
		case string:
			out = append(out, ComponentConfig{File: x})
		case map[string]any:
			var c ComponentConfig
			if err := decodeInto(x, &c); err != nil || c.File == "" {
				return nil, configError("%s: components[%d] needs file: (and env: NAME when it holds references)", path, i)
			}
			out = append(out, c)
		default:
			return nil, configError("%s: components[%d] is %s: want {file: …, env: …}", path, i, yamlKind(item))
		}
	}
	var given []string
	if f := flags.Lookup("component"); f != nil && f.Changed {
		given, _ = flags.GetStringArray("component")
	} else if v := env["KEYEXEC_COMPONENT"]; v != "" {
		given = strings.Split(v, ",")
	}
	for _, g := range given {
		file, name, _ := strings.Cut(strings.TrimSpace(g), "=")
		out = append(out, ComponentConfig{File: file, Env: name})
	}
	return out, nil
}

func orConfiguration(path string) string {
	if path == "" {
		return "configuration"
	}
	return path
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
