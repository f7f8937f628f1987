package providertest

import (
	"net/http"
)

// groqFail writes Groq's error object: OpenAI's without "param".
func groqFail(w http.ResponseWriter, status int, msg, typ, code string) {
	e := map[string]any{"message": msg, "type": typ}
	if code != "" {
		e["code"] = code
	}
	writeJSON(w, status, map[string]any{"error": e})
}

// groq serves api.groq.com's OpenAI-compatible routes under /openai/v1
// (GROQ_BASE_URL is the root: src groq/groq-python src/groq/_client.py).
func (s *Server) groq(w http.ResponseWriter, r *http.Request, body string) {
	s.compat(w, r, body, groqAPI)
}

// groqReject: the same 401 for a missing and an unknown key (obs:
// ag5826000/resume-commentor#4, nark/WiredSwift#44; missing-key body
// UNCONFIRMED, assumed identical).
func groqReject(w http.ResponseWriter, _ string) {
	groqFail(w, http.StatusUnauthorized, "Invalid API Key", "invalid_request_error", "invalid_api_key")
}

var groqAPI = compatAPI{
	prefixes: []string{"/openai/v1"},
	reject:   rejectAll(groqReject),
	faults: faults{
		reject: groqReject,
		// Groq has no credit balance on the free tier: what a spent
		// allowance looks like is the daily token cap (obs:
		// continuedev/continue#10920, which points to billing).
		noQuota: func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "578")
			groqFail(w, http.StatusTooManyRequests, "Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_providertest` service tier `on_demand` on tokens per day (TPD): Limit 100000, Used 99990, Requested 300. Please try again in 9m38.016s. Need more tokens? Upgrade to Dev Tier today at https://console.groq.com/settings/billing",
				"tokens", "rate_limit_exceeded")
		},
		rateLimit: func(w http.ResponseWriter, ra string) {
			// obs: danielmiessler/Fabric#364 (with retry-after).
			groqFail(w, http.StatusTooManyRequests, "Rate limit reached for model `llama-3.3-70b-versatile` in organization `org_providertest` service tier `on_demand` on tokens per minute (TPM): Limit 12000, Used 11000, Requested 2000. Please try again in "+ra+"s. Visit https://console.groq.com/docs/rate-limits for more information.",
				"tokens", "rate_limit_exceeded")
		},
		forbidden: func(w http.ResponseWriter) {
			// A valid key of a restricted organization: 400, not 403
			// (obs: crewAIInc/crewAI#783, NVIDIA-NeMo/Guardrails#563).
			groqFail(w, http.StatusBadRequest, "Organization has been restricted. Please reach out to support if you believe this was in error.",
				"invalid_request_error", "organization_restricted")
		},
		server: func(w http.ResponseWriter, status int) {
			groqFail(w, status, "Internal Server Error", "internal_server_error", "") // UNCONFIRMED wording
		},
		quotaOnChat: true,
	},
	style: chatStyle{
		invalid: func(w http.ResponseWriter, msg, _, _ string) {
			groqFail(w, http.StatusBadRequest, msg, "invalid_request_error", "") // UNCONFIRMED wording (OpenAI's)
		},
		unknownModel: func(w http.ResponseWriter, model string) {
			// obs: lobehub/lobehub#3367.
			groqFail(w, http.StatusNotFound, "The model `"+model+"` does not exist or you do not have access to it.", "invalid_request_error", "model_not_found")
		},
	},
	notFound: func(w http.ResponseWriter, r *http.Request) {
		// UNCONFIRMED wording.
		groqFail(w, http.StatusNotFound, "Unknown request URL: "+r.Method+" "+r.URL.Path+". Please check the URL for typos, or see the docs at https://console.groq.com/docs/",
			"invalid_request_error", "unknown_url")
	},
	// src: groq-python src/groq/types/model.py (id, created, object, owned_by)
	// plus the fields the API adds.
	model: func(id string) map[string]any {
		m := modelObject(id, "Meta")
		m["active"], m["context_window"], m["public_apps"], m["max_completion_tokens"] = true, 131072, nil, 32768
		return m
	},
}
