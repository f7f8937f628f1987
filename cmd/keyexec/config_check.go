package main

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/keyexec/keyexec/resolve"
	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// validate checks every setting, and reports them all. A value that is not
// one of the allowed ones is shown only when it is a plain short word: a key
// typed into the wrong setting is never echoed.
func (c *Config) validate() error {
	where := orConfiguration(c.file)
	var errs []error
	add := func(err error) {
		if err != nil {
			errs = append(errs, err)
		}
	}
	oneOf := func(key, val string, allowed ...string) {
		if !contains(allowed, val) {
			add(configError("%s: %s is %s, want one of %s", where, key, sources.ShowValue(val), strings.Join(allowed, ", ")))
		}
	}
	oneOf("probe.on_unreachable", c.Probe.OnUnreachable, "fail", "warn")
	oneOf("config_list.on_entry_failure", c.ConfigList.OnEntryFailure, "fail", "drop")
	oneOf("supervise.on_change", c.Supervise.OnChange, "restart", "signal")
	oneOf("supervise.enabled", strings.ToLower(c.Supervise.Enabled), "auto", "true", "false")
	oneOf("log.level", strings.ToLower(c.Log.Level), "debug", "info", "warn", "error")
	oneOf("log.format", c.Log.Format, "text", "json")
	oneOf("azure.auth", c.Azure.Auth, "auto", "key", "entra")
	for key, d := range map[string]time.Duration{"timeout": c.Timeout, "probe.timeout": c.Probe.Timeout, "supervise.restart_grace": c.Supervise.RestartGrace} {
		if d <= 0 {
			add(configError("%s: %s must be a positive duration such as 30s, got %s", where, key, d))
		}
	}
	if c.Supervise.Watch < 0 || c.Probe.MinTokenTTL < 0 {
		add(configError("%s: supervise.watch and probe.min_token_ttl must be durations such as 5m", where))
	}
	for name, target := range c.Aliases {
		if !sources.IsVarName(name) || !sources.IsVarName(target) {
			add(configError("%s: aliases: %s → %s: both sides must be variable names", where, sources.ShowValue(name), sources.ShowValue(target)))
		}
	}
	for name := range c.Secrets {
		if !sources.IsVarName(name) {
			add(configError("%s: secrets: %s is not a variable name (letters, digits and _, not starting with a digit)", where, sources.ShowValue(name)))
		}
	}
	for name := range c.BaseURLs {
		if provider.ByName(name) == nil {
			add(configError("%s: base_urls: %s is not a provider (%s)", where, sources.ShowValue(name), strings.Join(provider.List(), ", ")))
		}
	}
	for _, p := range c.PassThrough {
		if !contains(resolve.BuiltinScrub(), p) {
			add(configError("%s: pass_through: %s is not a variable keyexec keeps from the child (those are %s); nothing to pass through", where, sources.ShowValue(p), strings.Join(resolve.BuiltinScrub(), ", ")))
		}
	}
	for i, comp := range c.Components {
		if comp.File == "" || comp.Env != "" && !sources.IsVarName(comp.Env) {
			add(configError("%s: components[%d]: file must be set, env must be a variable name", where, i))
		}
	}
	for key, sig := range map[string]string{"supervise.restart_signal": c.Supervise.RestartSignal, "supervise.change_signal": c.Supervise.ChangeSignal} {
		if _, err := parseSignal(sig); err != nil {
			add(configError("%s: %s: %v", where, key, err))
		}
	}
	return errors.Join(errs...)
}

// unknownEnvSettings names KEYEXEC_ variables keyexec does not read, so a
// typo such as KEYEXEC_PROVDER does not go unnoticed.
func unknownEnvSettings(env map[string]string) []string {
	known := map[string]bool{}
	for _, e := range extraEnv() {
		known[e] = true
	}
	for _, s := range settings() {
		known[envName(s.flag)] = true
	}
	var out []string
	for k := range env {
		if strings.HasPrefix(k, "KEYEXEC_") && !known[k] && !strings.HasPrefix(k, "KEYEXEC_TEST_") {
			out = append(out, fmt.Sprintf("%s is not a keyexec setting and is ignored (see keyexec --help for the KEYEXEC_ variables)", sources.RedactText(k)))
		}
	}
	sort.Strings(out)
	return out
}
