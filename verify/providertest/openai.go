package providertest

import (
	"net/http"
	"slices"
	"strings"

	"github.com/keyexec/keyexec/sources"
)

// OpenAI scopes of restricted project keys, as named in the 401 OpenAI sends
// (obs: microsoft/PowerToys#32989 "Missing scopes: model.request";
// continuedev/continue#10059 "api.responses.write"; community threads 1345041
// and 1374480 for api.model.read).
const (
	ScopeModelRead    = "api.model.read"
	ScopeModelRequest = "model.request"
)

// openAI serves GET /v1/models, GET /v1/models/{id} and
// POST /v1/chat/completions.
func (s *Server) openAI(w http.ResponseWriter, r *http.Request, body string) {
	model, isModel := strings.CutPrefix(r.URL.Path, "/v1/models/")
	list := r.Method == http.MethodGet && (r.URL.Path == "/v1/models" || (isModel && model != ""))
	chat := r.Method == http.MethodPost && r.URL.Path == "/v1/chat/completions"
	if !list && !chat {
		oaiError(w, http.StatusNotFound, "Invalid URL ("+r.Method+" "+r.URL.Path+")", "invalid_request_error", "", "")
		return
	}
	cred, _ := bearer(r)
	k, known := s.lookup(cred, false)
	if cred == "" || !known {
		openAIReject(w, cred)
		return
	}
	if org := r.Header.Get("OpenAI-Organization"); org != "" && k.Org != "" && org != k.Org {
		oaiError(w, http.StatusUnauthorized, "OpenAI-Organization header should match organization for API key",
			"invalid_request_error", "", "mismatched_organization")
		return
	}
	need := ScopeModelRead
	if chat {
		need = ScopeModelRequest
	}
	// Scopes are checked before the body: a restricted key's probe with
	// an invalid body learns about the scope first. UNCONFIRMED ordering
	// (PROVIDERS.md §2); it is the order keyexec's plan assumes.
	if s.missingScope(cred, k, need, list) {
		openAIMissingScope(w, need)
		return
	}
	if s.mode(w, r, cred, k, openAIFaults, chat) {
		return
	}
	switch {
	case chat:
		s.chat(w, r, body, openAIStyle)
	case !isModel:
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": s.modelList("system")})
	case !slices.Contains(s.models(), model):
		// The chat wording; on GET /models/{id} UNCONFIRMED (PROVIDERS.md).
		openAIStyle.unknownModel(w, model)
	default:
		writeJSON(w, http.StatusOK, modelObject(model, "system"))
	}
}

// missingScope says whether a restricted key lacks need, or an
// unrestricted key still has spurious scope errors to give on listings.
func (s *Server) missingScope(cred string, k Key, need string, list bool) bool {
	if k.Scopes != nil && !slices.Contains(k.Scopes, need) {
		return true
	}
	if k.SpuriousScopeErrors <= 0 || !list {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	fp := sources.Fingerprint(cred)
	if s.scopeFlaps[fp] >= k.SpuriousScopeErrors {
		return false
	}
	s.scopeFlaps[fp]++
	return true
}

// openAIMissingScope is the 401 of a genuine key lacking a permission:
// code null, message naming the scope (obs: continuedev/continue#10059,
// microsoft/PowerToys#32989).
func openAIMissingScope(w http.ResponseWriter, scope string) {
	oaiError(w, http.StatusUnauthorized, "You have insufficient permissions for this operation. Missing scopes: "+scope+
		". Check that you have the correct role in your organization (Reader, Writer, Owner) and project (Member, Owner), and if you're using a restricted API key, that it has the necessary scopes.",
		"invalid_request_error", "", "")
}

// openAIReject answers a missing or unknown key (PROVIDERS.md, OpenAI;
// the echo keeps the prefix and last four, as OpenAI does).
func openAIReject(w http.ResponseWriter, cred string) {
	if cred == "" {
		oaiError(w, http.StatusUnauthorized, "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
			"invalid_request_error", "", "")
		return
	}
	oaiError(w, http.StatusUnauthorized, "Incorrect API key provided: "+truncatedKey(cred)+". You can find your API key at https://platform.openai.com/account/api-keys.",
		"invalid_request_error", "", "invalid_api_key")
}

// openAIFaults: NoQuota shows on every request (including /models, which
// keyexec's existing tests rely on; the real /models answers 200 for a key
// without credit, PROVIDERS.md §2). Bodies: PROVIDERS.md OpenAI and the
// OpenAI error-code guide.
var openAIFaults = faults{
	reject: openAIReject,
	noQuota: func(w http.ResponseWriter) {
		oaiError(w, http.StatusTooManyRequests, "You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.",
			"insufficient_quota", "", "insufficient_quota")
	},
	rateLimit: func(w http.ResponseWriter, ra string) {
		oaiError(w, http.StatusTooManyRequests, "Rate limit reached for requests. Please try again in "+ra+"s.", "requests", "", "rate_limit_exceeded")
	},
	forbidden: func(w http.ResponseWriter) {
		oaiError(w, http.StatusForbidden, "Country, region, or territory not supported", "request_forbidden", "", "unsupported_country_region_territory")
	},
	server: func(w http.ResponseWriter, status int) {
		oaiError(w, status, "The server had an error while processing your request. Sorry about that!", "server_error", "", "")
	},
}
