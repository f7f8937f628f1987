package vault

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/vault/vaulttest"
)

// tokensOf counts the server's live tokens whose metadata names role (as
// AppRole's role_name and Kubernetes' role do), through their accessors.
func tokensOf(t *testing.T, a *vaulttest.Admin, role string) int {
	t.Helper()
	n := 0
	for _, tok := range a.Tokens(t) {
		if tok.Meta["role_name"] == role || tok.Meta["role"] == role {
			n++
		}
	}
	return n
}

// TestFinishRevokesLogin: Fetch returns with the login's token alive;
// Finish revokes it (counted by accessor before and after), once; the
// user's own token and revoke_token: false are left alone.
func TestFinishRevokesLogin(t *testing.T) {
	t.Parallel()
	onRealVaults(t, func(t *testing.T, h *harness) {
		h.admin.PutKV2(t, "secret", h.path("k"), map[string]any{"v": "sk-r"})
		pol := "p-" + h.id
		h.admin.PutPolicy(t, pol, `path "secret/data/`+h.id+`/*" { capabilities = ["read"] }`)
		role := "r-" + h.id
		roleID, secretID := h.admin.CreateAppRole(t, "approle", role, pol)
		ref := "vault://secret/" + h.path("k") + "#v"
		ctx := context.Background()

		src := h.source(t, Config{Auth: "approle", RoleID: roleID, SecretID: secretID, Env: map[string]string{}})
		v, _, err := fetchOne(t, src, ref)
		wantValue(t, v, err, "sk-r")
		if n := tokensOf(t, h.admin, role); n != 1 {
			t.Fatalf("after Fetch: %d live tokens of the role, want 1 (revocation is Finish's)", n)
		}
		if err := src.Finish(ctx); err != nil {
			t.Fatalf("Finish: %v", err)
		}
		if n := tokensOf(t, h.admin, role); n != 0 {
			t.Fatalf("after Finish: %d live tokens of the role, want 0", n)
		}
		if err := src.Finish(ctx); err != nil {
			t.Fatalf("second Finish: %v", err)
		}

		keep := false
		kept := h.source(t, Config{Auth: "approle", RoleID: roleID, SecretID: secretID, RevokeToken: &keep, Env: map[string]string{}})
		v, _, err = fetchOne(t, kept, ref)
		wantValue(t, v, err, "sk-r")
		if err := kept.Finish(ctx); err != nil {
			t.Fatal(err)
		}
		if n := tokensOf(t, h.admin, role); n != 1 {
			t.Fatalf("revoke_token: false: %d live tokens of the role after Finish, want 1", n)
		}

		user := h.source(t, Config{})
		v, _, err = fetchOne(t, user, ref)
		wantValue(t, v, err, "sk-r")
		if err := user.Finish(ctx); err != nil {
			t.Fatal(err)
		}
		h.admin.Tokens(t) // fails the test if the root token was revoked
	})
}

