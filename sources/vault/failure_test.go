package vault

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources"
)

func TestUnavailable(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()

	tests := []struct {
		name    string
		setup   func(h *harness) string // returns the address to use
		mention []string
	}{
		{name: "connection refused", setup: func(*harness) string { return refused }, mention: []string{"cannot reach vault", "connection refused"}},
		{name: "sealed", setup: func(h *harness) string { h.fake.Seal(); return h.addr }, mention: []string{"sealed"}},
		{name: "slow", setup: func(h *harness) string { h.fake.SetDelay(time.Minute); return h.addr }, mention: []string{"deadline"}},
		{name: "standby 503", setup: func(h *harness) string { h.fake.FailNext(1000, 503); return h.addr }, mention: []string{"503"}},
		{name: "rate limited", setup: func(h *harness) string { h.fake.FailNext(1000, 429); return h.addr }, mention: []string{"429"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			h.fakeOnly(t, "needs a Vault that fails on purpose")
			h.addr = tc.setup(h)
			src := h.source(t, Config{})
			ref := "vault://secret/llm/openai#api_key"
			ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
			defer cancel()
			res, err := fetchCtx(t, ctx, src, ref)
			if err != nil {
				t.Fatalf("token auth needs no network before the reads, got a batch error: %v", err)
			}
			wantErr(t, res[0].Err, sources.ErrUnavailable, append(tc.mention, ref)...)
		})
	}
	t.Run("approle login refused", func(t *testing.T) {
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

func TestRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fakeOnly(t, "injects failures")
	h.admin.PutKV2(t, "secret", h.path("k"), map[string]any{"v": "sk-retry"})
	h.fake.ResetCounts()
	h.fake.FailNext(3, http.StatusBadGateway)
	v, _, err := fetchOne(t, h.source(t, Config{}), "vault://secret/"+h.path("k")+"#v")
	if err != nil || v != "sk-retry" {
		t.Fatalf("got %s %v", sources.Fingerprint(v), err)
	}
	if n := h.fake.Requests(); n != 5 { // 3 failures, preflight, read
		t.Errorf("%d requests, want 5", n)
	}
}

func TestOneReadPerPath(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fakeOnly(t, "counts requests")
	a, b := map[string]any{}, map[string]any{}
	var refs []string
	for i := range 5 {
		a[fmt.Sprintf("a%d", i)] = fmt.Sprintf("va%d", i)
		b[fmt.Sprintf("b%d", i)] = fmt.Sprintf("vb%d", i)
		refs = append(refs, fmt.Sprintf("vault://secret/%s#a%d", h.path("one"), i), fmt.Sprintf("vault://secret/%s#b%d", h.path("two"), i))
	}
	h.admin.PutKV2(t, "secret", h.path("one"), a)
	h.admin.PutKV2(t, "secret", h.path("two"), b)
	h.fake.ResetCounts()

	res, err := fetch(t, h.source(t, Config{Concurrency: 2}), refs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		want := fmt.Sprintf("v%c%d", "ab"[i%2], i/2)
		if r.Err != nil || r.Value.Reveal() != want {
			t.Errorf("%s: got %s %v", r.Ref, r.Value, r.Err)
		}
	}
	if n := h.fake.Reads(); n != 2 {
		t.Errorf("10 references from 2 paths cost %d reads, want 2", n)
	}
	preflights := h.fake.Count("sys/internal/ui/mounts/secret/"+h.path("one")) + h.fake.Count("sys/internal/ui/mounts/secret/"+h.path("two"))
	if preflights != 1 {
		t.Errorf("%d mount lookups for one mount, want 1", preflights)
	}
}

func TestMountLookupDenied(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fakeOnly(t, "Vault answers the mount lookup for any token that can read under the mount")
	h.admin.PutKV2(t, "secret", h.path("k"), map[string]any{"v": "sk-fallback"})
	pol := "p-" + h.id
	h.admin.PutPolicy(t, pol, `path "secret/data/*" { capabilities = ["read"] }`)
	tok := h.admin.CreateToken(t, pol)
	h.fake.Deny(tok, "sys/internal/ui/mounts/*")
	ref := "vault://secret/" + h.path("k") + "#v"
	env := map[string]string{"VAULT_TOKEN": tok}

	_, _, err := fetchOne(t, h.source(t, Config{Env: env}), ref)
	wantErr(t, err, sources.ErrPermission, ref, "sys/internal/ui/mounts", "kv_version", "?kv=2")

	for name, tc := range map[string]struct {
		cfg Config
		ref string
	}{
		"kv_version": {Config{Env: env, KVVersion: map[string]int{"secret/": 2}}, ref},
		"?kv=2":      {Config{Env: env}, "vault://secret/" + h.path("k") + "?kv=2#v"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v, ver, err := fetchOne(t, h.source(t, tc.cfg), tc.ref)
			if err != nil || v != "sk-fallback" || ver != "kv2 version 1" {
				t.Fatalf("got %s %q %v", sources.Fingerprint(v), ver, err)
			}
		})
	}
}

// TestNoSecretInErrors provokes every kind of failure with known secret
// values and credentials around, and checks that no error text holds one.
func TestNoSecretInErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	h.fakeOnly(t, "uses failure injection")
	secrets := []string{"sk-proj-SENTINELsecretvalue0001", "SENTINEL-org-0002", "SENTINEL-nested-0003"}
	h.admin.PutKV2(t, "secret", h.path("k"), map[string]any{"api_key": secrets[0], "org": secrets[1], "n": map[string]any{"x": secrets[2]}})
	pol := "p-" + h.id
	h.admin.PutPolicy(t, pol, `path "secret/data/nothing" { capabilities = ["read"] }`)
	weak := h.admin.CreateToken(t, pol)
	roleID, secretID := h.admin.CreateAppRole(t, "approle", "r", pol)
	jwt := "SENTINEL.jwt.0004"
	h.fake.AddKubernetesRole("app", "another.jwt", pol)
	base := "vault://secret/" + h.path("k")
	refs := []string{base, base + "#nope", base + "#n", base + "#/n/y", base + "?version=7#api_key", "vault://secret/" + h.path("zz") + "#a"}

	var texts []string
	collect := func(res []sources.Result, err error) {
		if err != nil {
			texts = append(texts, err.Error(), fmt.Sprintf("%+v %#v", err, err))
		}
		for _, r := range res {
			if r.Err != nil {
				texts = append(texts, r.Err.Error(), fmt.Sprintf("%+v", r.Err))
			}
			texts = append(texts, fmt.Sprintf("%v %+v %#v", r, r, r))
		}
	}
	collect(fetch(t, h.source(t, Config{}), refs...))
	collect(fetch(t, h.source(t, Config{Env: map[string]string{"VAULT_TOKEN": weak}}), refs...))
	collect(fetch(t, h.source(t, Config{Auth: "approle", RoleID: roleID, SecretID: secretID + "x", Env: map[string]string{}}), refs...))
	collect(fetch(t, h.source(t, Config{Auth: "kubernetes", Role: "app", JWTFile: writeFile(t, jwt), Env: map[string]string{}}), refs...))
	h.fake.Seal()
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	collect(fetchCtx(t, ctx, h.source(t, Config{Env: map[string]string{"VAULT_TOKEN": weak}}), refs...))

	if len(texts) < 10 {
		t.Fatalf("only %d error texts collected", len(texts))
	}
	for _, text := range texts {
		for _, s := range append(secrets, h.root, weak, secretID, roleID, jwt) {
			if strings.Contains(text, s) {
				t.Errorf("error text holds a secret (%s): %s", sources.Fingerprint(s), text)
			}
		}
	}
}

// TestIgnoresProcessEnvironment: the process's VAULT_* variables must not
// change what the source does; only Config and Config.Env count.
func TestIgnoresProcessEnvironment(t *testing.T) {
	h := newHarness(t)
	h.admin.PutKV2(t, "secret", h.path("k"), map[string]any{"v": "sk-env"})
	t.Setenv("VAULT_ADDR", "http://vault.invalid:8200")
	t.Setenv("VAULT_TOKEN", "hvs.process-token")
	t.Setenv("VAULT_NAMESPACE", "nowhere")
	t.Setenv("VAULT_HEADERS", `{"X-Extra":"1"}`)
	v, _, err := fetchOne(t, h.source(t, Config{}), "vault://secret/"+h.path("k")+"#v")
	if err != nil || v != "sk-env" {
		t.Fatalf("got %s %v", sources.Fingerprint(v), err)
	}
	_, _, err = fetchOne(t, h.source(t, Config{Env: map[string]string{}}), "vault://secret/"+h.path("k")+"#v")
	wantErr(t, err, sources.ErrInvalid, "no Vault token")
}
