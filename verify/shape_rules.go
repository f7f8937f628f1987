package verify

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/keyexec/keyexec/sources"
)

// keySlot is a place a key goes: an environment variable or a config-list
// field, the SDK that reads it, and the URL setting next to it.
type keySlot struct {
	name     string   // OPENAI_API_KEY, api_key
	origin   string   // where the value came from, for messages
	provider Provider // the SDK client the key feeds
	urlVar   string   // OPENAI_BASE_URL, base_url
	urlSet   bool     // the URL was given, not the SDK's default
	entry    bool     // a config-list field: phrase fixes for JSON
}

// compatible reports whether an SDK client of provider slot can talk to a
// well-known host of family host: OpenAI-compatible services for the OpenAI
// client; the gateways that serve the Anthropic API for the Anthropic one.
func compatible(slot, host Provider) bool {
	switch slot {
	case OpenAI:
		return host != Anthropic
	case Azure:
		return host == Azure
	case Anthropic:
		return host == Anthropic || host == familyOpenRouter || host == familyDeepSeek || host == Azure
	}
	return false
}

// checkKeyValue checks key v in slot s, sent to host ("" when the URL is
// broken). A key of another provider's shape is an error naming that
// provider; at the default hosts of OpenAI, Anthropic and Azure the key must
// have that provider's shape. Shapes other keys can share (KeyKind.Weak) pass
// anywhere else: the probe has the last word.
func checkKeyValue(s keySlot, v, host string) error {
	if v == "" {
		if s.provider == OpenAI {
			return shapeProblem(s.name, "%s is set but empty: openai-python would send \"Authorization: Bearer \" and fail on the first call with a 401 (\"You didn't provide an API key\"); set the key, or unset the variable", s.name)
		}
		return shapeProblem(s.name, "%s is set but empty: set the key, or unset the variable", s.name)
	}
	k, fp := ClassifyKey(v), maskKey(v)+fromOrigin(s.origin)
	kf, hf := k.family(), hostFamily(host)

	switch {
	case k == KeyOpenAIAdmin && s.provider == OpenAI && (hf == OpenAI || hf == ""):
		return shapeProblem(s.name, "%s holds an OpenAI Admin API key (%s), which manages the organization but cannot call models: use a project key (sk-proj-…) from https://platform.openai.com/api-keys", s.name, fp)
	case k == KeyAnthropicAdmin && s.provider == Anthropic && (hf == Anthropic || hf == ""):
		return shapeProblem(s.name, "%s holds an Anthropic Admin API key (%s), which cannot call the Messages API: use an API key (sk-ant-api03-…) from https://console.anthropic.com/settings/keys", s.name, fp)
	}

	want := s.provider
	if hf != "" && compatible(s.provider, hf) {
		want = hf
	}
	var ok bool
	switch {
	case want == OpenAI && hf == OpenAI:
		ok = kf == OpenAI || k == KeyUnknownSK
	case want == Anthropic && hf == Anthropic:
		ok = kf == Anthropic
	case want == Azure && hf == Azure:
		ok = kf == Azure || k == KeyUnknown
	default:
		ok = k.Weak() || kf == want
	}
	if ok {
		return nil
	}

	if k == KeyUnknown {
		return shapeProblem(s.name, "%s (%s) does not look like %s key: %s", s.name, fp, withArticle(familyName(want)), shapeHint(want, s))
	}
	where := ""
	switch {
	case hf != "" && s.urlSet:
		where = fmt.Sprintf(", but %s points to %s (%s)", s.urlVar, normHost(host), familyName(hf))
	case hf != "" && kf != want:
		where = fmt.Sprintf(", but %s is not set, so it would go to %s (%s)", s.urlVar, normHost(host), familyName(hf))
	}
	fix := moveHint(kf, s)
	if kf == s.provider && hf != "" && hf != kf {
		fix = fmt.Sprintf("point %s at %s, or use %s key here", s.urlVar, defaultBase(kf), withArticle(familyName(hf)))
	}
	return shapeProblem(s.name, "%s holds what looks like %s (%s)%s: %s", s.name, k.describe(), fp, where, fix)
}

// fromOrigin is ", from ORIGIN" for a value that came from a reference.
func fromOrigin(origin string) string {
	if origin == "" || origin == "environment" {
		return ""
	}
	return ", from " + origin
}

// shapeHint says what a key of provider p looks like and where to get one.
func shapeHint(p Provider, s keySlot) string {
	switch p {
	case OpenAI:
		return fmt.Sprintf("OpenAI keys start with sk-proj-, sk-svcacct- or sk- (https://platform.openai.com/api-keys); for another OpenAI-compatible server set %s", s.urlVar)
	case Anthropic:
		return fmt.Sprintf("Anthropic keys start with sk-ant-api03- (https://console.anthropic.com/settings/keys); for a gateway set %s", s.urlVar)
	case Azure:
		return "Azure OpenAI keys are 32 hex digits or 84 letters and digits (Azure portal, Keys and Endpoint)"
	}
	return "use the key " + familyName(p) + " issued"
}

