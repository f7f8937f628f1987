package providertest

import (
	"net/http"
)

// together serves api.together.xyz/v1 (TOGETHER_BASE_URL: src
// togethercomputer/together-python src/together/constants.py): GET models
// answers a bare JSON array, not {data:[…]} (PROVIDERS.md), GET
// models/{id}, POST chat/completions. Status codes: docs.together.ai/docs/
// error-codes (401, 402 spending limit, 404 model, 429, 500, 503).
func (s *Server) together(w http.ResponseWriter, r *http.Request, body string) {
	s.compat(w, r, body, togetherAPI)
}

// togetherReject: 401 invalid_api_key (obs: harshitv804/LawGPT#4); the
// missing-key body is UNCONFIRMED, assumed identical.
func togetherReject(w http.ResponseWriter, _ string) {
	oaiError(w, http.StatusUnauthorized, "Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.",
		"invalid_request_error", "", "invalid_api_key")
}

var togetherAPI = compatAPI{
	prefixes: []string{"/v1"},
	reject:   rejectAll(togetherReject),
	faults: faults{
		reject: togetherReject,
		noQuota: func(w http.ResponseWriter) {
			// 402 is documented; the body's wording and type are UNCONFIRMED
			// (type credit_limit as in the 429 of togethercomputer/MoA#27).
			oaiError(w, http.StatusPaymentRequired, "Credit limit exceeded. Please navigate to https://api.together.xyz/settings/billing to add credit or upgrade your plan.",
				"credit_limit", "", "")
		},
		rateLimit: func(w http.ResponseWriter, _ string) {
			// obs: togethercomputer/MoA#27.
			oaiError(w, http.StatusTooManyRequests, "You have been rate limited. Your rate limit is 60 queries per minute. Please navigate to https://api.together.xyz/settings/billing to upgrade to a paid plan.",
				"credit_limit", "", "")
		},
		forbidden: func(w http.ResponseWriter) {
			// A dedicated-only model refused to a valid key (obs:
			// can1357/oh-my-pi PR #8333); Together documents no 403 for keys.
			oaiError(w, http.StatusBadRequest, "Unable to access non-serverless model meta-llama/Llama-3.3-70B-Instruct-Turbo. Please visit https://api.together.ai/models to view the list of supported models.",
				"invalid_request_error", "", "model_not_available")
		},
		server: func(w http.ResponseWriter, status int) {
			msg := "Internal server error" // UNCONFIRMED wording; 503 name from the docs
			if status == http.StatusServiceUnavailable {
				msg = "Engine Overloaded"
			}
			oaiError(w, status, msg, "server_error", "", "")
		},
		quotaOnChat: true,
	},
	style: chatStyle{
		invalid: openAIStyle.invalid, // UNCONFIRMED wording (OpenAI's)
		unknownModel: func(w http.ResponseWriter, model string) {
			// 404 documented; wording UNCONFIRMED.
			oaiError(w, http.StatusNotFound, "Unable to access model "+model+". Please visit https://api.together.ai/models to view the list of supported models.",
				"invalid_request_error", "", "model_not_available")
		},
	},
	notFound: func(w http.ResponseWriter, r *http.Request) {
		oaiError(w, http.StatusNotFound, "Invalid URL ("+r.Method+" "+r.URL.Path+")", "invalid_request_error", "", "") // UNCONFIRMED
	},
	list: func(s *Server, w http.ResponseWriter) {
		data := []any{}
		for _, m := range s.models() {
			data = append(data, togetherModel(m))
		}
		writeJSON(w, http.StatusOK, data)
	},
	model: togetherModel,
}

// togetherModel: src together-python src/together/types/models.py ModelObject.
func togetherModel(id string) map[string]any {
	return map[string]any{"id": id, "object": "model", "created": 1733443200, "type": "chat", "display_name": id,
		"organization": "Meta", "link": "", "license": "", "context_length": 131072,
		"pricing": map[string]any{"hourly": 0, "input": 0.88, "output": 0.88, "base": 0, "finetune": 0}}
}
