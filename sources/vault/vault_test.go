package vault

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

func TestKV2Versions(t *testing.T) {
	t.Parallel()
	onRealVaults(t, func(t *testing.T, h *harness) {
		p, gone, burnt, back := h.path("llm/openai"), h.path("llm/gone"), h.path("llm/burnt"), h.path("llm/back")
		for _, path := range []string{p, gone, burnt, back} {
			h.admin.PutKV2(t, "secret", path, map[string]any{"api_key": "sk-old-value"})
			h.admin.PutKV2(t, "secret", path, map[string]any{"api_key": "sk-new-value"})
		}
		h.admin.DeleteKV2Version(t, "secret", gone, 1)
		h.admin.DestroyKV2Version(t, "secret", burnt, 1)
		h.admin.DeleteKV2Version(t, "secret", back, 1)
		h.admin.UndeleteKV2Version(t, "secret", back, 1)
		src := h.source(t, Config{})

		tests := []struct {
			name, ref, value, version string
			err                       error
			mention                   []string
		}{
			{name: "latest", ref: "vault://secret/" + p + "#api_key", value: "sk-new-value", version: "kv2 version 2"},
			{name: "pinned", ref: "vault://secret/" + p + "?version=1#api_key", value: "sk-old-value", version: "kv2 version 1"},
			{name: "field then query", ref: "vault://secret/" + p + "#api_key?version=1", value: "sk-old-value", version: "kv2 version 1"},
			{name: "kv=2 skips the lookup", ref: "vault://secret/" + p + "?kv=2#api_key", value: "sk-new-value", version: "kv2 version 2"},
			{name: "undeleted version", ref: "vault://secret/" + back + "?version=1#api_key", value: "sk-old-value", version: "kv2 version 1"},
			{name: "no such version", ref: "vault://secret/" + p + "?version=9#api_key", err: sources.ErrNotFound, mention: []string{"no version 9"}},
			{name: "deleted version", ref: "vault://secret/" + gone + "?version=1#api_key", err: sources.ErrNotFound, mention: []string{"version 1", "deleted", "undelete"}},
			{name: "destroyed version", ref: "vault://secret/" + burnt + "?version=1#api_key", err: sources.ErrNotFound, mention: []string{"version 1", "destroyed"}},
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
	})
}

func TestKV1(t *testing.T) {
	t.Parallel()
	onRealVaults(t, func(t *testing.T, h *harness) {
		mount := "kv1-" + h.id
		h.admin.EnableKV(t, mount, 1)
		t.Cleanup(func() { h.admin.DisableMount(t, mount) })
		h.admin.PutKV1(t, mount+"/llm/anthropic", map[string]any{"key": "sk-ant-value"})
		src := h.source(t, Config{})

		tests := []struct {
			name, ref string
			cfg       Config
			err       error
			mention   []string
		}{
			{name: "detected", ref: "vault://" + mount + "/llm/anthropic#key"},
			{name: "?kv=1", ref: "vault://" + mount + "/llm/anthropic?kv=1#key"},
			{name: "kv_version", ref: "vault://" + mount + "/llm/anthropic#key", cfg: Config{KVVersion: map[string]int{mount: 1}}},
			{name: "version on kv1", ref: "vault://" + mount + "/llm/anthropic?version=2#key", err: sources.ErrInvalid, mention: []string{"KV v2", "kv1"}},
			{name: "missing lists neighbours", ref: "vault://" + mount + "/llm/nothing#key", err: sources.ErrNotFound, mention: []string{"no secret at " + mount + "/llm/nothing", "anthropic"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				s := src
				if tc.cfg.KVVersion != nil {
					s = h.source(t, tc.cfg)
				}
				v, ver, err := fetchOne(t, s, tc.ref)
				if tc.err != nil {
					wantErr(t, err, tc.err, tc.mention...)
					return
				}
				if err != nil || v != "sk-ant-value" || ver != "kv1" {
					t.Fatalf("got %s %q %v", sources.Fingerprint(v), ver, err)
				}
			})
		}
	})
}

func TestFields(t *testing.T) {
	t.Parallel()
	onRealVaults(t, func(t *testing.T, h *harness) {
		multi := map[string]any{"api_key": "sk-a", "org": "org-b", "n": 5, "obj": map[string]any{"inner": "x-inner"}, "html": "<&>"}
		h.admin.PutKV2(t, "secret", h.path("multi"), multi)
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
			{name: "missing field", ref: base + "multi#apikey", err: sources.ErrNotFound, mention: []string{`"apikey"`, `"api_key", "html", "n", "obj", "org"`}},
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
				wantValue(t, v, err, tc.value)
			})
		}
		t.Run("raw=true is the whole data as JSON", func(t *testing.T) {
			t.Parallel()
			v, _, err := fetchOne(t, src, base+"multi?raw=true")
			if err != nil {
				t.Fatal(err)
			}
			var got map[string]any
			if err := json.Unmarshal([]byte(v), &got); err != nil {
				t.Fatalf("raw value is not a JSON object: %v", err)
			}
			want := map[string]any{"api_key": "sk-a", "org": "org-b", "n": 5.0, "obj": map[string]any{"inner": "x-inner"}, "html": "<&>"}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("raw value holds other fields (%s)", sources.Fingerprint(v))
			}
			if want := `"html":"<&>"`; !strings.Contains(v, want) {
				t.Errorf("raw value escapes HTML characters (%s)", sources.Fingerprint(v))
			}
		})
	})
}

