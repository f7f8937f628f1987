// Package vaulttest is an in-process fake of HashiCorp Vault's HTTP API for
// tests, written from Vault's API documentation for the endpoints keyexec
// uses: KV v1 and v2 (reads, writes, metadata, lists), the
// sys/internal/ui/mounts preflight, sys/mounts, token lookup-self, revoke-self
// and create, AppRole and Kubernetes login, ACL policies, the
// X-Vault-Token and X-Vault-Namespace headers and {"errors":[…]} bodies with
// Vault's status codes (403 denied, 404 missing, 503 sealed).
//
// Like a dev server it starts unsealed with "secret/" mounted as KV v2. Set-up
// goes through Admin, which speaks the real HTTP API, so the same test code
// runs against a real Vault dev server. Fake-only controls (Seal, Deny,
// SetDelay, FailNext, AddKubernetesRole) and counters (Count, Reads, Requests,
// Revoked) sit on Server.
package vaulttest

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is a running fake Vault. Its methods are safe for concurrent use.
type Server struct {
	// URL is the address to give clients, as VAULT_ADDR.
	URL string
	// RootToken is a token with the root policy, as on a dev server.
	RootToken string

	srv *httptest.Server

	mu         sync.Mutex
	sealed     bool
	delay      time.Duration
	failN      int
	failStatus int
	namespaces map[string]*namespace
	policies   map[string][]rule
	tokens     map[string]*token
	deny       map[string][]string // token → denied path patterns
	counts     map[string]int
	requests   int
	reads      int
	revoked    []string
}

// New starts a fake Vault on a loopback port and stops it when the test ends.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		RootToken:  "hvs.root" + randomHex(12),
		namespaces: map[string]*namespace{"": newNamespace()},
		policies:   map[string][]rule{},
		tokens:     map[string]*token{},
		deny:       map[string][]string{},
		counts:     map[string]int{},
	}
	s.namespaces[""].mounts["secret/"] = newKV2Mount()
	s.tokens[s.RootToken] = &token{id: s.RootToken, accessor: randomHex(12), policies: []string{"root"}, root: true}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server. New registers it with t.Cleanup.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Admin returns a client for set-up calls with the root token.
func (s *Server) Admin() *Admin { return &Admin{Addr: s.URL, Token: s.RootToken} }

// Seal makes every request answer 503 {"errors":["Vault is sealed"]}.
func (s *Server) Seal() { s.mu.Lock(); s.sealed = true; s.mu.Unlock() }

// Unseal undoes Seal.
func (s *Server) Unseal() { s.mu.Lock(); s.sealed = false; s.mu.Unlock() }

// SetDelay makes every request wait d before it is answered (or until the
// client gives up), to simulate a slow Vault.
func (s *Server) SetDelay(d time.Duration) { s.mu.Lock(); s.delay = d; s.mu.Unlock() }

// FailNext makes the next n requests answer status with an {"errors":[…]}
// body, to exercise retries (500, 502, 429, …).
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	s.failN, s.failStatus = n, status
	s.mu.Unlock()
}

// Deny adds a deny rule for token on an API path pattern (without /v1/;
// a trailing * matches any suffix, + one segment), as a policy with
// capabilities = ["deny"] would. It also applies to the root token.
func (s *Server) Deny(tok, pattern string) {
	s.mu.Lock()
	s.deny[tok] = append(s.deny[tok], pattern)
	s.mu.Unlock()
}

// AddKubernetesRole enables the kubernetes auth method at auth/kubernetes
// (if needed) and adds a role whose login succeeds with exactly jwt, giving
// tokens with the named policies. Real Vault would ask the Kubernetes
// TokenReview API; this is fake-only.
func (s *Server) AddKubernetesRole(role, jwt string, policies ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ns := s.namespaces[""]
	am, ok := ns.auths["kubernetes/"]
	if !ok {
		am = &authMount{typ: "kubernetes", roles: map[string]*authRole{}}
		ns.auths["kubernetes/"] = am
	}
	am.roles[role] = &authRole{name: role, jwt: jwt, policies: policies}
}

// AddNamespace creates a namespace (Vault Enterprise), empty but for a KV v2
// mount at "secret/".
func (s *Server) AddNamespace(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name = strings.Trim(name, "/")
	if _, ok := s.namespaces[name]; !ok {
		ns := newNamespace()
		ns.mounts["secret/"] = newKV2Mount()
		s.namespaces[name] = ns
	}
}

// Count returns how many requests reached /v1/PATH (any method; the query
// string is ignored), for example Count("secret/data/llm/openai").
func (s *Server) Count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[strings.Trim(path, "/")]
}

// Reads returns how many secret reads reached a KV engine (past the token
// check): GET requests on a KV v1 secret or a KV v2 data/ path, found or not;
// not metadata, lists, the mounts preflight, or requests refused with 403/503.
func (s *Server) Reads() int { s.mu.Lock(); defer s.mu.Unlock(); return s.reads }

// Requests returns the total number of requests received.
func (s *Server) Requests() int { s.mu.Lock(); defer s.mu.Unlock(); return s.requests }

// ResetCounts sets Count, Reads and Requests back to zero (after set-up).
func (s *Server) ResetCounts() {
	s.mu.Lock()
	s.counts, s.requests, s.reads = map[string]int{}, 0, 0
	s.mu.Unlock()
}

