package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// openAI is OpenAI, and the OpenAI API as gateways and local servers
// (LiteLLM, vLLM, Ollama's /v1) serve it: openai-python reads OPENAI_*.
func openAI() *Unit {
	return &Unit{
		Name: OpenAI, Title: "OpenAI", SDK: "openai-python",
		Vars: []Var{
			{Name: "OPENAI_API_KEY", Role: RoleKey, ReadBy: readBy(ByOpenAISDK, ByAutoGen, ByAG2, ByLiteLLM)},
			{Name: "OPENAI_BASE_URL", Role: RoleBaseURL, ReadBy: readBy(ByOpenAISDK, ByLiteLLM)},
			{Name: "OPENAI_ORG_ID", Role: RoleOrg, ReadBy: readBy(ByOpenAISDK)},
			{Name: "OPENAI_PROJECT_ID", Role: RoleProject, ReadBy: readBy(ByOpenAISDK)},
		},
		Aliases: []Alias{
			{Name: "OPENAI_KEY", To: "OPENAI_API_KEY"},
			{Name: "OPENAI_TOKEN", To: "OPENAI_API_KEY"},
			{Name: "OPENAI_APIKEY", To: "OPENAI_API_KEY"},
			{Name: "OPENAI_SECRET_KEY", To: "OPENAI_API_KEY"},
			// API_KEY is too generic to move unless it is clearly an OpenAI key.
			{Name: "API_KEY", To: "OPENAI_API_KEY", Route: func(v string) string {
				if ClassifyKey(v).Owner == OpenAI && !ClassifyKey(v).Weak {
					return "OPENAI_API_KEY"
				}
				return ""
			}},
			// LiteLLM's older docs read OPENAI_API_BASE (PROVIDERS.md §6).
			{Name: "OPENAI_API_BASE", To: "OPENAI_BASE_URL", ReadBy: readBy(ByLiteLLM), Route: openAIBaseRoute, Also: []string{"AZURE_OPENAI_ENDPOINT"}},
			{Name: "OPENAI_BASE", To: "OPENAI_BASE_URL", Route: openAIBaseRoute, Also: []string{"AZURE_OPENAI_ENDPOINT"}},
			{Name: "OPENAI_API_HOST", To: "OPENAI_BASE_URL", Route: openAIBaseRoute, Also: []string{"AZURE_OPENAI_ENDPOINT"}},
			{Name: "OPENAI_ORGANIZATION", To: "OPENAI_ORG_ID"},
			{Name: "OPENAI_ORG", To: "OPENAI_ORG_ID"},
			{Name: "OPENAI_PROJECT", To: "OPENAI_PROJECT_ID"},
		},
		Detect:        []string{"OPENAI_API_KEY"},
		DefaultBase:   "https://api.openai.com/v1",
		CompatBase:    "https://api.openai.com/v1",
		Hosts:         []string{"api.openai.com"},
		Shapes:        openAIShapes(),
		KeyHelp:       "OpenAI keys start with sk-proj-, sk-svcacct- or sk- (https://platform.openai.com/api-keys)",
		ModelPrefixes: []string{"gpt-", "o1", "o3", "o4", "chatgpt-"},
		AG2:           AG2{Types: []string{"openai*", "responses"}, KeyEnv: "OPENAI_API_KEY"},
		ProbeDoc:      "GET {base}/models, or /models/{model} with a model; Authorization: Bearer, OpenAI-Organization/OpenAI-Project when set. A restricted key refused for api.model.read is proven with POST {base}/chat/completions and an invalid body (400 = accepted, no token spent)",
		QuotaSeen:     true,
		probe:         openAIProbe{},
		validate:      validateOpenAI,
		repair: func(u *url.URL) (string, string) {
			if strings.EqualFold(u.Hostname(), "api.openai.com") && u.Path == "" {
				return u.String() + "/v1", "added the missing /v1 to https://api.openai.com"
			}
			return "", ""
		},
	}
}

