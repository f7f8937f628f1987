package main

import (
	"bytes"
	"fmt"
	"os"
	osexec "os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/keyexec/keyexec/sources/vault/vaulttest"
	"github.com/keyexec/keyexec/verify/providertest"
)

// The overlap tests prove what bench/run.sh measures, without timing: the
// fakes hold the request a stage would wait on, and the tests watch which
// other requests arrive meanwhile. A request that arrives while another is
// held was sent without waiting for its answer. Each wait ends either with
// the expected arrival or with keyexec's exit (its --timeout bounds a
// keyexec that waits where it should not), never with a clock of the test.

// overlapLog is the order of events seen by the fakes and the test.
type overlapLog struct {
	mu      sync.Mutex
	events  []string
	changed chan struct{}
}

func newOverlapLog() *overlapLog { return &overlapLog{changed: make(chan struct{})} }

func (l *overlapLog) add(event string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, event)
	close(l.changed)
	l.changed = make(chan struct{})
}

func (l *overlapLog) snapshot() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// index is the position of the first event with this prefix, or -1.
func (l *overlapLog) index(prefix string) int {
	return slices.IndexFunc(l.snapshot(), func(e string) bool { return strings.HasPrefix(e, prefix) })
}

// await blocks until every prefix has been logged, or fails the test when
// keyexec exits first.
func (l *overlapLog) await(t *testing.T, kx *overlapRun, prefixes ...string) {
	t.Helper()
	for {
		l.mu.Lock()
		changed, events := l.changed, slices.Clone(l.events)
		l.mu.Unlock()
		missing := slices.DeleteFunc(slices.Clone(prefixes), func(p string) bool {
			return slices.ContainsFunc(events, func(e string) bool { return strings.HasPrefix(e, p) })
		})
		if len(missing) == 0 {
			return
		}
		select {
		case <-changed:
		case <-kx.done:
			t.Fatalf("keyexec exited (%d) before %q arrived; events %q; stderr:\n%s", kx.code, missing, l.snapshot(), kx.stderr.String())
		}
	}
}

// overlapRun is a keyexec process the test runs beside its fakes.
type overlapRun struct {
	cmd            *osexec.Cmd
	stdout, stderr overlapBuffer
	done           chan struct{}
	code           int
}

// startOverlap starts the binary with only env (plus PATH and a private
// HOME, as keyexecCmd gives it). Its stderr logs "child output" on log when
// overlapMarker appears in it.
func startOverlap(t *testing.T, log *overlapLog, env map[string]string, args ...string) *overlapRun {
	t.Helper()
	kx := &overlapRun{cmd: osexec.Command(binPath, args...), done: make(chan struct{})}
	kx.stderr.marked = func() { log.add("child output") }
	kx.cmd.Dir = t.TempDir()
	kx.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "NO_COLOR=1", "AWS_EC2_METADATA_DISABLED=true"}
	for k, v := range env {
		kx.cmd.Env = append(kx.cmd.Env, k+"="+v)
	}
	kx.cmd.Stdout, kx.cmd.Stderr = &kx.stdout, &kx.stderr
	if err := kx.cmd.Start(); err != nil {
		t.Fatalf("start keyexec: %v", err)
	}
	go func() {
		_ = kx.cmd.Wait()
		kx.code = kx.cmd.ProcessState.ExitCode()
		close(kx.done)
	}()
	t.Cleanup(func() {
		select {
		case <-kx.done:
		default:
			_ = kx.cmd.Process.Kill()
			<-kx.done
		}
	})
	return kx
}

// wait returns keyexec's exit code once it has exited.
func (kx *overlapRun) wait() int { <-kx.done; return kx.code }

// overlapBuffer keeps what a process writes, for the test to read while it
// runs; marked, when set, is called once overlapMarker has arrived.
type overlapBuffer struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marked func()
}

func (b *overlapBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	n, err := b.buf.Write(p)
	if b.marked != nil && strings.Contains(b.buf.String(), overlapMarker) {
		b.marked()
		b.marked = nil
	}
	return n, err
}

func (b *overlapBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.buf.String() }

// overlapVault is a Vault fake holding the OpenAI key, whose requests are
// logged as "vault PATH".
func overlapVault(t *testing.T, log *overlapLog) *vaulttest.Server {
	t.Helper()
	fake := vaulttest.New(t)
	fake.Admin().PutKV2(t, "secret", "llm/openai", map[string]any{"api_key": openAIKey})
	fake.OnRequest(func(r vaulttest.Request) { log.add("vault " + r.Path) })
	return fake
}

// overlapProvider is a provider fake accepting key, whose requests are
// logged as "KIND PATH".
func overlapProvider(t *testing.T, log *overlapLog, kind providertest.Kind, key string) *providertest.Server {
	t.Helper()
	return providertest.Start(t, kind, providertest.Config{
		Keys:      map[string]providertest.Key{key: {}},
		OnRequest: func(r providertest.Request) { log.add(fmt.Sprintf("%s %s", kind, r.Path)) },
	})
}

