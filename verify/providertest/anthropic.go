package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// anthropicFail writes Anthropic's error shape {"type":"error","error":{type,message}}.
func anthropicFail(w http.ResponseWriter, status int, typ, msg string) {
	writeJSON(w, status, map[string]any{"type": "error", "error": map[string]any{"type": typ, "message": msg}})
}

// anthropic serves the native API (GET /v1/models[/{id}], POST /v1/messages)
// and the OpenAI SDK compatibility layer (POST /v1/chat/completions), which
// AutoGen's OpenAIChatCompletionClient uses for claude- models with base
// https://api.anthropic.com/v1/.
func (s *Server) anthropic(w http.ResponseWriter, r *http.Request, body string) {
	model, isModel := strings.CutPrefix(r.URL.Path, "/v1/models/")
	list := r.Method == http.MethodGet && (r.URL.Path == "/v1/models" || (isModel && model != ""))
	messages := r.Method == http.MethodPost && r.URL.Path == "/v1/messages"
	compat := r.Method == http.MethodPost && r.URL.Path == "/v1/chat/completions"
	if !list && !messages && !compat {
		anthropicFail(w, http.StatusNotFound, "not_found_error", "Not Found")
		return
	}
	// The OpenAI SDK sends no anthropic-version: the compatibility layer
	// does not ask for it and takes the API key as Bearer (docs: Anthropic
	// "OpenAI SDK compatibility", platform.claude.com/docs).
	if !compat && !anthropicVersionOK(w, r) {
		return
	}
	cred, k, ok := s.anthropicAuth(w, r)
	if !ok {
		return
	}
	if s.mode(w, r, cred, k, anthropicFaults, messages || compat) {
		return
	}
	switch {
	case compat:
		s.chat(w, r, body, anthropicCompatStyle)
	case messages:
		s.anthropicMessages(w, body)
	case !isModel:
		writeJSON(w, http.StatusOK, map[string]any{"data": s.anthropicModels(), "has_more": false, "first_id": nil, "last_id": nil})
	case !slices.Contains(s.models(), model):
		anthropicFail(w, http.StatusNotFound, "not_found_error", "model: "+model)
	default:
		writeJSON(w, http.StatusOK, anthropicModel(model))
	}
}

// anthropicVersionOK requires the anthropic-version header. Any dated
// version from 2023-01-01 on is taken: the SDKs pin newer ones (src:
// anthropic-sdk-python 2.15.0 src/anthropic/_constants.py "2026-10-21"),
// and which dates the API knows is not published.
func anthropicVersionOK(w http.ResponseWriter, r *http.Request) bool {
	v := r.Header.Get("anthropic-version")
	d, err := time.Parse(time.DateOnly, v)
	switch {
	case v == "":
		anthropicFail(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version: header is required")
	case err != nil || d.Before(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)):
		anthropicFail(w, http.StatusBadRequest, "invalid_request_error", "anthropic-version: invalid version "+v)
	default:
		return true
	}
	return false
}

// anthropicAuth takes x-api-key (Config.Keys), else Authorization: Bearer:
// an API key (anthropic-sdk-python 2.x sends the key that way: src
// anthropic-sdk-python 2.15.0 src/anthropic/_client.py _api_key_auth; the
// OpenAI SDK on the compatibility layer too) or an OAuth token
// (Config.Tokens, ANTHROPIC_AUTH_TOKEN). An unknown Bearer credential gets
// "Invalid bearer token" (obs: anthropics/anthropic-sdk-typescript#620,
// openclaw/openclaw#54350).
func (s *Server) anthropicAuth(w http.ResponseWriter, r *http.Request) (string, Key, bool) {
	if cred := r.Header.Get("x-api-key"); cred != "" {
		k, known := s.lookup(cred, false)
		if !known {
			anthropicReject(w, cred)
		}
		return cred, k, known
	}
	cred, _ := bearer(r)
	if cred == "" {
		anthropicFail(w, http.StatusUnauthorized, "authentication_error", "x-api-key header is required")
		return "", Key{}, false
	}
	k, known := s.lookup(cred, false)
	if !known {
		k, known = s.lookup(cred, true)
	}
	if !known {
		anthropicFail(w, http.StatusUnauthorized, "authentication_error", "Invalid bearer token")
	}
	return cred, k, known
}

func anthropicReject(w http.ResponseWriter, _ string) {
	// obs: continuedev/continue#9477 and PROVIDERS.md.
	anthropicFail(w, http.StatusUnauthorized, "authentication_error", "invalid x-api-key")
}