// moveHint says where a key of family f belongs.
func moveHint(f Provider, s keySlot) string {
	if s.entry {
		switch f {
		case OpenAI:
			return `use it in an entry with "api_type": "openai" and no base_url`
		case Anthropic:
			return `use it in an entry with "api_type": "anthropic"`
		case Azure:
			return `use it in an entry with "api_type": "azure", the resource's base_url and an api_version`
		}
		if f == "" {
			return moveHint(OpenAI, s) + `, or, for a gateway's key, set "base_url" to the gateway`
		}
		return fmt.Sprintf(`use it with "base_url": %q`, defaultBase(f))
	}
	switch f {
	case OpenAI:
		return "put it in " + VarOpenAIKey
	case Anthropic:
		return "put it in " + VarAnthropicKey
	case Azure:
		return "put it in " + VarAzureKey + " with " + VarAzureEndpoint
	case "":
		if s.urlVar == "" {
			return moveHint(OpenAI, s)
		}
		return moveHint(OpenAI, s) + ", or, for a gateway's key, set " + s.urlVar + " to the gateway"
	}
	return fmt.Sprintf("use it as %s with %s=%s", VarOpenAIKey, VarOpenAIBaseURL, defaultBase(f))
}

// defaultBase is the OpenAI-style API base of family f.
func defaultBase(f Provider) string {
	switch f {
	case OpenAI:
		return DefaultOpenAIBase
	case Anthropic:
		return DefaultAnthropicBase
	case Azure:
		return "https://RESOURCE.openai.azure.com"
	case familyGroq:
		return "https://api.groq.com/openai/v1"
	case familyOpenRouter:
		return "https://openrouter.ai/api/v1"
	case familyGoogle:
		return "https://generativelanguage.googleapis.com/v1beta/openai"
	case familyDeepSeek:
		return "https://api.deepseek.com"
	}
	return ""
}

// familyName is the provider's name in messages.
func familyName(p Provider) string {
	switch p {
	case OpenAI:
		return "OpenAI"
	case Azure:
		return "Azure OpenAI"
	case Anthropic:
		return "Anthropic"
	case familyGroq:
		return "Groq"
	case familyOpenRouter:
		return "OpenRouter"
	case familyGoogle:
		return "Google"
	case familyDeepSeek:
		return "DeepSeek"
	}
	return string(p)
}

