package vaulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Admin sets up a Vault for tests through its HTTP API, so the same set-up
// works on the fake and on a real dev server. Every method fails the test
// on error.
type Admin struct {
	Addr      string // VAULT_ADDR
	Token     string // a root token
	Namespace string // X-Vault-Namespace, "" for the root namespace
	// Client is the HTTP client; nil means a client with a 10s timeout.
	Client *http.Client
}

// EnableKV mounts a KV secrets engine of the given version (1 or 2) at mount.
// A mount that already exists is left as it is.
func (a *Admin) EnableKV(t testing.TB, mount string, version int) {
	t.Helper()
	body := map[string]any{"type": "kv", "options": map[string]any{"version": strconv.Itoa(version)}}
	status, resp := a.do(t, http.MethodPost, "sys/mounts/"+strings.Trim(mount, "/"), body)
	if status != http.StatusNoContent && status != http.StatusOK && !alreadyInUse(resp) {
		t.Fatalf("vaulttest: enable kv v%d at %s: %d %s", version, mount, status, resp)
	}
}

// DisableMount unmounts a secrets engine (clean-up on a real server).
func (a *Admin) DisableMount(t testing.TB, mount string) {
	t.Helper()
	a.do(t, http.MethodDelete, "sys/mounts/"+strings.Trim(mount, "/"), nil)
}

// PutKV1 writes a KV v1 secret at path ("kv/app/openai").
func (a *Admin) PutKV1(t testing.TB, path string, data map[string]any) {
	t.Helper()
	if status, resp := a.do(t, http.MethodPost, path, data); status != http.StatusNoContent && status != http.StatusOK {
		t.Fatalf("vaulttest: write %s: %d %s", path, status, resp)
	}
}

// PutKV2 writes a new version of a KV v2 secret (path relative to the mount)
// and returns its version number.
func (a *Admin) PutKV2(t testing.TB, mount, path string, data map[string]any) int {
	t.Helper()
	apiPath := strings.Trim(mount, "/") + "/data/" + strings.Trim(path, "/")
	status, resp := a.do(t, http.MethodPost, apiPath, map[string]any{"data": data})
	if status != http.StatusOK {
		t.Fatalf("vaulttest: write %s: %d %s", apiPath, status, resp)
	}
	var out struct {
		Data struct {
			Version int `json:"version"`
		} `json:"data"`
	}
	if err := json.Unmarshal(resp, &out); err != nil {
		t.Fatalf("vaulttest: write %s: %v", apiPath, err)
	}
	return out.Data.Version
}

// DeleteKV2Version soft-deletes versions of a KV v2 secret.
func (a *Admin) DeleteKV2Version(t testing.TB, mount, path string, versions ...int) {
	t.Helper()
	a.kv2Versions(t, "delete", mount, path, versions)
}

// UndeleteKV2Version restores soft-deleted versions of a KV v2 secret.
func (a *Admin) UndeleteKV2Version(t testing.TB, mount, path string, versions ...int) {
	t.Helper()
	a.kv2Versions(t, "undelete", mount, path, versions)
}

// DestroyKV2Version destroys versions of a KV v2 secret for good.
func (a *Admin) DestroyKV2Version(t testing.TB, mount, path string, versions ...int) {
	t.Helper()
	a.kv2Versions(t, "destroy", mount, path, versions)
}

func (a *Admin) kv2Versions(t testing.TB, op, mount, path string, versions []int) {
	t.Helper()
	apiPath := strings.Trim(mount, "/") + "/" + op + "/" + strings.Trim(path, "/")
	if status, resp := a.do(t, http.MethodPost, apiPath, map[string]any{"versions": versions}); status != http.StatusNoContent {
		t.Fatalf("vaulttest: %s %s: %d %s", op, apiPath, status, resp)
	}
}

// NamespacesSupported reports whether the server has namespaces (OpenBao,
// Vault Enterprise, the fake) rather than answering "unsupported path"
// (HashiCorp Vault's community edition).
func (a *Admin) NamespacesSupported(t testing.TB) bool {
	t.Helper()
	status, resp := a.do(t, "LIST", "sys/namespaces", nil)
	return status == http.StatusOK || (status == http.StatusNotFound && !bytes.Contains(resp, []byte("unsupported path")))
}

// CreateNamespace creates namespace name under the admin's namespace and
// returns an Admin that works inside it.
func (a *Admin) CreateNamespace(t testing.TB, name string) *Admin {
	t.Helper()
	name = strings.Trim(name, "/")
	if status, resp := a.do(t, http.MethodPost, "sys/namespaces/"+name, map[string]any{}); status != http.StatusOK && status != http.StatusNoContent {
		t.Fatalf("vaulttest: create namespace %s: %d %s", name, status, resp)
	}
	return a.In(name)
}

// In returns a copy of the admin that works in the child namespace name.
func (a *Admin) In(name string) *Admin {
	cp := *a
	cp.Namespace = strings.Trim(strings.Trim(a.Namespace, "/")+"/"+strings.Trim(name, "/"), "/")
	return &cp
}

// PutPolicy writes an ACL policy in Vault's HCL.
func (a *Admin) PutPolicy(t testing.TB, name, hcl string) {
	t.Helper()
	if status, resp := a.do(t, http.MethodPut, "sys/policies/acl/"+name, map[string]any{"policy": hcl}); status != http.StatusNoContent && status != http.StatusOK {
		t.Fatalf("vaulttest: put policy %s: %d %s", name, status, resp)
	}
}

// do sends one request and returns the status and body.
func (a *Admin) do(t testing.TB, method, path string, body any) (int, []byte) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("vaulttest: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(a.Addr, "/")+"/v1/"+strings.TrimPrefix(path, "/"), rd)
	if err != nil {
		t.Fatalf("vaulttest: %v", err)
	}
	req.Header.Set("X-Vault-Token", a.Token)
	req.Header.Set("X-Vault-Request", "true")
	if a.Namespace != "" {
		req.Header.Set("X-Vault-Namespace", a.Namespace)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := a.Client
	if client == nil {
		client = &http.Client{Timeout: 10 * time.Second}
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("vaulttest: %s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		t.Fatalf("vaulttest: %s %s: %v", method, path, err)
	}
	return resp.StatusCode, out
}

func alreadyInUse(resp []byte) bool { return bytes.Contains(resp, []byte("already in use")) }

// String describes the admin client without its token.
func (a *Admin) String() string { return fmt.Sprintf("vaulttest.Admin(%s)", a.Addr) }