// TestKubernetes logs a service account in on a real server, whose
// kubernetes auth asks a fake TokenReview API instead of a cluster.
func TestKubernetes(t *testing.T) {
	t.Parallel()
	onRealVaults(t, func(t *testing.T, h *harness) {
		k8s := vaulttest.NewKubernetesAPI(t)
		mount := "k8s-" + h.id
		h.admin.EnableKubernetes(t, mount, k8s)
		sa := vaulttest.ServiceAccount{Namespace: "apps", Name: "agent", UID: "5f0e0f62-0000-4000-8000-" + h.id[1:]}
		pol := "p-" + h.id
		h.admin.PutPolicy(t, pol, `path "secret/data/+/llm/*" { capabilities = ["read"] }`)
		h.admin.CreateKubernetesRole(t, mount, "app", sa, pol)
		h.admin.PutKV2(t, "secret", h.path("llm/openai"), map[string]any{"api_key": "sk-k8s"})
		ref := "vault://secret/" + h.path("llm/openai") + "#api_key"
		cfg := func(jwtFile string) Config {
			return Config{Auth: "kubernetes", Mount: mount, Role: "app", JWTFile: jwtFile, Env: map[string]string{}}
		}

		src := h.source(t, cfg(writeFile(t, k8s.Issue(sa)+"\n")))
		v, _, err := fetchOne(t, src, ref)
		wantValue(t, v, err, "sk-k8s")
		if k8s.Reviews() != 1 {
			t.Errorf("%d TokenReviews, want 1", k8s.Reviews())
		}
		if err := src.Finish(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := tokensOf(t, h.admin, "app"); n != 0 {
			t.Errorf("%d live tokens of the kubernetes role after Finish, want 0", n)
		}

		stranger := vaulttest.NewKubernetesAPI(t).Issue(sa) // a JWT this cluster never issued
		_, _, err = fetchOne(t, h.source(t, cfg(writeFile(t, stranger))), ref)
		wantErr(t, err, sources.ErrPermission, "Kubernetes", `role "app"`, "auth/"+mount+"/login", ref)

		_, _, err = fetchOne(t, h.source(t, cfg(filepath.Join(t.TempDir(), "missing"))), ref)
		wantErr(t, err, sources.ErrInvalid, "service account token")
	})
}

func TestNamespace(t *testing.T) {
	t.Parallel()
	onRealVaults(t, func(t *testing.T, h *harness) {
		h.needNamespaces(t)
		ns := "ns-" + h.id
		nsAdmin := h.admin.CreateNamespace(t, ns)
		nsAdmin.EnableKV(t, "secret", 2)
		nsAdmin.PutKV2(t, "secret", "llm/openai", map[string]any{"api_key": "sk-team"})
		nsAdmin.PutPolicy(t, "reader", `path "secret/data/llm/*" { capabilities = ["read"] }`)
		roleID, secretID := nsAdmin.CreateAppRole(t, "approle", "app", "reader")
		ref := "vault://secret/llm/openai#api_key"

		for name, cfg := range map[string]Config{
			"vault.namespace": {Namespace: ns + "/"},
			"VAULT_NAMESPACE": {Env: map[string]string{"VAULT_TOKEN": h.root, "VAULT_NAMESPACE": ns}},
			"AppRole login":   {Namespace: ns, Auth: "approle", RoleID: roleID, SecretID: secretID, Env: map[string]string{}},
		} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				src := h.source(t, cfg)
				v, _, err := fetchOne(t, src, ref)
				wantValue(t, v, err, "sk-team")
				if err := src.Finish(context.Background()); err != nil {
					t.Fatal(err)
				}
			})
		}
		t.Run("namespace in the path", func(t *testing.T) {
			t.Parallel()
			v, _, err := fetchOne(t, h.source(t, Config{}), "vault://"+ns+"/secret/llm/openai#api_key")
			wantValue(t, v, err, "sk-team")
		})
		t.Run("root namespace", func(t *testing.T) {
			t.Parallel()
			_, _, err := fetchOne(t, h.source(t, Config{}), "vault://secret/"+h.path("llm/openai")+"#api_key")
			wantErr(t, err, sources.ErrNotFound)
		})
		unknown := "nope-" + h.id
		for name, tc := range map[string]struct {
			cfg   Config
			where string
		}{
			"unknown vault.namespace": {Config{Namespace: unknown}, "vault.namespace"},
			"unknown VAULT_NAMESPACE": {Config{Env: map[string]string{"VAULT_TOKEN": h.root, "VAULT_NAMESPACE": unknown}}, "VAULT_NAMESPACE"},
		} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				_, _, err := fetchOne(t, h.source(t, tc.cfg), ref)
				wantErr(t, err, sources.ErrInvalid, `no namespace "`+unknown+`"`, tc.where, ref)
				if errors.Is(err, sources.ErrNotFound) {
					t.Errorf("an unknown namespace is reported as a missing secret: %v", err)
				}
			})
		}
		t.Run("unknown namespace at login", func(t *testing.T) {
			t.Parallel()
			src := h.source(t, Config{Namespace: unknown, Auth: "approle", RoleID: roleID, SecretID: secretID, Env: map[string]string{}})
			_, _, err := fetchOne(t, src, ref)
			wantErr(t, err, sources.ErrInvalid, `no namespace "`+unknown+`"`, "vault.namespace", "AppRole")
		})
	})
}
