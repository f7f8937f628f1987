package vault

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

func TestKV2Versions(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	p := h.path("llm/openai")
	h.admin.PutKV2(t, "secret", p, map[string]any{"api_key": "sk-old-value"})
	h.admin.PutKV2(t, "secret", p, map[string]any{"api_key": "sk-new-value"})
	h.admin.PutKV2(t, "secret", h.path("llm/gone"), map[string]any{"api_key": "sk-deleted"})
	h.admin.PutKV2(t, "secret", h.path("llm/gone"), map[string]any{"api_key": "sk-kept"})
	h.admin.DeleteKV2Version(t, "secret", h.path("llm/gone"), 1)
	src := h.source(t, Config{})

	tests := []struct {
		name, ref, value, version string
		err                       error
		mention                   []string
	}{
		{name: "latest", ref: "vault://secret/" + p + "#api_key", value: "sk-new-value", version: "kv2 version 2"},
		{name: "pinned", ref: "vault://secret/" + p + "?version=1#api_key", value: "sk-old-value", version: "kv2 version 1"},
		{name: "field then query", ref: "vault://secret/" + p + "#api_key?version=1", value: "sk-old-value", version: "kv2 version 1"},
		{name: "no such version", ref: "vault://secret/" + p + "?version=9#api_key", err: sources.ErrNotFound, mention: []string{"no version 9"}},
		{name: "deleted version", ref: "vault://secret/" + h.path("llm/gone") + "?version=1#api_key", err: sources.ErrNotFound, mention: []string{"version 1", "deleted"}},
		{name: "kv=1 with version", ref: "vault://secret/" + p + "?version=1&kv=1#api_key", err: sources.ErrInvalid},
		{name: "mount itself", ref: "vault://secret#api_key", err: sources.ErrInvalid, mention: []string{"mount itself"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, ver, err := fetchOne(t, src, tc.ref)
			if tc.err != nil {
				wantErr(t, err, tc.err, append(tc.mention, tc.ref)...)
				return
			}
			if err != nil || v != tc.value || ver != tc.version {
				t.Fatalf("got %q %q %v, want %q %q", sources.Fingerprint(v), ver, err, sources.Fingerprint(tc.value), tc.version)
			}
		})
	}
}

func TestKV1(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	mount := "kv1-" + h.id
	h.admin.EnableKV(t, mount, 1)
	t.Cleanup(func() { h.admin.DisableMount(t, mount) })
	h.admin.PutKV1(t, mount+"/llm/anthropic", map[string]any{"key": "sk-ant-value"})
	src := h.source(t, Config{})

	v, ver, err := fetchOne(t, src, "vault://"+mount+"/llm/anthropic#key")
	if err != nil || v != "sk-ant-value" || ver != "kv1" {
		t.Fatalf("got %s %q %v", sources.Fingerprint(v), ver, err)
	}
	_, _, err = fetchOne(t, src, "vault://"+mount+"/llm/anthropic?version=2#key")
	wantErr(t, err, sources.ErrInvalid, "KV v2", "kv1")
	_, _, err = fetchOne(t, src, "vault://"+mount+"/llm/nothing#key")
	wantErr(t, err, sources.ErrNotFound, "no secret at "+mount+"/llm/nothing", "anthropic")
}

func TestFields(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.admin.PutKV2(t, "secret", h.path("multi"), map[string]any{"api_key": "sk-a", "org": "org-b", "n": 5, "obj": map[string]any{"inner": "x-inner"}})
	h.admin.PutKV2(t, "secret", h.path("single"), map[string]any{"only": "sk-only"})
	src := h.source(t, Config{})
	base := "vault://secret/" + h.path("")

	tests := []struct {
		name, ref, value string
		err              error
		mention          []string
	}{
		{name: "single field without #", ref: base + "single", value: "sk-only"},
		{name: "json pointer", ref: base + "multi#/obj/inner", value: "x-inner"},
		{name: "several fields without #", ref: base + "multi", err: sources.ErrInvalid, mention: []string{`"api_key"`, `"org"`, "#FIELD"}},
		{name: "missing field", ref: base + "multi#apikey", err: sources.ErrNotFound, mention: []string{`"apikey"`, `"api_key", "n", "obj", "org"`}},
		{name: "number field", ref: base + "multi#n", err: sources.ErrInvalid, mention: []string{"number"}},
		{name: "object field", ref: base + "multi#obj", err: sources.ErrInvalid, mention: []string{"object"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, _, err := fetchOne(t, src, tc.ref)
			if tc.err != nil {
				wantErr(t, err, tc.err, append(tc.mention, tc.ref)...)
				return
			}
			if err != nil || v != tc.value {
				t.Fatalf("got %s %v", sources.Fingerprint(v), err)
			}
		})
	}
}