// openAIBaseRoute sends an OpenAI base-URL alias holding an Azure host to
// AZURE_OPENAI_ENDPOINT, where openai.AzureOpenAI() reads it.
func openAIBaseRoute(v string) string {
	if isAzureHost(hostOf(v)) {
		return "AZURE_OPENAI_ENDPOINT"
	}
	return "OPENAI_BASE_URL"
}

// openAISignature is "OpenAI" in base64; every modern OpenAI key holds it.
const openAISignature = "T3BlbkFJ"

func openAIShapes() []Shape {
	return []Shape{
		{Kind: "openai-project", Desc: "an OpenAI project key", order: 30, match: func(v string) bool { return prefixed(v, "sk-proj-", minBody, IsWordDash) }},
		{Kind: "openai-svcacct", Desc: "an OpenAI service account key", order: 31, match: func(v string) bool { return prefixed(v, "sk-svcacct-", minBody, IsWordDash) }},
		{Kind: "openai-admin", Desc: "an OpenAI Admin API key", Admin: true, order: 32, match: func(v string) bool { return prefixed(v, "sk-admin-", minBody, IsWordDash) }},
		{Kind: "openai-legacy", Desc: "an OpenAI key", order: 33, match: func(v string) bool {
			return prefixed(v, "sk-", minBody, IsWordDash) && strings.Contains(v, openAISignature)
		}},
		// "sk-" and 20+ characters that fit no other rule: an older or
		// future OpenAI key, or a gateway's own key (LiteLLM virtual keys).
		{Kind: "unknown-sk", Desc: "an OpenAI-style key", Weak: true, order: 90, match: func(v string) bool { return prefixed(v, "sk-", minBody, IsWordDash) }},
	}
}

// validateOpenAI checks what an openai.OpenAI() client is given: the base
// URL against the host it names, admin keys, organization and project IDs.
func validateOpenAI(s *Settings) []Problem {
	var out []Problem
	n := s.Names
	if s.URL != nil && s.Host != nil {
		if p := compatPathProblem(s); p != "" {
			out = append(out, problem(n.URL, "%s", p))
		}
	}
	if sh := ClassifyKey(s.Key); sh.Admin && sh.Owner == OpenAI && (s.Host == nil || s.Host.Name == OpenAI) {
		out = append(out, problem(n.Key, "%s holds an OpenAI Admin API key, which manages the organization but cannot call models: use a project key (sk-proj-…) from https://platform.openai.com/api-keys", n.Key))
	}
	official := s.Host != nil && s.Host.Name == OpenAI
	for _, id := range []struct{ name, v, prefix string }{{n.Org, s.Org, "org-"}, {n.Project, s.Project, "proj_"}} {
		switch {
		case id.v == "":
		case LooksLikeKey(id.v):
			out = append(out, problem(id.name, "%s holds what looks like %s, not an ID: unset it, and put the key in %s", id.name, ClassifyKey(id.v).Desc, n.Key))
		case official && !strings.HasPrefix(id.v, id.prefix):
			out = append(out, problem(id.name, "%s %s is not an OpenAI ID (they start with %s): copy it from https://platform.openai.com/settings, or unset it", id.name, ShowName(id.v), id.prefix))
		}
	}
	return out
}

// compatPathProblem checks a base URL the openai SDK uses against the
// OpenAI-compatible API of the provider whose host it names.
func compatPathProblem(s *Settings) string {
	h, n := s.Host, s.Names
	path := strings.TrimRight(s.URL.Path, "/")
	if h.Name == Azure {
		if isAzureResourceHost(s.URL.Host) && path != "/openai/v1" && !strings.HasPrefix(path, "/openai/v1/") {
			fix := fmt.Sprintf("set AZURE_OPENAI_ENDPOINT=https://%s and OPENAI_API_VERSION to use openai.AzureOpenAI()", s.URL.Host)
			if n.Entry {
				fix = `add "api_type": "azure" and an "api_version"`
			}
			return fmt.Sprintf("%s points to the Azure OpenAI resource %s, which the OpenAI client can use only through its v1 API (https://%s/openai/v1): %s", n.URL, DisplayURL(s.URL), s.URL.Host, fix)
		}
		return ""
	}
	if h.CompatBase == "" {
		return fmt.Sprintf("%s points to %s (%s), which has no OpenAI-compatible API: use %s's own SDK", n.URL, DisplayURL(s.URL), h.Title, h.Title)
	}
	want, _ := url.Parse(h.CompatBase)
	if path != strings.TrimRight(want.Path, "/") {
		return fmt.Sprintf("%s points to %s: %s's OpenAI-compatible API is %s (or unset it for OpenAI itself)", n.URL, DisplayURL(s.URL), h.Title, h.CompatBase)
	}
	return ""
}

