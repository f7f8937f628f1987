package vaulttest

import (
	"net/http"
	"testing"
)

// TestOpenBaoHarness: a dedicated server starts, seals and unseals with the
// key from its banner, and keeps its data across; the shared one is one
// server for every caller.
func TestOpenBaoHarness(t *testing.T) {
	t.Parallel()
	b := StartOpenBao(t)
	a := b.Admin()
	a.PutKV2(t, "secret", "h/k", map[string]any{"v": "x"})
	b.Seal(t)
	if status, _ := a.do(t, http.MethodGet, "secret/data/h/k", nil); status != http.StatusServiceUnavailable {
		t.Fatalf("sealed read: %d, want 503", status)
	}
	b.Unseal(t)
	if status, _ := a.do(t, http.MethodGet, "secret/data/h/k", nil); status != http.StatusOK {
		t.Fatalf("read after unseal: %d", status)
	}
	if SharedOpenBao(t) != SharedOpenBao(t) {
		t.Fatal("SharedOpenBao started two servers")
	}
}

// TestOpenBaoTLS: with BaoTLS the server speaks HTTPS with its own CA.
func TestOpenBaoTLS(t *testing.T) {
	t.Parallel()
	b := StartOpenBao(t, BaoTLS())
	if b.CACert == "" || b.URL[:8] != "https://" {
		t.Fatalf("URL %s, CA %q", b.URL, b.CACert)
	}
	if status, _ := b.Admin().do(t, http.MethodGet, "sys/health", nil); status != http.StatusOK {
		t.Fatalf("health over TLS: %d", status)
	}
}
