package providertest

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
)

// geminiCompat serves Gemini's OpenAI-compatible API (base
// https://generativelanguage.googleapis.com/v1beta/openai/, Bearer key: docs
// ai.google.dev/gemini-api/docs/openai): GET models, GET models/{m}, POST
// chat/completions. Errors are the native google.rpc objects wrapped in a
// JSON array (see googleFail).
func (s *Server) geminiCompat(w http.ResponseWriter, r *http.Request, body, rest string) {
	model, isModel := strings.CutPrefix(rest, "models/")
	list := r.Method == http.MethodGet && (rest == "models" || (isModel && model != ""))
	chat := r.Method == http.MethodPost && rest == "chat/completions"
	if !list && !chat {
		googleNotFoundPage(w, r)
		return
	}
	cred, k, ok := s.geminiAuth(w, r, true)
	if !ok {
		return
	}
	if s.mode(w, r, cred, k, geminiFaults(true), chat) {
		return
	}
	model = strings.TrimPrefix(model, "models/")
	switch {
	case chat:
		s.chat(w, r, body, geminiCompatStyle)
	case !isModel:
		var data []any
		for _, m := range s.models() {
			data = append(data, geminiCompatModel(m))
		}
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
	case !slices.Contains(s.models(), model):
		geminiCompatStyle.unknownModel(w, model)
	default:
		writeJSON(w, http.StatusOK, geminiCompatModel(model))
	}
}

// geminiCompatModel: ids carry the "models/" prefix there (obs: model ids
// "models/gemini-3-flash-preview" used with this base in
// SuzumiyaAkizuki/ComfyUI-NewBie-LLM-Formatter#3).
func geminiCompatModel(id string) map[string]any {
	return map[string]any{"id": "models/" + id, "object": "model", "owned_by": "google"}
}

// geminiCompatStyle: validation failures are Google's generic
// INVALID_ARGUMENT (obs: Kilo-Org/kilocode#6476 "Request contains an invalid
// argument."; the per-field wording is UNCONFIRMED, so it is not copied);
// an unknown model is the native NOT_FOUND wording, in an array (UNCONFIRMED
// for this endpoint).
var geminiCompatStyle = chatStyle{
	invalid: func(w http.ResponseWriter, _, _, _ string) {
		googleFail(w, true, http.StatusBadRequest, "INVALID_ARGUMENT", "Request contains an invalid argument.")
	},
	unknownModel: func(w http.ResponseWriter, model string) {
		googleFail(w, true, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("models/%s is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.",
			strings.TrimPrefix(model, "models/")))
	},
	normalize: func(model string) string { return strings.TrimPrefix(model, "models/") },
}