func TestNotFoundListsNeighbours(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.admin.PutKV2(t, "secret", h.path("llm/openai"), map[string]any{"api_key": "sk-x"})
	h.admin.PutKV2(t, "secret", h.path("llm/azure"), map[string]any{"api_key": "az-x"})
	src := h.source(t, Config{})
	ref := "vault://secret/" + h.path("llm/opneai") + "#api_key"
	_, _, err := fetchOne(t, src, ref)
	wantErr(t, err, sources.ErrNotFound, ref, "no secret at", "kv2", "azure, openai")
}

func TestPermissionDenied(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.admin.PutKV2(t, "secret", h.path("llm/openai"), map[string]any{"api_key": "sk-x"})
	h.admin.PutKV2(t, "secret", h.path("other"), map[string]any{"api_key": "sk-y"})
	pol := "p-" + h.id
	h.admin.PutPolicy(t, pol, `path "secret/data/`+h.path("other")+`" { capabilities = ["read"] }`)
	tok := h.admin.CreateToken(t, pol)
	src := h.source(t, Config{Env: map[string]string{"VAULT_TOKEN": tok}})

	ref := "vault://secret/" + h.path("llm/openai") + "#api_key"
	_, _, err := fetchOne(t, src, ref)
	wantErr(t, err, sources.ErrPermission, ref, "secret/data/"+h.path("llm/openai"), "VAULT_TOKEN", pol)

	v, _, err := fetchOne(t, src, "vault://secret/"+h.path("other")+"#api_key")
	if err != nil || v != "sk-y" {
		t.Fatalf("allowed path: %s %v", sources.Fingerprint(v), err)
	}

	bad := h.source(t, Config{Env: map[string]string{"VAULT_TOKEN": "hvs.not-a-token"}})
	_, _, err = fetchOne(t, bad, ref)
	wantErr(t, err, sources.ErrPermission, ref)
}

func TestAppRole(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.admin.PutKV2(t, "secret", h.path("llm/openai"), map[string]any{"api_key": "sk-approle"})
	pol := "p-" + h.id
	h.admin.PutPolicy(t, pol, `path "secret/data/`+h.id+`/*" { capabilities = ["read"] }`)
	roleID, secretID := h.admin.CreateAppRole(t, "approle", "r-"+h.id, pol)
	ref := "vault://secret/" + h.path("llm/openai") + "#api_key"
	noEnv := map[string]string{}

	tests := []struct {
		name string
		cfg  Config
		err  error
	}{
		{name: "secret_id", cfg: Config{Auth: "approle", RoleID: roleID, SecretID: secretID, Env: noEnv}},
		{name: "secret_id_file", cfg: Config{Auth: "approle", RoleID: roleID, SecretIDFile: writeFile(t, secretID+"\n"), Env: noEnv}},
		{name: "environment", cfg: Config{Auth: "approle", Env: map[string]string{"VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID}}},
		{name: "wrong secret_id", cfg: Config{Auth: "approle", RoleID: roleID, SecretID: "00000000-0000-0000-0000-000000000000", Env: noEnv}, err: sources.ErrPermission},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := h.source(t, tc.cfg)
			v, _, err := fetchOne(t, src, ref)
			if tc.err != nil {
				wantErr(t, err, tc.err, "AppRole", "auth/approle/login", ref)
				return
			}
			if err != nil || v != "sk-approle" {
				t.Fatalf("got %s %v", sources.Fingerprint(v), err)
			}
		})
	}
}

func TestTokenRevokedAfterLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fakeOnly(t, "counts revoke-self calls")
	h.admin.PutKV2(t, "secret", h.path("k"), map[string]any{"v": "sk-r"})
	pol := "p-" + h.id
	h.admin.PutPolicy(t, pol, `path "secret/data/*" { capabilities = ["read"] }`)
	roleID, secretID := h.admin.CreateAppRole(t, "approle", "r", pol)
	ref := "vault://secret/" + h.path("k") + "#v"

	src := h.source(t, Config{Auth: "approle", RoleID: roleID, SecretID: secretID, Env: map[string]string{}})
	if _, _, err := fetchOne(t, src, ref); err != nil {
		t.Fatal(err)
	}
	revoked := h.fake.Revoked()
	if len(revoked) != 1 || h.fake.TokenValid(revoked[0]) {
		t.Fatalf("revoked %d tokens after one login, want 1", len(revoked))
	}

	keep := false
	src = h.source(t, Config{Auth: "approle", RoleID: roleID, SecretID: secretID, RevokeToken: &keep, Env: map[string]string{}})
	if _, _, err := fetchOne(t, src, ref); err != nil {
		t.Fatal(err)
	}
	if n := len(h.fake.Revoked()); n != 1 {
		t.Fatalf("revoke_token: false still revoked (%d revocations)", n)
	}

	src = h.source(t, Config{})
	if _, _, err := fetchOne(t, src, ref); err != nil {
		t.Fatal(err)
	}
	if n := len(h.fake.Revoked()); n != 1 || !h.fake.TokenValid(h.root) {
		t.Fatal("the user's own token was revoked")
	}
}

