package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources/vault/vaulttest"
	"github.com/keyexec/keyexec/verify/providertest"
)

// faultCase is one row of the fault matrix: keyexec run with env and flags,
// and what must come of it.
type faultCase struct {
	name  string
	dir   string
	env   map[string]string
	flags []string
	child bool   // the child must start (retry wins) — and get the key
	code  int    // keyexec's exit code when the child must not start
	msg   string // stderr must contain this
}

// runFaultCases runs each row in parallel and checks exit code, child start
// and that no test secret appears in anything keyexec itself printed.
func runFaultCases(t *testing.T, cases []faultCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out, child, ran := runChild(t, c.dir, c.env, c.flags...)
			assertNoLeak(t, out.stderr)
			if c.child {
				if !ran || out.code != 0 {
					t.Fatalf("the child did not start (exit %d), want retry to win:\n%s", out.code, out.stderr)
				}
				if child.Env["OPENAI_API_KEY"] != openAIKey {
					t.Errorf("the child did not get the key")
				}
				return
			}
			if ran {
				t.Fatalf("the child started (exit %d); want keyexec to stop with %d:\n%s", out.code, c.code, out.stderr)
			}
			assertNoLeak(t, out.stdout)
			if out.code != c.code {
				t.Fatalf("exit %d, want %d:\n%s", out.code, c.code, out.stderr)
			}
			if !strings.Contains(out.stderr, c.msg) {
				t.Errorf("stderr should contain %q:\n%s", c.msg, out.stderr)
			}
		})
	}
}

// Flags of the matrix: short deadlines, so failing rows end quickly;
// rows where a retry must win get a longer one (it is a deadline, not a
// threshold: a passing row never waits for it).
var (
	failFast  = []string{"--no-probe", "--timeout", "2s"}
	retryWins = []string{"--no-probe", "--timeout", "20s"}
)

// TestFaultMatrixVault: every network fault between keyexec and Vault.
func TestFaultMatrixVault(t *testing.T) {
	t.Parallel()
	fake := vaulttest.New(t)
	fake.Admin().PutKV2(t, "secret", "llm/openai", map[string]any{"api_key": openAIKey})
	ref := "vault://secret/llm/openai#api_key"
	env := func(addr string) map[string]string {
		return map[string]string{"VAULT_ADDR": addr, "VAULT_TOKEN": fake.RootToken, "OPENAI_API_KEY": ref}
	}
	front := func(f fault) string {
		return newFaultServer(t, flavorVault, f, proxyTo(t, fake.URL)).URL
	}
	runFaultCases(t, []faultCase{
		{name: "connection refused", env: env("http://" + closedPort(t)), flags: failFast, code: 69, msg: "OPENAI_API_KEY"},
		{name: "dns failure", env: env("http://vault.invalid:8200"), flags: failFast, code: 78, msg: "vault.invalid"},
		{name: "tls self-signed", env: env(selfSignedURL(t)), flags: failFast, code: 78, msg: "certificate"},
		{name: "timeout past the deadline", env: env(front(faultHang)), flags: failFast, code: 69, msg: "OPENAI_API_KEY"},
		{name: "5xx then success", env: env(front(faultFlaky)), flags: retryWins, child: true},
		{name: "5xx forever", env: env(front(faultDown)), flags: failFast, code: 69, msg: "503"},
		{name: "429 with Retry-After then success", env: env(front(faultThrottled)), flags: retryWins, child: true},
		{name: "429 forever", env: env(front(faultThrottledAll)), flags: failFast, code: 69, msg: "429"},
		{name: "truncated body", env: env(front(faultTruncated)), flags: failFast, code: 69, msg: "OPENAI_API_KEY"},
		{name: "not JSON", env: env(front(faultNotJSON)), flags: failFast, code: 69, msg: "OPENAI_API_KEY"},
		// The sources stop reading an answer at 4 MiB: not Vault, a wrong address.
		{name: "50 MiB body", env: env(front(faultHuge)), flags: failFast, code: 78, msg: "larger than 4 MiB"},
		{name: "redirect loop", env: env(front(faultRedirectLoop)), flags: failFast, code: 78, msg: "answered with a redirect (HTTP 307"},
	})
}

