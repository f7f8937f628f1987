package vaulttest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
)

// probe is one request the fidelity test sends to the fake and to OpenBao.
type probe struct {
	name    string
	method  string
	path    string // API path without /v1/, query included
	ns      string // X-Vault-Namespace
	token   string // a key of the target's tokens: root, reader, login, bogus, none
	body    map[string]any
	capture string // store the answer's auth.client_token as this token
}

// target is one server with the same set-up: its admin and its own values
// of tokens and credentials.
type target struct {
	name   string
	admin  *Admin
	tokens map[string]string
	vars   map[string]string // "$role_id" → this server's value
	seal   func()
}

// fidelityProbes are the requests keyexec makes, on every path it uses, in
// an order that revokes and seals last.
var fidelityProbes = []probe{
	{name: "mount lookup, KV v2", method: "GET", path: "sys/internal/ui/mounts/secret/llm/openai", token: "root"},
	{name: "mount lookup, KV v1", method: "GET", path: "sys/internal/ui/mounts/kv1/llm/anthropic", token: "root"},
	{name: "mount lookup, KV without version option", method: "GET", path: "sys/internal/ui/mounts/kv0/x", token: "root"},
	{name: "mount lookup, no such mount", method: "GET", path: "sys/internal/ui/mounts/nope/x", token: "root"},
	{name: "mount lookup, limited token", method: "GET", path: "sys/internal/ui/mounts/secret/llm/openai", token: "reader"},
	{name: "mount lookup, no token", method: "GET", path: "sys/internal/ui/mounts/secret/llm/openai", token: "none"},
	{name: "mount lookup, namespace in the path", method: "GET", path: "sys/internal/ui/mounts/team/secret/llm/openai", token: "root"},
	{name: "mount lookup, X-Vault-Namespace", method: "GET", path: "sys/internal/ui/mounts/secret/llm/openai", ns: "team", token: "root"},
	{name: "mount lookup, unknown namespace", method: "GET", path: "sys/internal/ui/mounts/secret/llm/openai", ns: "nope", token: "root"},
	{name: "KV v1 read", method: "GET", path: "kv1/llm/anthropic", token: "root"},
	{name: "KV v1 read, missing", method: "GET", path: "kv1/llm/none", token: "root"},
	{name: "KV v1 list", method: "GET", path: "kv1/llm/?list=true", token: "root"},
	{name: "KV v2 read, speculative on a KV v1 mount", method: "GET", path: "kv1/data/llm/anthropic", token: "root"},
	{name: "KV v2 read, latest", method: "GET", path: "secret/data/llm/openai", token: "root"},
	{name: "KV v2 read, version", method: "GET", path: "secret/data/llm/openai?version=3", token: "root"},
	{name: "KV v2 read, deleted version", method: "GET", path: "secret/data/llm/openai?version=1", token: "root"},
	{name: "KV v2 read, destroyed version", method: "GET", path: "secret/data/llm/openai?version=2", token: "root"},
	{name: "KV v2 read, no such version", method: "GET", path: "secret/data/llm/openai?version=9", token: "root"},
	{name: "KV v2 read, missing", method: "GET", path: "secret/data/llm/none", token: "root"},
	{name: "KV v2 read, v1-style path", method: "GET", path: "secret/llm/openai", token: "root"},
	{name: "KV v2 read, X-Vault-Namespace", method: "GET", path: "secret/data/llm/openai", ns: "team", token: "root"},
	{name: "KV v2 read, namespace in the path", method: "GET", path: "team/secret/data/llm/openai", token: "root"},
	{name: "KV v2 read, unknown namespace", method: "GET", path: "secret/data/llm/openai", ns: "nope", token: "root"},
	{name: "KV v2 metadata list", method: "GET", path: "secret/metadata/llm/?list=true", token: "root"},
	{name: "KV v2 metadata LIST", method: "LIST", path: "secret/metadata/llm/", token: "root"},
	{name: "KV v2 metadata list, missing folder", method: "GET", path: "secret/metadata/none/?list=true", token: "root"},
	{name: "KV v2 metadata", method: "GET", path: "secret/metadata/llm/openai", token: "root"},
	{name: "403, policy without the path", method: "GET", path: "secret/data/other", token: "reader"},
	{name: "403, unknown token", method: "GET", path: "secret/data/llm/openai", token: "bogus"},
	{name: "403, no token", method: "GET", path: "secret/data/llm/openai", token: "none"},
	{name: "AppRole login", method: "POST", path: "auth/approle/login", token: "none", body: map[string]any{"role_id": "$role_id", "secret_id": "$secret_id"}, capture: "login"},
	{name: "AppRole login, wrong secret ID", method: "POST", path: "auth/approle/login", token: "none", body: map[string]any{"role_id": "$role_id", "secret_id": "00000000-0000-0000-0000-000000000000"}},
	{name: "login at an unmounted path", method: "POST", path: "auth/nope/login", token: "none", body: map[string]any{"role_id": "x"}},
	{name: "AppRole login, unknown namespace", method: "POST", path: "auth/approle/login", ns: "nope", token: "none", body: map[string]any{"role_id": "$role_id", "secret_id": "$secret_id"}},
	{name: "Kubernetes login", method: "POST", path: "auth/kubernetes/login", token: "none", body: map[string]any{"role": "app", "jwt": "$jwt"}},
	{name: "Kubernetes login, wrong JWT", method: "POST", path: "auth/kubernetes/login", token: "none", body: map[string]any{"role": "app", "jwt": "$other_jwt"}},
	{name: "Kubernetes login, unknown role", method: "POST", path: "auth/kubernetes/login", token: "none", body: map[string]any{"role": "nope", "jwt": "$jwt"}},
	{name: "token lookup-self, root", method: "GET", path: "auth/token/lookup-self", token: "root"},
	{name: "token lookup-self, login token", method: "GET", path: "auth/token/lookup-self", token: "login"},
	{name: "token lookup-self, unknown token", method: "GET", path: "auth/token/lookup-self", token: "bogus"},
	{name: "token revoke-self", method: "POST", path: "auth/token/revoke-self", token: "login"},
	{name: "token lookup-self, revoked token", method: "GET", path: "auth/token/lookup-self", token: "login"},
	{name: "KV v2 read, revoked token", method: "GET", path: "secret/data/llm/openai", token: "login"},
	{name: "health", method: "GET", path: "sys/health", token: "none"},
	{name: "seal status", method: "GET", path: "sys/seal-status", token: "none"},
	{name: "SEAL", method: "seal"},
	{name: "health, sealed", method: "GET", path: "sys/health", token: "none"},
	{name: "seal status, sealed", method: "GET", path: "sys/seal-status", token: "none"},
	{name: "mount lookup, sealed", method: "GET", path: "sys/internal/ui/mounts/secret/llm/openai", token: "root"},
	{name: "KV v2 read, sealed", method: "GET", path: "secret/data/llm/openai", token: "root"},
	{name: "AppRole login, sealed", method: "POST", path: "auth/approle/login", token: "none", body: map[string]any{"role_id": "$role_id", "secret_id": "$secret_id"}},
}

