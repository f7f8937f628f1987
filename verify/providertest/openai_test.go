package providertest

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestRestrictedKeys(t *testing.T) {
	t.Parallel()
	const (
		reader    = "sk-proj-reader-0123456789"
		requester = "sk-proj-requester-0123456789"
		nothing   = "sk-proj-nothing-0123456789"
	)
	srv := Start(t, OpenAI, Config{Keys: map[string]Key{
		reader:    {Scopes: []string{ScopeModelRead}},
		requester: {Scopes: []string{ScopeModelRequest}},
		nothing:   {Scopes: []string{}},
	}})
	// keyexec's plan for a restricted key: 401 on /models, then a chat
	// request whose body fails validation proves model.request.
	probe := `{"model":"gpt-4o-mini","messages":[]}`
	tests := []struct {
		name, key, method, path, body string
		status                        int
		marker                        string
	}{
		{"reader lists", reader, "GET", "/v1/models", "", 200, `"object":"list"`},
		{"reader cannot chat", reader, "POST", "/v1/chat/completions", probe, 401, "Missing scopes: model.request."},
		{"requester cannot list", requester, "GET", "/v1/models", "", 401, "Missing scopes: api.model.read."},
		{"requester cannot read a model", requester, "GET", "/v1/models/gpt-4o-mini", "", 401, "Missing scopes: api.model.read."},
		{"requester probe gets the validation 400", requester, "POST", "/v1/chat/completions", probe, 400, `"code":"empty_array"`},
		{"requester chats", requester, "POST", "/v1/chat/completions", chatBody("gpt-4o-mini"), 200, DefaultReply},
		{"no scopes at all", nothing, "POST", "/v1/chat/completions", probe, 401, "Missing scopes: model.request."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := do(t, tc.method, srv.URL+tc.path, auth(OpenAI, tc.key), tc.body)
			if status != tc.status || !strings.Contains(body, tc.marker) {
				t.Fatalf("%d %s, want %d with %q", status, body, tc.status, tc.marker)
			}
			if status == 401 && !strings.Contains(body, `"code":null`) {
				t.Errorf("a missing scope has code null (a wrong key has invalid_api_key): %s", body)
			}
		})
	}
}

func TestSpuriousScopeErrors(t *testing.T) {
	t.Parallel()
	srv := Start(t, OpenAI, Config{Keys: map[string]Key{key: {SpuriousScopeErrors: 2}}})
	var got []int
	for range 3 {
		status, _ := do(t, "GET", srv.BaseURL()+"/models", auth(OpenAI, key), "")
		got = append(got, status)
	}
	if got[0] != 401 || got[1] != 401 || got[2] != 200 {
		t.Errorf("statuses %v, want 401 401 200", got)
	}
	// Chat is not affected: the flaps are reported on listings.
	if status, body := do(t, "POST", srv.BaseURL()+"/chat/completions", auth(OpenAI, key), chatBody("gpt-4o-mini")); status != 200 {
		t.Errorf("chat: %d %s", status, body)
	}
}

func TestChatValidation(t *testing.T) {
	t.Parallel()
	srv := Start(t, OpenAI, Config{Keys: map[string]Key{key: {}, "sk-quota-000": {Mode: NoQuota}}})
	tests := []struct {
		name, key, body string
		status          int
		marker          string
	}{
		{"not json", key, "{", 400, "We could not parse the JSON body"},
		{"no model", key, `{"messages":[{"role":"user","content":"x"}]}`, 400, "you must provide a model parameter"},
		{"no messages", key, `{"model":"gpt-4o-mini"}`, 400, `"code":"missing_required_parameter"`},
		{"empty messages", key, `{"model":"gpt-4o-mini","messages":[]}`, 400, `"param":"messages"`},
		{"unknown model", key, chatBody("gpt-9"), 404, "model_not_found"},
		// Auth and modes come before the body.
		{"bad key before body", "sk-nope-0000", "{", 401, "invalid_api_key"},
		{"mode before body", "sk-quota-000", "{", 429, "insufficient_quota"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := do(t, "POST", srv.URL+"/v1/chat/completions", auth(OpenAI, tc.key), tc.body)
			if status != tc.status || !strings.Contains(body, tc.marker) {
				t.Errorf("%d %s, want %d with %q", status, body, tc.status, tc.marker)
			}
		})
	}
}

// sse reads a server-sent event stream into its data payloads.
func sse(t *testing.T, srv *Server, path string, header map[string]string, body string) []string {
	t.Helper()
	req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
	for k, val := range header {
		req.Header.Set(k, val)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var data []string
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			data = append(data, d)
		}
	}
	return data
}

