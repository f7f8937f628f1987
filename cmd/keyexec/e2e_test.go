package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRunAPIKeyWithCRLFBecomesTrimmedOpenAIKey(t *testing.T) {
	t.Parallel()
	out, child, ok := runChild(t, "", map[string]string{"API_KEY": openAIKey + "\r\n"}, "--no-probe")
	if !ok || out.code != 0 {
		t.Fatalf("child did not run (exit %d): %s", out.code, out.stderr)
	}
	if got := child.Env["OPENAI_API_KEY"]; got != openAIKey {
		t.Errorf("OPENAI_API_KEY in the child = %q…, want the trimmed key", got[:min(10, len(got))])
	}
	if _, ok := child.Env["API_KEY"]; ok {
		t.Errorf("API_KEY still in the child")
	}
	if !strings.Contains(out.stderr, "keyexec: ") || !strings.Contains(out.stderr, "not probed") {
		t.Errorf("run did not print its summary line: %q", out.stderr)
	}
	assertNoLeak(t, out.stderr)
}

func TestRunAzureAliases(t *testing.T) {
	t.Parallel()
	out, child, ok := runChild(t, "", map[string]string{
		"AZURE_OPENAI_KEY":      azureKey,
		"AZURE_OPENAI_API_BASE": "https://x.openai.azure.com/openai/",
		"AZURE_API_VERSION":     "2024-10-21",
	}, "--no-probe")
	if !ok {
		t.Fatalf("child did not run (exit %d): %s", out.code, out.stderr)
	}
	want := map[string]string{
		"AZURE_OPENAI_API_KEY":  azureKey,
		"AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com",
		"OPENAI_API_VERSION":    "2024-10-21",
	}
	for k, v := range want {
		if child.Env[k] != v {
			t.Errorf("%s = %q, want %q", k, child.Env[k], v)
		}
	}
	for _, gone := range []string{"AZURE_OPENAI_KEY", "AZURE_OPENAI_API_BASE"} {
		if _, ok := child.Env[gone]; ok {
			t.Errorf("alias %s still in the child", gone)
		}
	}
	// LiteLLM reads AZURE_API_VERSION under its own name: it stays.
	if child.Env["AZURE_API_VERSION"] != "2024-10-21" {
		t.Errorf("AZURE_API_VERSION, which LiteLLM reads, was removed")
	}
}

func TestRunEmptyKeyFailsClosed(t *testing.T) {
	t.Parallel()
	out, _, ran := runChild(t, "", map[string]string{"OPENAI_API_KEY": ""}, "--no-probe")
	if ran {
		t.Fatalf("the child ran with an empty key")
	}
	if out.code != 78 {
		t.Fatalf("exit %d, want 78; stderr: %s", out.code, out.stderr)
	}
	if !strings.Contains(out.stderr, "OPENAI_API_KEY") {
		t.Errorf("stderr does not name the variable: %s", out.stderr)
	}
}

func TestRunFileAndCredReferences(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "openai_api_key")
	os.WriteFile(keyFile, []byte(openAIKey+"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "llm.json"), []byte(`{"anthropic":{"key":"`+anthropicKey+`"},"other":"x"}`), 0o600)
	creds := t.TempDir()
	os.WriteFile(filepath.Join(creds, "azure"), []byte(azureKey), 0o600)
	out, child, ok := runChild(t, dir, map[string]string{
		"OPENAI_API_KEY":        "file://" + keyFile,
		"ANTHROPIC_API_KEY":     "file://llm.json#/anthropic/key",
		"AZURE_OPENAI_API_KEY":  "cred://azure",
		"AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com",
		"OPENAI_API_VERSION":    "2024-10-21",
		"CREDENTIALS_DIRECTORY": creds,
	}, "--no-probe")
	if !ok {
		t.Fatalf("child did not run (exit %d): %s", out.code, out.stderr)
	}
	if child.Env["OPENAI_API_KEY"] != openAIKey || child.Env["ANTHROPIC_API_KEY"] != anthropicKey || child.Env["AZURE_OPENAI_API_KEY"] != azureKey {
		t.Errorf("references not resolved as expected")
	}
}

func TestRunExecKeepsPIDAndExitCode(t *testing.T) {
	t.Parallel()
	out, child, ok := runChild(t, "", map[string]string{"OPENAI_API_KEY": openAIKey, "CHILD_EXIT": "3", "VAULT_TOKEN": vaultToken, "KEYEXEC_LOG_LEVEL": "info"}, "--no-probe")
	if !ok {
		t.Fatalf("child did not run: %s", out.stderr)
	}
	if child.PID != out.pid {
		t.Errorf("child PID %d != keyexec PID %d: keyexec forked instead of exec", child.PID, out.pid)
	}
	if out.code != 3 {
		t.Errorf("exit %d, want the child's 3", out.code)
	}
	for _, gone := range []string{"VAULT_TOKEN", "KEYEXEC_LOG_LEVEL"} {
		if _, ok := child.Env[gone]; ok {
			t.Errorf("%s reached the child", gone)
		}
	}
}

func TestRunCommandErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	notExec := filepath.Join(dir, "script.sh")
	os.WriteFile(notExec, []byte("#!/bin/sh\necho hi\n"), 0o644)
	env := map[string]string{"OPENAI_API_KEY": openAIKey}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{name: "missing --", args: []string{"run", "--no-probe", "python3"}, code: 64, msg: "after --"},
		{name: "no command", args: []string{"run", "--no-probe", "--"}, code: 64, msg: "no command"},
		{name: "unknown flag", args: []string{"run", "--no-such-flag", "--", "true"}, code: 64, msg: "unknown flag"},
		{name: "unknown command", args: []string{"frobnicate"}, code: 64, msg: "unknown command"},
		{name: "not found", args: []string{"run", "--no-probe", "--", "no-such-command-keyexec"}, code: 127, msg: "not found"},
		{name: "not executable", args: []string{"run", "--no-probe", "--", notExec}, code: 126, msg: "permission denied"},
		{name: "bad provider", args: []string{"check", "--provider", "opnai"}, code: 78, msg: `provider "opnai" is not one keyexec knows`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := keyexecCmd(t, "", env, tt.args...)
			if out.code != tt.code || !strings.Contains(out.stderr, tt.msg) {
				t.Fatalf("exit %d, want %d; stderr %q should contain %q", out.code, tt.code, out.stderr, tt.msg)
			}
		})
	}
}