func TestKubernetes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fakeOnly(t, "Kubernetes login needs a cluster's TokenReview")
	h.admin.PutKV2(t, "secret", h.path("llm/openai"), map[string]any{"api_key": "sk-k8s"})
	pol := "p-" + h.id
	h.admin.PutPolicy(t, pol, `path "secret/data/+/llm/*" { capabilities = ["read"] }`)
	h.fake.AddKubernetesRole("app", "eyJhbGciOi.jwt.sig", pol)
	ref := "vault://secret/" + h.path("llm/openai") + "#api_key"

	src := h.source(t, Config{Auth: "kubernetes", Role: "app", JWTFile: writeFile(t, "eyJhbGciOi.jwt.sig\n"), Env: map[string]string{}})
	v, _, err := fetchOne(t, src, ref)
	if err != nil || v != "sk-k8s" {
		t.Fatalf("got %s %v", sources.Fingerprint(v), err)
	}
	if len(h.fake.Revoked()) != 1 {
		t.Fatal("kubernetes login token not revoked")
	}

	src = h.source(t, Config{Auth: "kubernetes", Role: "app", JWTFile: writeFile(t, "other.jwt.sig"), Env: map[string]string{}})
	_, _, err = fetchOne(t, src, ref)
	wantErr(t, err, sources.ErrPermission, "Kubernetes", `role "app"`, ref)

	src = h.source(t, Config{Auth: "kubernetes", Role: "app", JWTFile: filepath.Join(t.TempDir(), "missing"), Env: map[string]string{}})
	_, _, err = fetchOne(t, src, ref)
	wantErr(t, err, sources.ErrInvalid, "service account token")
}

func TestTokenSources(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.admin.PutKV2(t, "secret", h.path("k"), map[string]any{"v": "sk-tok"})
	ref := "vault://secret/" + h.path("k") + "#v"
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".vault-token"), []byte(h.root+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name string
		cfg  Config
		err  error
	}{
		{name: "token_file", cfg: Config{TokenFile: writeFile(t, "  "+h.root+"\n"), Env: map[string]string{}}},
		{name: "token_file beats VAULT_TOKEN", cfg: Config{TokenFile: writeFile(t, h.root), Env: map[string]string{"VAULT_TOKEN": "hvs.wrong"}}},
		{name: "home .vault-token", cfg: Config{Env: map[string]string{"HOME": home}}},
		{name: "VAULT_TOKEN beats home", cfg: Config{Env: map[string]string{"HOME": t.TempDir(), "VAULT_TOKEN": h.root}}},
		{name: "no token anywhere", cfg: Config{Env: map[string]string{"HOME": t.TempDir()}}, err: sources.ErrInvalid},
		{name: "empty token file", cfg: Config{TokenFile: writeFile(t, "\n"), Env: map[string]string{}}, err: sources.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, _, err := fetchOne(t, h.source(t, tc.cfg), ref)
			if tc.err != nil {
				wantErr(t, err, tc.err, ref)
				return
			}
			if err != nil || v != "sk-tok" {
				t.Fatalf("got %s %v", sources.Fingerprint(v), err)
			}
		})
	}
}

func TestNamespace(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fakeOnly(t, "namespaces need Vault Enterprise")
	h.fake.AddNamespace("team-a")
	nsAdmin := *h.admin
	nsAdmin.Namespace = "team-a"
	nsAdmin.PutKV2(t, "secret", "llm/openai", map[string]any{"api_key": "sk-team-a"})
	ref := "vault://secret/llm/openai#api_key"

	for name, cfg := range map[string]Config{
		"config":          {Namespace: "team-a/"},
		"VAULT_NAMESPACE": {Env: map[string]string{"VAULT_TOKEN": h.root, "VAULT_NAMESPACE": "team-a"}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v, _, err := fetchOne(t, h.source(t, cfg), ref)
			if err != nil || v != "sk-team-a" {
				t.Fatalf("got %s %v", sources.Fingerprint(v), err)
			}
		})
	}
	t.Run("root namespace", func(t *testing.T) {
		t.Parallel()
		_, _, err := fetchOne(t, h.source(t, Config{}), ref)
		wantErr(t, err, sources.ErrNotFound, ref)
	})
}
