package providertest

import (
	"net/http"
)

// xaiFail writes xAI's error shape {"code":…,"error":…}: code is a status
// description ("Client specified an invalid argument", obs
// i-am-bee/beeai-framework#447) or, in newer answers, a slug
// ("permission-denied", obs decolua/9router#2735).
func xaiFail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"code": code, "error": msg})
}

// xaiTeam is the team every fake key belongs to.
const xaiTeam = "00000000-0000-4000-8000-00000000000c"

// xai serves api.x.ai/v1: GET api-key (the key's own info), GET models,
// GET models/{id}, POST chat/completions.
func (s *Server) xai(w http.ResponseWriter, r *http.Request, body string) {
	if r.Method != http.MethodGet || r.URL.Path != "/v1/api-key" {
		s.compat(w, r, body, xaiAPI)
		return
	}
	cred, k, ok := s.bearerKey(w, r, rejectAll(xaiReject))
	if !ok {
		return
	}
	// The key info reports a blocked key instead of refusing it, so a
	// Forbidden key still answers 200 here (api_key_blocked: true).
	if k.Mode != Forbidden && s.mode(w, r, cred, k, xaiAPI.faults, false) {
		return
	}
	acls := k.Scopes
	if acls == nil {
		acls = []string{"api-key:model:*", "api-key:endpoint:*"}
	}
	// Fields: src a Rust xAI client's ApiKeyInfo (docs.x.ai/api/endpoints#api-key).
	writeJSON(w, http.StatusOK, map[string]any{"redacted_api_key": xaiRedact(cred), "user_id": "00000000-0000-4000-8000-00000000000d",
		"name": "providertest key", "create_time": "2024-11-22T19:41:30.583654Z", "modify_time": "2024-11-22T19:41:30.583654Z",
		"modified_by": "00000000-0000-4000-8000-00000000000d", "team_id": xaiTeam, "acls": acls,
		"api_key_id": "00000000-0000-4000-8000-00000000000e", "team_blocked": false,
		"api_key_blocked": k.Mode == Forbidden, "api_key_disabled": false})
}

// xaiRedact is how xAI shows a key back: two characters, stars, two
// (obs: "ba***na" in i-am-bee/beeai-framework#447).
func xaiRedact(key string) string {
	if len(key) < 6 {
		return "***"
	}
	return key[:2] + "***" + key[len(key)-2:]
}

// xaiReject: an invalid key gets 400, not 401 (obs:
// i-am-bee/beeai-framework#447; trufflehog xai.go treats 400 and 401 as
// invalid). A missing key is UNCONFIRMED: answered the same, with nothing
// to redact.
func xaiReject(w http.ResponseWriter, cred string) {
	shown := ""
	if cred != "" {
		shown = xaiRedact(cred)
	}
	xaiFail(w, http.StatusBadRequest, "Client specified an invalid argument", "Incorrect API key provided: "+shown+". You can obtain an API key from https://console.x.ai.")
}

var xaiAPI = compatAPI{
	prefixes: []string{"/v1"},
	reject:   rejectAll(xaiReject),
	faults: faults{
		reject: xaiReject,
		noQuota: func(w http.ResponseWriter) {
			// obs: continuedev/continue#12670 (newly created team); a spent
			// team gets "…has either used all available credits or reached
			// its monthly spending limit…" (warpdotdev/warp#14863).
			xaiFail(w, http.StatusForbidden, "permission-denied", "Your newly created team doesn't have any credits or licenses yet. You can purchase those on https://console.x.ai/team/"+xaiTeam+".")
		},
		rateLimit: func(w http.ResponseWriter, _ string) {
			// Message obs: cline/cline#4826; the code string is UNCONFIRMED.
			xaiFail(w, http.StatusTooManyRequests, "Some resource has been exhausted", "Too many requests for team "+xaiTeam+" and model grok-4. Your team's rate limit is — Requests per Second (actual/limit): 9/8. You can view your team rate limits at https://console.x.ai.")
		},
		forbidden: func(w http.ResponseWriter) {
			// obs: decolua/9router#2735 (key ACLs deny the endpoint).
			xaiFail(w, http.StatusForbidden, "permission-denied", "Access to the chat endpoint is denied. Please ensure you're using the correct credentials. If you believe this is a mistake, please log into console.x.ai and update the permissions, or contact support.")
		},
		server: func(w http.ResponseWriter, status int) {
			xaiFail(w, status, "Internal error", "Service temporarily unavailable. The model is at capacity and currently cannot serve this request. Please try again later.") // UNCONFIRMED
		},
		quotaOnChat: true,
	},
	style: chatStyle{
		invalid: func(w http.ResponseWriter, msg, _, _ string) {
			xaiFail(w, http.StatusBadRequest, "Client specified an invalid argument", msg) // UNCONFIRMED wording
		},
		unknownModel: func(w http.ResponseWriter, model string) {
			// UNCONFIRMED.
			xaiFail(w, http.StatusNotFound, "Some requested entity was not found", "The model "+model+" does not exist or your team "+xaiTeam+" does not have access to it.")
		},
	},
	notFound: func(w http.ResponseWriter, r *http.Request) {
		xaiFail(w, http.StatusNotFound, "Some requested entity was not found", "No handler found for "+r.URL.Path) // UNCONFIRMED
	},
	model: func(id string) map[string]any { return modelObject(id, "xai") },
}