// TestFidelity holds the fake to OpenBao: the same set-up, then the same
// requests, which must get the same status and the same JSON shape (keys
// and value types, not values). A difference is a bug in the fake.
func TestFidelity(t *testing.T) {
	t.Parallel()
	bao := StartOpenBao(t)
	fake := New(t)
	real := &target{name: "openbao", admin: bao.Admin(), seal: func() { bao.Seal(t) }}
	fakeT := &target{name: "fake", admin: fake.Admin(), seal: fake.Seal}
	k8s := NewKubernetesAPI(t)
	sa := ServiceAccount{Namespace: "default", Name: "app", UID: "0b8c0d2e-1111-2222-3333-444455556666"}
	for _, tg := range []*target{real, fakeT} {
		setUp(t, tg)
	}
	real.admin.EnableKubernetes(t, "kubernetes", k8s)
	real.admin.CreateKubernetesRole(t, "kubernetes", "app", sa, "reader")
	// A well-formed JWT that this cluster's TokenReview does not know.
	real.vars["$jwt"], real.vars["$other_jwt"] = k8s.Issue(sa), NewKubernetesAPI(t).Issue(sa)
	fakeT.vars["$jwt"], fakeT.vars["$other_jwt"] = "fake.jwt.sig", "other.jwt.sig"
	fake.AddKubernetesRole("app", fakeT.vars["$jwt"], "reader")

	var compared []string
	for _, p := range fidelityProbes {
		if p.method == "seal" {
			real.seal()
			fakeT.seal()
			continue
		}
		rs, rb := send(t, real, p)
		fs, fb := send(t, fakeT, p)
		compared = append(compared, fmt.Sprintf("%-6s %-50s %-6s → %d  (%s)", p.method, p.path, p.ns, rs, p.name))
		if rs != fs {
			t.Errorf("%s: %s %s: OpenBao answers %d, the fake %d\n  openbao: %s\n  fake:    %s", p.name, p.method, p.path, rs, fs, rb, fb)
			continue
		}
		var diffs []string
		diffShape(decode(rb), decode(fb), "", &diffs)
		diffErrors(decode(rb), decode(fb), &diffs)
		if len(diffs) > 0 {
			t.Errorf("%s: %s %s: JSON shapes differ:\n  %s\n  openbao: %s\n  fake:    %s", p.name, p.method, p.path, strings.Join(diffs, "\n  "), rb, fb)
		}
	}
	t.Logf("compared %d requests on the fake and OpenBao:\n%s", len(compared), strings.Join(compared, "\n"))
}