func TestCheckReportAndJSON(t *testing.T) {
	t.Parallel()
	env := map[string]string{"OPENAI_KEY": " " + openAIKey + "\n", "AZURE_API_KEY": azureKey, "AZURE_ENDPOINT": "https://x.openai.azure.com/", "OPENAI_API_VERSION": "2024-10-21"}
	out := keyexecCmd(t, "", env, "check", "--no-probe")
	if out.code != 0 {
		t.Fatalf("check exit %d: %s%s", out.code, out.stdout, out.stderr)
	}
	for _, want := range []string{"OPENAI_API_KEY", "copied from OPENAI_KEY", "trailing", "probe disabled", "sha256:"} {
		if !strings.Contains(out.stdout, want) {
			t.Errorf("table lacks %q:\n%s", want, out.stdout)
		}
	}
	if strings.Contains(out.stdout, "\x1b[") {
		t.Errorf("colour codes written to a pipe")
	}
	js := keyexecCmd(t, "", env, "check", "--no-probe", "--json")
	var rep struct {
		OK       bool `json:"ok"`
		ExitCode int  `json:"exit_code"`
		Resolve  struct {
			Variables []struct {
				Name, Fingerprint string
				Fixes             []string
			} `json:"variables"`
		} `json:"resolve"`
		ProbeSkipped string `json:"probe_skipped"`
	}
	if err := json.Unmarshal([]byte(js.stdout), &rep); err != nil {
		t.Fatalf("--json output does not parse: %v\n%s", err, js.stdout)
	}
	if !rep.OK || rep.ProbeSkipped == "" || len(rep.Resolve.Variables) < 3 {
		t.Errorf("JSON report incomplete: %+v", rep)
	}
	assertNoLeak(t, out.stdout, out.stderr, js.stdout, js.stderr)
}

func TestCheckExitCodeMatchesRun(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PATH": os.Getenv("PATH")}
	chk := keyexecCmd(t, "", env, "check", "--no-probe")
	if chk.code != 78 || !strings.Contains(chk.stdout, "no LLM credentials found") {
		t.Fatalf("check exit %d, want 78 with 'no LLM credentials found':\n%s", chk.code, chk.stdout)
	}
	run, _, ran := runChild(t, "", env, "--no-probe")
	if ran || run.code != chk.code {
		t.Fatalf("run exit %d (child ran: %v), want %d as check said", run.code, ran, chk.code)
	}
}

