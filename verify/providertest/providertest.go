// Package providertest is an in-process fake of the LLM providers keyexec
// proves credentials against (OpenAI, Azure OpenAI, Anthropic, Gemini, Groq,
// Mistral, OpenRouter, Together, xAI, DeepSeek, Ollama) and of the Entra ID
// endpoints azidentity and azure-identity talk to (App Service managed
// identity, a Microsoft identity platform authority). It answers with the
// status codes and JSON bodies the real services send (each body cites its
// source: "src:" a file read, "obs:" a body users posted, UNCONFIRMED when
// neither), checks the headers it receives, counts requests, and serves the
// endpoints the real SDKs call (chat completions, messages, generateContent,
// /api/chat), so an SDK pointed at it gets an answer.
//
// Start one server per provider:
//
//	srv := providertest.Start(t, providertest.OpenAI, providertest.Config{
//		Keys: map[string]providertest.Key{
//			"sk-good…": {},                              // accepted
//			"sk-poor…": {Mode: providertest.NoQuota},    // 429 insufficient_quota
//		},
//	})
//	env := []string{"OPENAI_BASE_URL=" + srv.BaseURL(), "OPENAI_API_KEY=sk-good…"}
//
// BaseURL is what the provider's own SDK variable takes; OpenAIBaseURL is the
// base_url an OpenAI SDK client takes for the same server. Behaviour is
// chosen per credential: a key missing from Config.Keys gets the provider's
// refusal, a listed key gets what its Key.Mode says (OK by default).
//
// What each kind checks, in order (then the Mode, then the model; chat
// endpoints validate the body after auth, scope and Mode):
//
//	OpenAI      /v1/models[/{id}], POST /v1/chat/completions (stream too);
//	            Authorization: Bearer (401 "You didn't provide an API key",
//	            401 invalid_api_key), OpenAI-Organization (401
//	            mismatched_organization), Key.Scopes (401 "Missing scopes"),
//	            model (404 model_not_found).
//	Azure       /openai/models, /openai/v1/models, POST /openai/deployments/
//	            {d}/chat/completions, POST /openai/v1/chat/completions;
//	            api-key (403 AuthenticationTypeDisabled with DisableLocalAuth;
//	            401 "Access denied") or Bearer AD token (401 statusCode form),
//	            api-version (404), deployment (404 DeploymentNotFound), body
//	            (400 for "{}", the zero-token deployment check).
//	Anthropic   /v1/models[/{id}], POST /v1/messages (stream too;
//	            anthropic-version required); x-api-key (401 "invalid
//	            x-api-key") or Bearer API key / OAuth token (401 "Invalid
//	            bearer token"); POST /v1/chat/completions, the OpenAI SDK
//	            compatibility layer (no anthropic-version).
//	Gemini      /v1beta/models[/{m}], POST /v1beta/models/{m}:generateContent
//	            and :streamGenerateContent; x-goog-api-key or ?key= (403
//	            PERMISSION_DENIED when absent, 400 API_KEY_INVALID); and
//	            /v1beta/openai/{models,chat/completions} with Bearer, errors
//	            wrapped in a JSON array as Google does there.
//	Groq        /openai/v1/{models,chat/completions}, Bearer (401 invalid_api_key).
//	Mistral     /v1/{models,chat/completions}, Bearer (401 {"message":"Unauthorized"}).
//	OpenRouter  /api/v1/key (Bearer; key info), /api/v1/models (no key, as
//	            the real one: proves nothing), /api/v1/chat/completions.
//	Together    /v1/models (a bare JSON array), /v1/chat/completions, Bearer.
//	xAI         /v1/api-key (key info), /v1/models, /v1/chat/completions;
//	            Bearer (400 "Incorrect API key provided").
//	DeepSeek    /models, /user/balance, /chat/completions (also under /v1), Bearer.
//	            (Groq to DeepSeek also serve GET models/{id}; chat streams.)
//	Ollama      /api/{version,tags,show,chat}, /v1/{models,chat/completions};
//	            no key (Config.Keys[""] sets the server's Mode).
//	ManagedIdentity  GET /msi/token?api-version=2019-08-01&resource=… with
//	            X-IDENTITY-HEADER (see managedidentity.go).
//	EntraID     https; /{tenant}/v2.0/.well-known/openid-configuration,
//	            /common/discovery/instance, POST /{tenant}/oauth2/v2.0/token.
//
// NoQuota shows on every request for OpenAI, Azure and Anthropic (as
// keyexec's tests expect) but only on generation for the other kinds, whose
// listings and key-info endpoints answer 200 for a key without credit, as
// the real ones do (OpenRouter and DeepSeek report it there instead).
//
// Counters (Requests, PathRequests, KeyRequests, MaxConcurrent, Log) make
// dedupe, parallelism and "the key never went there" assertions easy,
// Config.Latency adds a fixed delay to every answer, and Config.OnRequest
// sees each request as it arrives.
package providertest

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

// Server is a running fake provider.
type Server struct {
	URL  string // root, such as http://127.0.0.1:41234
	Kind Kind

	srv *httptest.Server
	mu  sync.Mutex
	cfg Config
	// counters
	total, inflight, maxInflight int
	perPath, perKey, failures    map[string]int
	scopeFlaps                   map[string]int
	log                          []Request
	bodyBytes                    int64
	caDir                        string
}

// New starts a fake of kind on a loopback port. Close it when done. It
// panics when it cannot listen, as httptest.NewServer does.
func New(kind Kind, cfg Config) *Server {
	s, err := Listen(kind, cfg)
	if err != nil {
		panic("providertest: " + err.Error())
	}
	return s
}