// Revoked returns the tokens revoked through auth/token/revoke-self, in order.
func (s *Server) Revoked() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.revoked...)
}

// TokenValid reports whether tok is a known, unrevoked token.
func (s *Server) TokenValid(tok string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.tokens[tok]
	return ok
}

// request is one call as the handlers see it.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	path   string // API path without /v1/ and without the query
	ns     *namespace
	tok    *token // nil when no valid token was sent
	body   map[string]any
	isList bool
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	p, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok {
		writeErrors(w, http.StatusNotFound)
		return
	}
	p = strings.TrimPrefix(p, "/")
	rq := &request{w: w, r: r, path: p}
	rq.isList = r.Method == "LIST" || (r.Method == http.MethodGet && r.URL.Query().Get("list") == "true")

	s.mu.Lock()
	s.requests++
	s.counts[strings.Trim(p, "/")]++
	delay := s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failN > 0 {
		s.failN--
		writeErrors(w, s.failStatus, "injected failure "+http.StatusText(s.failStatus))
		return
	}
	if s.sealed {
		writeErrors(w, http.StatusServiceUnavailable, "Vault is sealed")
		return
	}
	if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
		if err := json.NewDecoder(r.Body).Decode(&rq.body); err != nil && err.Error() != "EOF" {
			writeErrors(w, http.StatusBadRequest, "failed to parse JSON input: "+err.Error())
			return
		}
	}
	nsName := strings.Trim(r.Header.Get("X-Vault-Namespace"), "/")
	if rq.ns, ok = s.namespaces[nsName]; !ok {
		writeErrors(w, http.StatusForbidden, "permission denied")
		return
	}
	if t, ok := s.tokens[r.Header.Get("X-Vault-Token")]; ok {
		rq.tok = t
	}
	s.route(rq)
}

func (s *Server) route(rq *request) {
	p := rq.path
	switch {
	case strings.HasPrefix(p, "sys/internal/ui/mounts/"):
		s.uiMount(rq, strings.TrimPrefix(p, "sys/internal/ui/mounts/"))
		return
	case p == "sys/seal-status" || p == "sys/health":
		writeJSON(rq.w, http.StatusOK, map[string]any{"sealed": false, "initialized": true, "standby": false})
		return
	case strings.HasPrefix(p, "auth/") && strings.HasSuffix(p, "/login"):
		s.login(rq, strings.TrimSuffix(strings.TrimPrefix(p, "auth/"), "/login"))
		return
	}
	// Every other path needs a token whose policies grant the capability.
	if rq.tok == nil || !s.allowed(rq.tok, p, capabilityFor(rq)) {
		writeErrors(rq.w, http.StatusForbidden, "permission denied")
		return
	}
	switch {
	case p == "auth/token/lookup-self":
		s.lookupSelf(rq)
	case p == "auth/token/revoke-self":
		s.revokeSelf(rq)
	case p == "auth/token/create":
		s.createToken(rq)
	case strings.HasPrefix(p, "sys/mounts/"):
		s.sysMount(rq, strings.TrimPrefix(p, "sys/mounts/"))
	case strings.HasPrefix(p, "sys/auth/"):
		s.sysAuth(rq, strings.TrimPrefix(p, "sys/auth/"))
	case strings.HasPrefix(p, "sys/policies/acl/"), strings.HasPrefix(p, "sys/policy/"):
		s.putPolicy(rq, p[strings.LastIndex(p, "/")+1:])
	case strings.HasPrefix(p, "sys/namespaces/"):
		s.namespaces[strings.Trim(strings.TrimPrefix(p, "sys/namespaces/"), "/")] = newNamespace()
		writeSecret(rq.w, http.StatusOK, map[string]any{"path": strings.TrimPrefix(p, "sys/namespaces/") + "/"})
	case strings.HasPrefix(p, "auth/"):
		s.authConfig(rq, strings.TrimPrefix(p, "auth/"))
	default:
		s.logical(rq)
	}
}

func capabilityFor(rq *request) string {
	switch {
	case rq.isList:
		return "list"
	case rq.r.Method == http.MethodGet:
		return "read"
	case rq.r.Method == http.MethodDelete:
		return "delete"
	default:
		return "update"
	}
}

// writeErrors writes Vault's error body. With no messages it is
// {"errors":[]}, as Vault answers a plain 404.
func writeErrors(w http.ResponseWriter, status int, msgs ...string) {
	if msgs == nil {
		msgs = []string{}
	}
	writeJSON(w, status, map[string]any{"errors": msgs})
}

// writeSecret writes Vault's response envelope around data.
func writeSecret(w http.ResponseWriter, status int, data any) {
	writeJSON(w, status, envelope(data, nil, nil))
}

func envelope(data any, auth any, warnings []string) map[string]any {
	var warn any
	if warnings != nil {
		warn = warnings
	}
	return map[string]any{
		"request_id":     uuid(),
		"lease_id":       "",
		"renewable":      false,
		"lease_duration": 0,
		"data":           data,
		"wrap_info":      nil,
		"warnings":       warn,
		"auth":           auth,
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uuid() string {
	h := randomHex(16)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
