package providertest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
)

// azure serves the resource's model list and the chat completions of its
// deployments, classic (/openai/deployments/{d}/…?api-version=) and v1
// (/openai/v1/…, deployment in the body's "model").
func (s *Server) azure(w http.ResponseWriter, r *http.Request, body string) {
	p := r.URL.Path
	deployment, chat := "", false
	v1 := strings.HasPrefix(p, "/openai/v1/")
	switch {
	case r.Method == http.MethodGet && (p == "/openai/models" || p == "/openai/v1/models"):
	case r.Method == http.MethodPost && p == "/openai/v1/chat/completions":
		chat = true
		var b struct {
			Model string `json:"model"`
		}
		_ = json.Unmarshal([]byte(body), &b)
		deployment = b.Model
	case r.Method == http.MethodPost && strings.HasPrefix(p, "/openai/deployments/") && strings.HasSuffix(p, "/chat/completions"):
		chat = true
		deployment = strings.TrimSuffix(strings.TrimPrefix(p, "/openai/deployments/"), "/chat/completions")
	default:
		s.fail(w, http.StatusNotFound, "", "404", "Resource not found")
		return
	}

	// An AD token wins over a key, as in openai-python.
	cred, token := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !token {
		cred = r.Header.Get("api-key")
	}
	k, known := s.lookup(cred, token)
	if cred == "" || !known {
		s.reject(w, cred, token)
		return
	}
	if !s.versionOK(r.URL.Query().Get("api-version"), v1) {
		s.fail(w, http.StatusNotFound, "", "404", "Resource not found")
		return
	}
	if s.mode(w, r, cred, token, k) {
		return
	}
	if !chat {
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": s.modelList()})
		return
	}
	if !s.hasDeployment(deployment) {
		s.fail(w, http.StatusNotFound, "", "DeploymentNotFound",
			"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.")
		return
	}
	var req struct {
		Messages []any `json:"messages"`
	}
	if json.Unmarshal([]byte(body), &req) != nil || len(req.Messages) == 0 {
		// Azure's validation error keeps OpenAI's shape.
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]any{
			"message": "'messages' is a required property", "type": "invalid_request_error", "param": nil, "code": nil}})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": "chatcmpl-fake", "object": "chat.completion", "model": deployment,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop",
			"message": map[string]any{"role": "assistant", "content": "ok"}}}})
}

// versionOK checks the api-version query: required on classic paths, optional
// on v1 where only "preview" and "latest" are accepted.
func (s *Server) versionOK(v string, v1 bool) bool {
	if v1 {
		return v == "" || v == "preview" || v == "latest"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.cfg.APIVersions, v)
}

func (s *Server) hasDeployment(d string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return d != "" && slices.Contains(s.cfg.Deployments, d)
}
