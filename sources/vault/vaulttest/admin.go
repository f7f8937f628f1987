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
	apiPath := strings.Trim(mount, "/") + "/delete/" + strings.Trim(path, "/")
	if status, resp := a.do(t, http.MethodPost, apiPath, map[string]any{"versions": versions}); status != http.StatusNoContent {
		t.Fatalf("vaulttest: delete %s: %d %s", apiPath, status, resp)
	}
}

// PutPolicy writes an ACL policy in Vault's HCL.
func (a *Admin) PutPolicy(t testing.TB, name, hcl string) {
	t.Helper()
	if status, resp := a.do(t, http.MethodPut, "sys/policies/acl/"+name, map[string]any{"policy": hcl}); status != http.StatusNoContent && status != http.StatusOK {
		t.Fatalf("vaulttest: put policy %s: %d %s", name, status, resp)
	}
}

// CreateToken creates a token with the given policies (plus "default").
func (a *Admin) CreateToken(t testing.TB, policies ...string) string {
	t.Helper()
	if policies == nil {
		policies = []string{}
	}
	status, resp := a.do(t, http.MethodPost, "auth/token/create", map[string]any{"policies": policies, "ttl": "10m"})
	if status != http.StatusOK {
		t.Fatalf("vaulttest: create token: %d %s", status, resp)
	}
	var out struct {
		Auth struct {
			ClientToken string `json:"client_token"`
		} `json:"auth"`
	}
	if err := json.Unmarshal(resp, &out); err != nil || out.Auth.ClientToken == "" {
		t.Fatalf("vaulttest: create token: no client_token in %d answer", status)
	}
	return out.Auth.ClientToken
}

// EnableAuth enables an auth method of type typ at mount. An existing mount
// is left as it is.
func (a *Admin) EnableAuth(t testing.TB, mount, typ string) {
	t.Helper()
	status, resp := a.do(t, http.MethodPost, "sys/auth/"+strings.Trim(mount, "/"), map[string]any{"type": typ})
	if status != http.StatusNoContent && status != http.StatusOK && !alreadyInUse(resp) {
		t.Fatalf("vaulttest: enable auth %s at %s: %d %s", typ, mount, status, resp)
	}
}

// CreateAppRole enables AppRole at mount if needed, creates role name with
// the given token policies, and returns its role ID and a new secret ID.
func (a *Admin) CreateAppRole(t testing.TB, mount, name string, policies ...string) (roleID, secretID string) {
	t.Helper()
	a.EnableAuth(t, mount, "approle")
	base := "auth/" + strings.Trim(mount, "/") + "/role/" + name
	if status, resp := a.do(t, http.MethodPost, base, map[string]any{"token_policies": policies, "token_ttl": "10m"}); status != http.StatusNoContent && status != http.StatusOK {
		t.Fatalf("vaulttest: create approle %s: %d %s", name, status, resp)
	}
	var out struct {
		Data map[string]any `json:"data"`
	}
	status, resp := a.do(t, http.MethodGet, base+"/role-id", nil)
	if err := json.Unmarshal(resp, &out); status != http.StatusOK || err != nil {
		t.Fatalf("vaulttest: read role-id of %s: %d", name, status)
	}
	roleID, _ = out.Data["role_id"].(string)
	status, resp = a.do(t, http.MethodPost, base+"/secret-id", map[string]any{})
	if err := json.Unmarshal(resp, &out); status != http.StatusOK || err != nil {
		t.Fatalf("vaulttest: create secret-id of %s: %d", name, status)
	}
	secretID, _ = out.Data["secret_id"].(string)
	return roleID, secretID
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
