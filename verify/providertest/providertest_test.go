package providertest

import (
	"encoding/json"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	key   = "sk-proj-0123456789abcdefghijklmnopqrstuvwxyzABCD"
	token = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2ln"
)

// call sends one request and returns its status and decoded JSON body.
func call(t *testing.T, method, url string, header map[string]string, body string) (int, map[string]any) {
	t.Helper()
	status, raw := do(t, method, url, header, body)
	var out map[string]any
	_ = json.Unmarshal([]byte(raw), &out)
	return status, out
}

// errCode digs the code (or Anthropic type) out of an error body.
func errCode(body map[string]any) string {
	e, _ := body["error"].(map[string]any)
	for _, k := range []string{"code", "type"} {
		if s, ok := e[k].(string); ok {
			return s
		}
	}
	return ""
}

func TestHeadersChecked(t *testing.T) {
	t.Parallel()
	keys := map[string]Key{key: {}}
	oa := Start(t, OpenAI, Config{Keys: keys})
	az := Start(t, Azure, Config{Keys: keys, Tokens: map[string]Key{token: {}}})
	an := Start(t, Anthropic, Config{Keys: keys})
	v := "?api-version=2024-10-21"
	tests := []struct {
		name, method, url string
		header            map[string]string
		body              string
		status            int
		code              string
	}{
		{"openai ok", "GET", oa.BaseURL() + "/models", map[string]string{"Authorization": "Bearer " + key}, "", 200, ""},
		{"openai no bearer", "GET", oa.BaseURL() + "/models", map[string]string{"Authorization": key}, "", 401, "invalid_request_error"},
		{"openai unknown key", "GET", oa.BaseURL() + "/models", map[string]string{"Authorization": "Bearer sk-nope-1234567890"}, "", 401, "invalid_api_key"},
		{"openai model", "GET", oa.BaseURL() + "/models/gpt-4o", map[string]string{"Authorization": "Bearer " + key}, "", 200, ""},
		{"openai no model", "GET", oa.BaseURL() + "/models/gpt-1", map[string]string{"Authorization": "Bearer " + key}, "", 404, "model_not_found"},
		{"azure ok", "GET", az.URL + "/openai/models" + v, map[string]string{"api-key": key}, "", 200, ""},
		{"azure bearer key is not a token", "GET", az.URL + "/openai/models" + v, map[string]string{"Authorization": "Bearer " + key}, "", 401, ""},
		{"azure token", "GET", az.URL + "/openai/models" + v, map[string]string{"Authorization": "Bearer " + token}, "", 200, ""},
		{"azure no key", "GET", az.URL + "/openai/models" + v, nil, "", 401, "401"},
		{"azure no api-version", "GET", az.URL + "/openai/models", map[string]string{"api-key": key}, "", 404, "404"},
		{"azure deployment check", "POST", az.URL + "/openai/deployments/gpt-4o-mini/chat/completions" + v, map[string]string{"api-key": key}, "{}", 400, "invalid_request_error"},
		{"azure chat", "POST", az.URL + "/openai/deployments/gpt-4o-mini/chat/completions" + v, map[string]string{"api-key": key}, `{"messages":[{"role":"user","content":"hi"}]}`, 200, ""},
		{"azure no deployment", "POST", az.URL + "/openai/deployments/x/chat/completions" + v, map[string]string{"api-key": key}, "{}", 404, "DeploymentNotFound"},
		{"azure v1", "POST", az.URL + "/openai/v1/chat/completions", map[string]string{"api-key": key}, `{"model":"gpt-4o-mini"}`, 400, "invalid_request_error"},
		{"anthropic ok", "GET", an.URL + "/v1/models", map[string]string{"x-api-key": key, "anthropic-version": "2023-06-01"}, "", 200, ""},
		{"anthropic no version", "GET", an.URL + "/v1/models", map[string]string{"x-api-key": key}, "", 400, "invalid_request_error"},
		{"anthropic no key", "GET", an.URL + "/v1/models", map[string]string{"anthropic-version": "2023-06-01"}, "", 401, "authentication_error"},
		{"anthropic bad key", "GET", an.URL + "/v1/models", map[string]string{"x-api-key": "nope", "anthropic-version": "2023-06-01"}, "", 401, "authentication_error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := call(t, tc.method, tc.url, tc.header, tc.body)
			if status != tc.status || errCode(body) != tc.code {
				t.Errorf("got %d %q, want %d %q (%v)", status, errCode(body), tc.status, tc.code, body)
			}
		})
	}
}

func TestCountersAndTimes(t *testing.T) {
	t.Parallel()
	s := Start(t, OpenAI, Config{Keys: map[string]Key{key: {Mode: ServerError, Times: 2, Status: 503}}})
	h := map[string]string{"Authorization": "Bearer " + key}
	var got []int
	for range 3 {
		status, _ := call(t, "GET", s.BaseURL()+"/models", h, "")
		got = append(got, status)
	}
	if got[0] != 503 || got[1] != 503 || got[2] != 200 {
		t.Errorf("statuses %v, want 503 503 200", got)
	}
	if s.Requests() != 3 || s.PathRequests("/v1/models") != 3 || s.KeyRequests(key) != 3 || s.MaxConcurrent() != 1 || len(s.Log()) != 3 {
		t.Errorf("counters: %d %d %d %d", s.Requests(), s.PathRequests("/v1/models"), s.KeyRequests(key), s.MaxConcurrent())
	}
}

func TestInvalidKeyEchoIsTruncated(t *testing.T) {
	t.Parallel()
	s := Start(t, OpenAI, Config{})
	_, body := call(t, "GET", s.BaseURL()+"/models", map[string]string{"Authorization": "Bearer " + key}, "")
	msg := body["error"].(map[string]any)["message"].(string)
	if strings.Contains(msg, key[:12]) || !strings.Contains(msg, "sk-*") || !strings.Contains(msg, "ABCD.") {
		t.Errorf("message %q", msg)
	}
}
