package providertest

import (
	"net/http"
	"strings"
)

// anthropic serves GET /v1/models.
func (s *Server) anthropic(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/v1/models" {
		s.fail(w, http.StatusNotFound, "", "not_found_error", "Not Found")
		return
	}
	v := r.Header.Get("anthropic-version")
	if v == "" {
		s.fail(w, http.StatusBadRequest, "", "invalid_request_error", "anthropic-version: header is required")
		return
	}
	if v != "2023-06-01" && v != "2023-01-01" {
		s.fail(w, http.StatusBadRequest, "", "invalid_request_error", "anthropic-version: invalid version "+v)
		return
	}
	cred, token := r.Header.Get("x-api-key"), false
	if cred == "" {
		cred, token = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if cred == "" {
		s.fail(w, http.StatusUnauthorized, "", "authentication_error", "x-api-key header is required")
		return
	}
	k, known := s.lookup(cred, token)
	if !known {
		s.reject(w, cred, token)
		return
	}
	if s.mode(w, r, cred, token, k) {
		return
	}
	var data []any
	for _, m := range s.models() {
		data = append(data, map[string]any{"type": "model", "id": m, "display_name": m, "created_at": "2025-02-19T00:00:00Z"})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data, "has_more": false, "first_id": nil, "last_id": nil})
}
