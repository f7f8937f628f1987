package providertest

import (
	"fmt"
	"strings"
	"testing"
)

// first returns a kind's first read endpoint and its first chat endpoint.
func first(kind Kind, key string) (read, chat endpoint) {
	for _, e := range endpoints(kind, key) {
		if e.chat && chat.path == "" {
			chat = e
		}
		if !e.chat && read.path == "" {
			read = e
		}
	}
	return read, chat
}

func TestModes(t *testing.T) {
	t.Parallel()
	type want struct {
		status int
		marker string
	}
	// For each kind: NoQuota on the read (probe) endpoint and on chat,
	// RateLimited, ServerError (Status 503), Forbidden, all on chat.
	tests := map[Kind][5]want{
		OpenAI:     {{429, "insufficient_quota"}, {429, "insufficient_quota"}, {429, "rate_limit_exceeded"}, {503, "server_error"}, {403, "unsupported_country_region_territory"}},
		Azure:      {{429, "InsufficientQuota"}, {429, "InsufficientQuota"}, {429, "exceeded call rate limit"}, {503, "InternalServerError"}, {403, "Public access is disabled"}},
		Anthropic:  {{400, "credit balance is too low"}, {400, "credit balance is too low"}, {429, "rate_limit_error"}, {503, "api_error"}, {403, `"forbidden"`}},
		Gemini:     {{200, `"models"`}, {400, "FAILED_PRECONDITION"}, {429, "RESOURCE_EXHAUSTED"}, {503, "UNAVAILABLE"}, {403, "SERVICE_DISABLED"}},
		Groq:       {{200, `"data"`}, {429, "tokens per day (TPD)"}, {429, "tokens per minute (TPM)"}, {503, "internal_server_error"}, {400, "organization_restricted"}},
		Mistral:    {{200, `"data"`}, {429, "rate_limited"}, {429, `"code":"1300"`}, {503, "internal_server_error"}, {403, "Forbidden"}},
		OpenRouter: {{200, `"limit_remaining":0`}, {402, "Insufficient credits"}, {429, "Rate limit exceeded"}, {503, `"code":503`}, {403, "moderation"}},
		Together:   {{200, `"context_length"`}, {402, "credit_limit"}, {429, "You have been rate limited"}, {503, "Engine Overloaded"}, {400, "model_not_available"}},
		XAI:        {{200, `"api_key_blocked":false`}, {403, "doesn't have any credits"}, {429, "Too many requests for team"}, {503, "Internal error"}, {403, "Access to the chat endpoint is denied"}},
		DeepSeek:   {{200, `"object":"list"`}, {402, "Insufficient Balance"}, {429, "Rate Limit Reached"}, {503, "Server Overloaded"}, {403, "Forbidden"}},
	}
	for _, kind := range keyed {
		srv := fixture(t, kind)
		w := tests[kind]
		for _, tc := range []struct {
			name string
			key  string
			chat bool
			want want
		}{
			{"no quota read", quotaKey, false, w[0]},
			{"no quota chat", quotaKey, true, w[1]},
			{"rate limited", rateKey, true, w[2]},
			{"server error", errorKey, true, w[3]},
			{"forbidden", forbidKey, true, w[4]},
		} {
			t.Run(fmt.Sprintf("%s %s", kind, tc.name), func(t *testing.T) {
				t.Parallel()
				read, chat := first(kind, tc.key)
				e := read
				if tc.chat {
					e = chat
				}
				h := e.header
				if h == nil {
					h = auth(kind, tc.key)
				}
				status, body := do(t, e.method, srv.URL+e.path, h, e.body)
				if status != tc.want.status || !strings.Contains(body, tc.want.marker) {
					t.Errorf("%s %s: %d %s, want %d with %q", e.method, e.path, status, body, tc.want.status, tc.want.marker)
				}
			})
		}
	}
}

func TestTransportModesEveryKind(t *testing.T) {
	t.Parallel()
	for _, kind := range keyed {
		srv := Start(t, kind, Config{Keys: map[string]Key{
			"redirect": {Mode: Redirect, Location: "http://127.0.0.1:1/elsewhere"}, "html": {Mode: NotJSON},
			"huge": {Mode: HugeBody, Size: 1 << 16}, "twice": {Mode: RateLimited, Times: 1},
		}})
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			read, _ := first(kind, "")
			get := func(key string) (int, string) {
				return do(t, read.method, srv.URL+read.path, auth(kind, key), read.body)
			}
			if status, _ := get("html"); status != 200 {
				t.Errorf("NotJSON: %d", status)
			}
			if _, body := get("huge"); len(body) != 1<<16 {
				t.Errorf("HugeBody: %d bytes", len(body))
			}
			if status, _ := get("twice"); status != 429 {
				t.Errorf("RateLimited Times 1, first: %d", status)
			}
			if status, body := get("twice"); status != 200 {
				t.Errorf("RateLimited Times 1, second: %d %s", status, body)
			}
		})
	}
}

