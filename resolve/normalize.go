package resolve

import (
	"fmt"
	"net/url"
	"sort"
	"strings"

	"github.com/keyexec/keyexec/sources"
)

// Canonical variable names: what the Python SDKs read.
const (
	OpenAIAPIKey      = "OPENAI_API_KEY"
	OpenAIBaseURL     = "OPENAI_BASE_URL"
	OpenAIOrgID       = "OPENAI_ORG_ID"
	OpenAIProjectID   = "OPENAI_PROJECT_ID"
	AzureAPIKey       = "AZURE_OPENAI_API_KEY"
	AzureEndpoint     = "AZURE_OPENAI_ENDPOINT"
	OpenAIAPIVersion  = "OPENAI_API_VERSION"
	AzureADToken      = "AZURE_OPENAI_AD_TOKEN"
	AnthropicAPIKey   = "ANTHROPIC_API_KEY"
	AnthropicBaseURL  = "ANTHROPIC_BASE_URL"
	AnthropicAuthTok  = "ANTHROPIC_AUTH_TOKEN"
	AzureDeployment   = "AZURE_OPENAI_DEPLOYMENT"
	genericAPIKeyName = "API_KEY"
)

// BuiltinAliases maps each alias to its canonical name (DESIGN.md, Normalize).
// API_KEY is special: it is moved only when its value has an OpenAI key shape.
// The OpenAI base-URL aliases go to AZURE_OPENAI_ENDPOINT instead when their
// host is an Azure host.
func BuiltinAliases() map[string]string {
	return map[string]string{
		"OPENAI_KEY": OpenAIAPIKey, "OPENAI_TOKEN": OpenAIAPIKey, "OPENAI_APIKEY": OpenAIAPIKey, "OPENAI_SECRET_KEY": OpenAIAPIKey,
		genericAPIKeyName: OpenAIAPIKey,
		"OPENAI_API_BASE": OpenAIBaseURL, "OPENAI_BASE": OpenAIBaseURL, "OPENAI_API_HOST": OpenAIBaseURL,
		"OPENAI_ORGANIZATION": OpenAIOrgID, "OPENAI_ORG": OpenAIOrgID,
		"OPENAI_PROJECT":   OpenAIProjectID,
		"AZURE_OPENAI_KEY": AzureAPIKey, "AZURE_API_KEY": AzureAPIKey, "AZURE_OPENAI_TOKEN": AzureAPIKey,
		"AZURE_OPENAI_API_BASE": AzureEndpoint, "AZURE_API_BASE": AzureEndpoint, "AZURE_OPENAI_BASE_URL": AzureEndpoint, "AZURE_ENDPOINT": AzureEndpoint,
		"AZURE_OPENAI_API_VERSION": OpenAIAPIVersion, "AZURE_API_VERSION": OpenAIAPIVersion,
		"ANTHROPIC_KEY": AnthropicAPIKey, "CLAUDE_API_KEY": AnthropicAPIKey,
	}
}

// CanonicalNames are the variables keyexec checks and repairs, whatever
// their source.
var canonicalNames = []string{
	OpenAIAPIKey, OpenAIBaseURL, OpenAIOrgID, OpenAIProjectID,
	AzureAPIKey, AzureEndpoint, OpenAIAPIVersion, AzureADToken, AzureDeployment,
	AnthropicAPIKey, AnthropicBaseURL, AnthropicAuthTok,
}

// otherProviderKeys are keys of OpenAI-compatible providers that AutoGen
// clients read; keyexec sanitizes them like the canonical keys.
var otherProviderKeys = []string{"GEMINI_API_KEY", "GOOGLE_API_KEY", "GROQ_API_KEY", "MISTRAL_API_KEY", "TOGETHER_API_KEY", "OPENROUTER_API_KEY", "DEEPSEEK_API_KEY"}

// isEndpointName reports whether a variable is a URL whose trailing slashes
// are removed.
func isEndpointName(name string) bool {
	return name == OpenAIBaseURL || name == AzureEndpoint || name == AnthropicBaseURL
}