// TestFaultMatrixAWS: the same faults between keyexec and Secrets Manager
// (a raw awsJson1_1 server: moto cannot be made to misbehave).
func TestFaultMatrixAWS(t *testing.T) {
	t.Parallel()
	ref := "awssm://prod/llm/openai"
	env := func(endpoint string) map[string]string {
		e := rawAWSEnv(endpoint)
		e["OPENAI_API_KEY"] = ref
		return e
	}
	front := func(f fault) string {
		return newFaultServer(t, flavorAWS, f, secretsManager(openAIKey)).URL
	}
	runFaultCases(t, []faultCase{
		{name: "healthy", env: env(front(faultNone)), flags: retryWins, child: true},
		{name: "connection refused", env: env("http://" + closedPort(t)), flags: failFast, code: 69, msg: "prod/llm/openai"},
		{name: "dns failure", env: env("http://secretsmanager.invalid"), flags: failFast, code: 78, msg: "secretsmanager.invalid does not resolve"},
		{name: "tls self-signed", env: env(selfSignedURL(t)), flags: failFast, code: 78, msg: "AWS_CA_BUNDLE"},
		{name: "timeout past the deadline", env: env(front(faultHang)), flags: failFast, code: 69, msg: "deadline"},
		{name: "5xx then success", env: env(front(faultFlaky)), flags: retryWins, child: true},
		{name: "5xx forever", env: env(front(faultDown)), flags: failFast, code: 69, msg: "prod/llm/openai"},
		{name: "429 with Retry-After then success", env: env(front(faultThrottled)), flags: retryWins, child: true},
		{name: "429 forever", env: env(front(faultThrottledAll)), flags: failFast, code: 69, msg: "prod/llm/openai"},
		{name: "truncated body", env: env(front(faultTruncated)), flags: failFast, code: 69, msg: "prod/llm/openai"},
		{name: "not JSON", env: env(front(faultNotJSON)), flags: failFast, code: 69, msg: "prod/llm/openai"},
		{name: "50 MiB body", env: env(front(faultHuge)), flags: failFast, code: 78, msg: "larger than 4 MiB"},
		// The SDK does not follow redirects: a 307 is a wrong endpoint.
		{name: "redirect loop", env: env(front(faultRedirectLoop)), flags: failFast, code: 78, msg: "answered with a redirect (HTTP 307"},
	})
}

// TestFaultMatrixFile: the file source's equivalents of network faults.
func TestFaultMatrixFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return "file://" + p
	}
	good := write("good", []byte(openAIKey+"\n"))
	loop := filepath.Join(dir, "loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo") // opening it blocks: no writer ever comes
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	big := make([]byte, 2<<20)
	copy(big, openAIKey)
	env := func(ref string) map[string]string { return map[string]string{"OPENAI_API_KEY": ref} }
	runFaultCases(t, []faultCase{
		{name: "healthy", env: env(good), flags: failFast, child: true},
		{name: "missing", env: env("file://" + filepath.Join(dir, "absent")), flags: failFast, code: 78, msg: "absent"},
		{name: "a directory", env: env("file://" + dir), flags: failFast, code: 78, msg: dir},
		{name: "symlink loop", env: env("file://" + loop), flags: failFast, code: 78, msg: "loop"},
		{name: "fifo without writer: timeout past the deadline", env: env("file://" + fifo), flags: failFast, code: 69, msg: "fifo"},
		{name: "endless /dev/zero", env: env("file:///dev/zero"), flags: failFast, code: 78, msg: "/dev/zero"},
		{name: "2 MiB file", env: env(write("big", big)), flags: failFast, code: 78, msg: "larger than"},
		{name: "truncated JSON", env: env(write("trunc.json", []byte(`{"api_key":"`+openAIKey[:40])) + "#api_key"), flags: failFast, code: 78, msg: "trunc.json"},
		{name: "not JSON with #field", env: env(write("html", []byte("<html>"+openAIKey+"</html>")) + "#api_key"), flags: failFast, code: 78, msg: "html"},
	})
}

