package providertest

import (
	"slices"
	"time"

	"github.com/keyexec/keyexec/sources"
)

// SetKey adds or changes an accepted key.
func (s *Server) SetKey(key string, k Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Keys == nil {
		s.cfg.Keys = map[string]Key{}
	}
	s.cfg.Keys[key] = k
}

// SetToken adds or changes an accepted Bearer token (Azure AD, Anthropic).
func (s *Server) SetToken(token string, k Key) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cfg.Tokens == nil {
		s.cfg.Tokens = map[string]Key{}
	}
	s.cfg.Tokens[token] = k
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
