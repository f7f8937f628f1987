package providertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
)

// googleFail writes a google.rpc.Status error; compat wraps it in a JSON
// array, as the Gemini OpenAI-compatible endpoint answers (obs:
// SuzumiyaAkizuki/ComfyUI-NewBie-LLM-Formatter#3, suyiiyii/AutoGLM-GUI#85,
// ychoi-kr/llm-api-prog#1).
func googleFail(w http.ResponseWriter, compat bool, code int, status, msg string, details ...any) {
	e := map[string]any{"code": code, "message": msg, "status": status}
	if len(details) > 0 {
		e["details"] = details
	}
	var body any = map[string]any{"error": e}
	if compat {
		body = []any{body}
	}
	writeJSON(w, code, body)
}

func errorInfo(reason string) map[string]any {
	return map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": reason, "domain": "googleapis.com",
		"metadata": map[string]any{"service": "generativelanguage.googleapis.com"}}
}

// gemini serves the native API google-genai calls (GET /v1beta/models,
// GET /v1beta/models/{m}, POST …:generateContent, …:streamGenerateContent;
// /v1/ too) and the OpenAI-compatible API under /v1beta/openai/.
func (s *Server) gemini(w http.ResponseWriter, r *http.Request, body string) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/v1beta/openai/"); ok {
		s.geminiCompat(w, r, body, rest)
		return
	}
	version, model, method, ok := geminiRoute(r)
	if !ok {
		googleNotFoundPage(w, r)
		return
	}
	cred, k, ok := s.geminiAuth(w, r, false)
	if !ok {
		return
	}
	chat := method != ""
	if s.mode(w, r, cred, k, geminiFaults(false), chat) {
		return
	}
	switch {
	case model == "":
		s.geminiList(w)
	case !slices.Contains(s.models(), model):
		verb := "get"
		if chat {
			verb = method
		}
		// obs for generateContent: google/adk-python#200; the "get" verb
		// on models.get is UNCONFIRMED.
		googleFail(w, false, http.StatusNotFound, "NOT_FOUND", fmt.Sprintf("models/%s is not found for API version %s, or is not supported for %s. Call ListModels to see the list of available models and their supported methods.", model, version, verb))
	case !chat:
		writeJSON(w, http.StatusOK, geminiModel(model))
	default:
		s.geminiGenerate(w, r, body, model, method == "streamGenerateContent")
	}
}

// geminiRoute parses /{v1beta|v1}/models[/{m}[:method]].
func geminiRoute(r *http.Request) (version, model, method string, ok bool) {
	p := strings.TrimPrefix(r.URL.Path, "/")
	version, rest, _ := strings.Cut(p, "/")
	if version != "v1beta" && version != "v1" {
		return "", "", "", false
	}
	if rest == "models" {
		return version, "", "", r.Method == http.MethodGet
	}
	name, ok := strings.CutPrefix(rest, "models/")
	if !ok || name == "" {
		return "", "", "", false
	}
	model, method, _ = strings.Cut(name, ":")
	switch method {
	case "":
		return version, model, "", r.Method == http.MethodGet
	case "generateContent", "streamGenerateContent":
		return version, model, method, r.Method == http.MethodPost
	}
	return "", "", "", false
}

// googleNotFoundPage is Google's front end answering a path no API serves:
// an HTML page, not JSON (what a wrong base URL gets).
func googleNotFoundPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=UTF-8")
	w.WriteHeader(http.StatusNotFound)
	_, _ = io.WriteString(w, "<!DOCTYPE html><html lang=en><title>Error 404 (Not Found)!!1</title><p><b>404.</b> <ins>That’s an error.</ins><p>The requested URL <code>"+
		r.URL.Path+"</code> was not found on this server.  <ins>That’s all we know.</ins>")
}

// geminiAuth takes x-goog-api-key (google-genai), ?key= (REST examples),
// or on the compatible API Authorization: Bearer. Missing: 403
// PERMISSION_DENIED (obs: PublicAffairs/openai-gemini#92,
// googleapis/js-genai#898); a malformed Authorization on the compatible API:
// 400 "Invalid Authorization header." (obs: ychoi-kr/llm-api-prog#1);
// unknown: 400 API_KEY_INVALID.
func (s *Server) geminiAuth(w http.ResponseWriter, r *http.Request, compat bool) (string, Key, bool) {
	cred := r.Header.Get("x-goog-api-key")
	if cred == "" {
		cred = r.URL.Query().Get("key")
	}
	if cred == "" && compat {
		var present bool
		if cred, present = bearer(r); present && cred == "" {
			googleFail(w, true, http.StatusBadRequest, "INVALID_ARGUMENT", "Invalid Authorization header.")
			return "", Key{}, false
		}
	}
	if cred == "" {
		googleFail(w, compat, http.StatusForbidden, "PERMISSION_DENIED", "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.")
		return "", Key{}, false
	}
	k, known := s.lookup(cred, false)
	if !known {
		geminiFaults(compat).reject(w, cred)
		return "", Key{}, false
	}
	return cred, k, true
}