func TestNotFoundListsNeighbours(t *testing.T) {
	t.Parallel()
	onRealVaults(t, func(t *testing.T, h *harness) {
		h.admin.PutKV2(t, "secret", h.path("llm/openai"), map[string]any{"api_key": "sk-x"})
		h.admin.PutKV2(t, "secret", h.path("llm/azure"), map[string]any{"api_key": "az-x"})
		ref := "vault://secret/" + h.path("llm/opneai") + "#api_key"
		_, _, err := fetchOne(t, h.source(t, Config{}), ref)
		wantErr(t, err, sources.ErrNotFound, ref, "no secret at", "kv2", "azure, openai")
	})
}

// TestPermissionDenied: Vault's 403 bodies, for a token whose policy lacks
// the path and for a token Vault does not know.
func TestPermissionDenied(t *testing.T) {
	t.Parallel()
	onRealVaults(t, func(t *testing.T, h *harness) {
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
		wantValue(t, v, err, "sk-y")

		bad := h.source(t, Config{Env: map[string]string{"VAULT_TOKEN": "hvs.not-a-token"}})
		_, _, err = fetchOne(t, bad, ref)
		wantErr(t, err, sources.ErrPermission, ref, "invalid, expired or revoked")
	})
}

func TestAppRole(t *testing.T) {
	t.Parallel()
	onRealVaults(t, func(t *testing.T, h *harness) {
		h.admin.PutKV2(t, "secret", h.path("llm/openai"), map[string]any{"api_key": "sk-approle"})
		pol := "p-" + h.id
		h.admin.PutPolicy(t, pol, `path "secret/data/`+h.id+`/*" { capabilities = ["read"] }`)
		roleID, secretID := h.admin.CreateAppRole(t, "approle", "r-"+h.id, pol)
		ref := "vault://secret/" + h.path("llm/openai") + "#api_key"
		noEnv := map[string]string{}

		tests := []struct {
			name    string
			cfg     Config
			err     error
			mention []string
		}{
			{name: "secret_id", cfg: Config{Auth: "approle", RoleID: roleID, SecretID: secretID, Env: noEnv}},
			{name: "secret_id_file", cfg: Config{Auth: "approle", RoleID: roleID, SecretIDFile: writeFile(t, secretID+"\n"), Env: noEnv}},
			{name: "environment", cfg: Config{Auth: "approle", Env: map[string]string{"VAULT_ROLE_ID": roleID, "VAULT_SECRET_ID": secretID}}},
			{name: "wrong secret_id", cfg: Config{Auth: "approle", RoleID: roleID, SecretID: "00000000-0000-0000-0000-000000000000", Env: noEnv},
				err: sources.ErrPermission, mention: []string{"auth/approle/login", "invalid role or secret ID", "vault.role_id"}},
			{name: "no approle at the mount", cfg: Config{Auth: "approle", Mount: "nothing-" + h.id, RoleID: roleID, SecretID: secretID, Env: noEnv},
				err: sources.ErrPermission, mention: []string{"auth/nothing-" + h.id + "/login", "vault.mount"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				v, _, err := fetchOne(t, h.source(t, tc.cfg), ref)
				if tc.err != nil {
					wantErr(t, err, tc.err, append(tc.mention, "AppRole", ref)...)
					return
				}
				wantValue(t, v, err, "sk-approle")
			})
		}
	})
}

func TestTokenSources(t *testing.T) {
	t.Parallel()
	onRealVaults(t, func(t *testing.T, h *harness) {
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
				wantValue(t, v, err, "sk-tok")
			})
		}
	})
}

// TestIgnoresProcessEnvironment: the process's VAULT_* variables must not
// change what the source does; only Config and Config.Env count. It sets
// the process environment, so it is not parallel.
func TestIgnoresProcessEnvironment(t *testing.T) {
	t.Setenv("VAULT_ADDR", "http://vault.invalid:8200")
	t.Setenv("VAULT_TOKEN", "hvs.process-token")
	t.Setenv("VAULT_NAMESPACE", "nowhere")
	t.Setenv("VAULT_HEADERS", `{"X-Extra":"1"}`)
	forRealVaults(t, false, func(t *testing.T, h *harness) {
		h.admin.PutKV2(t, "secret", h.path("k"), map[string]any{"v": "sk-env"})
		v, _, err := fetchOne(t, h.source(t, Config{}), "vault://secret/"+h.path("k")+"#v")
		wantValue(t, v, err, "sk-env")
		_, _, err = fetchOne(t, h.source(t, Config{Env: map[string]string{}}), "vault://secret/"+h.path("k")+"#v")
		wantErr(t, err, sources.ErrInvalid, "no Vault token")
	})
}

// TestDeepMount: a KV v2 mount two segments deep is found by the lookup and
// read at its own data/ path (the speculative read at the first segment is
// discarded).
func TestDeepMount(t *testing.T) {
	t.Parallel()
	onRealVaults(t, func(t *testing.T, h *harness) {
		mount := "deep-" + h.id + "/kv"
		h.admin.EnableKV(t, mount, 2)
		t.Cleanup(func() { h.admin.DisableMount(t, mount) })
		h.admin.PutKV2(t, mount, "app/a", map[string]any{"v": "sk-deep-a"})
		h.admin.PutKV2(t, mount, "app/b", map[string]any{"v": "sk-deep-b"})
		res, err := fetch(t, h.source(t, Config{}), "vault://"+mount+"/app/a#v", "vault://"+mount+"/app/b?version=1#v")
		if err != nil {
			t.Fatal(err)
		}
		wantValue(t, res[0].Value.Reveal(), res[0].Err, "sk-deep-a")
		wantValue(t, res[1].Value.Reveal(), res[1].Err, "sk-deep-b")
	})
}
