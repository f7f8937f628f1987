package providertest

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Keys every kind's fixture accepts, one per mode under test.
const (
	goodKey   = "key-good-0123456789abcdef"
	quotaKey  = "key-quota-0123456789abcdef"
	rateKey   = "key-rate-0123456789abcdef"
	errorKey  = "key-error-0123456789abcdef"
	forbidKey = "key-forbid-0123456789abcdef"
	badKey    = "key-unknown-0123456789abcdef"
)

// fixture starts kind with the keys above.
func fixture(t *testing.T, kind Kind) *Server {
	t.Helper()
	return Start(t, kind, Config{Keys: map[string]Key{
		goodKey: {}, quotaKey: {Mode: NoQuota}, rateKey: {Mode: RateLimited},
		errorKey: {Mode: ServerError, Status: 503}, forbidKey: {Mode: Forbidden},
	}})
}

// do sends one request and returns the status and the raw body.
func do(t *testing.T, method, url string, header map[string]string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// auth is the header a kind's SDK sends its key in.
func auth(kind Kind, key string) map[string]string {
	switch kind {
	case Azure:
		return map[string]string{"api-key": key}
	case Anthropic:
		return map[string]string{"x-api-key": key, "anthropic-version": "2023-06-01"}
	case Gemini:
		return map[string]string{"x-goog-api-key": key}
	}
	return map[string]string{"Authorization": "Bearer " + key}
}

// endpoint is one authenticated route of a kind.
type endpoint struct {
	method, path, body string
	chat               bool
	header             map[string]string // replaces auth() (compatibility layers)
}

func chatBody(model string) string {
	return fmt.Sprintf(`{"model":%q,"messages":[{"role":"user","content":"hi"}]}`, model)
}

const v = "?api-version=2024-10-21"

// endpoints lists each kind's authenticated routes: reads first, then chat.
func endpoints(kind Kind, key string) []endpoint {
	bearer := map[string]string{"Authorization": "Bearer " + key}
	switch kind {
	case OpenAI:
		return []endpoint{{"GET", "/v1/models", "", false, nil}, {"GET", "/v1/models/gpt-4o-mini", "", false, nil}, {"POST", "/v1/chat/completions", chatBody("gpt-4o-mini"), true, nil}}
	case Azure:
		return []endpoint{{"GET", "/openai/models" + v, "", false, nil}, {"POST", "/openai/deployments/gpt-4o-mini/chat/completions" + v, chatBody(""), true, nil},
			{"POST", "/openai/v1/chat/completions", chatBody("gpt-4o-mini"), true, nil}}
	case Anthropic:
		return []endpoint{{"GET", "/v1/models", "", false, nil}, {"GET", "/v1/models/claude-sonnet-4-5", "", false, nil},
			{"POST", "/v1/messages", `{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}`, true, nil},
			{"POST", "/v1/chat/completions", chatBody("claude-sonnet-4-5"), true, bearer}}
	case Gemini:
		return []endpoint{{"GET", "/v1beta/models", "", false, nil}, {"GET", "/v1beta/models/gemini-2.0-flash", "", false, nil},
			{"POST", "/v1beta/models/gemini-2.0-flash:generateContent", `{"contents":[{"parts":[{"text":"hi"}]}]}`, true, nil},
			{"GET", "/v1beta/openai/models", "", false, bearer}, {"POST", "/v1beta/openai/chat/completions", chatBody("gemini-2.0-flash"), true, bearer}}
	case Groq:
		return []endpoint{{"GET", "/openai/v1/models", "", false, nil}, {"GET", "/openai/v1/models/llama-3.3-70b-versatile", "", false, nil},
			{"POST", "/openai/v1/chat/completions", chatBody("llama-3.3-70b-versatile"), true, nil}}
	case Mistral:
		return []endpoint{{"GET", "/v1/models", "", false, nil}, {"POST", "/v1/chat/completions", chatBody("mistral-small-latest"), true, nil}}
	case OpenRouter:
		return []endpoint{{"GET", "/api/v1/key", "", false, nil}, {"POST", "/api/v1/chat/completions", chatBody("openai/gpt-4o-mini"), true, nil}}
	case Together:
		return []endpoint{{"GET", "/v1/models", "", false, nil}, {"POST", "/v1/chat/completions", chatBody("meta-llama/Llama-3.3-70B-Instruct-Turbo"), true, nil}}
	case XAI:
		return []endpoint{{"GET", "/v1/api-key", "", false, nil}, {"GET", "/v1/models", "", false, nil}, {"POST", "/v1/chat/completions", chatBody("grok-4"), true, nil}}
	case DeepSeek:
		return []endpoint{{"GET", "/models", "", false, nil}, {"GET", "/user/balance", "", false, nil}, {"GET", "/v1/models", "", false, nil},
			{"POST", "/chat/completions", chatBody("deepseek-chat"), true, nil}}
	}
	return nil
}

// keyed are the kinds that take a key.
var keyed = []Kind{OpenAI, Azure, Anthropic, Gemini, Groq, Mistral, OpenRouter, Together, XAI, DeepSeek}

// without returns header minus the credential headers (what a request
// without a key sends).
func without(h map[string]string) map[string]string {
	out := map[string]string{}
	for k, val := range h {
		if k != "Authorization" && k != "api-key" && k != "x-api-key" && k != "x-goog-api-key" {
			out[k] = val
		}
	}
	return out
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	// The documented answer to no key and to an unknown key, per kind;
	// compat marks Gemini's OpenAI-compatible routes (errors in an array).
	want := map[Kind]struct {
		missing, unknown int
		mMarker, uMarker string
	}{
		OpenAI:     {401, 401, "You didn't provide an API key", `"code":"invalid_api_key"`},
		Azure:      {401, 401, "Access denied due to invalid subscription key", "Access denied due to invalid subscription key"},
		Anthropic:  {401, 401, "x-api-key header is required", "authentication_error"},
		Gemini:     {403, 400, "unregistered callers", "API_KEY_INVALID"},
		Groq:       {401, 401, "Invalid API Key", "Invalid API Key"},
		Mistral:    {401, 401, `"message":"Unauthorized"`, `"message":"Unauthorized"`},
		OpenRouter: {401, 401, "No auth credentials found", "User not found."},
		Together:   {401, 401, "invalid_api_key", "invalid_api_key"},
		XAI:        {400, 400, "Incorrect API key provided", "Incorrect API key provided"},
		DeepSeek:   {401, 401, "auth header format should be Bearer", "is invalid"},
	}
	for _, kind := range keyed {
		srv := fixture(t, kind)
		for _, e := range endpoints(kind, badKey) {
			h := e.header
			if h == nil {
				h = auth(kind, badKey)
			}
			w := want[kind]
			t.Run(fmt.Sprintf("%s %s %s", kind, e.method, e.path), func(t *testing.T) {
				t.Parallel()
				status, body := do(t, e.method, srv.URL+e.path, without(h), e.body)
				if status != w.missing || !strings.Contains(body, w.mMarker) {
					t.Errorf("no key: %d %s, want %d with %q", status, body, w.missing, w.mMarker)
				}
				status, body = do(t, e.method, srv.URL+e.path, h, e.body)
				if status != w.unknown || !strings.Contains(body, w.uMarker) {
					t.Errorf("unknown key: %d %s, want %d with %q", status, body, w.unknown, w.uMarker)
				}
				if strings.HasPrefix(e.path, "/v1beta/openai/") && !strings.HasPrefix(body, "[") {
					t.Errorf("Gemini's compatible API wraps errors in an array: %s", body)
				}
				if strings.Contains(body, badKey) {
					t.Errorf("the refusal echoes the whole key: %s", body)
				}
			})
		}
	}
}

func TestGoodKey(t *testing.T) {
	t.Parallel()
	for _, kind := range keyed {
		srv := fixture(t, kind)
		for _, e := range endpoints(kind, goodKey) {
			h := e.header
			if h == nil {
				h = auth(kind, goodKey)
			}
			t.Run(fmt.Sprintf("%s %s %s", kind, e.method, e.path), func(t *testing.T) {
				t.Parallel()
				status, body := do(t, e.method, srv.URL+e.path, h, e.body)
				if status != 200 {
					t.Fatalf("%d %s", status, body)
				}
				if e.chat && !strings.Contains(body, DefaultReply) {
					t.Errorf("chat answer without the reply: %s", body)
				}
			})
		}
	}
}

func TestKeylessEndpoints(t *testing.T) {
	t.Parallel()
	or := fixture(t, OpenRouter)
	ol := Start(t, Ollama, Config{})
	tests := []struct {
		name, method, url, body string
		status                  int
		marker                  string
	}{
		// OpenRouter lists models to anyone: keyexec must not take it as proof.
		{"openrouter models without key", "GET", or.URL + "/api/v1/models", "", 200, `"id":"openai/gpt-4o-mini"`},
		{"ollama root", "GET", ol.URL + "/", "", 200, "Ollama is running"},
		{"ollama version", "GET", ol.URL + "/api/version", "", 200, `"version":"` + ollamaVersion},
		{"ollama tags", "GET", ol.URL + "/api/tags", "", 200, `"name":"llama3.2:latest"`},
		{"ollama show", "POST", ol.URL + "/api/show", `{"model":"llama3.2"}`, 200, `"capabilities"`},
		{"ollama show not pulled", "POST", ol.URL + "/api/show", `{"model":"x"}`, 404, `{"error":"model 'x' not found"}`},
		{"ollama chat", "POST", ol.URL + "/api/chat", `{"model":"llama3.2","messages":[{"role":"user","content":"hi"}],"stream":false}`, 200, `"done":true`},
		{"ollama chat streams by default", "POST", ol.URL + "/api/chat", `{"model":"llama3.2","messages":[{"role":"user","content":"hi"}]}`, 200, `"done":false`},
		{"ollama chat not pulled", "POST", ol.URL + "/api/chat", `{"model":"x","messages":[]}`, 404, "model 'x' not found"},
		{"ollama v1 models", "GET", ol.URL + "/v1/models", "", 200, `"owned_by":"library"`},
		{"ollama v1 chat", "POST", ol.URL + "/v1/chat/completions", chatBody("llama3.2"), 200, DefaultReply},
		{"ollama v1 not pulled", "POST", ol.URL + "/v1/chat/completions", chatBody("x"), 404, `"type":"not_found_error"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := do(t, tc.method, tc.url, nil, tc.body)
			if status != tc.status || !strings.Contains(body, tc.marker) {
				t.Errorf("%d %s, want %d with %q", status, body, tc.status, tc.marker)
			}
		})
	}
}
