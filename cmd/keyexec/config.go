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

// defaultValues are the values before any file, variable or flag (a
// function, so that building them is no package init work).
func defaultValues() map[string]any {
	return map[string]any{
		"provider":                     "auto",
		"timeout":                      "30s",
		"scrub":                        vault.ScrubVars(),
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
	for k, d := range defaultValues() {
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
	if val, ok := env["KEYEXEC_NO_SUPERVISE"]; ok {
		no, err := parseBool(val)
		if err != nil {
			return nil, configError("KEYEXEC_NO_SUPERVISE=%q: %v", val, err)
		}
		if no {
			setNested(envLayer, "supervise.enabled", "false")
		}
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
	// viper folds key case; variable names are case-sensitive, so the maps
	// keyed by variable names come from the file as written (and are
	// checked first, for a message that names the variable as written).
	secrets, err := stringMap(raw["secrets"], path, "secrets")
	if err != nil {
		return nil, err
	}
	aliases, err := stringMap(raw["aliases"], path, "aliases")
	if err != nil {
		return nil, err
	}
	cfg := &Config{file: path}
	if err := v.Unmarshal(cfg); err != nil {
		where := "configuration"
		if path != "" {
			where = path
		}
		return nil, configError("%s: %v", where, err)
	}
	cfg.Secrets, cfg.Aliases = secrets, aliases
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
	where := "configuration"
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
		if !sources.IsVarName(name) || !sources.IsVarName(target) {
			add(configError("%s: aliases: %q → %q: both sides must be variable names", where, sources.RedactText(name), sources.RedactText(target)))
		}
	}
	for name := range c.Secrets {
		if !sources.IsVarName(name) {
			add(configError("%s: secrets: %q is not a variable name (letters, digits and _, not starting with a digit)", where, sources.RedactText(name)))
		}
	}
	for key, sig := range map[string]string{"supervise.restart_signal": c.Supervise.RestartSignal, "supervise.change_signal": c.Supervise.ChangeSignal} {
		if _, err := parseSignal(sig); err != nil {
			add(configError("%s: %s: %v", where, key, err))
		}
	}
	return errors.Join(errs...)
}