// setUp gives a target the state the probes read, through the API alone.
func setUp(t *testing.T, tg *target) {
	a := tg.admin
	for i := range 3 {
		a.PutKV2(t, "secret", "llm/openai", map[string]any{"api_key": fmt.Sprintf("sk-v%d", i+1)})
	}
	a.DeleteKV2Version(t, "secret", "llm/openai", 1)
	a.DestroyKV2Version(t, "secret", "llm/openai", 2)
	a.PutKV2(t, "secret", "other", map[string]any{"k": "v"})
	a.EnableKV(t, "kv1", 1)
	a.PutKV1(t, "kv1/llm/anthropic", map[string]any{"key": "sk-ant"})
	status, resp := a.do(t, http.MethodPost, "sys/mounts/kv0", map[string]any{"type": "kv"})
	if status != http.StatusNoContent {
		t.Fatalf("%s: mount kv0: %d %s", tg.name, status, resp)
	}
	team := a.CreateNamespace(t, "team")
	team.EnableKV(t, "secret", 2)
	team.PutKV2(t, "secret", "llm/openai", map[string]any{"api_key": "sk-team"})
	a.PutPolicy(t, "reader", `path "secret/data/llm/*" { capabilities = ["read"] }
path "secret/metadata/*" { capabilities = ["list"] }`)
	roleID, secretID := a.CreateAppRole(t, "approle", "app", "reader")
	tg.tokens = map[string]string{"root": a.Token, "reader": a.CreateToken(t, "reader"), "bogus": "hvs.bogus0123456789", "none": ""}
	tg.vars = map[string]string{"$role_id": roleID, "$secret_id": secretID}
}

// send makes one probe's request and returns the status and body.
func send(t *testing.T, tg *target, p probe) (int, string) {
	t.Helper()
	var body map[string]any
	if p.body != nil {
		body = map[string]any{}
		for k, v := range p.body {
			if s, ok := v.(string); ok && strings.HasPrefix(s, "$") {
				v = tg.vars[s]
			}
			body[k] = v
		}
	}
	a := *tg.admin
	a.Token, a.Namespace = tg.tokens[p.token], p.ns
	status, resp := a.do(t, p.method, p.path, body)
	if p.capture != "" {
		var out struct {
			Auth struct {
				ClientToken string `json:"client_token"`
			} `json:"auth"`
		}
		_ = json.Unmarshal(resp, &out)
		tg.tokens[p.capture] = out.Auth.ClientToken
	}
	return status, strings.TrimSpace(string(resp))
}

// decode parses a body for diffShape; an empty body is nil and text that
// is not JSON is its own kind.
func decode(body string) any {
	if body == "" {
		return nil
	}
	var v any
	if json.Unmarshal([]byte(body), &v) != nil {
		return notJSON{}
	}
	return v
}

type notJSON struct{}

// diffShape lists where a and b differ in keys or value types (a JSON
// pointer each); values themselves may differ. Arrays compare the set of
// their elements' shapes.
func diffShape(a, b any, at string, out *[]string) {
	ka, kb := kind(a), kind(b)
	if ka != kb {
		*out = append(*out, fmt.Sprintf("%s: OpenBao has a %s, the fake a %s", orRoot(at), ka, kb))
		return
	}
	switch x := a.(type) {
	case map[string]any:
		y := b.(map[string]any)
		for _, k := range unionKeys(x, y) {
			va, oka := x[k]
			vb, okb := y[k]
			switch {
			case !okb:
				*out = append(*out, fmt.Sprintf("%s/%s: only OpenBao has it", at, k))
			case !oka:
				*out = append(*out, fmt.Sprintf("%s/%s: only the fake has it", at, k))
			default:
				diffShape(va, vb, at+"/"+k, out)
			}
		}
	case []any:
		if sa, sb := elementShapes(x), elementShapes(b.([]any)); sa != sb {
			*out = append(*out, fmt.Sprintf("%s: elements %s on OpenBao, %s on the fake", orRoot(at), sa, sb))
		}
	}
}

// diffErrors compares Vault's error messages word for word: keyexec reads
// them ("namespace not found", "Vault is sealed", the mount lookup's 403).
func diffErrors(a, b any, out *[]string) {
	ma, _ := a.(map[string]any)
	mb, _ := b.(map[string]any)
	ea, oka := ma["errors"]
	eb, okb := mb["errors"]
	if oka && okb && fmt.Sprint(ea) != fmt.Sprint(eb) {
		*out = append(*out, fmt.Sprintf("/errors: OpenBao says %q, the fake %q", ea, eb))
	}
}

func kind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case string:
		return "string"
	case float64:
		return "number"
	case bool:
		return "boolean"
	case notJSON:
		return "text (not JSON)"
	}
	return fmt.Sprintf("%T", v)
}

func elementShapes(xs []any) string {
	seen := map[string]bool{}
	for _, x := range xs {
		seen[kind(x)] = true
	}
	return fmt.Sprint(sortedKeys(seen))
}

func unionKeys(a, b map[string]any) []string {
	seen := map[string]bool{}
	for k := range a {
		seen[k] = true
	}
	for k := range b {
		seen[k] = true
	}
	return sortedKeys(seen)
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func orRoot(p string) string {
	if p == "" {
		return "(top)"
	}
	return p
}
