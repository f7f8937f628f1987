package providertest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
)

// chatRequest is what the fakes read of an OpenAI chat completion request.
type chatRequest struct {
	Model         string            `json:"model"`
	Messages      []json.RawMessage `json:"messages"`
	Stream        bool              `json:"stream"`
	StreamOptions struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	hasMessages bool
	size        int // body length, for a plausible prompt_tokens
}

// parseChat decodes a chat request, noting whether "messages" was sent at
// all (missing and empty are different errors at OpenAI).
func parseChat(body string) (chatRequest, error) {
	var req chatRequest
	if err := json.Unmarshal([]byte(body), &req); err != nil {
		return req, err
	}
	var fields map[string]json.RawMessage
	_ = json.Unmarshal([]byte(body), &fields)
	_, req.hasMessages = fields["messages"]
	req.size = len(body)
	return req, nil
}

// chatStyle is how one OpenAI-compatible provider words a chat request it
// refuses after authentication.
type chatStyle struct {
	// invalid answers a body that fails validation (400 unless the
	// provider uses another status).
	invalid func(w http.ResponseWriter, msg, param, code string)
	// unknownModel answers a model the provider does not serve.
	unknownModel func(w http.ResponseWriter, model string)
	// normalize maps the model as sent to a Config.Models name (Gemini's
	// "models/" prefix, Ollama's ":latest"); nil keeps it.
	normalize func(model string) string
	idPrefix  string // "chatcmpl-" unless the provider uses its own
}

// chat serves an OpenAI-style POST …/chat/completions for an authenticated
// request: validation in OpenAI's order (JSON, model, messages), the model,
// then the answer (a chat.completion, or SSE chunks with "stream": true).
func (s *Server) chat(w http.ResponseWriter, r *http.Request, body string, st chatStyle) {
	req, ok := validChat(w, body, st)
	if !ok {
		return
	}
	model := req.Model
	if st.normalize != nil {
		model = st.normalize(model)
	}
	if !slices.Contains(s.models(), model) {
		st.unknownModel(w, req.Model)
		return
	}
	s.completion(w, req, req.Model, st.idPrefix)
}

// validChat decodes and validates a chat request with OpenAI's messages
// (obs for the empty array: CopilotKit/CopilotKit#529, 2024; the older
// "[] is too short - 'messages'" in run-llama/llama_index#9373 is what Azure
// still answers). The other two messages are OpenAI's own wording as SDK
// users quote it; UNCONFIRMED for providers other than OpenAI, which answer
// with their own shape (st.invalid) around the same facts.
func validChat(w http.ResponseWriter, body string, st chatStyle) (chatRequest, bool) {
	req, err := parseChat(body)
	switch {
	case err != nil:
		st.invalid(w, "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)", "", "")
	case req.Model == "":
		st.invalid(w, "you must provide a model parameter", "", "")
	case !req.hasMessages:
		st.invalid(w, "Missing required parameter: 'messages'.", "messages", "missing_required_parameter")
	case len(req.Messages) == 0:
		st.invalid(w, "Invalid 'messages': empty array. Expected an array with minimum length 1, but got an empty array instead.", "messages", "empty_array")
	default:
		return req, true
	}
	return req, false
}

// completion writes the assistant's answer as openai-python reads it
// (src: openai-python src/openai/types/chat/chat_completion.py and
// chat_completion_chunk.py).
func (s *Server) completion(w http.ResponseWriter, req chatRequest, model, idPrefix string) {
	if idPrefix == "" {
		idPrefix = "chatcmpl-"
	}
	id := fmt.Sprintf("%sfake%06d", idPrefix, s.Requests())
	reply := s.config().Reply
	usage := map[string]any{"prompt_tokens": max(1, req.size/4), "completion_tokens": len(strings.Fields(reply)),
		"total_tokens": max(1, req.size/4) + len(strings.Fields(reply))}
	created := time.Now().Unix()
	if req.Stream {
		streamChat(w, req, id, model, reply, created, usage)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"id": id, "object": "chat.completion", "created": created, "model": model,
		"choices": []any{map[string]any{"index": 0, "finish_reason": "stop", "logprobs": nil,
			"message": map[string]any{"role": "assistant", "content": reply, "refusal": nil}}},
		"usage": usage, "system_fingerprint": "fp_providertest",
	})
}

// streamChat writes the answer as server-sent events: a role chunk, the
// text, the finish chunk, the usage chunk when stream_options asks for it
// (choices empty, as OpenAI sends it), then "data: [DONE]".
func streamChat(w http.ResponseWriter, req chatRequest, id, model, reply string, created int64, usage map[string]any) {
	w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	chunk := func(delta map[string]any, finish any) map[string]any {
		return map[string]any{"id": id, "object": "chat.completion.chunk", "created": created, "model": model,
			"system_fingerprint": "fp_providertest",
			"choices":            []any{map[string]any{"index": 0, "delta": delta, "logprobs": nil, "finish_reason": finish}}}
	}
	events := []any{
		chunk(map[string]any{"role": "assistant", "content": ""}, nil),
		chunk(map[string]any{"content": reply}, nil),
		chunk(map[string]any{}, "stop"),
	}
	if req.StreamOptions.IncludeUsage {
		events = append(events, map[string]any{"id": id, "object": "chat.completion.chunk", "created": created,
			"model": model, "choices": []any{}, "usage": usage})
	}
	for _, e := range events {
		writeSSE(w, "", e)
	}
	_, _ = fmt.Fprint(w, "data: [DONE]\n\n")
	flush(w)
}

// writeSSE writes one server-sent event (event: line only when named).
func writeSSE(w http.ResponseWriter, event string, data any) {
	b, _ := json.Marshal(data)
	if event != "" {
		_, _ = fmt.Fprintf(w, "event: %s\n", event)
	}
	_, _ = fmt.Fprintf(w, "data: %s\n\n", b)
	flush(w)
}

func flush(w http.ResponseWriter) {
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
}

// openAIStyle is OpenAI's own wording; compatible servers that copy it
// (Groq, Together, DeepSeek, OpenRouter) override what differs.
var openAIStyle = chatStyle{
	invalid: func(w http.ResponseWriter, msg, param, code string) {
		oaiError(w, http.StatusBadRequest, msg, "invalid_request_error", param, code)
	},
	unknownModel: func(w http.ResponseWriter, model string) {
		// obs: seen on chat calls (PROVIDERS.md, OpenAI).
		oaiError(w, http.StatusNotFound, "The model `"+model+"` does not exist or you do not have access to it.",
			"invalid_request_error", "", "model_not_found")
	},
}

func (s *Server) models() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.cfg.Models)
}

// modelList is an OpenAI-style list of the configured models.
func (s *Server) modelList(owner string) []any {
	out := []any{}
	for _, m := range s.models() {
		out = append(out, modelObject(m, owner))
	}
	return out
}

func modelObject(id, owner string) map[string]any {
	return map[string]any{"id": id, "object": "model", "created": time.Date(2024, 7, 18, 0, 0, 0, 0, time.UTC).Unix(), "owned_by": owner}
}