// TestOverlapRevokeBesideProbe: with AppRole, the login token's revocation
// is sent beside the probe, not before it — the probe reaches the provider
// while auth/token/revoke-self is held unanswered — and the child starts
// only after the revocation ended: after it was released and answered, or,
// when Vault never answers it, after keyexec gave up on it and said so.
func TestOverlapRevokeBesideProbe(t *testing.T) {
	t.Parallel()
	t.Run("answered", func(t *testing.T) {
		t.Parallel()
		log, fake, release, kx := startRevokeHeld(t)
		log.await(t, kx, "vault auth/token/revoke-self", "openai /v1/models")
		if len(fake.Revoked()) != 0 || log.index("child output") >= 0 {
			t.Fatalf("revoked %d tokens, or the child ran, while revoke-self was held: %q", len(fake.Revoked()), log.snapshot())
		}
		log.add("released")
		release()
		if code := kx.wait(); code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, kx.stderr.String())
		}
		events := log.snapshot()
		if ran := log.index("child output"); ran < 0 || ran < log.index("released") {
			t.Fatalf("the child did not run, or ran before the revocation was released: %q", events)
		}
		if revoked := fake.Revoked(); len(revoked) != 1 || fake.TokenValid(revoked[0]) {
			t.Fatalf("revoked %d tokens, want the login's one: the child started with the token still valid", len(revoked))
		}
		if n := strings.Count(strings.Join(events, "\n"), "vault auth/token/revoke-self"); n != 1 {
			t.Errorf("revoke-self sent %d times, want 1: %q", n, events)
		}
		if before, _, _ := strings.Cut(kx.stderr.String(), overlapMarker); strings.Contains(before, "revoke") {
			t.Errorf("keyexec warned about the revocation:\n%s", kx.stderr.String())
		}
		assertNoLeak(t, kx.stderr.String())
	})
	// Were keyexec to exec while the revocation is in flight, the child
	// would run while the token is valid and nothing would revoke it: the
	// one stderr that keyexec and then the child write shows which came
	// first, the child's marker or keyexec's warning that the revocation
	// got no answer (bounded by keyexec's own revocation timeout).
	t.Run("never answered", func(t *testing.T) {
		t.Parallel()
		log, fake, _, kx := startRevokeHeld(t)
		log.await(t, kx, "vault auth/token/revoke-self", "openai /v1/models")
		if code := kx.wait(); code != 0 {
			t.Fatalf("exit %d; stderr:\n%s", code, kx.stderr.String())
		}
		stderr := kx.stderr.String()
		before, _, ran := strings.Cut(stderr, overlapMarker)
		if !ran || !strings.Contains(before, "revoke") {
			t.Fatalf("the child ran before keyexec gave up on the revocation (its warning should come first):\n%s", stderr)
		}
		if len(fake.Revoked()) != 0 {
			t.Fatalf("a held revocation was answered")
		}
		assertNoLeak(t, stderr)
	})
}

// overlapMarker is what the overlap tests' child writes to stderr, the
// stream keyexec writes to before it execs: one pipe keeps the order.
const overlapMarker = "overlap child started"

// startRevokeHeld starts keyexec with AppRole against a Vault fake that
// holds auth/token/revoke-self, and a provider fake; the child writes
// overlapMarker.
func startRevokeHeld(t *testing.T) (*overlapLog, *vaulttest.Server, func(), *overlapRun) {
	t.Helper()
	log := newOverlapLog()
	fake := overlapVault(t, log)
	admin := fake.Admin()
	admin.PutPolicy(t, "llm-read", `path "secret/data/llm/*" { capabilities = ["read"] }`)
	roleID, secretID := admin.CreateAppRole(t, "approle", "app", "llm-read")
	release := fake.Hold("auth/token/revoke-self")
	t.Cleanup(release)
	srv := overlapProvider(t, log, providertest.OpenAI, openAIKey)
	env := map[string]string{
		"KEYEXEC_CONFIG":  writeTestFile(t, t.TempDir(), "keyexec.yaml", "vault: {auth: approle}\n"),
		"VAULT_ADDR":      fake.URL,
		"VAULT_ROLE_ID":   roleID,
		"VAULT_SECRET_ID": secretID,
		"OPENAI_API_KEY":  "vault://secret/llm/openai#api_key",
		"OPENAI_BASE_URL": srv.BaseURL(),
	}
	kx := startOverlap(t, log, env, "run", "--timeout", "10s", "--", "sh", "-c", "echo "+overlapMarker+" >&2")
	return log, fake, release, kx
}