// anthropicFaults: NoQuota (the credit-balance 400) shows on every request,
// as before. The compatibility layer answers with the same Anthropic
// bodies: UNCONFIRMED (its docs say nothing of error shapes).
var anthropicFaults = faults{
	reject: anthropicReject,
	noQuota: func(w http.ResponseWriter) {
		anthropicFail(w, http.StatusBadRequest, "invalid_request_error", "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.")
	},
	rateLimit: func(w http.ResponseWriter, _ string) {
		anthropicFail(w, http.StatusTooManyRequests, "rate_limit_error", "Number of requests has exceeded your rate limit.")
	},
	forbidden: func(w http.ResponseWriter) {
		anthropicFail(w, http.StatusForbidden, "forbidden", "Request not allowed")
	},
	server: func(w http.ResponseWriter, status int) {
		anthropicFail(w, status, "api_error", "Internal server error")
	},
}

var anthropicCompatStyle = chatStyle{
	invalid: func(w http.ResponseWriter, msg, _, _ string) {
		anthropicFail(w, http.StatusBadRequest, "invalid_request_error", msg)
	},
	unknownModel: func(w http.ResponseWriter, model string) {
		anthropicFail(w, http.StatusNotFound, "not_found_error", "model: "+model)
	},
	idPrefix: "msg_",
}

func (s *Server) anthropicModels() []any {
	data := []any{}
	for _, m := range s.models() {
		data = append(data, anthropicModel(m))
	}
	return data
}

func anthropicModel(id string) map[string]any {
	return map[string]any{"type": "model", "id": id, "display_name": id, "created_at": "2025-02-19T00:00:00Z"}
}

// anthropicMessages validates a Messages request the way the API words it
// (obs for the empty list: devoxx/DevoxxGenieIDEAPlugin#567; the "Field
// required" wording is the API's pydantic style, UNCONFIRMED per field),
// then answers a message object (src: anthropic-sdk-python
// src/anthropic/types/message.py), or SSE events with "stream": true.
func (s *Server) anthropicMessages(w http.ResponseWriter, body string) {
	var req struct {
		Model     string            `json:"model"`
		MaxTokens *int              `json:"max_tokens"`
		Messages  []json.RawMessage `json:"messages"`
		Stream    bool              `json:"stream"`
	}
	err := json.Unmarshal([]byte(body), &req)
	msg := ""
	switch {
	case err != nil:
		msg = "There was an error parsing the body of your request."
	case req.Model == "":
		msg = "model: Field required"
	case req.MaxTokens == nil:
		msg = "max_tokens: Field required"
	case req.Messages == nil:
		msg = "messages: Field required"
	case len(req.Messages) == 0:
		msg = "messages: at least one message is required"
	}
	if msg != "" {
		anthropicFail(w, http.StatusBadRequest, "invalid_request_error", msg)
		return
	}
	if !slices.Contains(s.models(), req.Model) {
		anthropicFail(w, http.StatusNotFound, "not_found_error", "model: "+req.Model)
		return
	}
	reply := s.config().Reply
	id := fmt.Sprintf("msg_fake%06d", s.Requests())
	usage := map[string]any{"input_tokens": max(1, len(body)/4), "output_tokens": len(strings.Fields(reply))}
	if req.Stream {
		anthropicStream(w, id, req.Model, reply, usage)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": id, "type": "message", "role": "assistant", "model": req.Model,
		"content": []any{map[string]any{"type": "text", "text": reply}}, "stop_reason": "end_turn", "stop_sequence": nil, "usage": usage})
}

// anthropicStream writes the Messages streaming events in the documented
// order (src: anthropic-sdk-python src/anthropic/types/raw_message_stream_event.py).
func anthropicStream(w http.ResponseWriter, id, model, reply string, usage map[string]any) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	start := map[string]any{"id": id, "type": "message", "role": "assistant", "model": model, "content": []any{},
		"stop_reason": nil, "stop_sequence": nil, "usage": map[string]any{"input_tokens": usage["input_tokens"], "output_tokens": 1}}
	writeSSE(w, "message_start", map[string]any{"type": "message_start", "message": start})
	writeSSE(w, "content_block_start", map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
	writeSSE(w, "content_block_delta", map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": reply}})
	writeSSE(w, "content_block_stop", map[string]any{"type": "content_block_stop", "index": 0})
	writeSSE(w, "message_delta", map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": "end_turn", "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": usage["output_tokens"]}})
	writeSSE(w, "message_stop", map[string]any{"type": "message_stop"})
}
