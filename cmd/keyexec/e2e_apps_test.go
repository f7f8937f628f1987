package main

import (
	"bytes"
	"io/fs"
	"os"
	osexec "os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/internal/testenv"
	"github.com/keyexec/keyexec/verify/providertest"
)

// Real apps as the child: the AutoGen and AG2 apps of examples/autogen, the
// demo, and the small apps of testdata/apps, each run with the pinned
// packages through keyexec against loopback fakes, and without keyexec
// where the contrast is the point. Every Python process gets
// testdata/apps/guard on PYTHONPATH: its sitecustomize refuses any
// connection that is not loopback and says so on stderr (appsGuardMarker).

const (
	appsGuardMarker  = "LOOPBACK GUARD refused"
	autogenExamples  = "../../examples/autogen"
	localExamplePort = "127.0.0.1:8900" // the fake's address the local example's files name
	// localExampleKey is the key in examples/autogen/local/secrets (there
	// with a trailing newline, and a trailing space in the JSON file).
	localExampleKey = "sk-local-example-key-not-secret-0001"
)

// appsPython returns the pinned environment's python and the environment
// every app of these tests gets: the loopback guard on PYTHONPATH. Tests
// that build their own environment copy both variables from it.
func appsPython(t *testing.T) (string, map[string]string) {
	t.Helper()
	py := testenv.Python(t)
	guard, err := filepath.Abs(filepath.Join("testdata", "apps", "guard"))
	if err != nil {
		t.Fatal(err)
	}
	// No __pycache__ of the guard in the repository.
	return py, map[string]string{"PYTHONPATH": guard, "PYTHONDONTWRITEBYTECODE": "1"}
}

// appsRun runs prog without keyexec, with only env (plus PATH and a
// private HOME), as keyexecCmd runs keyexec.
func appsRun(t *testing.T, dir string, env map[string]string, prog string, args ...string) outcome {
	t.Helper()
	return appsRunInput(t, dir, env, "", prog, args...)
}

// appsRunInput is appsRun with stdin.
func appsRunInput(t *testing.T, dir string, env map[string]string, stdin, prog string, args ...string) outcome {
	t.Helper()
	return runProgram(t, dir, nil, env, stdin, prog, args...)
}

// assertGuarded fails when an app tried to leave loopback.
func assertGuarded(t *testing.T, outs ...outcome) {
	t.Helper()
	for _, o := range outs {
		if strings.Contains(o.stderr, appsGuardMarker) {
			t.Fatalf("an app tried to reach a host that is not loopback:\n%s", o.stderr)
		}
	}
}

// appsOut is everything a process wrote: keyexec's report and lines, and
// in run the app's.
func appsOut(o outcome) string { return o.stdout + o.stderr }

