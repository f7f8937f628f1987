// Package providertest is an in-process fake of the OpenAI, Azure OpenAI and
// Anthropic HTTP APIs, as far as keyexec's probe uses them. It answers with
// the status codes and JSON error bodies the real providers send (see
// PROVIDERS.md), checks the headers it receives, and counts requests.
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
// BaseURL is what the SDK variable takes: OPENAI_BASE_URL (root + "/v1"),
// AZURE_OPENAI_ENDPOINT or ANTHROPIC_BASE_URL (the root). Behaviour is chosen
// per credential: a key missing from Config.Keys gets the provider's 401, a
// listed key gets what its Key.Mode says (OK by default). Azure AD tokens
// go in Config.Tokens; Anthropic accepts them as Authorization: Bearer.
//
// What each provider checks, in order:
//
//	OpenAI     path (GET /v1/models, GET /v1/models/{id}; else 404 "Invalid URL"),
//	           Authorization: Bearer (401 "You didn't provide an API key",
//	           code null; 401 invalid_api_key echoing "sk-…abcd"),
//	           OpenAI-Organization against Key.Org (401 mismatched_organization),
//	           the key's Mode, then the model (404 model_not_found).
//	Azure      path (/openai/models, /openai/v1/models, POST
//	           /openai/deployments/{d}/chat/completions, POST
//	           /openai/v1/chat/completions; else 404 Resource not found),
//	           api-key or Authorization: Bearer AD token (401), api-version
//	           query against Config.APIVersions (404 Resource not found), the
//	           Mode, the deployment (404 DeploymentNotFound), then the body
//	           (400 "'messages' is a required property" for "{}").
//	Anthropic  path (GET /v1/models; else 404 not_found_error),
//	           anthropic-version (400, as Anthropic answers), x-api-key or
//	           Bearer (401 authentication_error), then the Mode.
//
// Counters (Requests, PathRequests, KeyRequests, MaxConcurrent, Log) make
// dedupe, parallelism and "the key never went there" assertions easy, and
// Config.Latency adds a fixed delay to every answer.
package providertest

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources"
)

// Kind selects which provider a Server fakes.
type Kind string

// Providers the fake speaks.
const (
	OpenAI    Kind = "openai"
	Azure     Kind = "azure"
	Anthropic Kind = "anthropic"
)

// Mode is how the fake answers an accepted credential.
type Mode string

// Modes. Each answers with its provider's own status and body.
const (
	OK             Mode = ""                // 200 (Azure deployment check: 400 for "{}")
	InvalidKey     Mode = "invalid_key"     // 401, as for an unknown key
	EchoKey        Mode = "echo_key"        // 401 whose message repeats the whole key, as some gateways do
	NoOrganization Mode = "no_organization" // OpenAI 401 no_organization
	NoQuota        Mode = "no_quota"        // OpenAI/Azure 429 insufficient_quota; Anthropic 400 credit balance
	RateLimited    Mode = "rate_limited"    // 429 with Retry-After, Key.Times times (0: always)
	Forbidden      Mode = "forbidden"       // 403: region (OpenAI, Anthropic), network rules (Azure)
	ServerError    Mode = "server_error"    // Key.Status (default 500), Key.Times times (0: always)
	Slow           Mode = "slow"            // waits Key.Delay, then OK
	Redirect       Mode = "redirect"        // 307 to Key.Location
	HugeBody       Mode = "huge_body"       // 200 streaming Key.Size bytes of JSON (default 50 MiB)
	Truncated      Mode = "truncated"       // 200 whose body stops half-way (connection cut)
	NotJSON        Mode = "not_json"        // 200 with an HTML page
)

// Key is the behaviour of one accepted credential.
type Key struct {
	Mode       Mode
	Org        string        // OpenAI: organization of the key; another OpenAI-Organization → 401
	Times      int           // RateLimited, ServerError: fail this many requests, then OK (0: always)
	Status     int           // ServerError status (default 500)
	RetryAfter string        // RateLimited Retry-After header (default "1")
	Delay      time.Duration // Slow
	Location   string        // Redirect target
	Size       int64         // HugeBody size in bytes (default 50 MiB)
}

// Config sets up a Server.
type Config struct {
	Keys   map[string]Key // accepted keys; any other key gets a 401
	Tokens map[string]Key // Azure AD tokens (Bearer); Anthropic Bearer tokens
	// Models known to OpenAI's GET /v1/models/{id} (default gpt-4o-mini,
	// gpt-4o, and Anthropic's listing).
	Models []string
	// Deployments of the Azure resource (default gpt-4o-mini).
	Deployments []string
	// APIVersions Azure accepts (default 2024-02-01, 2024-06-01,
	// 2024-10-21, 2025-01-01-preview; "preview" and "latest" on /openai/v1).
	APIVersions []string
	Latency     time.Duration // added before every answer
}

// Request is one request the fake received, headers included (credentials
// too: this is a test helper).
type Request struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   string
}

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
	log                          []Request
	bodyBytes                    int64
}

// New starts a fake of kind on a loopback port. Close it when done.
func New(kind Kind, cfg Config) *Server {
	if cfg.Models == nil {
		cfg.Models = []string{"gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5"}
	}
	if cfg.Deployments == nil {
		cfg.Deployments = []string{"gpt-4o-mini"}
	}
	if cfg.APIVersions == nil {
		cfg.APIVersions = []string{"2024-02-01", "2024-06-01", "2024-10-21", "2025-01-01-preview"}
	}
	s := &Server{Kind: kind, cfg: cfg, perPath: map[string]int{}, perKey: map[string]int{}, failures: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	return s
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
}

// BaseURL is the value for OPENAI_BASE_URL (root + "/v1"),
// AZURE_OPENAI_ENDPOINT or ANTHROPIC_BASE_URL (root).
func (s *Server) BaseURL() string {
	if s.Kind == OpenAI {
		return s.URL + "/v1"
	}
	return s.URL
}

// SetKey adds or changes an accepted key.
func (s *Server) SetKey(key string, k Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Keys == nil {
		s.cfg.Keys = map[string]Key{}
	}
	s.cfg.Keys[key] = k
}

// SetLatency changes the delay added before every answer.
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cfg.Latency = d
}

// Requests is the number of requests received.
func (s *Server) Requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// PathRequests is the number of requests received for one path ("/v1/models").
func (s *Server) PathRequests(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perPath[path]
}

// KeyRequests is the number of requests that carried credential (counted by
// fingerprint).
func (s *Server) KeyRequests(credential string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.perKey[sources.Fingerprint(credential)]
}

// MaxConcurrent is the largest number of requests in flight at once.
func (s *Server) MaxConcurrent() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxInflight
}

// BodyBytesSent is how many bytes HugeBody answers got written before the
// client hung up (what the socket accepted, not what the client read).
func (s *Server) BodyBytesSent() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bodyBytes
}

// Log returns a copy of every request received, in order.
func (s *Server) Log() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// credential returns what authenticated the request, for counting.
func credential(r *http.Request) string {
	if v := r.Header.Get("api-key"); v != "" {
		return v
	}
	if v := r.Header.Get("x-api-key"); v != "" {
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
	s.log = append(s.log, Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: body})
	latency := s.cfg.Latency
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inflight--
		s.mu.Unlock()
	}()
	if !wait(r, latency) {
		return
	}
	switch s.Kind {
	case Azure:
		s.azure(w, r, body)
	case Anthropic:
		s.anthropic(w, r)
	default:
		s.openAI(w, r)
	}
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

// wait sleeps for d unless the client goes away first.
func wait(r *http.Request, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}
