package providertest

import (
	"net/http"
	"slices"
	"strings"
)

// compatAPI is the layout and wording of an OpenAI-compatible provider:
// GET {prefix}/models, GET {prefix}/models/{id}, POST {prefix}/chat/completions
// behind a Bearer key. Each provider file fills one in with its own bodies.
type compatAPI struct {
	prefixes []string // path prefixes served, longest first ("/openai/v1"; DeepSeek "/v1", "")
	reject   func(w http.ResponseWriter, cred string, present bool)
	faults   faults
	style    chatStyle
	notFound func(w http.ResponseWriter, r *http.Request)
	list     func(s *Server, w http.ResponseWriter) // nil: {"object":"list","data":[…]}
	model    func(id string) map[string]any         // one model object
	noAuth   bool                                   // no key and no modes (Ollama)
}

// compatRoute splits a path into the route under one of the prefixes:
// "models", "models/{id}", "chat/completions", or what else is there.
func (api compatAPI) route(path string) (string, bool) {
	for _, p := range api.prefixes {
		if rest, ok := strings.CutPrefix(path, p+"/"); ok {
			return rest, true
		}
	}
	return "", false
}

// compat serves the three OpenAI-compatible routes (the provider's own
// extra routes are handled by its file before it calls compat).
func (s *Server) compat(w http.ResponseWriter, r *http.Request, body string, api compatAPI) {
	rest, _ := api.route(r.URL.Path)
	model, isModel := strings.CutPrefix(rest, "models/")
	list := r.Method == http.MethodGet && (rest == "models" || (isModel && model != ""))
	chat := r.Method == http.MethodPost && rest == "chat/completions"
	if !list && !chat {
		api.notFound(w, r)
		return
	}
	if !api.noAuth {
		cred, k, ok := s.bearerKey(w, r, api.reject)
		if !ok || s.mode(w, r, cred, k, api.faults, chat) {
			return
		}
	}
	if api.style.normalize != nil {
		model = api.style.normalize(model)
	}
	switch {
	case chat:
		s.chat(w, r, body, api.style)
	case !isModel && api.list != nil:
		api.list(s, w)
	case !isModel:
		data := []any{}
		for _, m := range s.models() {
			data = append(data, api.model(m))
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
	case !slices.Contains(s.models(), model):
		api.style.unknownModel(w, model)
	default:
		writeJSON(w, http.StatusOK, api.model(model))
	}
}

// bearerKey authenticates Authorization: Bearer against Config.Keys; reject
// gets the credential ("" when none) and whether a header was sent.
func (s *Server) bearerKey(w http.ResponseWriter, r *http.Request, reject func(http.ResponseWriter, string, bool)) (string, Key, bool) {
	cred, present := bearer(r)
	k, known := s.lookup(cred, false)
	if cred == "" || !known {
		reject(w, cred, present)
		return "", Key{}, false
	}
	return cred, k, true
}

// rejectAll adapts a reject that ignores whether a header was sent.
func rejectAll(f func(http.ResponseWriter, string)) func(http.ResponseWriter, string, bool) {
	return func(w http.ResponseWriter, cred string, _ bool) { f(w, cred) }
}
