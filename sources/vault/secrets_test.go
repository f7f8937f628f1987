package vault

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/vault/vaulttest"
)

// errorTexts gathers every way a batch's errors and results print.
func errorTexts(res []sources.Result, err error) []string {
	var texts []string
	if err != nil {
		texts = append(texts, err.Error(), fmt.Sprintf("%+v %#v", err, err))
	}
	for _, r := range res {
		if r.Err != nil {
			texts = append(texts, r.Err.Error(), fmt.Sprintf("%+v", r.Err))
		}
		texts = append(texts, fmt.Sprintf("%v %+v %#v", r, r, r))
	}
	return texts
}

// noSecretIn fails the test when any text holds any secret.
func noSecretIn(t *testing.T, texts []string, secrets ...string) {
	t.Helper()
	if len(texts) < 10 {
		t.Fatalf("only %d error texts collected", len(texts))
	}
	for _, text := range texts {
		for _, s := range secrets {
			if strings.Contains(text, s) {
				t.Errorf("error text holds a secret (%s): %s", sources.Fingerprint(s), text)
			}
		}
	}
}

// TestNoSecretInErrors provokes every kind of failure a real server gives
// (missing fields, versions and paths, denied reads, rejected AppRole and
// Kubernetes logins, a sealed server) with known secret values and
// credentials around, and checks that no error text holds one.
func TestNoSecretInErrors(t *testing.T) {
	t.Parallel()
	h := ownOpenBao(t) // sealed at the end
	secrets := []string{"sk-proj-SENTINELsecretvalue0001", "SENTINEL-org-0002", "SENTINEL-nested-0003"}
	h.admin.PutKV2(t, "secret", h.path("k"), map[string]any{"api_key": secrets[0], "org": secrets[1], "n": map[string]any{"x": secrets[2]}})
	h.admin.PutPolicy(t, "weak", `path "secret/data/nothing" { capabilities = ["read"] }`)
	weak := h.admin.CreateToken(t, "weak")
	roleID, secretID := h.admin.CreateAppRole(t, "approle", "r", "weak")
	k8s := vaulttest.NewKubernetesAPI(t)
	h.admin.EnableKubernetes(t, "kubernetes", k8s)
	sa := vaulttest.ServiceAccount{Namespace: "apps", Name: "agent", UID: "u-1"}
	h.admin.CreateKubernetesRole(t, "kubernetes", "app", sa, "weak")
	jwt := vaulttest.NewKubernetesAPI(t).Issue(sa) // rejected by this cluster
	base := "vault://secret/" + h.path("k")
	refs := []string{base, base + "#nope", base + "#n", base + "#/n/y", base + "?version=7#api_key", "vault://secret/" + h.path("zz") + "#a"}

	var texts []string
	texts = append(texts, errorTexts(fetch(t, h.source(t, Config{}), refs...))...)
	texts = append(texts, errorTexts(fetch(t, h.source(t, Config{Env: map[string]string{"VAULT_TOKEN": weak}}), refs...))...)
	texts = append(texts, errorTexts(fetch(t, h.source(t, Config{Auth: "approle", RoleID: roleID, SecretID: secretID + "x", Env: map[string]string{}}), refs...))...)
	texts = append(texts, errorTexts(fetch(t, h.source(t, Config{Auth: "kubernetes", Role: "app", JWTFile: writeFile(t, jwt), Env: map[string]string{}}), refs...))...)
	h.bao.Seal(t)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	texts = append(texts, errorTexts(fetchCtx(t, ctx, h.source(t, Config{Env: map[string]string{"VAULT_TOKEN": weak}}), refs...))...)
	noSecretIn(t, texts, append(secrets, h.root, weak, secretID, roleID, jwt)...)
}

// TestNoSecretInInjectedErrors: the same for answers only the fake gives
// (5xx bodies, a refused mount lookup), with a login token in play.
func TestNoSecretInInjectedErrors(t *testing.T) {
	t.Parallel()
	h := fakeVault(t)
	h.admin.PutKV2(t, "secret", h.path("k"), map[string]any{"api_key": "sk-proj-SENTINELinjected0001"})
	h.admin.PutPolicy(t, "reader", `path "secret/data/*" { capabilities = ["read"] }`)
	roleID, secretID := h.admin.CreateAppRole(t, "approle", "r", "reader")
	cfg := Config{Auth: "approle", RoleID: roleID, SecretID: secretID, Env: map[string]string{}}
	refs := []string{"vault://secret/" + h.path("k"), "vault://secret/" + h.path("k") + "#nope"}

	var texts []string
	src := h.source(t, cfg)
	texts = append(texts, errorTexts(fetch(t, src, refs...))...)
	h.fake.FailNext(1, http.StatusInternalServerError) // the login
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	texts = append(texts, errorTexts(fetchCtx(t, ctx, src, refs...))...)
	if err := src.Finish(context.Background()); err != nil {
		t.Fatal(err)
	}
	logins := h.fake.Revoked() // the login tokens, now known to the test
	if len(logins) != 2 {
		t.Fatalf("%d login tokens revoked, want 2", len(logins))
	}
	h.fake.FailNext(1000, http.StatusBadGateway)
	ctx, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	texts = append(texts, errorTexts(fetchCtx(t, ctx, h.source(t, Config{}), refs...))...)
	noSecretIn(t, texts, append(logins, "sk-proj-SENTINELinjected0001", h.root, roleID, secretID)...)
}