func TestConfigPrecedenceAndUnknownKeys(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "keyexec.yaml"), []byte("provider: none\nsecrets:\n  MY_Mixed_Case: env://SOURCE_VAR\n"), 0o600)
	// File says provider none: no credentials needed, and the secret is copied.
	out, child, ok := runChild(t, dir, map[string]string{"SOURCE_VAR": "hello"})
	if !ok || child.Env["MY_Mixed_Case"] != "hello" {
		t.Fatalf("config file not applied (exit %d): %s", out.code, out.stderr)
	}
	// KEYEXEC_PROVIDER overrides the file: now OpenAI credentials are required.
	out, _, ran := runChild(t, dir, map[string]string{"KEYEXEC_PROVIDER": "openai"}, "--no-probe")
	if ran || out.code != 78 {
		t.Fatalf("KEYEXEC_PROVIDER did not override the file (exit %d)", out.code)
	}
	// The flag overrides the variable.
	out, _, ok = runChild(t, dir, map[string]string{"KEYEXEC_PROVIDER": "openai", "SOURCE_VAR": "hello"}, "--provider", "none")
	if !ok {
		t.Fatalf("--provider did not override KEYEXEC_PROVIDER (exit %d): %s", out.code, out.stderr)
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("provider: auto\nprobe:\n  enabeld: false\n"), 0o600)
	out = keyexecCmd(t, dir, nil, "check", "--config", bad)
	if out.code != 78 || !strings.Contains(out.stderr, `unknown key "probe.enabeld"`) || !strings.Contains(out.stderr, bad) {
		t.Fatalf("unknown key: exit %d, stderr %q", out.code, out.stderr)
	}
	out = keyexecCmd(t, dir, map[string]string{"KEYEXEC_CONFIG": filepath.Join(dir, "missing.yaml")}, "check")
	if out.code != 78 || !strings.Contains(out.stderr, "does not exist") {
		t.Fatalf("missing config: exit %d, stderr %q", out.code, out.stderr)
	}
	os.WriteFile(bad, []byte("provider: [unclosed\n"), 0o600)
	out = keyexecCmd(t, dir, nil, "check", "--config", bad)
	if out.code != 78 || !strings.Contains(out.stderr, "not valid yaml") {
		t.Fatalf("broken YAML: exit %d, stderr %q", out.code, out.stderr)
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	out := keyexecCmd(t, "", nil, "version")
	if out.code != 0 || !strings.HasPrefix(out.stdout, "keyexec ") {
		t.Fatalf("version: %d %q", out.code, out.stdout)
	}
}

// TestNoLeakOnFailure runs every failing scenario of the foundation and
// searches everything keyexec printed for the test secrets.
func TestNoLeakOnFailure(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "multi.json"), []byte(`{"a":"`+openAIKey+`","b":"`+azureKey+`"}`), 0o600)
	scenarios := []struct {
		name string
		env  map[string]string
		code int
	}{
		{"inner space", map[string]string{"OPENAI_API_KEY": openAIKey[:30] + " " + openAIKey[30:]}, 78},
		{"inner smart quote", map[string]string{"OPENAI_API_KEY": openAIKey[:30] + "\u2019" + openAIKey[30:]}, 78},
		{"conflict", map[string]string{"OPENAI_KEY": openAIKey, "OPENAI_API_KEY": openAIKey2}, 78},
		{"anthropic key in openai var", map[string]string{"OPENAI_API_KEY": anthropicKey}, 78},
		{"openai key in anthropic var", map[string]string{"ANTHROPIC_API_KEY": openAIKey}, 78},
		{"azure without version", map[string]string{"AZURE_OPENAI_API_KEY": azureKey, "AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com"}, 78},
		{"several fields, no #", map[string]string{"OPENAI_API_KEY": "file://multi.json"}, 78},
		{"missing field", map[string]string{"OPENAI_API_KEY": "file://multi.json#c"}, 78},
		{"missing file", map[string]string{"OPENAI_API_KEY": "file:///nonexistent/key", "VAULT_TOKEN": vaultToken}, 78},
		{"unknown scheme", map[string]string{"OPENAI_API_KEY": "vualt://secret/x#k", "ANTHROPIC_API_KEY": anthropicKey}, 78},
		{"cred without directory", map[string]string{"OPENAI_API_KEY": "cred://openai"}, 78},
		{"env ref unset", map[string]string{"OPENAI_API_KEY": "env://NOPE", "AZURE_OPENAI_API_KEY": azureKey}, 78},
		{"http remote base", map[string]string{"OPENAI_API_KEY": openAIKey, "OPENAI_BASE_URL": "http://gateway.invalid/v1"}, 78},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			for _, args := range [][]string{{"check", "--no-probe"}, {"check", "--no-probe", "--json"}, {"check", "--no-probe", "--log-level", "debug", "--log-format", "json"}} {
				out := keyexecCmd(t, dir, sc.env, args...)
				if out.code != sc.code {
					t.Errorf("%v: exit %d, want %d:\n%s%s", args, out.code, sc.code, out.stdout, out.stderr)
				}
				assertNoLeak(t, out.stdout, out.stderr)
			}
			out, _, ran := runChild(t, dir, sc.env, "--no-probe", "--log-level", "debug")
			if ran || out.code != sc.code {
				t.Errorf("run: child ran=%v exit %d, want %d", ran, out.code, sc.code)
			}
			assertNoLeak(t, out.stdout, out.stderr)
			if !strings.Contains(out.stderr, "keyexec: ") {
				t.Errorf("run printed no error: %q", out.stderr)
			}
		})
	}
}
