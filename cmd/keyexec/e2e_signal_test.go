package main

import (
	"bytes"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources/vault/vaulttest"
	"github.com/keyexec/keyexec/verify/providertest"
)

// stage sets up keyexec so that it is busy in one stage, and reports on
// arrived when its request reaches the fake there.
type stage struct {
	name  string
	setup func(t *testing.T, arrived chan<- struct{}) map[string]string
}

func signalStages() []stage {
	notify := func(arrived chan<- struct{}) {
		select {
		case arrived <- struct{}{}:
		default:
		}
	}
	vaultWith := func(t *testing.T, arrived chan<- struct{}, hold string) (*vaulttest.Server, map[string]string) {
		fake := vaulttest.New(t)
		fake.Admin().PutKV2(t, "secret", "llm", map[string]any{"api_key": openAIKey})
		release := fake.Hold(hold)
		t.Cleanup(release)
		fake.OnRequest(func(r vaulttest.Request) {
			if strings.HasPrefix(r.Path, strings.TrimSuffix(hold, "*")) {
				notify(arrived)
			}
		})
		return fake, map[string]string{"VAULT_ADDR": fake.URL, "OPENAI_API_KEY": "vault://secret/llm#api_key"}
	}
	slowProvider := func(t *testing.T, arrived chan<- struct{}) *providertest.Server {
		return providertest.Start(t, providertest.OpenAI, providertest.Config{
			Keys:      map[string]providertest.Key{openAIKey: {Mode: providertest.Slow, Delay: time.Minute}},
			OnRequest: func(providertest.Request) { notify(arrived) },
		})
	}
	return []stage{
		{name: "fetch", setup: func(t *testing.T, arrived chan<- struct{}) map[string]string {
			fake, env := vaultWith(t, arrived, "secret/data/llm")
			env["VAULT_TOKEN"] = fake.RootToken
			return env
		}},
		{name: "login", setup: func(t *testing.T, arrived chan<- struct{}) map[string]string {
			fake, env := vaultWith(t, arrived, "auth/approle/login")
			roleID, secretID := fake.Admin().CreateAppRole(t, "approle", "app", "root")
			env["KEYEXEC_CONFIG"] = writeTestFile(t, t.TempDir(), "keyexec.yaml", "vault: {auth: approle}\n")
			env["VAULT_ROLE_ID"], env["VAULT_SECRET_ID"] = roleID, secretID
			return env
		}},
		{name: "probe", setup: func(t *testing.T, arrived chan<- struct{}) map[string]string {
			srv := slowProvider(t, arrived)
			return map[string]string{"OPENAI_API_KEY": openAIKey, "OPENAI_BASE_URL": srv.BaseURL()}
		}},
		{name: "config-list probe", setup: func(t *testing.T, arrived chan<- struct{}) map[string]string {
			srv := slowProvider(t, arrived)
			return map[string]string{"OAI_CONFIG_LIST": `[{"model": "gpt-4o-mini", "api_key": "` + openAIKey + `", "base_url": "` + srv.BaseURL() + `"}]`}
		}},
	}
}

// TestStopSignalAtEveryStageNeverStartsTheChild: SIGINT, SIGTERM, SIGHUP or
// SIGQUIT at any stage before exec ends keyexec as the signal would be
// reported (128 + N), whatever the lenient policies say, and the child never
// starts.
func TestStopSignalAtEveryStageNeverStartsTheChild(t *testing.T) {
	t.Parallel()
	policies := map[string]string{
		"default": "",
		"lenient": "probe: {on_unreachable: warn}\nconfig_list: {on_entry_failure: drop}\n",
	}
	signals := map[string]syscall.Signal{"SIGINT": syscall.SIGINT, "SIGTERM": syscall.SIGTERM, "SIGHUP": syscall.SIGHUP, "SIGQUIT": syscall.SIGQUIT}
	for _, st := range signalStages() {
		for pname, policy := range policies {
			for sname, sig := range signals {
				t.Run(st.name+"/"+pname+"/"+sname, func(t *testing.T) {
					t.Parallel()
					arrived := make(chan struct{}, 1)
					env := st.setup(t, arrived)
					dir := t.TempDir()
					if policy != "" && env["KEYEXEC_CONFIG"] == "" {
						writeTestFile(t, dir, "keyexec.yaml", policy)
					} else if policy != "" {
						f, _ := os.OpenFile(env["KEYEXEC_CONFIG"], os.O_APPEND|os.O_WRONLY, 0)
						f.WriteString(policy)
						f.Close()
					}
					marker := filepath.Join(dir, "child-started")
					code, stderr := runUntilSignal(t, dir, env, arrived, sig, "--probe-timeout", "1m", "--timeout", "1m", "--", "sh", "-c", "touch "+marker)
					if code != 128+int(sig) {
						t.Fatalf("exit %d, want %d:\n%s", code, 128+int(sig), stderr)
					}
					if _, err := os.Stat(marker); err == nil {
						t.Fatal("the child started after the stop signal")
					}
					if !strings.Contains(stderr, "stopped by "+sname) || strings.Contains(stderr, "unreachable") || strings.Contains(stderr, "dropped") {
						t.Errorf("stderr does not say the run was stopped (or calls it unreachable/dropped):\n%s", stderr)
					}
					assertNoLeak(t, stderr)
				})
			}
		}
	}
}

// runUntilSignal starts `keyexec run args…`, sends sig once the fake says
// keyexec's request arrived, and returns the exit code and stderr.
func runUntilSignal(t *testing.T, dir string, env map[string]string, arrived <-chan struct{}, sig syscall.Signal, args ...string) (int, string) {
	t.Helper()
	cmd := osexec.Command(binPath, append([]string{"run"}, args...)...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "AWS_EC2_METADATA_DISABLED=true", "NO_COLOR=1"}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	select {
	case <-arrived:
	case <-done:
		t.Fatalf("keyexec ended before its request reached the fake: exit %d\n%s", cmd.ProcessState.ExitCode(), stderr.String())
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		t.Fatal("keyexec's request never reached the fake")
	}
	_ = cmd.Process.Signal(sig)
	select {
	case <-done:
	case <-time.After(time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("keyexec did not stop after %s:\n%s", sig, stderr.String())
	}
	return cmd.ProcessState.ExitCode(), stderr.String()
}
