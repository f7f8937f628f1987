package verify

import (
	"net/http"
	"strings"
)

// DefaultAnthropicBase is where anthropic-sdk-python goes without
// ANTHROPIC_BASE_URL.
const DefaultAnthropicBase = "https://api.anthropic.com"

// anthropicVersion is the API version header every Anthropic request needs.
const anthropicVersion = "2023-06-01"

// buildAnthropic prepares GET {base}/v1/models with x-api-key (or a Bearer
// token, as ANTHROPIC_AUTH_TOKEN is sent, when only ADToken is set).
func buildAnthropic(r *probeRequest) error {
	t := r.target
	base := t.BaseURL
	if base == "" {
		base = DefaultAnthropicBase
	}
	r.method = http.MethodGet
	r.header.Set("anthropic-version", anthropicVersion)
	if t.Key.IsZero() && !t.ADToken.IsZero() {
		r.credName = "token"
		r.secret = t.ADToken.Reveal()
		r.header.Set("Authorization", "Bearer "+r.secret)
	} else {
		r.credName = "key"
		r.secret = t.Key.Reveal()
		r.header.Set("x-api-key", r.secret)
	}
	u, err := joinURL(base, "v1/models", nil)
	if err != nil {
		return err
	}
	r.url = u
	return nil
}

// anthropicHint explains a 401, 403, 404 or credit refusal from Anthropic.
func anthropicHint(r *probeRequest, a *probeAnswer, d Diagnosis) string {
	cred := withCred(r)
	switch d {
	case Rejected:
		if r.secret == "" {
			return "no key was sent: ANTHROPIC_API_KEY is empty"
		}
		return "Anthropic rejected the key: it may be revoked, disabled or mistyped" + cred
	case Forbidden:
		msg := strings.ToLower(a.message)
		if strings.Contains(msg, "not allowed") || strings.Contains(msg, "region") || strings.Contains(msg, "country") {
			return "Anthropic refuses requests from this country or region: run from a supported region" + cred
		}
		return "Anthropic refused access (403): the key's workspace or organization does not allow this request" + quotedErr(a) + cred
	case NoQuota:
		return "the key is valid but the organization's credit balance is too low: add credits in the Anthropic console" + cred
	case NotFound:
		return "nothing answers at " + r.url.Redacted() + ": check ANTHROPIC_BASE_URL (it must not end in /v1)"
	}
	return "Anthropic answered " + string(d) + quotedErr(a)
}
