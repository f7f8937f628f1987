package providertest

import (
	"net/http"
	"strings"
)

// deepSeek serves api.deepseek.com: GET /models, GET /user/balance, POST
// /chat/completions, each also under /v1 (the docs accept both bases).
// Status codes: api-docs.deepseek.com/quick_start/error_codes (400, 401,
// 402 Insufficient Balance, 422, 429, 500, 503).
func (s *Server) deepSeek(w http.ResponseWriter, r *http.Request, body string) {
	path := strings.TrimPrefix(r.URL.Path, "/v1")
	if r.Method != http.MethodGet || path != "/user/balance" {
		s.compat(w, r, body, deepSeekAPI)
		return
	}
	cred, k, ok := s.bearerKey(w, r, deepSeekReject)
	if !ok || s.mode(w, r, cred, k, deepSeekAPI.faults, false) {
		return
	}
	// docs: api-docs.deepseek.com/api/get-user-balance. A NoQuota key has
	// nothing left: is_available false, zero balance.
	total, available := "10.00", true
	if k.Mode == NoQuota {
		total, available = "0.00", false
	}
	writeJSON(w, http.StatusOK, map[string]any{"is_available": available, "balance_infos": []any{map[string]any{
		"currency": "USD", "total_balance": total, "granted_balance": "0.00", "topped_up_balance": total}}})
}

// deepSeekReject: a missing or non-Bearer header (obs:
// linshenkx/prompt-optimizer#170, LnYo-Cly/ai4j#42) and an unknown key
// (obs: BerriAI/litellm#10403) word it differently; both 401 with code
// "invalid_request_error" (the older "Authentication Fails (no such user)"
// is in nextcloud/integration_openai#182).
func deepSeekReject(w http.ResponseWriter, cred string, _ bool) {
	msg := "Authentication Fails (auth header format should be Bearer sk-...)"
	if cred != "" {
		tail := cred
		if len(cred) > 4 {
			tail = cred[len(cred)-4:]
		}
		msg = "Authentication Fails, Your api key: ****" + tail + " is invalid"
	}
	oaiError(w, http.StatusUnauthorized, msg, "authentication_error", "", "invalid_request_error")
}

var deepSeekAPI = compatAPI{
	prefixes: []string{"/v1", ""}, // longest first
	reject:   deepSeekReject,
	faults: faults{
		reject: func(w http.ResponseWriter, cred string) { deepSeekReject(w, cred, true) },
		noQuota: func(w http.ResponseWriter) {
			// obs: continuedev/continue#4484, #4251.
			oaiError(w, http.StatusPaymentRequired, "Insufficient Balance", "unknown_error", "", "invalid_request_error")
		},
		rateLimit: func(w http.ResponseWriter, _ string) {
			oaiError(w, http.StatusTooManyRequests, "Rate Limit Reached", "rate_limit_error", "", "invalid_request_error") // 429 documented; body UNCONFIRMED
		},
		forbidden: func(w http.ResponseWriter) {
			oaiError(w, http.StatusForbidden, "Forbidden", "permission_error", "", "invalid_request_error") // no 403 documented: UNCONFIRMED
		},
		server: func(w http.ResponseWriter, status int) {
			msg := "Server Error" // the docs' names for 500 and 503; bodies UNCONFIRMED
			if status == http.StatusServiceUnavailable {
				msg = "Server Overloaded"
			}
			oaiError(w, status, msg, "server_error", "", "invalid_request_error")
		},
		quotaOnChat: true,
	},
	style: chatStyle{
		invalid: func(w http.ResponseWriter, msg, param, _ string) {
			oaiError(w, http.StatusBadRequest, msg, "invalid_request_error", param, "invalid_request_error") // UNCONFIRMED wording
		},
		unknownModel: func(w http.ResponseWriter, _ string) {
			oaiError(w, http.StatusBadRequest, "Model Not Exist", "invalid_request_error", "", "invalid_request_error") // UNCONFIRMED
		},
	},
	notFound: func(w http.ResponseWriter, _ *http.Request) {
		oaiError(w, http.StatusNotFound, "Not Found", "invalid_request_error", "", "") // UNCONFIRMED
	},
	model: func(id string) map[string]any {
		return map[string]any{"id": id, "object": "model", "owned_by": "deepseek"} // docs: /models has no "created"
	},
}