func TestUnknownModel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		kind         Kind
		method, path string
		body         string
		status       int
		marker       string
	}{
		{OpenAI, "GET", "/v1/models/nope", "", 404, "model_not_found"},
		{OpenAI, "POST", "/v1/chat/completions", chatBody("nope"), 404, "The model `nope` does not exist"},
		{Azure, "POST", "/openai/deployments/nope/chat/completions" + v, chatBody(""), 404, "DeploymentNotFound"},
		{Anthropic, "POST", "/v1/messages", `{"model":"nope","max_tokens":1,"messages":[{"role":"user","content":"x"}]}`, 404, "model: nope"},
		{Gemini, "GET", "/v1beta/models/nope", "", 404, "NOT_FOUND"},
		{Gemini, "POST", "/v1beta/models/nope:generateContent", `{"contents":[{}]}`, 404, "models/nope is not found for API version v1beta, or is not supported for generateContent"},
		{Groq, "POST", "/openai/v1/chat/completions", chatBody("nope"), 404, "model_not_found"},
		{Mistral, "POST", "/v1/chat/completions", chatBody("nope"), 400, "Invalid model: nope"},
		{OpenRouter, "POST", "/api/v1/chat/completions", chatBody("nope"), 400, "nope is not a valid model ID"},
		{Together, "POST", "/v1/chat/completions", chatBody("nope"), 404, "model_not_available"},
		{XAI, "POST", "/v1/chat/completions", chatBody("nope"), 404, "The model nope does not exist"},
		{DeepSeek, "POST", "/chat/completions", chatBody("nope"), 400, "Model Not Exist"},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %s", tc.kind, tc.path), func(t *testing.T) {
			t.Parallel()
			srv := fixture(t, tc.kind)
			status, body := do(t, tc.method, srv.URL+tc.path, auth(tc.kind, goodKey), tc.body)
			if status != tc.status || !strings.Contains(body, tc.marker) {
				t.Errorf("%d %s, want %d with %q", status, body, tc.status, tc.marker)
			}
		})
	}
	t.Run("gemini compat", func(t *testing.T) {
		t.Parallel()
		srv := fixture(t, Gemini)
		status, body := do(t, "POST", srv.URL+"/v1beta/openai/chat/completions", map[string]string{"Authorization": "Bearer " + goodKey}, chatBody("models/nope"))
		if status != 404 || !strings.HasPrefix(body, `[{"error"`) || !strings.Contains(body, "NOT_FOUND") {
			t.Errorf("%d %s", status, body)
		}
	})
}

func TestKeyInfoEndpoints(t *testing.T) {
	t.Parallel()
	// The authenticated reads keyexec probes with report the key's state
	// with 200 rather than refusing it.
	tests := []struct {
		kind   Kind
		path   string
		key    string
		marker string
	}{
		{OpenRouter, "/api/v1/key", goodKey, `"limit_remaining":null`},
		{OpenRouter, "/api/v1/key", quotaKey, `"limit_remaining":0`},
		{XAI, "/v1/api-key", goodKey, `"acls":["api-key:model:*","api-key:endpoint:*"]`},
		{XAI, "/v1/api-key", forbidKey, `"api_key_blocked":true`},
		{DeepSeek, "/user/balance", goodKey, `"is_available":true`},
		{DeepSeek, "/user/balance", quotaKey, `"is_available":false`},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%s %s %s", tc.kind, tc.path, tc.key), func(t *testing.T) {
			t.Parallel()
			srv := fixture(t, tc.kind)
			status, body := do(t, "GET", srv.URL+tc.path, auth(tc.kind, tc.key), "")
			if status != 200 || !strings.Contains(body, tc.marker) {
				t.Errorf("%d %s, want 200 with %q", status, body, tc.marker)
			}
			if strings.Contains(body, tc.key) {
				t.Errorf("the key info shows the whole key: %s", body)
			}
		})
	}
}