// Listen is New returning the error instead of panicking (Config.Addr
// not loopback, port taken).
func Listen(kind Kind, cfg Config) (*Server, error) {
	addr := cfg.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("listen address %q: only loopback hosts are allowed", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &Server{Kind: kind, cfg: defaults(kind, cfg), perPath: map[string]int{}, perKey: map[string]int{},
		failures: map[string]int{}, scopeFlaps: map[string]int{}}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.srv.Listener.Close()
	s.srv.Listener = ln
	// azidentity refuses an authority host without https, so the Entra
	// authority is TLS (trust it with CAFile or HTTPClient).
	if kind == EntraID {
		s.srv.StartTLS()
	} else {
		s.srv.Start()
	}
	s.URL = s.srv.URL
	return s, nil
}

// Start is New with t.Cleanup closing the server.
func Start(t testing.TB, kind Kind, cfg Config) *Server {
	t.Helper()
	s := New(kind, cfg)
	t.Cleanup(s.Close)
	return s
}

// Close shuts the server down, cutting any answer still streaming.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.caDir != "" {
		_ = os.RemoveAll(s.caDir)
		s.caDir = ""
	}
}

// BaseURL is the value of the variable the provider's own SDK reads:
// OPENAI_BASE_URL (root + "/v1"), AZURE_OPENAI_ENDPOINT, ANTHROPIC_BASE_URL,
// GOOGLE_GEMINI_BASE_URL, GROQ_BASE_URL, Mistral's server_url, OpenRouter's
// and xAI's OpenAI-style base (root + "/api/v1", root + "/v1"),
// TOGETHER_BASE_URL (root + "/v1"), DeepSeek's base, OLLAMA_HOST,
// IDENTITY_ENDPOINT (root + "/msi/token") or AZURE_AUTHORITY_HOST (root).
func (s *Server) BaseURL() string {
	switch s.Kind {
	case OpenAI, Together, XAI:
		return s.URL + "/v1"
	case OpenRouter:
		return s.URL + "/api/v1"
	case ManagedIdentity:
		return s.URL + "/msi/token"
	}
	return s.URL
}

// OpenAIBaseURL is the base_url an OpenAI SDK client (AutoGen's
// OpenAIChatCompletionClient, LiteLLM's openai/ route) takes for this
// server: Anthropic root + "/v1/", Gemini root + "/v1beta/openai/", Groq
// root + "/openai/v1", Mistral, DeepSeek and Ollama root + "/v1".
func (s *Server) OpenAIBaseURL() string {
	switch s.Kind {
	case Anthropic:
		return s.URL + "/v1/"
	case Gemini:
		return s.URL + "/v1beta/openai/"
	case Groq:
		return s.URL + "/openai/v1"
	case Mistral, DeepSeek, Ollama:
		return s.URL + "/v1"
	}
	return s.BaseURL()
}

// credential returns what authenticated the request, for counting.
func credential(r *http.Request) string {
	for _, h := range []string{"api-key", "x-api-key", "x-goog-api-key", "X-IDENTITY-HEADER"} {
		if v := r.Header.Get(h); v != "" {
			return v
		}
	}
	if v := r.URL.Query().Get("key"); v != "" {
		return v
	}
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	body := readSmall(r)
	s.mu.Lock()
	s.total++
	s.inflight++
	s.maxInflight = max(s.maxInflight, s.inflight)
	s.perPath[r.URL.Path]++
	if c := credential(r); c != "" {
		s.perKey[sources.Fingerprint(c)]++
	}
	req := Request{Kind: s.Kind, Seq: s.total, Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body}
	s.log = append(s.log, req)
	latency, onRequest := s.cfg.Latency, s.cfg.OnRequest
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
	}()
	if onRequest != nil {
		onRequest(req)
	}
	if !sources.Sleep(r.Context(), latency) {
		return
	}
	handler(s.Kind)(s, w, r, body)
}

// handler is the request handler of one kind; a function rather than a
// package map so the table cannot form an initialization cycle.
func handler(kind Kind) func(*Server, http.ResponseWriter, *http.Request, string) {
	switch kind {
	case Azure:
		return (*Server).azure
	case Anthropic:
		return (*Server).anthropic
	case Gemini:
		return (*Server).gemini
	case Groq:
		return (*Server).groq
	case Mistral:
		return (*Server).mistral
	case OpenRouter:
		return (*Server).openRouter
	case Together:
		return (*Server).together
	case XAI:
		return (*Server).xai
	case DeepSeek:
		return (*Server).deepSeek
	case Ollama:
		return (*Server).ollama
	case ManagedIdentity:
		return (*Server).managedIdentity
	case EntraID:
		return (*Server).entra
	}
	return (*Server).openAI
}

// lookup finds an accepted key (or, with token, an accepted Bearer token).
func (s *Server) lookup(cred string, token bool) (Key, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	keys := s.cfg.Keys
	if token {
		keys = s.cfg.Tokens
	}
	k, ok := keys[cred]
	return k, ok
}

// config returns a copy of the configuration (its maps are shared: read only).
func (s *Server) config() Config {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cfg
}

// failing counts a failure of a Times-limited mode and says whether this
// request should still fail.
func (s *Server) failing(cred string, k Key) bool {
	if k.Times <= 0 {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fp := sources.Fingerprint(cred)
	if s.failures[fp] >= k.Times {
		return false
	}
	s.failures[fp]++
	return true
}
