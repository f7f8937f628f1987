package providertest

import (
	"net/http"
	"slices"
	"strings"
)

// openRouterFail writes OpenRouter's one error shape
// {"error":{"code":<status>,"message":…}} (openrouter.ai/docs/api/errors).
func openRouterFail(w http.ResponseWriter, status int, msg string, metadata map[string]any) {
	e := map[string]any{"code": status, "message": msg}
	if metadata != nil {
		e["metadata"] = metadata
	}
	writeJSON(w, status, map[string]any{"error": e})
}

// openRouter serves openrouter.ai/api/v1: GET key (the key's own info, the
// authenticated proof), GET models (answers without a key, as the real one:
// it proves nothing), POST chat/completions.
func (s *Server) openRouter(w http.ResponseWriter, r *http.Request, body string) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/api/v1/models":
		s.openRouterModels(w)
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/api/v1/models/") && strings.HasSuffix(r.URL.Path, "/endpoints"):
		s.openRouterEndpoints(w, strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/api/v1/models/"), "/endpoints"))
	case r.Method == http.MethodGet && (r.URL.Path == "/api/v1/key" || r.URL.Path == "/api/v1/auth/key"):
		cred, k, ok := s.bearerKey(w, r, openRouterReject)
		if !ok || s.mode(w, r, cred, k, openRouterAPI.faults, false) {
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"data": openRouterKeyInfo(cred, k)})
	default:
		s.compat(w, r, body, openRouterAPI)
	}
}

// openRouterReject: missing key "No auth credentials found" (obs:
// musistudio/claude-code-router#227), unknown key "User not found." (obs:
// apurvsinghgautam/robin#103, Fosowl/agenticSeek#407).
func openRouterReject(w http.ResponseWriter, cred string, _ bool) {
	if cred == "" {
		openRouterFail(w, http.StatusUnauthorized, "No auth credentials found", nil)
		return
	}
	openRouterFail(w, http.StatusUnauthorized, "User not found.", nil)
}

// openRouterKeyInfo is GET /key's data (docs: openrouter.ai/docs/api/
// api-reference/api-keys/get-current-key). A NoQuota key is a free-tier key
// whose limit is spent: limit_remaining 0.
func openRouterKeyInfo(cred string, k Key) map[string]any {
	label := cred
	if len(cred) > 14 {
		label = cred[:11] + "..." + cred[len(cred)-3:]
	}
	var limit, remaining any
	usage, free := 0.0, false
	if k.Mode == NoQuota {
		limit, remaining, usage, free = 0.0, 0.0, 0.0, true
	}
	return map[string]any{"label": label, "limit": limit, "limit_remaining": remaining, "limit_reset": nil,
		"usage": usage, "usage_daily": usage, "usage_weekly": usage, "usage_monthly": usage,
		"byok_usage": 0.0, "include_byok_in_limit": false, "is_free_tier": free, "is_provisioning_key": false,
		"rate_limit": map[string]any{"requests": 1000, "interval": "1h", "note": "This field is deprecated and safe to ignore."}}
}

// openRouterEndpoints is GET /models/{author}/{slug}/endpoints (docs:
// openrouter.ai/docs/api/api-reference/endpoints/list-endpoints), public like
// the list; an unknown model gets 404 (the body's wording is UNCONFIRMED).
func (s *Server) openRouterEndpoints(w http.ResponseWriter, model string) {
	if !slices.Contains(s.models(), model) {
		openRouterFail(w, http.StatusNotFound, "Model not found", nil)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": map[string]any{"id": model, "name": model,
		"endpoints": []any{map[string]any{"name": "providertest | " + model, "context_length": 128000, "status": 0}}}})
}

// openRouterModels is the public model list (docs: openrouter.ai/docs/api/
// api-reference/models/get-models; trimmed to the fields clients read).
func (s *Server) openRouterModels(w http.ResponseWriter) {
	data := []any{}
	for _, m := range s.models() {
		data = append(data, map[string]any{"id": m, "canonical_slug": m, "name": m, "created": 1721260800,
			"description": "providertest model " + m, "context_length": 128000,
			"architecture":       map[string]any{"modality": "text->text", "input_modalities": []string{"text"}, "output_modalities": []string{"text"}, "tokenizer": "Other"},
			"pricing":            map[string]any{"prompt": "0.00000015", "completion": "0.0000006"},
			"top_provider":       map[string]any{"context_length": 128000, "max_completion_tokens": 16384, "is_moderated": false},
			"per_request_limits": nil, "supported_parameters": []string{"max_tokens", "temperature", "tools"}})
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": data})
}

var openRouterAPI = compatAPI{
	prefixes: []string{"/api/v1"},
	reject:   openRouterReject,
	faults: faults{
		reject: func(w http.ResponseWriter, cred string) { openRouterReject(w, cred, true) },
		noQuota: func(w http.ResponseWriter) {
			// obs: Gitlawb/openclaude#43.
			openRouterFail(w, http.StatusPaymentRequired, "Insufficient credits. This account never purchased credits. Make sure your key is on the correct account or org, and if so, purchase more at https://openrouter.ai/settings/credits", nil)
		},
		rateLimit: func(w http.ResponseWriter, ra string) {
			// obs: cline/cline#5301 (the per-day variant).
			openRouterFail(w, http.StatusTooManyRequests, "Rate limit exceeded: free-models-per-min. ", map[string]any{
				"headers": map[string]any{"X-RateLimit-Limit": "20", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": ra + "000"}, "provider_name": nil})
		},
		forbidden: func(w http.ResponseWriter) {
			// The documented 403 (openrouter.ai/docs/api/errors): moderation.
			openRouterFail(w, http.StatusForbidden, "Your chosen model requires moderation and your input was flagged", map[string]any{"reasons": []string{"providertest"}})
		},
		server: func(w http.ResponseWriter, status int) {
			openRouterFail(w, status, "Internal Server Error", nil) // UNCONFIRMED wording
		},
		quotaOnChat: true,
	},
	style: chatStyle{
		invalid: func(w http.ResponseWriter, msg, _, _ string) { openRouterFail(w, http.StatusBadRequest, msg, nil) },
		unknownModel: func(w http.ResponseWriter, model string) {
			// UNCONFIRMED (PROVIDERS.md: third-party sources say 400).
			openRouterFail(w, http.StatusBadRequest, model+" is not a valid model ID", nil)
		},
		idPrefix: "gen-",
	},
	notFound: func(w http.ResponseWriter, _ *http.Request) {
		openRouterFail(w, http.StatusNotFound, "Not Found", nil) // UNCONFIRMED
	},
	model: func(id string) map[string]any { return modelObject(id, "openrouter") },
}
