package providertest

import (
	"net/http"
)

// mistralFail writes Mistral's error object {"object":"error",message,type,param,code}
// (obs: lfnovo/open-notebook#441, cline/cline#9085).
func mistralFail(w http.ResponseWriter, status int, msg any, typ, code string) {
	writeJSON(w, status, map[string]any{"object": "error", "message": msg, "type": typ, "param": nil, "code": nullable(code)})
}

// mistral serves api.mistral.ai: /v1/models, /v1/models/{id},
// /v1/chat/completions (the mistralai SDK's server_url is the root: src
// mistralai/client-python src/mistralai/client/sdkconfiguration.py).
func (s *Server) mistral(w http.ResponseWriter, r *http.Request, body string) {
	s.compat(w, r, body, mistralAPI)
}

// mistralReject: 401 {"message":"Unauthorized","request_id":…} for a missing
// or unknown key (obs: cline/cline#1734; an older {"detail":"Unauthorized"}
// is in nextcloud/integration_openai#332).
func mistralReject(w http.ResponseWriter, _ string) {
	writeJSON(w, http.StatusUnauthorized, map[string]any{"message": "Unauthorized", "request_id": "0123456789abcdef0123456789abcdef"})
}

func mistralRateLimit(w http.ResponseWriter, _ string) {
	mistralFail(w, http.StatusTooManyRequests, "Rate limit exceeded", "rate_limited", "1300")
}

var mistralAPI = compatAPI{
	prefixes: []string{"/v1"},
	reject:   rejectAll(mistralReject),
	faults: faults{
		reject: mistralReject,
		// UNCONFIRMED: no documented or observed no-credit answer; a
		// workspace past its limits is answered as rate limited.
		noQuota:   func(w http.ResponseWriter) { mistralRateLimit(w, "") },
		rateLimit: mistralRateLimit,
		forbidden: func(w http.ResponseWriter) {
			writeJSON(w, http.StatusForbidden, map[string]any{"message": "Forbidden", "request_id": "0123456789abcdef0123456789abcdef"}) // UNCONFIRMED
		},
		server: func(w http.ResponseWriter, status int) {
			mistralFail(w, status, "Internal server error", "internal_server_error", "3000") // UNCONFIRMED
		},
		quotaOnChat: true,
	},
	style: chatStyle{
		// Mistral validates with 422 and a pydantic detail list
		// (UNCONFIRMED wording; the status is what its API reference lists).
		invalid: func(w http.ResponseWriter, msg, param, _ string) {
			loc := []any{"body"}
			if param != "" {
				loc = append(loc, param)
			}
			mistralFail(w, http.StatusUnprocessableEntity, map[string]any{"detail": []any{map[string]any{"type": "value_error", "loc": loc, "msg": msg}}},
				"invalid_request_message_error", "")
		},
		unknownModel: func(w http.ResponseWriter, model string) {
			// obs: lfnovo/open-notebook#441 (on chat; also used for GET /models/{id}, UNCONFIRMED).
			mistralFail(w, http.StatusBadRequest, "Invalid model: "+model, "invalid_model", "1500")
		},
	},
	notFound: func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"detail": "Not Found"}) // FastAPI's default, UNCONFIRMED
	},
	// src: mistralai/client-python src/mistralai/models/basemodelcard.py.
	model: func(id string) map[string]any {
		m := modelObject(id, "mistralai")
		m["type"], m["max_context_length"] = "base", 32768
		m["capabilities"] = map[string]any{"completion_chat": true, "function_calling": true, "vision": false}
		return m
	},
}
