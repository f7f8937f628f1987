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
