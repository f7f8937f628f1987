package vault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/vault/vaulttest"
)

// refusedAddr is a loopback address where nothing listens.
func refusedAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := "http://" + ln.Addr().String()
	ln.Close()
	return addr
}

// TestSealed seals an OpenBao of the test's own: reads and logins are
// unavailable (69) and say so; after unsealing the same Source reads.
func TestSealed(t *testing.T) {
	t.Parallel()
	h := ownOpenBao(t)
	h.admin.PutKV2(t, "secret", h.path("k"), map[string]any{"v": "sk-sealed"})
	roleID, secretID := h.admin.CreateAppRole(t, "approle", "r", "default")
	ref := "vault://secret/" + h.path("k") + "#v"
	src := h.source(t, Config{})
	h.bao.Seal(t)

	ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	res, err := fetchCtx(t, ctx, src, ref)
	if err != nil {
		t.Fatalf("token auth needs no network before the reads, got a batch error: %v", err)
	}
	wantErr(t, res[0].Err, sources.ErrUnavailable, "sealed", ref)

	ctx, cancel = context.WithTimeout(context.Background(), 400*time.Millisecond)
	defer cancel()
	_, err = fetchCtx(t, ctx, h.source(t, Config{Auth: "approle", RoleID: roleID, SecretID: secretID, Env: map[string]string{}}), ref)
	wantErr(t, err, sources.ErrUnavailable, "sealed", "AppRole")

	h.bao.Unseal(t)
	v, _, err := fetchOne(t, src, ref)
	wantValue(t, v, err, "sk-sealed")
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	refused := refusedAddr(t)
	ref := "vault://secret/llm/openai#api_key"
	t.Run("read", func(t *testing.T) {
		t.Parallel()
		src, err := New(context.Background(), Config{Address: refused, Env: map[string]string{"VAULT_TOKEN": "hvs.x"}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		res, err := fetchCtx(t, ctx, src, ref)
		if err != nil {
			t.Fatal(err)
		}
		wantErr(t, res[0].Err, sources.ErrUnavailable, "cannot reach vault", "connection refused", ref)
		if strings.Contains(res[0].Err.Error(), "Vault CLI default") {
			t.Errorf("an address that was set is called the default: %v", res[0].Err)
		}
	})
	t.Run("approle login", func(t *testing.T) {
		t.Parallel()
		src, err := New(context.Background(), Config{Address: refused, Auth: "approle", RoleID: "r", SecretID: "s-secret-id", Env: map[string]string{}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		_, err = fetchCtx(t, ctx, src, "vault://secret/a#b")
		wantErr(t, err, sources.ErrUnavailable, "AppRole", "vault://secret/a#b")
	})
}

// TestDefaultAddress: with no address anywhere, keyexec tries the Vault CLI
// default, and a failure to connect says so and names both settings.
func TestDefaultAddress(t *testing.T) {
	t.Parallel()
	src, err := New(context.Background(), Config{Env: map[string]string{"VAULT_TOKEN": "hvs.x"}})
	if err != nil {
		t.Fatal(err)
	}
	if src.set.address != "https://127.0.0.1:8200" || src.set.addrFrom != "" {
		t.Fatalf("address %q from %q, want the CLI default from nowhere", src.set.address, src.set.addrFrom)
	}
	// Something may listen on 8200 on this machine: point the Source at a
	// closed port and keep what it knows, that nobody set an address.
	src, err = New(context.Background(), Config{Address: refusedAddr(t), Env: map[string]string{"VAULT_TOKEN": "hvs.x"}})
	if err != nil {
		t.Fatal(err)
	}
	src.set.addrFrom = ""
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	res, err := fetchCtx(t, ctx, src, "vault://secret/a#b")
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, res[0].Err, sources.ErrUnavailable, "VAULT_ADDR", "vault.address", "tried the Vault CLI default https://127.0.0.1:8200")
}

// TestSchemeMismatch: https:// to a plain-HTTP Vault, and http:// to a TLS
// one, are configuration errors at once (78), not retried to the deadline.
func TestSchemeMismatch(t *testing.T) {
	t.Parallel()
	plain := vaulttest.SharedOpenBao(t)
	withTLS := ownOpenBao(t, vaulttest.BaoTLS())
	ref := "vault://secret/llm/openai#api_key"
	tlsHostPort := strings.TrimPrefix(withTLS.addr, "https://")
	tests := []struct {
		name    string
		cfg     Config
		err     error
		mention []string
	}{
		{name: "https to plain http", cfg: Config{Address: strings.Replace(plain.URL, "http://", "https://", 1), Env: map[string]string{"VAULT_TOKEN": plain.RootToken}},
			err: sources.ErrInvalid, mention: []string{"says https://", "plain HTTP", "vault.address"}},
		{name: "VAULT_ADDR https to plain http", cfg: Config{Env: map[string]string{"VAULT_ADDR": strings.Replace(plain.URL, "http://", "https://", 1), "VAULT_TOKEN": plain.RootToken}},
			err: sources.ErrInvalid, mention: []string{"plain HTTP", "VAULT_ADDR"}},
		{name: "http to TLS", cfg: Config{Address: "http://" + tlsHostPort, Env: map[string]string{"VAULT_TOKEN": withTLS.root}},
			err: sources.ErrInvalid, mention: []string{"says http://", "speaks TLS", "https://"}},
		{name: "https without the CA", cfg: Config{Address: withTLS.addr, Env: map[string]string{"VAULT_TOKEN": withTLS.root}},
			err: sources.ErrInvalid, mention: []string{"TLS", "VAULT_CACERT"}},
		{name: "https with VAULT_CACERT", cfg: Config{Address: withTLS.addr, Env: map[string]string{"VAULT_TOKEN": withTLS.root, "VAULT_CACERT": withTLS.bao.CACert}},
			err: sources.ErrNotFound, mention: []string{"no secret at secret/llm/openai"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src, err := New(context.Background(), tc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res, err := fetchCtx(t, ctx, src, ref)
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, res[0].Err, tc.err, append(tc.mention, ref)...)
			if errors.Is(res[0].Err, sources.ErrUnavailable) || ctx.Err() != nil {
				t.Errorf("a wrong scheme was retried until the deadline: %v", res[0].Err)
			}
		})
	}
}

// TestAddressUserinfoNeverShown: a password in VAULT_ADDR's userinfo is
// never echoed, whatever fails.
func TestAddressUserinfoNeverShown(t *testing.T) {
	t.Parallel()
	const pass = "s3cr3t-Passw0rd"
	b := vaulttest.SharedOpenBao(t)
	withUser := func(addr string) string { return strings.Replace(addr, "://", "://admin:"+pass+"@", 1) }
	cases := map[string]Config{
		"refused":         {Address: withUser(refusedAddr(t)), Env: map[string]string{"VAULT_TOKEN": "hvs.x"}},
		"VAULT_ADDR":      {Env: map[string]string{"VAULT_ADDR": withUser(refusedAddr(t)), "VAULT_TOKEN": "hvs.x"}},
		"missing secret":  {Address: withUser(b.URL), Env: map[string]string{"VAULT_TOKEN": b.RootToken}},
		"scheme mismatch": {Address: withUser(strings.Replace(b.URL, "http://", "https://", 1)), Env: map[string]string{"VAULT_TOKEN": b.RootToken}},
		"approle login":   {Address: withUser(refusedAddr(t)), Auth: "approle", RoleID: "r", SecretID: "s", Env: map[string]string{}},
	}
	for name, cfg := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			src, err := New(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			res, err := fetchCtx(t, ctx, src, "vault://secret/"+newID()+"/k#v")
			text := fmt.Sprintf("%v %+v", err, res)
			if err == nil && res[0].Err == nil {
				t.Fatal("no error")
			}
			if strings.Contains(text, pass) {
				t.Errorf("the address's password is shown: %s", text)
			}
		})
	}
	_, err := New(context.Background(), Config{Address: "admin:" + pass + "@vault:8200"})
	if err == nil || strings.Contains(err.Error(), pass) {
		t.Errorf("config error shows the password: %v", err)
	}
}
