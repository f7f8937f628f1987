package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/keyexec/keyexec/internal/testenv"
	"github.com/keyexec/keyexec/sources/awssm/awssmtest"
	"github.com/keyexec/keyexec/sources/vault/vaulttest"
)

// binPath is the keyexec binary built once for the end-to-end tests.
var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "keyexec-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "keyexec")
	build := osexec.Command("go", "build", "-o", binPath, ".")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build keyexec: %v\n%s", err, out)
		os.Exit(1)
	}
	code := testenv.Main(m)
	awssmtest.Stop()
	vaulttest.StopShared()
	os.RemoveAll(dir)
	os.Exit(code)
}

// Test secrets: shaped like the real thing, never real. Every one of them is
// searched for in keyexec's own output by the no-leak tests.
const (
	openAIKey    = "sk-proj-E2eTestKeyAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKKKllT3BlbkFJmmmmNNNNooooPPPPqqqqRRRRssssTTTTuuuuVVVVwwwwXXXXyy"
	openAIKey2   = "sk-proj-E2eOtherKeyZZZZyyyyXXXXwwwwVVVVuuuuTTTTssssRRRRqqqqPPPPooT3BlbkFJnnnnMMMMllllKKKKjjjjIIIIhhhhGGGGffffEEEEddddCC"
	azureKey     = "0123456789abcdef0123456789abcdef"
	anthropicKey = "sk-ant-api03-E2eTestAnthropicKey0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-AA"
	vaultToken   = "hvs.E2eTestVaultTokenDoNotLeak0001"
)

var allTestSecrets = []string{openAIKey, openAIKey2, azureKey, anthropicKey, vaultToken}

// outcome is what one keyexec invocation did.
type outcome struct {
	code           int
	stdout, stderr string
	pid            int
}

// keyexecCmd runs the binary with only the given environment (plus PATH and a
// private HOME), as a user would from a clean shell.
func keyexecCmd(t *testing.T, dir string, env map[string]string, args ...string) outcome {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	return runProgram(t, dir, map[string]string{"NO_COLOR": "1"}, env, "", binPath, args...)
}

// runProgram runs prog with only base and env (env wins; plus PATH, a
// private HOME and AWS_EC2_METADATA_DISABLED unless given) and stdin, and
// fails the test when it has not ended within three minutes.
func runProgram(t *testing.T, dir string, base, env map[string]string, stdin, prog string, args ...string) outcome {
	t.Helper()
	cmd := osexec.Command(prog, args...)
	cmd.Dir = dir
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	all := map[string]string{
		"PATH":                      os.Getenv("PATH"),
		"HOME":                      t.TempDir(),
		"AWS_EC2_METADATA_DISABLED": "true",
	}
	for _, m := range []map[string]string{base, env} {
		for k, v := range m {
			all[k] = v
		}
	}
	for k, v := range all {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", prog, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		_ = cmd.Process.Kill()
		<-done
		t.Fatalf("%s %v did not finish; stderr:\n%s", filepath.Base(prog), args, stderr.String())
	}
	return outcome{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String(), pid: cmd.Process.Pid}
}

// childScript is a Python child that reports what it received, reading the
// environment as the SDKs do (os.environ).
const childScript = `import json, os, sys
print(json.dumps({"pid": os.getpid(), "ppid": os.getppid(), "env": dict(os.environ)}))
sys.exit(int(os.environ.get("CHILD_EXIT", "0")))
`

// childReport is what childScript printed.
type childReport struct {
	PID  int               `json:"pid"`
	PPID int               `json:"ppid"`
	Env  map[string]string `json:"env"`
}

// runChild runs `keyexec run [flags] -- python3 -c childScript` and parses
// the child's report; ok is false when the child never ran.
func runChild(t *testing.T, dir string, env map[string]string, flags ...string) (outcome, childReport, bool) {
	t.Helper()
	args := append([]string{"run"}, flags...)
	args = append(args, "--", "python3", "-c", childScript)
	out := keyexecCmd(t, dir, env, args...)
	var rep childReport
	if strings.TrimSpace(out.stdout) == "" {
		return out, rep, false
	}
	if err := json.Unmarshal([]byte(out.stdout), &rep); err != nil {
		t.Fatalf("child output is not its report (did keyexec write to stdout?): %v\n%s", err, out.stdout)
	}
	return out, rep, true
}

// assertNoLeak fails when any test secret appears in keyexec's own output.
func assertNoLeak(t *testing.T, texts ...string) {
	t.Helper()
	for _, text := range texts {
		for _, s := range allTestSecrets {
			for _, probe := range []string{s, s[:len(s)/2], s[len(s)/2:]} {
				if len(probe) >= 12 && strings.Contains(text, probe) {
					t.Fatalf("a test secret (%s…) appears in keyexec's output:\n%s", s[:6], text)
				}
			}
		}
	}
}

// writeTestFile writes content to dir/name and returns the path.
func writeTestFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
