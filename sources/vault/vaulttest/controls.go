package vaulttest

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"
)

// Request is a request as it arrived at the fake, for OnRequest.
type Request struct {
	Seq       int    // arrival order, from 1
	Method    string // GET, POST, PUT, LIST, DELETE
	Path      string // API path without /v1/ and the query, namespaces in the path included
	Query     string // the raw query string
	Namespace string // the X-Vault-Namespace header
}

// OnRequest calls f with every request as it arrives, before it is held,
// delayed or answered, so that a test can see what was in flight at once
// (nil stops the calls). f runs on the request's goroutine and must not
// block for long; send to a buffered channel.
func (s *Server) OnRequest(f func(Request)) { s.mu.Lock(); s.onRequest = f; s.mu.Unlock() }

// Hold keeps every request whose API path (without /v1/) matches pattern
// unanswered until release is called, or until its client gives up: a test
// can prove that something happened while the request was still in flight
// (the probe before auth/token/revoke-self completed) without timing.
// Patterns are Deny's: a trailing * matches any suffix, + one segment, and
// "*" every request. release is idempotent; Close releases every hold.
func (s *Server) Hold(pattern string) (release func()) {
	re, _ := compilePattern(pattern)
	h := &hold{re: re, released: make(chan struct{})}
	s.mu.Lock()
	s.holds = append(s.holds, h)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		for i, x := range s.holds {
			if x == h {
				s.holds = append(s.holds[:i], s.holds[i+1:]...)
				break
			}
		}
		h.release()
	}
}

// hold is one Hold.
type hold struct {
	re       *regexp.Regexp
	released chan struct{}
	once     sync.Once
}

func (h *hold) release() { h.once.Do(func() { close(h.released) }) }

// arrive counts a request, reports it to OnRequest, and waits for its holds
// and the delay. It returns false when the client gave up meanwhile.
func (s *Server) arrive(rq *request) bool {
	p := strings.Trim(rq.path, "/")
	s.mu.Lock()
	s.requests++
	s.counts[p]++
	arrival := Request{Seq: s.requests, Method: rq.r.Method, Path: p, Query: rq.r.URL.RawQuery, Namespace: rq.r.Header.Get("X-Vault-Namespace")}
	delay, hook := s.delay, s.onRequest
	var held []*hold
	for _, h := range s.holds {
		if h.re.MatchString(p) {
			held = append(held, h)
		}
	}
	s.mu.Unlock()
	if hook != nil {
		hook(arrival)
	}
	done := rq.r.Context().Done()
	for _, h := range held {
		select {
		case <-h.released:
		case <-done:
			return false
		}
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-done:
			return false
		}
	}
	return true
}

// Seal makes the fake answer as a sealed Vault: 503 {"errors":["Vault is
// sealed"]} everywhere but sys/seal-status and sys/health.
func (s *Server) Seal() { s.mu.Lock(); s.sealed = true; s.mu.Unlock() }

// Unseal undoes Seal.
func (s *Server) Unseal() { s.mu.Lock(); s.sealed = false; s.mu.Unlock() }

// SetDelay makes every request wait d before it is answered (or until the
// client gives up), to simulate a slow or distant Vault.
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
// capabilities = ["deny"] would. It also applies to the root token, and to
// the mount lookup, which real Vault answers for any token that may reach
// the mount.
func (s *Server) Deny(tok, pattern string) {
	s.mu.Lock()
	s.deny[tok] = append(s.deny[tok], pattern)
	s.mu.Unlock()
}

// AddKubernetesRole enables the kubernetes auth method at auth/kubernetes
// (if needed) and adds a role whose login succeeds with exactly jwt, giving
// tokens with the named policies. OpenBao asks a Kubernetes TokenReview API
// instead (see KubernetesAPI); this is the fake's shortcut.
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

// AddNamespace creates a namespace (a full path such as "team-a" or
// "team-a/child"), empty but for a KV v2 mount at "secret/".
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
// not metadata, lists, the mount lookup, or requests refused with 403/503.
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

// serveSealed answers as a sealed OpenBao: the status endpoints say so,
// everything else is 503.
func (s *Server) serveSealed(rq *request) {
	switch strings.Trim(rq.path, "/") {
	case "sys/seal-status", "sys/health":
		s.serveStatus(rq)
	default:
		writeErrors(rq.w, http.StatusServiceUnavailable, "Vault is sealed")
	}
}

// serveStatus answers sys/health and sys/seal-status with OpenBao's fields.
// A sealed server's health is 503 and names no cluster.
func (s *Server) serveStatus(rq *request) {
	now := time.Now().Unix()
	cluster := func(m map[string]any) map[string]any {
		if !s.sealed {
			m["cluster_name"], m["cluster_id"] = "vault-cluster-fake", "00000000-0000-0000-0000-000000000000"
		}
		return m
	}
	if strings.Trim(rq.path, "/") == "sys/seal-status" {
		writeJSON(rq.w, http.StatusOK, cluster(map[string]any{
			"type": "shamir", "initialized": true, "sealed": s.sealed, "t": 1, "n": 1, "progress": 0, "nonce": "",
			"recovery_seal": false, "version": "2.7.2", "commit_date": "2026-10-26T20:32:27Z", "migration": false, "storage_type": "inmem",
		}))
		return
	}
	mode, status := "disabled", http.StatusOK
	if s.sealed {
		mode, status = "unknown", http.StatusServiceUnavailable
	}
	writeJSON(rq.w, status, cluster(map[string]any{
		"initialized": true, "sealed": s.sealed, "standby": s.sealed, "replication_performance_mode": mode,
		"replication_dr_mode": mode, "server_time_utc": now, "version": "2.7.2",
	}))
}