func TestChatStream(t *testing.T) {
	t.Parallel()
	srv := Start(t, OpenAI, Config{Keys: map[string]Key{key: {}}, Reply: "streamed words"})
	data := sse(t, srv, "/v1/chat/completions", auth(OpenAI, key),
		`{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
	if len(data) != 5 || data[4] != "[DONE]" {
		t.Fatalf("events %q", data)
	}
	var text strings.Builder
	for _, d := range data[:3] {
		var c struct {
			Object  string
			Choices []struct{ Delta struct{ Content string } }
		}
		if err := json.Unmarshal([]byte(d), &c); err != nil || c.Object != "chat.completion.chunk" {
			t.Fatalf("chunk %s: %v", d, err)
		}
		text.WriteString(c.Choices[0].Delta.Content)
	}
	if text.String() != "streamed words" || !strings.Contains(data[3], `"usage"`) {
		t.Errorf("text %q, usage chunk %s", text.String(), data[3])
	}
}

func TestAnthropicStreamAndCompat(t *testing.T) {
	t.Parallel()
	srv := Start(t, Anthropic, Config{Keys: map[string]Key{key: {}}, Tokens: map[string]Key{"oauth-token": {}}})
	data := sse(t, srv, "/v1/messages", auth(Anthropic, key),
		`{"model":"claude-sonnet-4-5","max_tokens":8,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	if len(data) != 6 || !strings.Contains(data[2], DefaultReply) || !strings.Contains(data[5], "message_stop") {
		t.Errorf("events %q", data)
	}
	tests := []struct {
		name, path string
		header     map[string]string
		body       string
		status     int
		marker     string
	}{
		{"api key as Bearer (anthropic-sdk-python 2.x)", "/v1/models", map[string]string{"Authorization": "Bearer " + key, "anthropic-version": "2026-10-21"}, "", 200, `"has_more"`},
		{"unknown Bearer", "/v1/models", map[string]string{"Authorization": "Bearer nope", "anthropic-version": "2023-06-01"}, "", 401, "Invalid bearer token"},
		{"version too old", "/v1/models", map[string]string{"x-api-key": key, "anthropic-version": "2022-01-01"}, "", 400, "invalid version"},
		{"oauth token on native API", "/v1/models", map[string]string{"Authorization": "Bearer oauth-token", "anthropic-version": "2023-06-01"}, "", 200, `"has_more"`},
		{"compat without anthropic-version", "/v1/chat/completions", map[string]string{"Authorization": "Bearer " + key}, chatBody("claude-sonnet-4-5"), 200, `"object":"chat.completion"`},
		{"compat unknown model", "/v1/chat/completions", map[string]string{"Authorization": "Bearer " + key}, chatBody("claude-0"), 404, "not_found_error"},
		{"messages empty", "/v1/messages", auth(Anthropic, key), `{"model":"claude-sonnet-4-5","max_tokens":1,"messages":[]}`, 400, "at least one message is required"},
		{"messages without max_tokens", "/v1/messages", auth(Anthropic, key), `{"model":"claude-sonnet-4-5","messages":[{"role":"user","content":"x"}]}`, 400, "max_tokens: Field required"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			method := "GET"
			if tc.body != "" {
				method = "POST"
			}
			status, body := do(t, method, srv.URL+tc.path, tc.header, tc.body)
			if status != tc.status || !strings.Contains(body, tc.marker) {
				t.Errorf("%d %s, want %d with %q", status, body, tc.status, tc.marker)
			}
		})
	}
}

func TestGeminiDetails(t *testing.T) {
	t.Parallel()
	srv := Start(t, Gemini, Config{Keys: map[string]Key{goodKey: {}}})
	data := sse(t, srv, "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse", auth(Gemini, goodKey), `{"contents":[{"parts":[{"text":"hi"}]}]}`)
	if len(data) != 1 || !strings.Contains(data[0], DefaultReply) {
		t.Errorf("events %q", data)
	}
	tests := []struct {
		name, method, path string
		header             map[string]string
		status             int
		marker             string
	}{
		{"key in query", "GET", "/v1beta/models?key=" + goodKey, nil, 200, `"name":"models/gemini-2.0-flash"`},
		{"v1 too", "GET", "/v1/models/gemini-2.5-flash", auth(Gemini, goodKey), 200, `"supportedGenerationMethods"`},
		{"wrong path is Google's HTML 404", "GET", "/v2/models", auth(Gemini, goodKey), 404, "That’s an error."},
		{"compat empty bearer", "GET", "/v1beta/openai/models", map[string]string{"Authorization": "Bearer"}, 400, "Invalid Authorization header."},
		{"compat model ids carry models/", "GET", "/v1beta/openai/models", map[string]string{"Authorization": "Bearer " + goodKey}, 200, `"id":"models/gemini-2.0-flash"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := do(t, tc.method, srv.URL+tc.path, tc.header, "")
			if status != tc.status || !strings.Contains(body, tc.marker) {
				t.Errorf("%d %s, want %d with %q", status, body, tc.status, tc.marker)
			}
		})
	}
}
