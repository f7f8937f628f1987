// Package vaulttest holds what Vault tests run against: a harness for a real
// OpenBao dev server (openbao.go), a fake Kubernetes TokenReview API for
// OpenBao's kubernetes auth (kubernetes.go), an Admin client that sets a
// server up through the HTTP API (so the same set-up works on OpenBao, on
// HashiCorp Vault and on the fake), and an in-process fake of Vault's HTTP
// API for the faults a real server cannot be made to produce.
//
// The fake answers the endpoints keyexec uses: KV v1 and v2 (reads, writes,
// versions, delete, destroy, undelete, metadata, lists), the
// sys/internal/ui/mounts lookup, sys/mounts, sys/health and sys/seal-status,
// namespaces (in the X-Vault-Namespace header and in the path), token
// lookup-self, revoke-self, create and accessors, AppRole and Kubernetes
// login and ACL policies, with the status codes and body shapes of OpenBao
// 2.7 (a fidelity test holds it to a real server's answers). Like a dev
// server it starts unsealed with "secret/" mounted as KV v2.
//
// Fake-only controls: Seal, Deny, SetDelay (WithLatency), FailNext,
// AddKubernetesRole, and for ordering tests OnRequest (each request as it
// arrives) and Hold (keep matching requests unanswered until released).
// Counters: Count, Reads, Requests, Revoked.
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
	namespaces map[string]*namespace // full path without slashes, "" for root
	policies   map[string][]rule
	tokens     map[string]*token
	deny       map[string][]string // token → denied path patterns
	counts     map[string]int
	requests   int
	reads      int
	revoked    []string
	onRequest  func(Request)
	holds      []*hold
}

// Option configures a fake at start.
type Option func(*Server)

// WithLatency adds d to every answer, as a Vault that far away would: the
// benchmark's and the overlap tests' stand-in for production round trips.
// It is SetDelay from the start.
func WithLatency(d time.Duration) Option { return func(s *Server) { s.delay = d } }

// New starts a fake Vault on a loopback port and stops it when the test ends.
func New(t testing.TB, opts ...Option) *Server {
	t.Helper()
	s := &Server{
		RootToken:  "hvs.root" + randomHex(12),
		namespaces: map[string]*namespace{"": newNamespace()},
		policies:   map[string][]rule{},
		tokens:     map[string]*token{},
		deny:       map[string][]string{},
		counts:     map[string]int{},
	}
	for _, o := range opts {
		o(s)
	}
	s.namespaces[""].mounts["secret/"] = newKV2Mount()
	s.tokens[s.RootToken] = &token{id: s.RootToken, accessor: randomHex(12), policies: []string{"root"}, root: true, path: "auth/token/create", issued: time.Now().UTC()}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	t.Cleanup(s.Close)
	return s
}

// Close stops the server, releasing every held request first. New
// registers it with t.Cleanup.
func (s *Server) Close() {
	s.mu.Lock()
	for _, h := range s.holds {
		h.release()
	}
	s.mu.Unlock()
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Admin returns a client for set-up calls with the root token.
func (s *Server) Admin() *Admin { return &Admin{Addr: s.URL, Token: s.RootToken} }

// request is one call as the handlers see it.
type request struct {
	w      http.ResponseWriter
	r      *http.Request
	path   string // API path without /v1/, the query, or namespaces in the path
	nsPath string // the request's namespace: header, then path prefix
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
	if !s.arrive(rq) {
		return // the client gave up while the request was held or delayed
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failN > 0 {
		s.failN--
		writeErrors(w, s.failStatus, "injected failure "+http.StatusText(s.failStatus))
		return
	}
	if s.sealed {
		s.serveSealed(rq)
		return
	}
	if r.Body != nil && (r.Method == http.MethodPost || r.Method == http.MethodPut) {
		if err := json.NewDecoder(r.Body).Decode(&rq.body); err != nil && err.Error() != "EOF" {
			writeErrors(w, http.StatusBadRequest, "failed to parse JSON input: "+err.Error())
			return
		}
	}
	if !s.resolveNamespace(rq) {
		writeErrors(w, http.StatusNotFound, "namespace not found")
		return
	}
	if t, ok := s.tokens[r.Header.Get("X-Vault-Token")]; ok {
		rq.tok = t
	}
	s.route(rq)
}

// resolveNamespace finds the request's namespace: the X-Vault-Namespace
// header, which must exist, then any child namespaces the path starts with
// (Vault accepts "team-a/secret/data/x" as well as the header).
func (s *Server) resolveNamespace(rq *request) bool {
	name := strings.Trim(rq.r.Header.Get("X-Vault-Namespace"), "/")
	ns, ok := s.namespaces[name]
	if !ok {
		return false
	}
	if !strings.HasPrefix(rq.path, "sys/internal/ui/mounts/") {
		name, ns, rq.path = s.descend(name, ns, rq.path)
	}
	rq.nsPath, rq.ns = name, ns
	return true
}

// descend follows the child namespaces p starts with, from namespace name.
func (s *Server) descend(name string, ns *namespace, p string) (string, *namespace, string) {
	for {
		seg, rest, found := strings.Cut(p, "/")
		child := strings.Trim(name+"/"+seg, "/")
		cns, ok := s.namespaces[child]
		if !found || !ok {
			return name, ns, p
		}
		name, ns, p = child, cns, rest
	}
}

func (s *Server) route(rq *request) {
	p := rq.path
	switch {
	case strings.HasPrefix(p, "sys/internal/ui/mounts/"):
		s.uiMount(rq, strings.TrimPrefix(p, "sys/internal/ui/mounts/"))
		return
	case p == "sys/seal-status" || p == "sys/health":
		s.serveStatus(rq)
		return
	case strings.HasPrefix(p, "auth/") && strings.HasSuffix(p, "/login"):
		s.login(rq, strings.TrimSuffix(strings.TrimPrefix(p, "auth/"), "/login"))
		return
	}
	// Every other path needs a token whose policies grant the capability.
	if rq.tok == nil {
		writeErrors(rq.w, http.StatusForbidden, "permission denied")
		return
	}
	if !s.allowed(rq.tok, p, capabilityFor(rq)) {
		writeErrors(rq.w, http.StatusForbidden, multiError("permission denied"))
		return
	}
	switch {
	case p == "auth/token/lookup-self":
		s.lookupSelf(rq)
	case p == "auth/token/revoke-self":
		s.revokeSelf(rq)
	case p == "auth/token/create":
		s.createToken(rq)
	case p == "auth/token/accessors" || p == "auth/token/accessors/":
		s.listAccessors(rq)
	case p == "auth/token/lookup-accessor":
		s.lookupAccessor(rq)
	case strings.HasPrefix(p, "sys/mounts/"):
		s.sysMount(rq, strings.TrimPrefix(p, "sys/mounts/"))
	case strings.HasPrefix(p, "sys/auth/"):
		s.sysAuth(rq, strings.TrimPrefix(p, "sys/auth/"))
	case strings.HasPrefix(p, "sys/policies/acl/"), strings.HasPrefix(p, "sys/policy/"):
		s.putPolicy(rq, p[strings.LastIndex(p, "/")+1:])
	case p == "sys/namespaces" || strings.HasPrefix(p, "sys/namespaces/"):
		s.createNamespace(rq, strings.Trim(strings.TrimPrefix(p, "sys/namespaces/"), "/"))
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

// multiError formats a message as Vault's go-multierror does for a policy
// refusal ("1 error occurred:\n\t* permission denied\n\n").
func multiError(msg string) string { return "1 error occurred:\n\t* " + msg + "\n\n" }

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