// geminiFaults words Google's errors. NoQuota is the billing precondition
// and shows on generation only (listing works without billing): 400
// FAILED_PRECONDITION (obs: u14app/neo-chat#45; also "User location is not
// supported for the API use without a billing account linked.",
// EvanZhouDev/gemini-ai#16). A per-model "limit: 0" quota reads as the
// RateLimited 429 (obs: continuedev/continue#11926).
func geminiFaults(compat bool) faults {
	return faults{
		reject: func(w http.ResponseWriter, _ string) {
			// obs: continuedev/continue#10748.
			msg := "API key not valid. Please pass a valid API key."
			googleFail(w, compat, http.StatusBadRequest, "INVALID_ARGUMENT", msg, errorInfo("API_KEY_INVALID"),
				map[string]any{"@type": "type.googleapis.com/google.rpc.LocalizedMessage", "locale": "en-US", "message": msg})
		},
		noQuota: func(w http.ResponseWriter) {
			googleFail(w, compat, http.StatusBadRequest, "FAILED_PRECONDITION", "Gemini API free tier is not available in your country. Please enable billing on your project in Google AI Studio.")
		},
		rateLimit: func(w http.ResponseWriter, ra string) {
			// obs: google-gemini/gemini-cli#8437 (QuotaFailure), llmsresearch/paperbanana#10 (RetryInfo).
			googleFail(w, compat, http.StatusTooManyRequests, "RESOURCE_EXHAUSTED",
				"You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.",
				map[string]any{"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": []any{map[string]any{
					"quotaMetric":     "generativelanguage.googleapis.com/generate_content_free_tier_requests",
					"quotaId":         "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
					"quotaDimensions": map[string]any{"location": "global", "model": "gemini-2.0-flash"}}}},
				map[string]any{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": ra + "s"})
		},
		forbidden: func(w http.ResponseWriter) {
			// obs: google-gemini/deprecated-generative-ai-python#10 (SERVICE_DISABLED).
			googleFail(w, compat, http.StatusForbidden, "PERMISSION_DENIED",
				"Generative Language API has not been used in project 000000000000 before or it is disabled. Enable it by visiting https://console.developers.google.com/apis/api/generativelanguage.googleapis.com/overview?project=000000000000 then retry.",
				errorInfo("SERVICE_DISABLED"))
		},
		server: func(w http.ResponseWriter, status int) {
			// UNCONFIRMED wording; the status names are google.rpc's.
			if status == http.StatusServiceUnavailable {
				googleFail(w, compat, status, "UNAVAILABLE", "The model is overloaded. Please try again later.")
				return
			}
			googleFail(w, compat, status, "INTERNAL", "An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting")
		},
		quotaOnChat:  true,
		noRetryAfter: true,
	}
}

// geminiModel is one entry of models.list (src: googleapis/python-genai
// google/genai/types.py Model: name, displayName, supportedActions come from
// supportedGenerationMethods).
func geminiModel(id string) map[string]any {
	return map[string]any{"name": "models/" + id, "version": "001", "displayName": id, "description": "providertest model " + id,
		"inputTokenLimit": 1048576, "outputTokenLimit": 8192, "supportedGenerationMethods": []string{"generateContent", "countTokens"},
		"temperature": 1, "topP": 0.95, "topK": 40, "maxTemperature": 2}
}

func (s *Server) geminiList(w http.ResponseWriter) {
	var ms []any
	for _, m := range s.models() {
		ms = append(ms, geminiModel(m))
	}
	writeJSON(w, http.StatusOK, map[string]any{"models": ms})
}

// geminiGenerate answers generateContent (a GenerateContentResponse) or
// streamGenerateContent (SSE with ?alt=sse as google-genai asks, else a
// JSON array of responses).
func (s *Server) geminiGenerate(w http.ResponseWriter, r *http.Request, body, model string, stream bool) {
	var req struct {
		Contents []json.RawMessage `json:"contents"`
	}
	if json.Unmarshal([]byte(body), &req) != nil || len(req.Contents) == 0 {
		// UNCONFIRMED wording of the missing-contents error.
		googleFail(w, false, http.StatusBadRequest, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified\n")
		return
	}
	reply := s.config().Reply
	n := len(strings.Fields(reply))
	resp := map[string]any{
		"candidates": []any{map[string]any{"index": 0, "finishReason": "STOP",
			"content": map[string]any{"role": "model", "parts": []any{map[string]any{"text": reply}}}}},
		"usageMetadata": map[string]any{"promptTokenCount": max(1, len(body)/4), "candidatesTokenCount": n, "totalTokenCount": max(1, len(body)/4) + n},
		"modelVersion":  model, "responseId": fmt.Sprintf("fake%06d", s.Requests()),
	}
	switch {
	case !stream:
		writeJSON(w, http.StatusOK, resp)
	case r.URL.Query().Get("alt") == "sse":
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(http.StatusOK)
		writeSSE(w, "", resp)
	default:
		writeJSON(w, http.StatusOK, []any{resp})
	}
}