// openAIProbe proves a key against the OpenAI API: GET {base}/models, or
// {base}/models/{model} with a model. A restricted project key refused
// there for a missing scope ("Missing scopes: api.model.read") is a real key
// lacking one permission: after one more try (users report the 401 coming
// and going on unrestricted keys), it is proven with the permission the app
// needs, model.request, by a chat completion whose body fails validation
// (400 once the key and the scope are accepted: no token is spent).
type openAIProbe struct{}

func (openAIProbe) First(c *Call) (*Request, error) {
	if c.Model != "" {
		if err := checkSegment("model", c.Model); err != nil {
			return nil, err
		}
		r, err := openAIRequest(c, http.MethodGet, "models/"+url.PathEscape(c.Model), "model")
		if err == nil {
			r.Proves = fmt.Sprintf("the key was accepted and model %s is available", c.Model)
		}
		return r, err
	}
	r, err := openAIRequest(c, http.MethodGet, "models", "list")
	if err == nil {
		r.Proves = "the key was accepted"
	}
	return r, err
}

// openAIRequest is a request with the headers openai-python sends: Bearer
// (even for an empty key), and OpenAI-Organization/OpenAI-Project when set.
func openAIRequest(c *Call, method, path, step string) (*Request, error) {
	r, err := newRequest(method, c.BaseURL, path, nil)
	if err != nil {
		return nil, err
	}
	r.Step = step
	r.Header.Set("Authorization", "Bearer "+c.Key)
	if c.Org != "" {
		r.Header.Set("OpenAI-Organization", c.Org)
	}
	if c.Project != "" {
		r.Header.Set("OpenAI-Project", c.Project)
	}
	return r, nil
}

func (p openAIProbe) Next(c *Call, r *Request, a *Answer) (Outcome, *Request) {
	code, msg := ParseErrorBody(a.Body)
	if scopes := missingScopes(a, msg); scopes != "" {
		return p.restricted(c, r, code, msg, scopes)
	}
	if r.Step == "scope" && a.Status == http.StatusBadRequest {
		return Outcome{Diagnosis: OK, Hint: "the key was accepted for chat completions (model.request)",
			Note: "the key is a restricted key without api.model.read (it cannot list models); it may call models, which is what the app does"}, nil
	}
	d := common(a, code, msg)
	if d == OK {
		return okOutcome(r), nil
	}
	return Outcome{Diagnosis: d, Code: code, Message: msg, Hint: openAIHint(c, r, a, d, code, msg)}, nil
}

// restricted follows a 401 for a missing scope.
func (openAIProbe) restricted(c *Call, r *Request, code, msg, scopes string) (Outcome, *Request) {
	switch r.Step {
	case "list", "model":
		again := *r
		again.Step = r.Step + "-again"
		return Outcome{Diagnosis: Rejected}, &again
	case "list-again", "model-again":
		model := c.Model
		if model == "" {
			model = "gpt-4o-mini"
		}
		s, err := openAIRequest(c, http.MethodPost, "chat/completions", "scope")
		if err != nil {
			return Outcome{Diagnosis: Unexpected, Hint: err.Error()}, nil
		}
		s.withJSON(map[string]any{"model": model, "messages": []any{}})
		return Outcome{Diagnosis: Rejected}, s
	}
	return Outcome{Diagnosis: Rejected, Code: code, Message: msg,
		Hint: fmt.Sprintf("the key is genuine but restricted: it lacks the %s permission the app needs to call models; give the key the \"Model capabilities: Write\" (%s) permission in the project's API key settings, or use an unrestricted key%s", scopes, scopes, withCred(c))}, nil
}