// isKeyName reports whether a name (of a header in a config-list entry's
// default_headers, say) holds an API key or token, which turns on the key
// rules of Sanitize: such a value goes into an HTTP header.
func isKeyName(name string) bool {
	n := strings.ToUpper(name)
	return strings.HasSuffix(n, "_KEY") || strings.HasSuffix(n, "APIKEY") || n == genericAPIKeyName ||
		strings.HasSuffix(n, "_TOKEN") || strings.HasSuffix(n, "_SECRET_KEY")
}

// apiKeyVars are the variables whose values the SDKs send as API keys or
// tokens in HTTP headers; their aliases (built-in or configured) are added by
// keyVars. Other *_KEY variables (SSH_PRIVATE_KEY, a TLS key) are secrets of
// another kind and keep their inner line breaks.
var apiKeyVars = []string{OpenAIAPIKey, AzureAPIKey, AzureADToken, AnthropicAPIKey, AnthropicAuthTok, genericAPIKeyName}

// keyVars is the set of variables the key rules of Sanitize apply to.
func keyVars(aliases map[string]string) map[string]bool {
	keys := map[string]bool{}
	for _, n := range apiKeyVars {
		keys[n] = true
	}
	for _, n := range otherProviderKeys {
		keys[n] = true
	}
	for alias, canonical := range aliases {
		if keys[canonical] {
			keys[alias] = true
		}
	}
	return keys
}

// Rules are the provider facts normalize needs; cmd/keyexec supplies them
// from package verify so that resolve does not depend on it.
type Rules struct {
	IsOpenAIKey func(string) bool // value has a clear OpenAI key shape
	IsAzureHost func(string) bool // host of an Azure OpenAI endpoint, gateways (API Management) included
	// IsAzureResourceHost: host of an Azure OpenAI resource itself, whose
	// endpoint is scheme and host only (the SDK adds /openai/…); a gateway
	// keeps its path.
	IsAzureResourceHost func(string) bool
}

// rename is one alias moved to its canonical name.
type rename struct{ from, to string }

// planRenames decides, for the variables present, which aliases move where.
// Pure: the caller applies the plan and reports conflicts.
func planRenames(vars map[string]string, aliases map[string]string, rules Rules) []rename {
	var plan []rename
	names := make([]string, 0, len(vars))
	for n := range vars {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		to, ok := aliases[name]
		if !ok || to == name {
			continue
		}
		v := vars[name]
		if name == genericAPIKeyName && to == OpenAIAPIKey && (rules.IsOpenAIKey == nil || !rules.IsOpenAIKey(v)) {
			continue // API_KEY is too generic to move unless it is clearly an OpenAI key
		}
		if to == OpenAIBaseURL && name != OpenAIBaseURL && rules.IsAzureHost != nil {
			if u, err := url.Parse(v); err == nil && rules.IsAzureHost(u.Hostname()) {
				to = AzureEndpoint
			}
		}
		plan = append(plan, rename{from: name, to: to})
	}
	return plan
}

// fixEndpoint applies the URL repairs: trailing slashes removed, an Azure
// endpoint cut back to scheme and host, api.openai.com given its /v1.
func fixEndpoint(name, v string, rules Rules) (string, []string) {
	var fixes []string
	if t := strings.TrimRight(v, "/"); t != v {
		fixes = append(fixes, "removed trailing slash")
		v = t
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		return v, fixes // the shape checks report it with the fix
	}
	switch {
	case name == AzureEndpoint && rules.IsAzureResourceHost != nil && rules.IsAzureResourceHost(u.Hostname()) && (u.Path != "" || u.RawQuery != ""):
		cut := u.Scheme + "://" + u.Host
		fixes = append(fixes, fmt.Sprintf("cut Azure endpoint back to %s (the SDK adds /openai/… itself)", cut))
		v = cut
	case name == OpenAIBaseURL && strings.EqualFold(u.Hostname(), "api.openai.com") && u.Path == "":
		v += "/v1"
		fixes = append(fixes, "added the missing /v1 to https://api.openai.com")
	}
	return v, fixes
}

// conflictError names two variables that both set one canonical name.
func conflictError(a, b, canonical, va, vb string) error {
	return fmt.Errorf("%s (%s) and %s (%s) both set %s to different values: unset one of them: %w",
		a, sources.Fingerprint(va), b, sources.Fingerprint(vb), canonical, sources.ErrInvalid)
}
