package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// CognitiveServicesScope is the Entra ID scope Azure OpenAI tokens are for.
const CognitiveServicesScope = "https://cognitiveservices.azure.com/.default"

// OpenAIUserRole is the role an Entra ID identity needs to call models.
const OpenAIUserRole = "Cognitive Services OpenAI User"

// azure is Azure OpenAI as openai.AzureOpenAI() and AutoGen's
// AzureOpenAIChatCompletionClient reach it: a key, a static Entra ID token,
// or DefaultAzureCredential.
func azure() *Unit {
	return &Unit{
		Name: Azure, Title: "Azure OpenAI", SDK: "openai-python (AzureOpenAI)",
		Vars: []Var{
			{Name: "AZURE_OPENAI_API_KEY", Role: RoleKey, ReadBy: readBy(ByOpenAISDK, ByAutoGen)},
			{Name: "AZURE_OPENAI_AD_TOKEN", Role: RoleToken, ReadBy: readBy(ByOpenAISDK)},
			{Name: "AZURE_OPENAI_ENDPOINT", Role: RoleBaseURL, ReadBy: readBy(ByOpenAISDK, ByAutoGen)},
			{Name: "OPENAI_API_VERSION", Role: RoleAPIVersion, ReadBy: readBy(ByOpenAISDK)},
			{Name: "AZURE_OPENAI_DEPLOYMENT", Role: RoleDeployment, ReadBy: readBy(ByKeyexec)},
		},
		Aliases: []Alias{
			{Name: "AZURE_OPENAI_KEY", To: "AZURE_OPENAI_API_KEY"},
			{Name: "AZURE_API_KEY", To: "AZURE_OPENAI_API_KEY", ReadBy: readBy(ByLiteLLM)},
			{Name: "AZURE_OPENAI_TOKEN", To: "AZURE_OPENAI_API_KEY"},
			{Name: "AZURE_AD_TOKEN", To: "AZURE_OPENAI_AD_TOKEN", ReadBy: readBy(ByLiteLLM)},
			{Name: "AZURE_OPENAI_API_BASE", To: "AZURE_OPENAI_ENDPOINT"},
			{Name: "AZURE_API_BASE", To: "AZURE_OPENAI_ENDPOINT", ReadBy: readBy(ByLiteLLM)},
			{Name: "AZURE_OPENAI_BASE_URL", To: "AZURE_OPENAI_ENDPOINT"},
			{Name: "AZURE_ENDPOINT", To: "AZURE_OPENAI_ENDPOINT"},
			{Name: "AZURE_OPENAI_API_VERSION", To: "OPENAI_API_VERSION"},
			{Name: "AZURE_API_VERSION", To: "OPENAI_API_VERSION", ReadBy: readBy(ByLiteLLM)},
		},
		Detect:    []string{"AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "AZURE_OPENAI_AD_TOKEN"},
		Hosts:     []string{".openai.azure.com", ".cognitiveservices.azure.com", ".services.ai.azure.com", ".azure-api.net"},
		Shapes:    azureShapes(),
		KeyHelp:   "Azure OpenAI keys are 32 hex digits or 84 letters and digits (Azure portal, Keys and Endpoint)",
		AG2:       AG2{Types: []string{"azure*"}, KeyEnv: "AZURE_OPENAI_API_KEY"},
		ProbeDoc:  "GET {endpoint}/openai/models?api-version=V with api-key, or Authorization: Bearer with a static or Entra ID token; with a deployment POST {endpoint}/openai/deployments/{d}/chat/completions with body {} (400 = key and deployment good, no token spent); /openai/v1/… for v1, preview, latest",
		QuotaSeen: true,
		probe:     azureProbe{},
		validate:  validateAzure,
		repair: func(u *url.URL) (string, string) {
			if isAzureResourceHost(u.Host) && (u.Path != "" || u.RawQuery != "") {
				cut := u.Scheme + "://" + u.Host
				return cut, fmt.Sprintf("cut Azure endpoint back to %s (the SDK adds /openai/… itself)", cut)
			}
			return "", ""
		},
	}
}

func azureShapes() []Shape {
	return []Shape{
		// Microsoft's 84-character annotated key, with the JQQJ signature
		// at offset 52, issued by newer Azure AI resources.
		{Kind: "azure-annotated", Desc: "an Azure OpenAI key", order: 50, match: func(v string) bool {
			return len(v) == 84 && allBytes(v, isAlnum) && v[52:56] == "JQQJ"
		}},
		// 32 hex digits, or 32+ alphanumerics fitting no other rule.
		{Kind: "azure", Desc: "an Azure OpenAI key", Weak: true, order: 95, match: func(v string) bool {
			return len(v) >= 32 && allBytes(v, isAlnum)
		}},
	}
}

// isAzureHost reports whether host belongs to Azure OpenAI or an API
// Management gateway in front of it.
func isAzureHost(host string) bool { return ByName(string(Azure)).OwnsHost(host) }

// isAzureResourceHost reports whether host is an Azure OpenAI resource
// endpoint, where the SDK adds /openai/… itself, so any path on the
// endpoint is a mistake; gateways and Foundry hosts may carry a path.
func isAzureResourceHost(host string) bool {
	h := NormHost(host)
	return strings.HasSuffix(h, ".openai.azure.com") || strings.HasSuffix(h, ".cognitiveservices.azure.com")
}

// IsAzureResourceHost is isAzureResourceHost for resolve's endpoint repair.
func IsAzureResourceHost(host string) bool { return isAzureResourceHost(host) }

// validateAzure checks what openai.AzureOpenAI() is given.
func validateAzure(s *Settings) []Problem {
	var out []Problem
	n := s.Names
	if s.URL != nil && s.Host != nil && s.Host.Name != Azure {
		out = append(out, problem(n.URL, "%s points to %s (%s), not to Azure OpenAI: set it to your resource's endpoint, like https://RESOURCE.openai.azure.com", n.URL, DisplayURL(s.URL), s.Host.Title))
	} else if s.URL != nil && isAzureResourceHost(s.URL.Host) && strings.Trim(s.URL.Path, "/") != "" {
		out = append(out, problem(n.URL, "%s has a path (%s): openai.AzureOpenAI() adds /openai/… itself, so set it to https://%s", n.URL, DisplayURL(s.URL), s.URL.Host))
	}
	if s.Token != "" {
		out = append(out, checkADToken(s)...)
	}
	if s.APIVersion == "" {
		if n.Entry {
			out = append(out, problem(n.APIVersion, "%s is not set: Azure needs one, such as \"2024-10-21\", or \"v1\"", n.APIVersion))
		} else {
			out = append(out, problem(n.APIVersion, "%s is not set: openai.AzureOpenAI() fails with \"Must provide either the `api_version` argument or the `OPENAI_API_VERSION` environment variable\"; set it to an api-version such as 2024-10-21, or v1", n.APIVersion))
		}
	} else if p := checkAPIVersion(n.APIVersion, s.APIVersion); p != nil {
		out = append(out, *p)
	}
	if d := s.Deployment; d != "" && (len(d) > 64 || !allBytes(d, func(c byte) bool { return IsWordDash(c) || c == '.' })) {
		out = append(out, problem(n.Deployment, "%s %s is not an Azure deployment name (letters, digits, '-', '_' and '.', up to 64): use the name from Azure AI Foundry, Deployments", n.Deployment, ShowName(d)))
	}
	return out
}

// checkAPIVersion accepts a real date as YYYY-MM-DD or YYYY-MM-DD-preview,
// or "preview", "latest" or "v1".
func checkAPIVersion(name, v string) *Problem {
	switch v {
	case "preview", "latest", "v1":
		return nil
	}
	if date, _ := strings.CutSuffix(v, "-preview"); len(date) == len(time.DateOnly) {
		if _, err := time.Parse(time.DateOnly, date); err == nil {
			return nil
		}
	}
	p := problem(name, "%s %s is not an Azure OpenAI api-version: use a date such as 2024-10-21, a preview such as 2025-04-01-preview, or v1", name, ShowName(v))
	return &p
}

// checkADToken reads a static Entra ID token's claims, without verifying
// them (only Azure can): an expired token is refused (77), one expiring
// within min_token_ttl is a warning, another audience is a mistake (78).
func checkADToken(s *Settings) []Problem {
	n := s.Names
	cl, err := TokenClaims(s.Token)
	if err != nil {
		return []Problem{problem(n.Token, "%s is not an Entra ID access token (%v): get one with `az account get-access-token --resource https://cognitiveservices.azure.com`", n.Token, err)}
	}
	var out []Problem
	if cl.Audience != "" && !strings.HasPrefix(strings.TrimSuffix(cl.Audience, "/"), "https://cognitiveservices.azure.com") {
		out = append(out, problem(n.Token, "%s is a token for audience %s, not Azure OpenAI (https://cognitiveservices.azure.com): get one for that resource", n.Token, ShowName(cl.Audience)))
	}
	switch {
	case cl.Expires.IsZero():
	case !cl.Expires.After(s.Now):
		out = append(out, Problem{Name: n.Token, Kind: Refused, Msg: fmt.Sprintf("%s expired at %s (%s ago): Azure will refuse it; get a new token, or drop the static token and let the app use DefaultAzureCredential",
			n.Token, cl.Expires.UTC().Format(time.RFC3339), s.Now.Sub(cl.Expires).Round(time.Second))})
	case s.MinTokenTTL > 0 && cl.Expires.Sub(s.Now) < s.MinTokenTTL:
		out = append(out, Problem{Name: n.Token, Kind: Warning, Msg: fmt.Sprintf("%s expires at %s, in %s (less than probe.min_token_ttl %s): a static token is never refreshed, so the app will fail then",
			n.Token, cl.Expires.UTC().Format(time.RFC3339), cl.Expires.Sub(s.Now).Round(time.Second), s.MinTokenTTL)})
	}
	return out
}

// azureProbe proves a key, a static token or an Entra ID token: GET
// {endpoint}/openai/models?api-version=V, or with a deployment POST
// {endpoint}/openai/deployments/{d}/chat/completions with body "{}", which
// Azure refuses with 400 only after accepting the credential and finding
// the deployment (no token spent). The v1 API (v1, preview, latest) lives
// under /openai/v1 and names the deployment in the body.
type azureProbe struct{}

func (azureProbe) First(c *Call) (*Request, error) {
	if c.BaseURL == "" {
		return nil, fmt.Errorf("no Azure endpoint: set %s to https://RESOURCE.openai.azure.com", c.URLName)
	}
	v1 := c.APIVersion == "v1" || c.APIVersion == "preview" || c.APIVersion == "latest"
	query := url.Values{}
	if c.APIVersion != "" && c.APIVersion != "v1" {
		query.Set("api-version", c.APIVersion)
	}
	var r *Request
	var err error
	switch {
	case c.Model == "" && v1:
		r, err = newRequest(http.MethodGet, c.BaseURL, "openai/v1/models", query)
	case c.Model == "":
		r, err = newRequest(http.MethodGet, c.BaseURL, "openai/models", query)
	case v1:
		r, err = newRequest(http.MethodPost, c.BaseURL, "openai/v1/chat/completions", query)
		if err == nil {
			r.withJSON(map[string]string{"model": c.Model})
		}
	default:
		if err := checkSegment("deployment", c.Model); err != nil {
			return nil, err
		}
		r, err = newRequest(http.MethodPost, c.BaseURL, "openai/deployments/"+url.PathEscape(c.Model)+"/chat/completions", query)
		if err == nil {
			r.Body = []byte("{}")
			r.Header.Set("Content-Type", "application/json")
		}
	}
	if err != nil {
		return nil, err
	}
	r.Step, r.Proves = "list", "the "+c.credName()+" was accepted"
	if c.Model != "" {
		r.Step, r.Proves = "deployment", fmt.Sprintf("the %s was accepted and deployment %s exists", c.credName(), c.Model)
	}
	// openai-python sends a token instead of the key when both are set.
	if c.Token != "" {
		r.Header.Set("Authorization", "Bearer "+c.Token)
	} else {
		r.Header.Set("api-key", c.Key)
	}
	return r, nil
}

func (azureProbe) Next(c *Call, r *Request, a *Answer) (Outcome, *Request) {
	code, msg := ParseErrorBody(a.Body)
	if a.Status == http.StatusBadRequest && r.Step == "deployment" {
		return okOutcome(r), nil // "{}" failed validation after auth and lookup
	}
	d := common(a, code, msg)
	if d == OK {
		return okOutcome(r), nil
	}
	return Outcome{Diagnosis: d, Code: code, Message: msg, Hint: azureHint(c, r, a, d, code, msg)}, nil
}

// azureHint explains a refusal from Azure OpenAI.
func azureHint(c *Call, r *Request, a *Answer, d Diagnosis, code, msg string) string {
	cred := withCred(c)
	host := r.URL.Host
	low := strings.ToLower(msg)
	switch {
	case d == Rejected && strings.EqualFold(code, "PermissionDenied"):
		who := c.Principal
		if who == "" {
			who = "the identity"
		}
		return fmt.Sprintf("the token is valid but %s lacks the %q role on %s: assign it (Access control (IAM) of the resource) and wait a few minutes", who, OpenAIUserRole, host)
	case d == Rejected && c.Token != "":
		return fmt.Sprintf("Azure refused the %s: it may be expired or issued for another audience (it must be https://cognitiveservices.azure.com)%s", c.credName(), cred)
	case d == Rejected && c.Key == "":
		return fmt.Sprintf("no key was sent: %s is empty", c.KeyName)
	case d == Rejected:
		return fmt.Sprintf("Azure rejected the key: it may belong to another resource than %s, or have been regenerated%s", host, cred)
	case d == Forbidden && strings.Contains(low, "key based authentication is disabled"):
		return fmt.Sprintf("%s refuses keys (local authentication is disabled): authenticate with Entra ID instead; unset %s so keyexec and the app use DefaultAzureCredential", host, c.KeyName)
	case d == Forbidden:
		return "Azure refused access (403): the resource's network rules (firewall, private endpoint) or the identity's role do not allow this client" + Quoted(code, msg) + cred
	case d == NoQuota:
		return "the credential is valid but the resource has no quota left for this deployment" + cred
	case d == NotFound && strings.EqualFold(code, "DeploymentNotFound"):
		return fmt.Sprintf("deployment %s does not exist on %s: check the deployment name (%s), or wait a few minutes after creating it", c.Model, host, c.ModelName)
	case d == NotFound:
		return fmt.Sprintf("Azure answered 404%s: api-version %q is not supported or the endpoint path is wrong; check %s and %s (scheme and host only)",
			Quoted(code, msg), c.APIVersion, c.VersionName, c.URLName)
	}
	return fallbackHint(ByName(string(Azure)), c, r, a, d, code, msg)
}