// missingScopes returns the scopes a 401 says the key lacks, "" when the
// answer is not a missing-scope refusal.
func missingScopes(a *Answer, msg string) string {
	if a.Status != http.StatusUnauthorized {
		return ""
	}
	_, rest, ok := strings.Cut(msg, "Missing scopes:")
	if !ok {
		return ""
	}
	scopes := strings.TrimSpace(rest)
	if i := strings.Index(scopes, ". "); i >= 0 {
		scopes = scopes[:i]
	}
	scopes = strings.TrimRight(scopes, ".")
	if scopes == "" {
		return "(unnamed)"
	}
	return scopes
}

// openAIHint explains a refusal from OpenAI or an OpenAI-compatible server.
func openAIHint(c *Call, r *Request, a *Answer, d Diagnosis, code, msg string) string {
	low := strings.ToLower(msg)
	cred := withCred(c)
	switch d {
	case Rejected:
		switch {
		case c.Key == "" || strings.Contains(low, "didn't provide an api key"):
			return fmt.Sprintf("no API key was sent: %s is empty", c.KeyName)
		case code == "mismatched_organization":
			return fmt.Sprintf("the key does not belong to organization %q: fix or unset %s%s", c.Org, orName(c.Org, "OPENAI_ORG_ID"), cred)
		case code == "no_organization":
			return "the key's account is not a member of any organization: ask an OpenAI admin to add it, or use a project key" + cred
		case strings.Contains(low, "ip not authorized") || strings.Contains(low, "ip address"):
			return "the key is not allowed from this IP address: add it to the project's IP allowlist, or probe through the app's proxy" + cred
		case code == "invalid_api_key":
			return "the key was rejected as invalid: it may be revoked, rotated or mistyped" + cred
		}
		return "the key was rejected: it may be revoked or rotated, or belong to another provider or account" + cred
	case Forbidden:
		if strings.Contains(low, "country") || strings.Contains(low, "region") || strings.Contains(code, "region") {
			return "the provider does not serve requests from this country or region: run from a supported region" + cred
		}
		return "the key was refused access (403): its project, role or IP may not allow this request" + Quoted(code, msg) + cred
	case NoQuota:
		return "the key is valid but its account has no quota left: check the plan and billing details" + cred
	case NotFound:
		if r.Step == "model" {
			if u := ForModel(c.Model); u != nil && u.Name != OpenAI {
				return fmt.Sprintf("model %s is %s model, which this API does not serve: %s", c.Model, withArticle(u.Title), wrongAPIFix(u, c))
			}
			if code == "model_not_found" {
				return fmt.Sprintf("model %s does not exist or this key has no access to it: check %s%s", c.Model, c.ModelName, cred)
			}
			return fmt.Sprintf("model %s was not found at %s, or the base URL is wrong: check %s and %s", c.Model, c.BaseURL, c.ModelName, c.URLName)
		}
		return fmt.Sprintf("nothing answers at %s: the base URL is wrong (OpenAI-compatible bases usually end in /v1); check %s", r.URL.Redacted(), c.URLName)
	}
	return fallbackHint(ByName(string(OpenAI)), c, r, a, d, code, msg)
}

// wrongAPIFix says how to reach the provider that serves a model: in a
// config list by its api_type, else with its own variables.
func wrongAPIFix(u *Unit, c *Call) string {
	if c.KeyName == "api_key" && len(u.AG2.Types) > 0 {
		return fmt.Sprintf("set \"api_type\": %q in its config-list entry (and its key in \"api_key\")", strings.TrimSuffix(u.AG2.Types[0], "*"))
	}
	return fmt.Sprintf("use %s's own settings (%s), or point %s at a gateway that serves it", u.Title, u.Var(RoleKey), c.URLName)
}

func orName(v, name string) string {
	if v == "" {
		return name
	}
	return name + " (or the entry's organization)"
}
