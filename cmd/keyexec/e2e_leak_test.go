package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

// leakSecrets are fed where no secret belongs; none may come back, whole
// or as any 12-character piece.
var leakSecrets = []string{openAIKey, anthropicKey}

// assertNoPiece fails when any 12-character piece of a test secret appears.
func assertNoPiece(t *testing.T, what string, texts ...string) {
	t.Helper()
	assertNoPieceOf(t, what, leakSecrets, texts...)
}

// assertNoPieceOf fails when any 12-character piece of one of secrets appears.
func assertNoPieceOf(t *testing.T, what string, secrets []string, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for _, s := range secrets {
			for i := 0; i+12 <= len(s); i++ {
				if strings.Contains(text, s[i:i+12]) {
					t.Fatalf("%s: a 12-character piece of a test secret (%q) is in keyexec's output:\n%s", what, s[i:i+12], text)
				}
			}
		}
	}
}

// flagsOf lists every flag of every command, from the command tree itself:
// a flag added later is fed the secret too.
func flagsOf(t *testing.T) map[string][]*pflag.Flag {
	t.Helper()
	a := &app{out: newOutput(nil, nil)}
	out := map[string][]*pflag.Flag{}
	for _, c := range a.rootCmd().Commands() {
		c.Flags().VisitAll(func(f *pflag.Flag) { out[c.Name()] = append(out[c.Name()], f) })
	}
	if len(out["run"]) < 10 || len(out["check"]) < 8 {
		t.Fatalf("found too few flags: %v", out)
	}
	return out
}

// configKeys lists every key of the config file, from Config's mapstructure
// tags: a key added later is fed the secret too.
func configKeys(t reflect.Type, prefix string) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if tag == "" || tag == "-" {
			continue
		}
		ft := f.Type
		if ft.Kind() == reflect.Struct && ft != reflect.TypeOf(time.Duration(0)) {
			out = append(out, configKeys(ft, prefix+tag+".")...)
			continue
		}
		out = append(out, prefix+tag)
	}
	return out
}

// yamlFor is a config file setting key (a.b.c) to v.
func yamlFor(key, v string) string {
	parts := strings.Split(key, ".")
	var b strings.Builder
	for i, p := range parts {
		b.WriteString(strings.Repeat("  ", i) + p + ":")
		if i < len(parts)-1 {
			b.WriteString("\n")
		}
	}
	switch key {
	case "scrub", "pass_through", "components":
		return b.String() + " [" + v + "]\n"
	case "secrets", "aliases", "config_list.filter", "vault.kv_version":
		return b.String() + " {" + v + ": " + v + "}\n"
	}
	return b.String() + " " + v + "\n"
}

// TestNoSecretEchoedFromAnyInput feeds a key into every flag, every config
// key, every KEYEXEC_* variable, every reference scheme's path and
// VAULT_ADDR's userinfo, in text and in JSON log format, and searches all
// keyexec printed.
func TestNoSecretEchoedFromAnyInput(t *testing.T) {
	t.Parallel()
	type input struct {
		name string
		env  map[string]string
		args []string
		file string // config file content
	}
	var inputs []input
	secret := openAIKey
	for cmd, flags := range flagsOf(t) {
		for _, f := range flags {
			args := []string{cmd, "--" + f.Name + "=" + secret}
			if cmd == "run" {
				args = append(args, "--", "true")
			}
			if cmd == "install" {
				args = append(args, t.TempDir())
			}
			inputs = append(inputs, input{name: cmd + " --" + f.Name, args: args})
		}
	}
	for _, key := range configKeys(reflect.TypeOf(Config{}), "") {
		inputs = append(inputs, input{name: "config " + key, args: []string{"check"}, file: yamlFor(key, secret)})
	}
	var names []string
	for _, s := range settings() {
		names = append(names, envName(s.flag))
	}
	for _, n := range append(names, extraEnv()...) {
		inputs = append(inputs, input{name: n, args: []string{"check"}, env: map[string]string{n: secret}})
	}
	for _, ref := range []string{"vault://" + secret + "/x#k", "awssm://" + secret + "#k", "file:///run/" + secret, "cred://" + secret, "env://" + secret,
		"vualt://" + secret, "vault:" + secret, "arn:aws:secretsmanager:" + secret} {
		inputs = append(inputs, input{name: "reference " + ref[:8], args: []string{"check"}, env: map[string]string{"OPENAI_API_KEY": ref, "CREDENTIALS_DIRECTORY": t.TempDir()}})
	}
	for _, pass := range []string{secret, "hunter2-correct-horse-battery"} {
		inputs = append(inputs, input{name: "VAULT_ADDR userinfo", args: []string{"check", "--timeout", "1s"},
			env: map[string]string{"VAULT_ADDR": "http://admin:" + pass + "@127.0.0.1:1", "VAULT_TOKEN": "t", "OPENAI_API_KEY": "vault://secret/x#k"}})
	}
	for _, in := range inputs {
		for _, format := range []string{"text", "json"} {
			t.Run(in.name+"/"+format, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				env := map[string]string{"KEYEXEC_LOG_FORMAT": format}
				for k, v := range in.env {
					env[k] = v
				}
				if in.file != "" {
					writeTestFile(t, dir, "keyexec.yaml", in.file)
				}
				out := keyexecCmd(t, dir, env, in.args...)
				assertNoPiece(t, in.name, out.stdout, out.stderr)
				if strings.Contains(out.stderr, "hunter2") {
					t.Fatalf("a URL password is in keyexec's output:\n%s", out.stderr)
				}
			})
		}
	}
}

