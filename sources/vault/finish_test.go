package vault

import (
	"context"
	"strings"
	"testing"
)

// TestFinishBesideTheProbe: Fetch sends no revoke-self; Finish does, and
// while the fake holds it, Finish has not returned: a pipeline can show
// that its probe arrived before the revocation completed. Finish is
// idempotent and safe with nothing to revoke.
func TestFinishBesideTheProbe(t *testing.T) {
	t.Parallel()
	h, src, _ := fetchedWithAppRole(t)
	if n := h.fake.Count("auth/token/revoke-self"); n != 0 {
		t.Fatalf("Fetch sent %d revoke-self requests, want none (Finish revokes)", n)
	}

	arrived := arrivals(h)
	release := h.fake.Hold("auth/token/revoke-self")
	done := make(chan error, 1)
	go func() { done <- src.Finish(context.Background()) }()
	await(t, arrived, 1)
	select {
	case err := <-done:
		t.Fatalf("Finish returned (%v) while revoke-self was held", err)
	default:
	}
	release()
	if err := <-done; err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if revoked := h.fake.Revoked(); len(revoked) != 1 || h.fake.TokenValid(revoked[0]) {
		t.Fatalf("%d tokens revoked, want the one login's", len(revoked))
	}
	if err := src.Finish(context.Background()); err != nil || h.fake.Count("auth/token/revoke-self") != 1 {
		t.Fatalf("second Finish: %v, %d revoke-self requests", err, h.fake.Count("auth/token/revoke-self"))
	}
	user := h.source(t, Config{})
	if err := user.Finish(context.Background()); err != nil {
		t.Fatalf("Finish with nothing to revoke: %v", err)
	}
}

// TestFinishBounded: Finish ends by its own short timeout when Vault never
// answers, even with a context that has ended, and its error names the
// login, never the token.
func TestFinishBounded(t *testing.T) {
	t.Parallel()
	h, src, creds := fetchedWithAppRole(t)

	defer h.fake.Hold("auth/token/revoke-self")()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := src.Finish(ctx)
	if err == nil {
		t.Fatal("Finish reported success for a revocation that never completed")
	}
	t.Logf("error: %v", err)
	if !strings.Contains(err.Error(), "AppRole login") || !strings.Contains(err.Error(), "stays valid until its TTL ends") {
		t.Errorf("error %q does not say which token stays valid", err)
	}
	for _, tok := range append(h.fake.Revoked(), creds...) {
		if strings.Contains(err.Error(), tok) {
			t.Errorf("error shows a credential: %v", err)
		}
	}
}

// fetchedWithAppRole is a source that logged in with AppRole at the fake
// and read one secret, so that it has a login token left to revoke; creds
// are the role and secret IDs it logged in with.
func fetchedWithAppRole(t *testing.T) (*harness, *Source, []string) {
	t.Helper()
	h := fakeVault(t)
	h.admin.PutKV2(t, "secret", h.path("k"), map[string]any{"v": "sk-fin"})
	h.admin.PutPolicy(t, "reader", `path "secret/data/*" { capabilities = ["read"] }`)
	roleID, secretID := h.admin.CreateAppRole(t, "approle", "r", "reader")
	src := h.source(t, Config{Auth: "approle", RoleID: roleID, SecretID: secretID, Env: map[string]string{}})
	v, _, err := fetchOne(t, src, "vault://secret/"+h.path("k")+"#v")
	wantValue(t, v, err, "sk-fin")
	return h, src, []string{roleID, secretID}
}
