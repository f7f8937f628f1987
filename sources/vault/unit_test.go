package vault

import (
	"context"
	"errors"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

func TestRelativeMount(t *testing.T) {
	t.Parallel()
	tests := []struct{ path, mount, want string }{
		{"secret/llm/openai", "secret/", "secret/"},
		{"team/kv/llm/openai", "team/kv/", "team/kv/"},
		{"secret/llm/openai", "ns1/secret/", "secret/"},
		{"secret/llm/openai", "ns1/ns2/secret/", "secret/"},
		{"secret/llm/openai", "", "secret/"},
		{"secret/llm/openai", "other/", "secret/"},
	}
	for _, tc := range tests {
		t.Run(tc.mount+"|"+tc.path, func(t *testing.T) {
			t.Parallel()
			if got := relativeMount(tc.path, tc.mount); got != tc.want {
				t.Errorf("relativeMount(%q, %q) = %q, want %q", tc.path, tc.mount, got, tc.want)
			}
		})
	}
}

func TestNewChecksConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  Config
		want string // "" means valid
	}{
		{name: "defaults", cfg: Config{}},
		{name: "approle from env", cfg: Config{Auth: "approle", Env: map[string]string{"VAULT_ROLE_ID": "r", "VAULT_SECRET_ID": "s"}}},
		{name: "approle without role id", cfg: Config{Auth: "approle", SecretID: "s"}, want: "VAULT_ROLE_ID"},
		{name: "approle without secret id", cfg: Config{Auth: "approle", RoleID: "r"}, want: "secret_id_file"},
		{name: "kubernetes without role", cfg: Config{Auth: "kubernetes"}, want: "vault.role"},
		{name: "unknown auth", cfg: Config{Auth: "ldap"}, want: `unknown auth "ldap"`},
		{name: "bad address", cfg: Config{Address: "vault.internal:8200"}, want: "not a URL"},
		{name: "bad VAULT_ADDR", cfg: Config{Env: map[string]string{"VAULT_ADDR": "ftp://x"}}, want: "VAULT_ADDR"},
		{name: "bad kv_version", cfg: Config{KVVersion: map[string]int{"secret": 3}}, want: "want 1 or 2"},
		{name: "bad VAULT_SKIP_VERIFY", cfg: Config{Env: map[string]string{"VAULT_SKIP_VERIFY": "maybe"}}, want: "VAULT_SKIP_VERIFY"},
		{name: "client cert without key", cfg: Config{Env: map[string]string{"VAULT_CLIENT_CERT": "/c.pem"}}, want: "together"},
		{name: "missing CA file", cfg: Config{Env: map[string]string{"VAULT_CACERT": "/nonexistent/ca.pem"}}, want: "VAULT_CACERT"},
		{name: "skip verify", cfg: Config{Env: map[string]string{"VAULT_SKIP_VERIFY": "true"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := New(context.Background(), tc.cfg)
			if tc.want == "" {
				if err != nil || s.Scheme() != "vault" {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if !errors.Is(err, sources.ErrInvalid) {
				t.Fatalf("New: %v, want ErrInvalid", err)
			}
			wantErr(t, err, sources.ErrInvalid, tc.want)
		})
	}
}

func TestSettingsFallbacks(t *testing.T) {
	t.Parallel()
	s, err := resolveSettings(Config{Env: map[string]string{"VAULT_ADDR": "https://v:8200", "VAULT_NAMESPACE": "/a/b/", "HOME": "/home/u"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.address != "https://v:8200" || s.namespace != "a/b" || s.homeToken != "/home/u/.vault-token" || !s.revoke || s.concurrency != 8 || s.auth != "token" {
		t.Errorf("settings: %+v", s)
	}
	off := false
	s, err = resolveSettings(Config{Address: "http://cfg:8200", Auth: "kubernetes", Role: "app", RevokeToken: &off, Env: map[string]string{"VAULT_ADDR": "https://env:8200"}})
	if err != nil {
		t.Fatal(err)
	}
	if s.address != "http://cfg:8200" || s.authMount != "kubernetes" || s.jwtFile != defaultJWTFile || s.revoke {
		t.Errorf("settings: %+v", s)
	}
}

func TestScrubVars(t *testing.T) {
	t.Parallel()
	if got := ScrubVars(); len(got) != 3 || got[0] != "VAULT_TOKEN" {
		t.Errorf("ScrubVars() = %v", got)
	}
}
