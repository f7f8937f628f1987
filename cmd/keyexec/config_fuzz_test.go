package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/spf13/pflag"

	"github.com/keyexec/keyexec/sources"
)

// FuzzLoadConfig feeds arbitrary bytes to keyexec's config loading (the
// YAML, JSON and TOML parsers, the unknown-key walk, viper and validation):
// it must never panic, and every failure must be a configuration error
// (exit 78) that names the file.
//
//	go test ./cmd/keyexec -run '^$' -fuzz FuzzLoadConfig -fuzztime 5m
func FuzzLoadConfig(f *testing.F) {
	seeds := []string{
		"provider: auto\ntimeout: 30s\n",
		"secrets:\n  OPENAI_API_KEY: vault://secret/llm/openai#api_key\naliases: {MY_KEY: OPENAI_API_KEY}\n",
		"probe: {enabled: true, timeout: 10s, model: gpt-4o-mini, on_unreachable: warn}\n",
		"vault:\n  address: https://vault:8200\n  auth: kubernetes\n  role: agents\n  kv_version: 2\n",
		"aws: {region: eu-west-1, endpoint: http://127.0.0.1:5000}\nconfig_list: {env: OAI_CONFIG_LIST, on_entry_failure: drop}\n",
		"supervise: {restart_signal: SIGTERM, restart_grace: 10s, on_change: signal}\nlog: {level: debug, format: json}\n",
		"probe: yes\n", "timeout: [1, 2]\n", "keep_aliases: maybe\n", "secrets: {\"1BAD\": x}\n",
		"provider: [unclosed\n", "a: &a [*a]\n", "? [a, b]\n: c\n", "\xff\xfe", "",
	}
	for _, s := range seeds {
		f.Add([]byte(s), uint8(0))
	}
	f.Add([]byte(`{"provider": "none", "secrets": {"A": "env://B"}}`), uint8(1))
	f.Add([]byte("provider = \"auto\"\n[probe]\nenabled = false\n"), uint8(2))
	exts := []string{".yaml", ".json", ".toml", ".yml"}
	dir := f.TempDir() // one directory: a TempDir per input slows the fuzzer to a crawl
	f.Fuzz(func(t *testing.T, data []byte, ext uint8) {
		path := filepath.Join(dir, "keyexec"+exts[int(ext)%len(exts)])
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		fs := pflag.NewFlagSet("check", pflag.ContinueOnError)
		addFlags(fs)
		if err := fs.Parse([]string{"--config", path}); err != nil {
			t.Fatal(err)
		}
		cfg, err := loadConfig(fs, map[string]string{})
		if err != nil {
			if !errors.Is(err, sources.ErrInvalid) || exitCode(err) != exitConfig {
				t.Fatalf("config error is not a configuration error (exit %d): %v", exitCode(err), err)
			}
			return
		}
		if cfg.Timeout <= 0 || cfg.Probe.Timeout <= 0 {
			t.Fatalf("accepted a non-positive timeout: %s, %s", cfg.Timeout, cfg.Probe.Timeout)
		}
		for name := range cfg.Secrets {
			if !sources.IsVarName(name) {
				t.Fatalf("accepted secrets key %q", name)
			}
		}
	})
}
