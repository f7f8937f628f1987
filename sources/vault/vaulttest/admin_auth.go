package vaulttest

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

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

// EnableKubernetes enables the kubernetes auth method at mount and points
// it at api, a fake Kubernetes TokenReview API, so that a real server logs
// service accounts in without a cluster.
func (a *Admin) EnableKubernetes(t testing.TB, mount string, api *KubernetesAPI) {
	t.Helper()
	a.EnableAuth(t, mount, "kubernetes")
	body := map[string]any{"kubernetes_host": api.URL, "kubernetes_ca_cert": api.CACert, "disable_local_ca_jwt": true}
	if status, resp := a.do(t, http.MethodPost, "auth/"+strings.Trim(mount, "/")+"/config", body); status != http.StatusNoContent && status != http.StatusOK {
		t.Fatalf("vaulttest: configure kubernetes auth at %s: %d %s", mount, status, resp)
	}
}

// CreateKubernetesRole creates a kubernetes auth role bound to one service
// account, giving tokens with the given policies.
func (a *Admin) CreateKubernetesRole(t testing.TB, mount, role string, sa ServiceAccount, policies ...string) {
	t.Helper()
	body := map[string]any{
		"bound_service_account_names":      []string{sa.Name},
		"bound_service_account_namespaces": []string{sa.Namespace},
		"token_policies":                   policies,
		"token_ttl":                        "10m",
	}
	if status, resp := a.do(t, http.MethodPost, "auth/"+strings.Trim(mount, "/")+"/role/"+role, body); status != http.StatusNoContent && status != http.StatusOK {
		t.Fatalf("vaulttest: create kubernetes role %s: %d %s", role, status, resp)
	}
}

// TokenInfo is what the server says about a live token, found by its
// accessor (the token itself is never returned).
type TokenInfo struct {
	Accessor string
	Path     string            // the auth path that issued it: "auth/approle/login"
	Policies []string          // with "default"
	Meta     map[string]string // "role_name" for AppRole, "role" for Kubernetes
}

// Tokens lists the server's live tokens through their accessors (LIST
// auth/token/accessors, then lookup-accessor), to prove that a token was
// revoked: count the ones of a role before and after. A token revoked
// between the list and its lookup is left out.
func (a *Admin) Tokens(t testing.TB) []TokenInfo {
	t.Helper()
	status, resp := a.do(t, "LIST", "auth/token/accessors", nil)
	var list struct {
		Data struct {
			Keys []string `json:"keys"`
		} `json:"data"`
	}
	if err := json.Unmarshal(resp, &list); status != http.StatusOK || err != nil {
		t.Fatalf("vaulttest: list token accessors: %d %s", status, resp)
	}
	var out []TokenInfo
	for _, acc := range list.Data.Keys {
		status, resp := a.do(t, http.MethodPost, "auth/token/lookup-accessor", map[string]any{"accessor": acc})
		var info struct {
			Data struct {
				Path     string            `json:"path"`
				Policies []string          `json:"policies"`
				Meta     map[string]string `json:"meta"`
			} `json:"data"`
		}
		if status != http.StatusOK || json.Unmarshal(resp, &info) != nil {
			continue
		}
		out = append(out, TokenInfo{Accessor: acc, Path: info.Data.Path, Policies: info.Data.Policies, Meta: info.Data.Meta})
	}
	return out
}