// withArticle puts "a" or "an" before a provider name.
func withArticle(name string) string {
	if name != "" && strings.ContainsRune("AEIOU", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}

// checkOpenAIURL checks the base URL an openai.OpenAI() client uses.
func checkOpenAIURL(name string, u *url.URL, entry bool) error {
	path := strings.TrimSuffix(u.Path, "/")
	switch hostFamily(u.Host) {
	case Anthropic:
		fix := "for Anthropic set " + VarAnthropicKey + " instead"
		if entry {
			fix = `use "api_type": "anthropic" for Anthropic`
		}
		return shapeProblem(name, "%s points to %s, Anthropic's API, which the OpenAI client cannot use: %s", name, printableURL(u), fix)
	case OpenAI:
		if path != "/v1" {
			return shapeProblem(name, "%s points to %s: for OpenAI it must be %s (or unset)", name, printableURL(u), DefaultOpenAIBase)
		}
	case Azure:
		if IsAzureResourceHost(u.Host) && path != "/openai/v1" && !strings.HasPrefix(path, "/openai/v1/") {
			fix := fmt.Sprintf("set %s=https://%s and %s to use openai.AzureOpenAI()", VarAzureEndpoint, u.Host, VarAPIVersion)
			if entry {
				fix = `add "api_type": "azure" and an "api_version"`
			}
			return shapeProblem(name, "%s points to the Azure OpenAI resource %s, which the OpenAI client can use only through its v1 API (https://%s/openai/v1): %s", name, printableURL(u), u.Host, fix)
		}
	}
	return nil
}

// checkAzureURL checks the endpoint an openai.AzureOpenAI() client uses.
// Custom hosts (private endpoints, gateways) are accepted.
func checkAzureURL(name string, u *url.URL) error {
	if hf := hostFamily(u.Host); hf != "" && hf != Azure {
		return shapeProblem(name, "%s points to %s (%s), not to Azure OpenAI: set it to your resource's endpoint, like https://RESOURCE.openai.azure.com", name, printableURL(u), familyName(hf))
	}
	if IsAzureResourceHost(u.Host) && strings.Trim(u.Path, "/") != "" {
		return shapeProblem(name, "%s has a path (%s): openai.AzureOpenAI() adds /openai/… itself, so set it to https://%s", name, printableURL(u), u.Host)
	}
	return nil
}

// checkAnthropicURL checks the base URL an anthropic.Anthropic() client uses.
func checkAnthropicURL(name string, u *url.URL) error {
	switch hf := hostFamily(u.Host); hf {
	case OpenAI, familyGroq, familyGoogle:
		return shapeProblem(name, "%s points to %s (%s), which does not serve the Anthropic API: unset it to use %s", name, printableURL(u), familyName(hf), DefaultAnthropicBase)
	case Anthropic:
		if strings.Trim(u.Path, "/") != "" {
			return shapeProblem(name, "%s points to %s: the Anthropic SDK adds /v1/… itself, so use %s (or unset it)", name, printableURL(u), DefaultAnthropicBase)
		}
	}
	return nil
}

// checkOpenAIID checks an organization or project ID. IDs are not secret,
// but a key put there by mistake is, so a value of key shape is never shown.
func checkOpenAIID(name, v, prefix string, official bool) error {
	if v == "" {
		return nil
	}
	if k := ClassifyKey(v); k != KeyUnknown {
		return shapeProblem(name, "%s holds what looks like %s (%s), not an ID: unset it, and put the key in its key variable", name, k.describe(), maskKey(v))
	}
	if official && !strings.HasPrefix(v, prefix) {
		return shapeProblem(name, "%s %s is not an OpenAI ID (they start with %s): copy it from https://platform.openai.com/settings, or unset it", name, showValue(v), prefix)
	}
	return nil
}

// checkADToken checks a Microsoft Entra ID access token: a JWT.
func checkADToken(name, v, origin string) error {
	fp := maskKey(v) + fromOrigin(origin)
	switch k := ClassifyKey(v); {
	case v == "":
		return shapeProblem(name, "%s is set but empty: set an Entra ID access token, or unset the variable", name)
	case k != KeyUnknown:
		return shapeProblem(name, "%s holds what looks like %s (%s), not an Entra ID access token: %s", name, k.describe(), fp,
			moveHint(k.family(), keySlot{}))
	case !looksLikeJWT(v):
		return shapeProblem(name, "%s (%s) is not an Entra ID access token (a JWT, eyJ…): get one with `az account get-access-token --resource https://cognitiveservices.azure.com`", name, fp)
	}
	return nil
}

// looksLikeJWT reports whether v is three base64url parts, the first a
// JSON object ("eyJ" is base64 for `{"`).
func looksLikeJWT(v string) bool {
	parts := strings.Split(v, ".")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "eyJ") || parts[1] == "" {
		return false
	}
	for _, p := range parts {
		if !allBytes(p, isWordDash) {
			return false
		}
	}
	return true
}

// checkAPIVersion is CheckAPIVersion naming its variable or field.
func checkAPIVersion(name, v string) error {
	switch v {
	case "preview", "latest", "v1":
		return nil
	case "":
		return shapeProblem(name, "%s is set but empty: use a date such as 2024-10-21, a preview such as 2025-04-01-preview, or v1", name)
	}
	if date, _ := strings.CutSuffix(v, "-preview"); len(date) == len(time.DateOnly) {
		if _, err := time.Parse(time.DateOnly, date); err == nil {
			return nil
		}
	}
	return shapeProblem(name, "%s %s is not an Azure OpenAI api-version: use a date such as 2024-10-21, a preview such as 2025-04-01-preview, or v1", name, showValue(v))
}

// checkName checks a model or deployment name given in from: it goes into
// the probe's URL path, so it must not be a key and must be a plain name.
// Azure deployment names are letters, digits, '-', '_' and '.', up to 64.
func checkName(from, v string, azure bool) error {
	if k := ClassifyKey(v); v != "" && k != KeyUnknown {
		return shapeProblem(from, "%s holds what looks like %s (%s), not a model or deployment name", from, k.describe(), maskKey(v))
	}
	if !azure {
		if strings.ContainsAny(v, " \t\r\n?#") {
			return shapeProblem(from, "%s %s is not a model name: it holds spaces, '?' or '#'", from, showValue(v))
		}
		return nil
	}
	if len(v) > 64 || !allBytes(v, func(c byte) bool { return isWordDash(c) || c == '.' }) {
		return shapeProblem(from, "%s %s is not an Azure deployment name (letters, digits, '-', '_' and '.', up to 64): use the name from Azure AI Foundry, Deployments", from, showValue(v))
	}
	return nil
}

// showValue quotes a value that is not secret (an ID, a version, a name) for a
// message; a long one, which might be a misplaced key, is fingerprinted.
func showValue(v string) string {
	if len(v) > 64 || ClassifyKey(v) != KeyUnknown {
		return sources.Fingerprint(v)
	}
	return fmt.Sprintf("%q", v)
}
