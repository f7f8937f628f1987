package verify

import (
	"net"
	"net/url"
	"strings"

	"github.com/keyexec/keyexec/sources"
)

// azureSuffixes are the host suffixes of Azure OpenAI endpoints: resource
// endpoints, AI Services and Foundry, and API Management gateways.
var azureSuffixes = [...]string{
	".openai.azure.com",
	".cognitiveservices.azure.com",
	".services.ai.azure.com",
	".azure-api.net",
}

// IsAzureHost reports whether host (a host name, optionally with a port)
// belongs to Azure OpenAI or an Azure API Management gateway in front of it.
func IsAzureHost(host string) bool {
	h := normHost(host)
	for _, s := range azureSuffixes {
		if strings.HasSuffix(h, s) && len(h) > len(s) {
			return true
		}
	}
	return false
}

// IsAzureResourceHost reports whether host is an Azure OpenAI resource
// endpoint (*.openai.azure.com, *.cognitiveservices.azure.com), where the SDK
// adds /openai/… itself, so any path on the endpoint is a mistake. API
// Management gateways and Foundry hosts may legitimately carry a path.
func IsAzureResourceHost(host string) bool {
	h := normHost(host)
	return strings.HasSuffix(h, ".openai.azure.com") || strings.HasSuffix(h, ".cognitiveservices.azure.com")
}

// hostFamily names the provider a well-known API host belongs to; "" for any
// other host (a gateway, proxy or local server).
func hostFamily(host string) Provider {
	switch h := normHost(host); {
	case h == "api.openai.com":
		return OpenAI
	case h == "api.anthropic.com":
		return Anthropic
	case IsAzureHost(h):
		return Azure
	case h == "api.groq.com":
		return familyGroq
	case h == "openrouter.ai":
		return familyOpenRouter
	case h == "generativelanguage.googleapis.com":
		return familyGoogle
	case h == "api.deepseek.com":
		return familyDeepSeek
	}
	return ""
}

// normHost lowercases host and drops its port and a trailing dot.
func normHost(host string) string {
	h := strings.ToLower(host)
	if sh, _, err := net.SplitHostPort(h); err == nil {
		h = sh
	}
	return strings.TrimSuffix(strings.Trim(h, "[]"), ".")
}

// isLoopbackHost reports whether host names the local machine: localhost,
// 127.0.0.0/8 or ::1.
func isLoopbackHost(host string) bool {
	h := normHost(host)
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// CheckBaseURL checks the URL in variable (or config field) name: it must
// parse, be absolute http or https with a host, carry no user name or
// password, and use plain http only for a loopback host unless allowHTTP.
// The error wraps ErrMisconfigured, names the variable and says how to fix
// it; it shows the URL only without user info, query and fragment, and never
// shows a value that is not a URL at all (it may be a key put in the wrong
// variable).
func CheckBaseURL(name, raw string, allowHTTP bool) error {
	_, err := parseBaseURL(name, raw, allowHTTP)
	return err
}

// parseBaseURL is CheckBaseURL that also returns the parsed URL.
func parseBaseURL(name, raw string, allowHTTP bool) (*url.URL, error) {
	if raw == "" {
		return nil, shapeProblem(name, "%s is set but empty: set it to the API's URL, or unset it", name)
	}
	if k := ClassifyKey(raw); k != KeyUnknown {
		return nil, shapeProblem(name, "%s holds what looks like %s (%s), not a URL: put the key in its key variable and the API base URL here",
			name, k.describe(), maskKey(raw))
	}
	if i := strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }); i >= 0 {
		return nil, shapeProblem(name, "%s holds whitespace or a control character at byte %d (%s): a URL has none; check for a key or a second value pasted after it",
			name, i, sources.Fingerprint(raw))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, shapeProblem(name, "%s is not an absolute http(s) URL (%s): set it like https://api.example.com/v1",
			name, sources.Fingerprint(raw))
	}
	if u.User != nil {
		return nil, shapeProblem(name, "%s holds a user name or password (%s): remove them from the URL; the key goes in its own variable",
			name, printableURL(u))
	}
	if u.Hostname() == "" {
		return nil, shapeProblem(name, "%s has no host name (%s): set it like https://api.example.com/v1", name, printableURL(u))
	}
	if u.Scheme == "http" && !allowHTTP && !isLoopbackHost(u.Host) {
		return nil, shapeProblem(name, "%s uses plain http:// for %s, which is not a loopback host: use https://, or set probe.allow_http: true if the key may cross that network in clear text",
			name, printableURL(u))
	}
	return u, nil
}

// printableURL is u without user info, query and fragment: what may appear
// in a message (a query can carry a key, as Google's ?key= does).
func printableURL(u *url.URL) string { return sources.DisplayURL(u.String()) }

// CheckAPIVersion checks an Azure OpenAI api-version: a real date as
// YYYY-MM-DD or YYYY-MM-DD-preview, or "preview", "latest" or "v1". The
// error wraps ErrMisconfigured.
func CheckAPIVersion(v string) error { return checkAPIVersion("api-version", v) }
