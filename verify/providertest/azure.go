package providertest

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"
)

// azureFail writes Azure's own error shape {"error":{code,message}}.
func azureFail(w http.ResponseWriter, status int, code, msg string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{"code": code, "message": msg}})
}

// azureTokenRejected is the answer to a bad, expired or wrong-audience AD
// token (obs: run-llama/llama_index#12484, langchain-ai/langchain#17373).
func azureTokenRejected(w http.ResponseWriter, _ string) {
	writeJSON(w, http.StatusUnauthorized, map[string]any{"statusCode": 401,
		"message": "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired."})
}

// azureKeyRejected is the answer to an unknown api-key (obs: SciSharp/BotSharp#386).
func azureKeyRejected(w http.ResponseWriter, _ string) {
	azureFail(w, http.StatusUnauthorized, "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.")
}

// azure serves the resource's model list and the chat completions of its
// deployments, classic (/openai/deployments/{d}/…?api-version=) and v1
// (/openai/v1/…, deployment in the body's "model").
func (s *Server) azure(w http.ResponseWriter, r *http.Request, body string) {
	deployment, chat, v1, ok := azureRoute(r, body)
	if !ok {
		azureFail(w, http.StatusNotFound, "404", "Resource not found")
		return
	}
	cfg := s.config()
	// An AD token wins over a key, as in openai-python.
	cred, token := bearer(r)
	token = token && cred != ""
	if !token {
		cred = r.Header.Get("api-key")
		if cred != "" && cfg.DisableLocalAuth {
			// obs: microsoft/sample-app-aoai-chatGPT#1000, Azure-Samples/azure-search-openai-demo#1617.
			azureFail(w, http.StatusForbidden, "AuthenticationTypeDisabled", "Key based authentication is disabled for this resource.")
			return
		}
	}
	reject := azureKeyRejected
	if token {
		reject = azureTokenRejected
	}
	k, known := s.lookup(cred, token)
	if cred == "" || !known || (token && cfg.VerifyTokenClaims && !tokenClaimsOK(cred)) {
		reject(w, cred)
		return
	}
	if !s.versionOK(r.URL.Query().Get("api-version"), v1) {
		azureFail(w, http.StatusNotFound, "404", "Resource not found")
		return
	}
	if token && k.Mode == PermissionDenied {
		// The identity lacks "Cognitive Services OpenAI User": 401, not
		// 403 (obs: Azure-Samples/rag-data-openai-python-promptflow#28).
		azureFail(w, http.StatusUnauthorized, "PermissionDenied", "Principal does not have access to API/Operation.")
		return
	}
	f := azureFaults
	f.reject = reject
	if s.mode(w, r, cred, k, f, chat) {
		return
	}
	if !chat {
		writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": s.modelList("system")})
		return
	}
	s.azureChat(w, body, deployment)
}

// azureRoute parses the path: the deployment (from the path, or the body's
// model on v1), whether it is a chat request, whether it is the v1 API.
func azureRoute(r *http.Request, body string) (deployment string, chat, v1, ok bool) {
	p := r.URL.Path
	v1 = strings.HasPrefix(p, "/openai/v1/")
	switch {
	case r.Method == http.MethodGet && (p == "/openai/models" || p == "/openai/v1/models"):
		return "", false, v1, true
	case r.Method == http.MethodPost && p == "/openai/v1/chat/completions":
		var b struct {
			Model string `json:"model"`
		}
		_ = json.Unmarshal([]byte(body), &b)
		return b.Model, true, true, true
	case r.Method == http.MethodPost && strings.HasPrefix(p, "/openai/deployments/") && strings.HasSuffix(p, "/chat/completions"):
		return strings.TrimSuffix(strings.TrimPrefix(p, "/openai/deployments/"), "/chat/completions"), true, false, true
	}
	return "", false, false, false
}

// azureChat checks the deployment before the body: the zero-token
// deployment check (body "{}") relies on auth and deployment coming first
// (inferred from the answers, PROVIDERS.md). Then a real answer.
func (s *Server) azureChat(w http.ResponseWriter, body, deployment string) {
	if !s.hasDeployment(deployment) {
		azureFail(w, http.StatusNotFound, "DeploymentNotFound",
			"The API deployment for this resource does not exist. If you created the deployment within the last 5 minutes, please wait a moment and try again.")
		return
	}
	req, err := parseChat(body)
	if err != nil || !req.hasMessages || len(req.Messages) == 0 {
		// Azure's validation errors keep OpenAI's shape with the JSON
		// schema wording ("[] is too short": obs run-llama/llama_index#9373).
		msg := "'messages' is a required property"
		if err == nil && req.hasMessages {
			msg = "[] is too short - 'messages'"
		}
		oaiError(w, http.StatusBadRequest, msg, "invalid_request_error", "", "")
		return
	}
	s.completion(w, req, deployment, "")
}

// azureFaults: NoQuota shows on every request, as before. Bodies: Azure's
// {"error":{code,message}} (PROVIDERS.md; the 429 wording is Azure's
// rate-limit message; InsufficientQuota UNCONFIRMED).
var azureFaults = faults{
	reject: azureKeyRejected,
	noQuota: func(w http.ResponseWriter) {
		azureFail(w, http.StatusTooManyRequests, "InsufficientQuota", "The resource has insufficient quota for this operation.")
	},
	rateLimit: func(w http.ResponseWriter, ra string) {
		azureFail(w, http.StatusTooManyRequests, "429", "Requests to the ChatCompletions_Create Operation have exceeded call rate limit. Please retry after "+ra+" seconds.")
	},
	forbidden: func(w http.ResponseWriter) {
		azureFail(w, http.StatusForbidden, "403", "Public access is disabled. Please configure private endpoint.")
	},
	server: func(w http.ResponseWriter, status int) {
		azureFail(w, status, "InternalServerError", "The service is temporarily unable to process your request. Please try again later.")
	},
}

// tokenClaimsOK checks what the service checks of a Bearer JWT: not
// expired, audience Cognitive Services. A token that is not a JWT fails.
func tokenClaimsOK(token string) bool {
	c, ok := ParseJWT(token)
	if !ok {
		return false
	}
	if exp := unixClaim(c["exp"]); exp == 0 || time.Unix(exp, 0).Before(time.Now()) {
		return false
	}
	aud, _ := c["aud"].(string)
	return strings.TrimSuffix(aud, "/") == DefaultAudience
}

// versionOK checks the api-version query: required on classic paths, optional
// on v1 where only "preview" and "latest" are accepted.
func (s *Server) versionOK(v string, v1 bool) bool {
	if v1 {
		return v == "" || v == "preview" || v == "latest"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Contains(s.cfg.APIVersions, v)
}

func (s *Server) hasDeployment(d string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return d != "" && slices.Contains(s.cfg.Deployments, d)
}
