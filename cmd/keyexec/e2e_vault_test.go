package main

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources/vault/vaulttest"
)

// TestVaultEndToEnd: the key stored in Vault ends in a newline; the child
// gets it trimmed, never sees VAULT_TOKEN, and 10 variables from 2 paths cost
// 2 reads.
func TestVaultEndToEnd(t *testing.T) {
	t.Parallel()
	fake := vaulttest.New(t)
	admin := fake.Admin()
	admin.PutKV2(t, "secret", "llm/openai", map[string]any{"api_key": openAIKey + "\n", "org": "org-e2e"})
	fields := map[string]any{}
	for i := 0; i < 8; i++ {
		fields["f"+string(rune('a'+i))] = "value-" + string(rune('a'+i))
	}
	admin.PutKV2(t, "secret", "app/settings", fields)
	fake.ResetCounts()

	env := map[string]string{
		"VAULT_ADDR":     fake.URL,
		"VAULT_TOKEN":    fake.RootToken,
		"OPENAI_API_KEY": "vault://secret/llm/openai#api_key",
		"OPENAI_ORG_ID":  "vault://secret/llm/openai#org",
	}
	for k := range fields {
		env["SETTING_"+strings.ToUpper(k)] = "vault://secret/app/settings#" + k
	}
	out, child, ok := runChild(t, "", env, "--no-probe")
	if !ok {
		t.Fatalf("child did not run (exit %d): %s", out.code, out.stderr)
	}
	if child.Env["OPENAI_API_KEY"] != openAIKey {
		t.Errorf("the child did not get the trimmed key")
	}
	if child.Env["SETTING_FC"] != "value-c" {
		t.Errorf("SETTING_FC = %q", child.Env["SETTING_FC"])
	}
	if _, ok := child.Env["VAULT_TOKEN"]; ok {
		t.Errorf("VAULT_TOKEN reached the child")
	}
	if got := fake.Reads(); got != 2 {
		t.Errorf("10 variables from 2 paths cost %d reads, want 2", got)
	}
	chk := keyexecCmd(t, "", env, "check", "--no-probe")
	if chk.code != 0 || !strings.Contains(chk.stdout, "kv2 version 1") {
		t.Errorf("check does not report the KV version read:\n%s", chk.stdout)
	}
	assertNoLeak(t, out.stderr, chk.stdout, chk.stderr)
}

// TestVaultFailuresFailClosed: down, slow, sealed, denied and missing Vault
// secrets each stop the child with their exit code and print no secret.
func TestVaultFailuresFailClosed(t *testing.T) {
	t.Parallel()
	fake := vaulttest.New(t)
	fake.Admin().PutKV2(t, "secret", "llm/openai", map[string]any{"api_key": openAIKey})
	slow := vaulttest.New(t)
	slow.Admin().PutKV2(t, "secret", "llm/openai", map[string]any{"api_key": openAIKey})
	slow.SetDelay(time.Minute)
	sealed := vaulttest.New(t)
	sealed.Seal()
	deniedToken := fake.Admin().CreateToken(t, "default")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + l.Addr().String()
	l.Close()

	tests := []struct {
		name, addr, token, ref string
		code                   int
		msg                    string
	}{
		{"connection refused", refused, vaultToken, "vault://secret/llm/openai#api_key", 69, "OPENAI_API_KEY"},
		{"slow beyond the deadline", slow.URL, slow.RootToken, "vault://secret/llm/openai#api_key", 69, "OPENAI_API_KEY"},
		{"sealed", sealed.URL, sealed.RootToken, "vault://secret/llm/openai#api_key", 69, "sealed"},
		{"permission denied", fake.URL, deniedToken, "vault://secret/llm/openai#api_key", 77, "secret/llm/openai"},
		{"missing path", fake.URL, fake.RootToken, "vault://secret/llm/nothing#api_key", 78, "secret/llm/nothing"},
		{"missing field", fake.URL, fake.RootToken, "vault://secret/llm/openai#apikey", 78, `"api_key"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := map[string]string{"VAULT_ADDR": tt.addr, "VAULT_TOKEN": tt.token, "OPENAI_API_KEY": tt.ref}
			out, _, ran := runChild(t, "", env, "--no-probe", "--timeout", "2s")
			if ran {
				t.Fatalf("the child started")
			}
			if out.code != tt.code || !strings.Contains(out.stderr, tt.msg) {
				t.Fatalf("exit %d, want %d; stderr should name %q:\n%s", out.code, tt.code, tt.msg, out.stderr)
			}
			assertNoLeak(t, out.stdout, out.stderr)
			if strings.Contains(out.stderr, tt.token) {
				t.Errorf("the Vault token appears in the output")
			}
		})
	}
}
