package vault

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/vault/vaulttest"
)

// harness is a Vault to test against: the fake by default, or a real dev
// server when KEYEXEC_TEST_VAULT_ADDR and KEYEXEC_TEST_VAULT_TOKEN are set.
// Each harness works under its own random prefix, so tests can run in
// parallel against one real server.
type harness struct {
	addr  string
	root  string
	fake  *vaulttest.Server // nil against a real Vault
	admin *vaulttest.Admin
	id    string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{id: "t" + randHex(6)}
	if addr, tok := os.Getenv("KEYEXEC_TEST_VAULT_ADDR"), os.Getenv("KEYEXEC_TEST_VAULT_TOKEN"); addr != "" && tok != "" {
		h.addr, h.root = addr, tok
		h.admin = &vaulttest.Admin{Addr: addr, Token: tok}
		h.admin.EnableKV(t, "secret", 2) // a dev server has it already
		return h
	}
	h.fake = vaulttest.New(t)
	h.addr, h.root, h.admin = h.fake.URL, h.fake.RootToken, h.fake.Admin()
	return h
}

// fakeOnly skips a case that needs the fake's controls or counters.
func (h *harness) fakeOnly(t *testing.T, why string) {
	t.Helper()
	if h.fake == nil {
		t.Skipf("fake only against a real Vault: %s", why)
	}
}

// path returns a KV v2 path under this harness's prefix in secret/.
func (h *harness) path(rest string) string { return h.id + "/" + rest }

// source builds a Source for this Vault; with a nil Env the root token is
// passed as VAULT_TOKEN.
func (h *harness) source(t *testing.T, cfg Config) *Source {
	t.Helper()
	cfg.Address = h.addr
	if cfg.Env == nil {
		cfg.Env = map[string]string{"VAULT_TOKEN": h.root}
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// fetch resolves raw references with a 10s deadline.
func fetch(t *testing.T, s *Source, raws ...string) ([]sources.Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return fetchCtx(t, ctx, s, raws...)
}

func fetchCtx(t *testing.T, ctx context.Context, s *Source, raws ...string) ([]sources.Result, error) {
	t.Helper()
	refs := make([]sources.Ref, len(raws))
	for i, raw := range raws {
		ref, err := sources.Parse(raw)
		if err != nil {
			t.Fatalf("parse %q: %v", raw, err)
		}
		refs[i] = ref
	}
	res, err := s.Fetch(ctx, refs)
	if err == nil && len(res) != len(refs) {
		t.Fatalf("Fetch returned %d results for %d refs", len(res), len(refs))
	}
	return res, err
}

// fetchOne resolves one reference and returns its value, version and error.
func fetchOne(t *testing.T, s *Source, raw string) (string, string, error) {
	t.Helper()
	res, err := fetch(t, s, raw)
	if err != nil {
		return "", "", err
	}
	return res[0].Value.Reveal(), res[0].Version, res[0].Err
}

// wantErr checks that err wraps sentinel and mentions every word of want.
func wantErr(t *testing.T, err, sentinel error, want ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", sentinel)
	}
	t.Logf("error: %v", err)
	if !errors.Is(err, sentinel) {
		t.Fatalf("error %q does not wrap %v", err, sentinel)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not mention %q", err, w)
		}
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := t.TempDir() + "/f"
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}
