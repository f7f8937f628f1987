package providertest

import (
	"net/http"
	"slices"
	"strings"
	"time"
)

// openAI serves GET /v1/models and GET /v1/models/{id}.
func (s *Server) openAI(w http.ResponseWriter, r *http.Request) {
	model, ok := strings.CutPrefix(r.URL.Path, "/v1/models/")
	if !ok {
		model = ""
	}
	if r.Method != http.MethodGet || (r.URL.Path != "/v1/models" && (!ok || model == "")) {
		s.fail(w, http.StatusNotFound, "invalid_request_error", "",
			"Invalid URL ("+r.Method+" "+r.URL.Path+")")
		return
	}
	auth := r.Header.Get("Authorization")
	cred, bearer := strings.CutPrefix(auth, "Bearer ")
	k, known := s.lookup(cred, false)
	if !bearer || cred == "" || !known {
		if !bearer {
			cred = ""
		}
		s.reject(w, cred, false)
		return
	}
	if org := r.Header.Get("OpenAI-Organization"); org != "" && k.Org != "" && org != k.Org {
		s.fail(w, http.StatusUnauthorized, "invalid_request_error", "mismatched_organization",
			"OpenAI-Organization header should match organization for API key")
		return
	}
	if s.mode(w, r, cred, false, k) {
		return
	}
	if model == "" {
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": s.modelList()})
		return
	}
	if !slices.Contains(s.models(), model) {
		s.fail(w, http.StatusNotFound, "invalid_request_error", "model_not_found",
			"The model `"+model+"` does not exist or you do not have access to it.")
		return
	}
	writeJSON(w, http.StatusOK, modelObject(model))
}

func (s *Server) models() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cfg.Models)
}

func (s *Server) modelList() []any {
	var out []any
	for _, m := range s.models() {
		out = append(out, modelObject(m))
	}
	return out
}

func modelObject(id string) map[string]any {
	return map[string]any{"id": id, "object": "model", "created": time.Date(2024, 7, 18, 0, 0, 0, 0, time.UTC).Unix(), "owned_by": "system"}
}
