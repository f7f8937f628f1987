package vaulttest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// get sends a GET with a token and decodes the JSON answer.
func get(t *testing.T, s *Server, path, tok string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/v1/"+path, nil)
	if tok != "" {
		req.Header.Set("X-Vault-Token", tok)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%s: body is not JSON: %q", path, b)
	}
	return resp.StatusCode, out
}

func TestResponsesFollowVaultAPI(t *testing.T) {
	t.Parallel()
	s := New(t)
	a := s.Admin()
	a.PutKV2(t, "secret", "llm/openai", map[string]any{"api_key": "k1"})
	a.EnableKV(t, "kv", 1)
	a.PutKV1(t, "kv/app", map[string]any{"x": "y"})

	tests := []struct {
		name, path, tok string
		status          int
		check           func(map[string]any) bool
	}{
		{"mounts preflight v2", "sys/internal/ui/mounts/secret/llm/openai", s.RootToken, 200, func(b map[string]any) bool {
			d := b["data"].(map[string]any)
			return d["path"] == "secret/" && d["type"] == "kv" && d["options"].(map[string]any)["version"] == "2"
		}},
		{"mounts preflight v1", "sys/internal/ui/mounts/kv/app", s.RootToken, 200, func(b map[string]any) bool {
			return b["data"].(map[string]any)["path"] == "kv/"
		}},
		{"mounts preflight no mount", "sys/internal/ui/mounts/nope/x", s.RootToken, 403, func(b map[string]any) bool {
			return strings.Contains(b["errors"].([]any)[0].(string), "preflight capability check returned 403")
		}},
		{"kv2 read", "secret/data/llm/openai", s.RootToken, 200, func(b map[string]any) bool {
			d := b["data"].(map[string]any)
			m := d["metadata"].(map[string]any)
			return d["data"].(map[string]any)["api_key"] == "k1" && m["version"] == 1.0 && m["destroyed"] == false && m["deletion_time"] == ""
		}},
		{"kv2 missing", "secret/data/llm/none", s.RootToken, 404, func(b map[string]any) bool { return len(b["errors"].([]any)) == 0 }},
		{"kv2 v1-style path", "secret/llm/openai", s.RootToken, 404, func(b map[string]any) bool { return b["warnings"] != nil }},
		{"kv2 metadata", "secret/metadata/llm/openai", s.RootToken, 200, func(b map[string]any) bool {
			return b["data"].(map[string]any)["current_version"] == 1.0
		}},
		{"kv2 list", "secret/metadata/llm/?list=true", s.RootToken, 200, func(b map[string]any) bool {
			return b["data"].(map[string]any)["keys"].([]any)[0] == "openai"
		}},
		{"kv1 read", "kv/app", s.RootToken, 200, func(b map[string]any) bool { return b["data"].(map[string]any)["x"] == "y" }},
		{"no token", "secret/data/llm/openai", "", 403, func(b map[string]any) bool { return b["errors"].([]any)[0] == "permission denied" }},
		{"lookup-self", "auth/token/lookup-self", s.RootToken, 200, func(b map[string]any) bool {
			return b["data"].(map[string]any)["id"] == s.RootToken
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := get(t, s, tc.path, tc.tok)
			if status != tc.status || !tc.check(body) {
				t.Errorf("GET %s: %d %v", tc.path, status, body)
			}
		})
	}
}

func TestPoliciesAndSeal(t *testing.T) {
	t.Parallel()
	s := New(t)
	a := s.Admin()
	a.PutKV2(t, "secret", "app/a", map[string]any{"k": "v"})
	a.PutKV2(t, "secret", "app/b", map[string]any{"k": "v"})
	a.PutPolicy(t, "p", `
path "secret/data/app/*" { capabilities = ["read"] }
path "secret/data/app/b" { capabilities = ["deny"] }`)
	tok := a.CreateToken(t, "p")
	if st, _ := get(t, s, "secret/data/app/a", tok); st != 200 {
		t.Errorf("glob rule: %d", st)
	}
	if st, _ := get(t, s, "secret/data/app/b", tok); st != 403 {
		t.Errorf("exact deny rule: %d", st)
	}
	if st, _ := get(t, s, "sys/internal/ui/mounts/secret/app/a", tok); st != 200 {
		t.Errorf("preflight with mount access: %d", st)
	}
	s.Deny(tok, "secret/data/app/a")
	if st, _ := get(t, s, "secret/data/app/a", tok); st != 403 {
		t.Errorf("Deny: %d", st)
	}
	s.Seal()
	if st, b := get(t, s, "secret/data/app/a", s.RootToken); st != 503 || b["errors"].([]any)[0] != "Vault is sealed" {
		t.Errorf("sealed: %d %v", st, b)
	}
	// Reads counts reads the engine served (not refused ones); Count counts
	// every request, the set-up write included.
	if s.Reads() != 1 || s.Count("secret/data/app/a") != 4 {
		t.Errorf("reads %d, count %d", s.Reads(), s.Count("secret/data/app/a"))
	}
}

// TestHoldAndOnRequest: OnRequest sees a request as it arrives; Hold keeps
// it unanswered until released, and only the requests it matches.
func TestHoldAndOnRequest(t *testing.T) {
	t.Parallel()
	s := New(t)
	seen := make(chan Request, 16)
	s.OnRequest(func(r Request) { seen <- r })
	release := s.Hold("auth/token/*")
	answered := make(chan int, 1)
	go func() { st, _ := get(t, s, "auth/token/lookup-self", s.RootToken); answered <- st }()
	if r := <-seen; r.Path != "auth/token/lookup-self" || r.Method != http.MethodGet || r.Seq != 1 {
		t.Fatalf("arrival %+v", r)
	}
	if st, _ := get(t, s, "sys/health", ""); st != http.StatusOK {
		t.Fatalf("an unheld request: %d", st)
	}
	<-seen
	select {
	case st := <-answered:
		t.Fatalf("held request answered (%d) before release", st)
	default:
	}
	release()
	release() // idempotent
	if st := <-answered; st != http.StatusOK {
		t.Fatalf("released request: %d", st)
	}
}

// TestNamespacesInHeaderAndPath: a namespace is reached by the header or by
// the path, an unknown one is a 404 as on OpenBao.
func TestNamespacesInHeaderAndPath(t *testing.T) {
	t.Parallel()
	s := New(t)
	team := s.Admin().CreateNamespace(t, "team")
	team.EnableKV(t, "secret", 2)
	team.PutKV2(t, "secret", "k", map[string]any{"v": "x"})
	if st, _ := get(t, s, "team/secret/data/k", s.RootToken); st != http.StatusOK {
		t.Errorf("namespace in the path: %d", st)
	}
	st, body := get(t, s, "sys/internal/ui/mounts/team/secret/k", s.RootToken)
	if st != http.StatusOK || body["data"].(map[string]any)["path"] != "team/secret/" {
		t.Errorf("mount lookup with the namespace in the path: %d %v", st, body)
	}
	a := s.Admin()
	a.Namespace = "nope"
	if st, resp := a.do(t, http.MethodGet, "secret/data/k", nil); st != http.StatusNotFound || !strings.Contains(string(resp), "namespace not found") {
		t.Errorf("unknown namespace: %d %s", st, resp)
	}
}