// appsCopyTree copies the folder src to dst, replacing old by new in every file.
func appsCopyTree(t *testing.T, src, dst, old, new string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, bytes.ReplaceAll(data, []byte(old), []byte(new)), 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestAppsAutoGenLocalExample runs examples/autogen/local as its README
// says: the real AutoGen app (model client from a component file with a
// file:// key) and the real AG2 app (config list with a file:// key), each
// through keyexec against the fake OpenAI API, each answering its task; and
// the AutoGen app without keyexec, which sends the reference itself as the
// key and gets the SDK's AuthenticationError. The example names the fake at
// 127.0.0.1:8900; the test runs a copy whose files name its own fake.
func TestAppsAutoGenLocalExample(t *testing.T) {
	t.Parallel()
	py, env := appsPython(t)
	readme, err := os.ReadFile(filepath.Join(autogenExamples, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	commands := map[string]string{
		"check":       "keyexec check",
		"autogen":     "keyexec run -- python ../app_autogen.py",
		"ag2":         "keyexec run -- python ../app_ag2.py",
		"without":     "\npython ../app_autogen.py",
		"fake":        "go run ./verify/providertest/cmd/fakeprovider -kind openai -listen " + localExamplePort,
		"fake's key":  `-key "$(cat examples/autogen/local/secrets/openai_api_key)"`,
		"the folder":  "cd examples/autogen/local",
		"the python":  `source "$venv/bin/activate"`,
		"the keyexec": `CGO_ENABLED=0 go build -o "$venv/bin/keyexec" ./cmd/keyexec`,
	}
	for what, c := range commands {
		if !bytes.Contains(readme, []byte(c)) {
			t.Errorf("examples/autogen/README.md no longer shows %s as %q: keep the README and this test in step", what, c)
		}
	}

	reply := "The local AutoGen example answered through keyexec."
	fake := providertest.Start(t, providertest.OpenAI, providertest.Config{Keys: map[string]providertest.Key{localExampleKey: {}}, Reply: reply})
	root := t.TempDir()
	for _, app := range []string{"app_autogen.py", "app_ag2.py"} {
		data, err := os.ReadFile(filepath.Join(autogenExamples, app))
		if err != nil {
			t.Fatal(err)
		}
		writeTestFile(t, root, app, string(data))
	}
	dir := filepath.Join(root, "local")
	appsCopyTree(t, filepath.Join(autogenExamples, "local"), dir, localExamplePort, strings.TrimPrefix(fake.URL, "http://"))
	env["PATH"] = filepath.Dir(py) + string(os.PathListSeparator) + os.Getenv("PATH") // "python" is the pinned one, as after activate

	check := keyexecCmd(t, dir, env, "check")
	if check.code != 0 {
		t.Fatalf("keyexec check: exit %d:\n%s", check.code, appsOut(check))
	}
	for _, w := range []string{"api_key: removed trailing space", `config.api_key: removed trailing \n`,
		"GET " + fake.BaseURL() + "/models/gpt-4o-mini", "ok: run would start the command"} {
		if !strings.Contains(check.stdout, w) {
			t.Errorf("check lacks %q:\n%s", w, check.stdout)
		}
	}
	for _, app := range []string{"app_autogen.py", "app_ag2.py"} {
		t.Run(app, func(t *testing.T) {
			t.Parallel()
			out := keyexecCmd(t, dir, env, "run", "--", "python", "../"+app)
			assertGuarded(t, out)
			if out.code != 0 || strings.TrimSpace(out.stdout) != reply {
				t.Fatalf("exit %d, stdout %q, want %q:\n%s", out.code, out.stdout, reply, out.stderr)
			}
			assertNoPieceOf(t, app, []string{localExampleKey}, out.stderr)
		})
	}
	t.Run("app_autogen.py without keyexec", func(t *testing.T) {
		t.Parallel()
		out := appsRun(t, dir, env, py, "../app_autogen.py")
		assertGuarded(t, out)
		if out.code != 1 || !strings.Contains(out.stderr, "openai.AuthenticationError: Error code: 401") {
			t.Fatalf("exit %d, want 1 with the SDK's AuthenticationError:\n%s", out.code, appsOut(out))
		}
		if n := fake.KeyRequests("file://secrets/openai_api_key"); n != 1 {
			t.Errorf("the fake got the unresolved reference as a key %d times, want 1", n)
		}
	})
	assertNoPieceOf(t, "check", []string{localExampleKey}, appsOut(check))
}

// TestExampleAutoGenProductionFiles loads the production flavour's files
// in the pinned packages, offline: model_config.yaml as
// ChatCompletionClient.load_component takes it and OAI_CONFIG_LIST as
// LLMConfig.from_json reads it. Their references stay strings; nothing is
// called.
func TestExampleAutoGenProductionFiles(t *testing.T) {
	t.Parallel()
	py, env := appsPython(t)
	dir, err := filepath.Abs(autogenExamples)
	if err != nil {
		t.Fatal(err)
	}
	const load = `import json, yaml
from autogen_core.models import ChatCompletionClient
from autogen import LLMConfig
client = ChatCompletionClient.load_component(yaml.safe_load(open("model_config.yaml")))
cfg = LLMConfig.from_json(env="OAI_CONFIG_LIST")
print(json.dumps({"client": type(client).__name__, "models": [e.model for e in cfg.config_list],
                  "types": [e.api_type for e in cfg.config_list]}))
`
	out := appsRun(t, dir, env, py, "-c", load)
	assertGuarded(t, out)
	want := `{"client": "OpenAIChatCompletionClient", "models": ["gpt-4o", "gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5"], "types": ["openai", "openai", "azure", "anthropic"]}`
	if out.code != 0 || strings.TrimSpace(out.stdout) != want {
		t.Fatalf("exit %d, stdout %s\nwant %s\n%s", out.code, out.stdout, want, out.stderr)
	}
}

// demoSecret matches what would be a secret of the demo in its output: the
// OpenAI key (its signature, or its head) and the Vault root token.
var demoSecret = regexp.MustCompile(`T3BlbkFJ|sk-proj-[A-Za-z0-9_-]{6}|root-[0-9a-f]{8}`)

// TestDemo runs examples/demo/run as a user does after a fresh clone (Go,
// the pinned Python environment): exit 0, keyexec's repairs named, the
// agent's answer through keyexec, the SDK's own two errors without it, no
// secret, and no process left behind.
func TestDemo(t *testing.T) {
	t.Parallel()
	testenv.Python(t) // the demo builds or reuses it; in the tests, reuse
	if _, err := osexec.LookPath("go"); err != nil {
		t.Fatalf("go is not on PATH: %v", err)
	}
	env := map[string]string{"TMPDIR": t.TempDir()}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(k, "OPENAI_"), strings.HasPrefix(k, "VAULT_"), strings.HasPrefix(k, "BAO_"), strings.HasPrefix(k, "KEYEXEC_") && k != "KEYEXEC_TESTENV":
		case k == "HOME", strings.HasPrefix(k, "GO"), k == "PYTHON", k == "KEYEXEC_TESTENV", k == "XDG_CACHE_HOME":
			env[k] = v // go's build cache and the pinned environment: reused, as on a developer's machine
		}
	}
	out := appsRun(t, "", env, "bash", "../../examples/demo/run")
	text := appsOut(out)
	if out.code != 0 {
		t.Fatalf("examples/demo/run: exit %d:\n%s", out.code, text)
	}
	for _, w := range []string{
		"copied from OPENAI_KEY", `removed trailing \n`, "not passed to the child: VAULT_TOKEN",
		"GET http://127.0.0.1:", "ok: run would start the command (exit 0)",
		"assistant: Hello from AutoGen! The key reached me clean, under the right name, and proven.",
		"agent.py failed: openai.OpenAIError: Missing credentials",
		"agent.py failed: openai.APIConnectionError: Connection error.",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("the demo's output lacks %q", w)
		}
	}
	if m := demoSecret.FindString(text); m != "" {
		t.Errorf("the demo's output holds a secret (%q…):\n%s", m[:4], text)
	}
	if t.Failed() {
		t.Logf("the demo's output:\n%s", text)
	}
	if left, err := filepath.Glob(filepath.Join(env["TMPDIR"], "keyexec-demo.*")); err != nil || len(left) > 0 {
		t.Errorf("the demo left its folder behind: %v", left)
	}
	if left := appsProcessesMentioning(env["TMPDIR"]); len(left) > 0 {
		t.Errorf("the demo left processes running: %v", left)
	}
}

// appsProcessesMentioning lists the processes whose command line or
// environment holds s (Linux: /proc; elsewhere none are found). Every
// process the demo starts inherits its TMPDIR.
func appsProcessesMentioning(s string) []string {
	var found []string
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		for _, f := range []string{"cmdline", "environ"} {
			data, err := os.ReadFile(filepath.Join(d, f))
			if err == nil && bytes.Contains(data, []byte(s)) {
				cmdline, _ := os.ReadFile(filepath.Join(d, "cmdline"))
				found = append(found, filepath.Base(d)+": "+string(bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
				break
			}
		}
	}
	return found
}