// TestOverlapMountLookupBesideKV2Read: the mount lookup that tells KV v1 from
// v2 and the speculative KV v2 read are in flight together — both arrive
// while both are held — and the read's answer is used: one round trip.
func TestOverlapMountLookupBesideKV2Read(t *testing.T) {
	t.Parallel()
	log := newOverlapLog()
	fake := overlapVault(t, log)
	fake.ResetCounts()
	releaseLookup := fake.Hold("sys/internal/ui/mounts/*")
	t.Cleanup(releaseLookup)
	releaseRead := fake.Hold("secret/data/*")
	t.Cleanup(releaseRead)
	env := map[string]string{"VAULT_ADDR": fake.URL, "VAULT_TOKEN": fake.RootToken, "OPENAI_API_KEY": "vault://secret/llm/openai#api_key"}
	kx := startOverlap(t, log, env, "run", "--no-probe", "--timeout", "10s", "--", "printenv", "OPENAI_API_KEY")

	log.await(t, kx, "vault sys/internal/ui/mounts/secret/llm/openai", "vault secret/data/llm/openai")
	releaseLookup()
	releaseRead()
	if code := kx.wait(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, kx.stderr.String())
	}
	if strings.TrimSpace(kx.stdout.String()) != openAIKey {
		t.Errorf("the child did not get the key read from Vault")
	}
	if got := fake.Requests(); got != 2 {
		t.Errorf("%d requests reached Vault, want 2 (the lookup and the KV v2 read, nothing after): %q", got, log.snapshot())
	}
}

// TestOverlapEnvProviderProbedBeforeVaultRead: a provider whose key is a
// literal in the environment is probed while another provider's key is
// still being read from Vault — the Anthropic probe arrives while the Vault
// read is held — and the OpenAI probe follows the read's answer.
func TestOverlapEnvProviderProbedBeforeVaultRead(t *testing.T) {
	t.Parallel()
	log := newOverlapLog()
	fake := overlapVault(t, log)
	release := fake.Hold("secret/data/llm/openai")
	t.Cleanup(release)
	oai := overlapProvider(t, log, providertest.OpenAI, openAIKey)
	ant := overlapProvider(t, log, providertest.Anthropic, anthropicKey)
	env := map[string]string{
		"VAULT_ADDR": fake.URL, "VAULT_TOKEN": fake.RootToken,
		"OPENAI_API_KEY": "vault://secret/llm/openai#api_key", "OPENAI_BASE_URL": oai.BaseURL(),
		"ANTHROPIC_API_KEY": anthropicKey, "ANTHROPIC_BASE_URL": ant.BaseURL(),
	}
	kx := startOverlap(t, log, env, "run", "--timeout", "10s", "--", "sh", "-c", "echo "+overlapMarker+" >&2")

	log.await(t, kx, "vault secret/data/llm/openai", "anthropic /v1/models")
	if i := log.index("openai /v1/models"); i >= 0 {
		t.Fatalf("OpenAI was probed before its key was read: %q", log.snapshot())
	}
	log.add("released")
	release()
	if code := kx.wait(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, kx.stderr.String())
	}
	events := log.snapshot()
	if log.index("openai /v1/models") < log.index("released") || log.index("child output") < log.index("openai /v1/models") {
		t.Fatalf("want the Anthropic probe while the Vault read was held, then the OpenAI probe, then the child: %q", events)
	}
	if oai.Requests() != 1 || ant.Requests() != 1 {
		t.Errorf("probes: openai %d, anthropic %d, want 1 each (the early probe is the final one)", oai.Requests(), ant.Requests())
	}
	assertNoLeak(t, kx.stderr.String())
}

// TestOverlapConfigListEntryProbedBeforeVaultRead: a config-list entry whose
// key is a literal is probed while another entry's key is still being read
// from Vault, as DESIGN.md's "probes do not wait for unrelated fetches" asks.
func TestOverlapConfigListEntryProbedBeforeVaultRead(t *testing.T) {
	t.Parallel()
	log := newOverlapLog()
	fake := overlapVault(t, log)
	fake.Admin().PutKV2(t, "secret", "llm/anthropic", map[string]any{"api_key": anthropicKey})
	release := fake.Hold("secret/data/llm/anthropic")
	t.Cleanup(release)
	oai := overlapProvider(t, log, providertest.OpenAI, openAIKey)
	ant := overlapProvider(t, log, providertest.Anthropic, anthropicKey)
	list := `[{"model": "gpt-4o-mini", "api_key": "` + openAIKey + `", "base_url": "` + oai.BaseURL() + `"},
  {"model": "claude-sonnet-4-5", "api_type": "anthropic", "api_key": "vault://secret/llm/anthropic#api_key", "base_url": "` + ant.BaseURL() + `"}]`
	env := map[string]string{"VAULT_ADDR": fake.URL, "VAULT_TOKEN": fake.RootToken, "OAI_CONFIG_LIST": list}
	kx := startOverlap(t, log, env, "run", "--timeout", "10s", "--", "sh", "-c", "echo "+overlapMarker+" >&2")

	log.await(t, kx, "vault secret/data/llm/anthropic", "openai /v1/models/gpt-4o-mini")
	release()
	if code := kx.wait(); code != 0 {
		t.Fatalf("exit %d; stderr:\n%s", code, kx.stderr.String())
	}
	if oai.Requests() != 1 || ant.Requests() != 1 {
		t.Errorf("probes: openai %d, anthropic %d, want 1 each", oai.Requests(), ant.Requests())
	}
	assertNoListLeak(t, kx.stderr.String())
}
