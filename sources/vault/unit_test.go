package vault

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/hashicorp/vault/api"

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

func TestSettingsOrigins(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		cfg              Config
		addrFrom, nsFrom string
		display          string
	}{
		{name: "nothing set", cfg: Config{}, display: "https://127.0.0.1:8200"},
		{name: "config", cfg: Config{Address: "https://cfg:8200", Namespace: "a", Env: map[string]string{"VAULT_ADDR": "https://env:8200", "VAULT_NAMESPACE": "b"}},
			addrFrom: "vault.address", nsFrom: "vault.namespace", display: "https://cfg:8200"},
		{name: "environment", cfg: Config{Env: map[string]string{"VAULT_ADDR": "http://u:pw-secret@env:8200", "VAULT_NAMESPACE": "b"}},
			addrFrom: "VAULT_ADDR", nsFrom: "VAULT_NAMESPACE", display: "http://env:8200"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := resolveSettings(tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if s.addrFrom != tc.addrFrom || s.nsFrom != tc.nsFrom || s.display != tc.display {
				t.Errorf("address from %q, namespace from %q, shown as %q", s.addrFrom, s.nsFrom, s.display)
			}
		})
	}
}

func TestVaultMessages(t *testing.T) {
	t.Parallel()
	tests := []struct {
		re   api.ResponseError
		want string
	}{
		{api.ResponseError{Errors: []string{"1 error occurred:\n\t* permission denied\n\n"}}, "permission denied"},
		{api.ResponseError{Errors: []string{"2 errors occurred:\n\t* a\n\t* b\n\n"}}, "a; b"},
		{api.ResponseError{Errors: []string{"Vault is sealed"}}, "Vault is sealed"},
		{api.ResponseError{}, "(no message)"},
		{api.ResponseError{RawError: true, Errors: []string{"<html>"}}, "(a body that is not Vault's JSON: a proxy in the way?)"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			if got := vaultMessages(&tc.re); got != tc.want {
				t.Errorf("vaultMessages = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestConfigProblems(t *testing.T) {
	t.Parallel()
	re := func(status int, raw bool, msgs ...string) error {
		return fmt.Errorf("call: %w", &api.ResponseError{StatusCode: status, RawError: raw, Errors: msgs})
	}
	tests := []struct {
		name           string
		err            error
		namespace, tls bool
	}{
		{name: "namespace not found", err: re(404, false, "namespace not found"), namespace: true},
		{name: "plain 404", err: re(404, false)},
		{name: "Go TLS server", err: re(400, true, "Client sent an HTTP request to an HTTPS server.\n"), tls: true},
		{name: "nginx", err: re(400, true, "<html>The plain HTTP request was sent to HTTPS port</html>"), tls: true},
		{name: "TLS alert", err: errors.New(`net/http: HTTP/1.x transport connection broken: malformed HTTP response "\x15\x03\x01\x00\x02\x02"`), tls: true},
		{name: "Vault 400", err: re(400, false, "missing role_id")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if namespaceMissing(tc.err) != tc.namespace || speaksTLS(tc.err) != tc.tls {
				t.Errorf("namespaceMissing %v, speaksTLS %v", namespaceMissing(tc.err), speaksTLS(tc.err))
			}
		})
	}
}

func TestShowAddress(t *testing.T) {
	t.Parallel()
	for raw, want := range map[string]string{
		"vault.internal:8200": `"vault.internal:8200"`,
		"u:pw-secret@vault":   "(not a URL: " + sources.Fingerprint("u:pw-secret@vault") + ")",
	} {
		if got := showAddress(raw); got != want {
			t.Errorf("showAddress(%q) = %q, want %q", raw, got, want)
		}
	}
}
