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

	"github.com/keyexec/keyexec/internal/testenv"
	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/vault/vaulttest"
)

func TestMain(m *testing.M) {
	code := testenv.Main(m)
	vaulttest.StopShared()
	os.Exit(code)
}

// harness is a Vault to test against. Real servers are OpenBao from the
// pinned environment (shared, or the test's own) and, when
// KEYEXEC_TEST_VAULT_ADDR and KEYEXEC_TEST_VAULT_TOKEN are set, that
// HashiCorp Vault too; the fake serves only what a real server cannot be
// made to do. Each harness works under its own random prefix, so tests run
// in parallel against one server.
type harness struct {
	name  string // "openbao", "vault" or "fake"
	addr  string
	root  string
	admin *vaulttest.Admin
	id    string
	fake  *vaulttest.Server  // the fake only
	bao   *vaulttest.OpenBao // OpenBao only
}

// onRealVaults runs f as a parallel subtest against every real server
// there is: OpenBao (skipped, or failed under CI, without the pinned
// environment) and the HashiCorp Vault named by KEYEXEC_TEST_VAULT_*.
func onRealVaults(t *testing.T, f func(t *testing.T, h *harness)) {
	t.Helper()
	forRealVaults(t, true, f)
}

// forRealVaults is onRealVaults with the subtests parallel or not (a test
// that sets the process environment may not run parallel subtests).
func forRealVaults(t *testing.T, parallel bool, f func(t *testing.T, h *harness)) {
	t.Helper()
	t.Run("openbao", func(t *testing.T) {
		if parallel {
			t.Parallel()
		}
		b := vaulttest.SharedOpenBao(t)
		f(t, &harness{name: "openbao", addr: b.URL, root: b.RootToken, admin: b.Admin(), id: newID(), bao: b})
	})
	addr, tok := os.Getenv("KEYEXEC_TEST_VAULT_ADDR"), os.Getenv("KEYEXEC_TEST_VAULT_TOKEN")
	if addr == "" || tok == "" {
		return
	}
	t.Run("vault", func(t *testing.T) {
		if parallel {
			t.Parallel()
		}
		h := &harness{name: "vault", addr: addr, root: tok, admin: &vaulttest.Admin{Addr: addr, Token: tok}, id: newID()}
		h.admin.EnableKV(t, "secret", 2) // a dev server has it already
		f(t, h)
	})
}

// ownOpenBao is an OpenBao of the test's own, for what would disturb the
// shared one (sealing) or needs other settings (TLS).
func ownOpenBao(t *testing.T, opts ...vaulttest.BaoOption) *harness {
	t.Helper()
	b := vaulttest.StartOpenBao(t, opts...)
	return &harness{name: "openbao", addr: b.URL, root: b.RootToken, admin: b.Admin(), id: newID(), bao: b}
}

// fakeVault is the fake, for faults no real server produces on demand.
func fakeVault(t *testing.T, opts ...vaulttest.Option) *harness {
	t.Helper()
	f := vaulttest.New(t, opts...)
	return &harness{name: "fake", addr: f.URL, root: f.RootToken, admin: f.Admin(), id: newID(), fake: f}
}

// needNamespaces skips a case on a server without namespaces (HashiCorp
// Vault's community edition); OpenBao and the fake have them.
func (h *harness) needNamespaces(t *testing.T) {
	t.Helper()
	if !h.admin.NamespacesSupported(t) {
		t.Skipf("%s at %s has no namespaces (Vault Enterprise or OpenBao have them)", h.name, h.addr)
	}
}

// path returns a KV v2 path under this harness's prefix in secret/.
func (h *harness) path(rest string) string { return h.id + "/" + rest }

// source builds a Source for this Vault; with a nil Env the root token is
// passed as VAULT_TOKEN.
func (h *harness) source(t *testing.T, cfg Config) *Source {
	t.Helper()
	if cfg.Address == "" {
		cfg.Address = h.addr
	}
	if cfg.Env == nil {
		cfg.Env = map[string]string{"VAULT_TOKEN": h.root}
	}
	s, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Finish(context.Background()) })
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

// wantValue checks a fetch's value.
func wantValue(t *testing.T, got string, err error, want string) {
	t.Helper()
	if err != nil || got != want {
		t.Fatalf("got %s, %v; want %s", sources.Fingerprint(got), err, sources.Fingerprint(want))
	}
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

func newID() string { return "t" + randHex(6) }

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