// TestFaultMatrixProbe: every network fault between the probe and the
// provider (the provider fake, and raw servers where it cannot misbehave).
func TestFaultMatrixProbe(t *testing.T) {
	t.Parallel()
	env := func(base string) map[string]string {
		return map[string]string{"OPENAI_API_KEY": openAIKey, "OPENAI_BASE_URL": base}
	}
	provider := func(k providertest.Key) string {
		srv := providertest.Start(t, providertest.OpenAI, providertest.Config{Keys: map[string]providertest.Key{openAIKey: k}})
		if k.Mode == providertest.Redirect {
			srv.SetKey(openAIKey, providertest.Key{Mode: k.Mode, Location: srv.URL + "/v1/models"})
		}
		return srv.BaseURL()
	}
	front := func(f fault) string {
		return newFaultServer(t, flavorOpenAI, f, nil).URL + "/v1"
	}
	probe := []string{"--probe-timeout", "2s"}
	retry := []string{"--probe-timeout", "20s"}
	runFaultCases(t, []faultCase{
		{name: "healthy", env: env(provider(providertest.Key{})), flags: probe, child: true},
		{name: "connection refused", env: env("http://" + closedPort(t) + "/v1"), flags: probe, code: 69, msg: "openai"},
		{name: "dns failure", env: env("https://api.invalid/v1"), flags: probe, code: 78, msg: "api.invalid"},
		{name: "tls self-signed", env: env(selfSignedURL(t) + "/v1"), flags: probe, code: 78, msg: "certificate"},
		{name: "timeout past the deadline", env: env(provider(providertest.Key{Mode: providertest.Slow, Delay: time.Minute})), flags: probe, code: 69, msg: "openai"},
		{name: "5xx then success", env: env(provider(providertest.Key{Mode: providertest.ServerError, Times: 2, Status: 503})), flags: retry, child: true},
		{name: "5xx forever", env: env(provider(providertest.Key{Mode: providertest.ServerError, Status: 503})), flags: probe, code: 69, msg: "503"},
		{name: "429 with Retry-After then success", env: env(provider(providertest.Key{Mode: providertest.RateLimited, Times: 1, RetryAfter: "1"})), flags: retry, child: true},
		{name: "429 forever", env: env(provider(providertest.Key{Mode: providertest.RateLimited, RetryAfter: "1"})), flags: probe, code: 69, msg: "429"},
		{name: "truncated 200", env: env(provider(providertest.Key{Mode: providertest.Truncated})), flags: probe, code: 69, msg: "unexpected EOF"},
		{name: "truncated 503 forever", env: env(front(faultDown)), flags: probe, code: 69, msg: "503"},
		// A web page is not the provider's API: the base URL is wrong.
		{name: "not JSON 200", env: env(provider(providertest.Key{Mode: providertest.NotJSON})), flags: probe, code: 78, msg: "not with JSON"},
		{name: "not JSON from a raw server", env: env(front(faultNotJSON)), flags: probe, code: 78, msg: "not with JSON"},
		{name: "50 MiB body", env: env(provider(providertest.Key{Mode: providertest.HugeBody})), flags: probe, child: true},
		{name: "redirect loop", env: env(provider(providertest.Key{Mode: providertest.Redirect})), flags: probe, code: 78, msg: "/v1/models"},
		{name: "redirect loop from a raw server", env: env(front(faultRedirectLoop)), flags: probe, code: 78, msg: "/v1/models"},
	})
}