// TestJSONLogLinesForEveryOutcome: under --log-format json every line keyexec
// writes to stderr is one JSON object, for a success and for each exit code.
func TestJSONLogLinesForEveryOutcome(t *testing.T) {
	t.Parallel()
	srv := openAIFake(t)
	dir := t.TempDir()
	notExec := writeTestFile(t, dir, "script.sh", "#!/bin/sh\n")
	good := map[string]string{"OPENAI_API_KEY": openAIKey, "OPENAI_BASE_URL": srv.BaseURL()}
	cases := []struct {
		name string
		env  map[string]string
		args []string
		code int
	}{
		{"success", good, []string{"run", "--", "true"}, 0},
		{"usage", good, []string{"run", "--no-such-flag", "--", "true"}, 64},
		{"unreachable", map[string]string{"OPENAI_API_KEY": openAIKey, "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"}, []string{"run", "--probe-timeout", "300ms", "--", "true"}, 69},
		{"rejected", map[string]string{"OPENAI_API_KEY": openAIKey2, "OPENAI_BASE_URL": srv.BaseURL()}, []string{"run", "--", "true"}, 77},
		{"configuration", map[string]string{"OPENAI_API_KEY": ""}, []string{"run", "--", "true"}, 78},
		{"several problems", map[string]string{"OPENAI_API_KEY": "vault:x", "ANTHROPIC_API_KEY": "file:///nope"}, []string{"run", "--", "true"}, 78},
		{"not executable", good, []string{"run", "--", notExec}, 126},
		{"not found", good, []string{"run", "--", "no-such-command-keyexec"}, 127},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out := keyexecCmd(t, dir, c.env, append([]string{c.args[0], "--log-format", "json"}, c.args[1:]...)...)
			if out.code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", out.code, c.code, out.stderr)
			}
			lines := strings.Split(strings.TrimRight(out.stderr, "\n"), "\n")
			if out.stderr == "" {
				t.Fatal("nothing on stderr: want at least the summary or the error")
			}
			for _, l := range lines {
				var obj map[string]any
				if err := json.Unmarshal([]byte(l), &obj); err != nil {
					t.Fatalf("stderr line is not a JSON object: %q (%v)\nall:\n%s", l, err, out.stderr)
				}
				if c.code != 0 && obj["level"] == "ERROR" && fmt.Sprint(obj["exit_code"]) != fmt.Sprint(c.code) {
					t.Errorf("error record with exit_code %v, want %d: %s", obj["exit_code"], c.code, l)
				}
			}
		})
	}
}

// helpListsEveryVariable: --help names every KEYEXEC_ variable keyexec reads.
func TestHelpListsEveryKeyexecVariable(t *testing.T) {
	t.Parallel()
	out := keyexecCmd(t, "", nil, "--help")
	var names []string
	for _, s := range settings() {
		names = append(names, envName(s.flag))
	}
	names = append(names, extraEnv()...)
	sort.Strings(names)
	for _, n := range names {
		if !strings.Contains(out.stdout, n) {
			t.Errorf("--help does not list %s:\n%s", n, out.stdout)
		}
	}
}
