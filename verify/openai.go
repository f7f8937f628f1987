package verify

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// DefaultOpenAIBase is where openai-python goes without OPENAI_BASE_URL.
const DefaultOpenAIBase = "https://api.openai.com/v1"

// buildOpenAI prepares GET {base}/models, or {base}/models/{model} when a
// model is set (GET {base}/key for OpenRouter), with the headers
// openai-python sends.
func buildOpenAI(r *probeRequest) error {
	t := r.target
	base := t.BaseURL
	if base == "" {
		base = DefaultOpenAIBase
	}
	r.method = http.MethodGet
	r.credName = "key"
	r.secret = t.Key.Reveal()
	path := "models"
	if isOpenRouter(base) {
		// OpenRouter lists models without a key, which proves nothing;
		// its key endpoint needs one.
		path = "key"
	} else if t.Model != "" {
		if err := checkSegment("model", t.Model); err != nil {
			return err
		}
		r.kind = checkModel
		path += "/" + url.PathEscape(t.Model)
	}
	u, err := joinURL(base, path, nil)
	if err != nil {
		return err
	}
	r.url = u
	// openai-python 1.x sends "Bearer " even for an empty key.
	r.header.Set("Authorization", "Bearer "+r.secret)
	if t.Org != "" {
		r.header.Set("OpenAI-Organization", t.Org)
	}
	if t.Project != "" {
		r.header.Set("OpenAI-Project", t.Project)
	}
	return nil
}

// isOpenRouter reports whether base is OpenRouter's API.
func isOpenRouter(base string) bool {
	u, err := url.Parse(base)
	return err == nil && strings.EqualFold(u.Hostname(), "openrouter.ai")
}

// openAIHint explains a 401, 403 or 404 from OpenAI or an OpenAI-compatible
// server, and a quota refusal.
func openAIHint(r *probeRequest, a *probeAnswer, d Diagnosis) string {
	t := r.target
	msg := strings.ToLower(a.message)
	cred := withCred(r)
	switch d {
	case Rejected:
		switch {
		case r.secret == "" || strings.Contains(msg, "didn't provide an api key"):
			return "no API key was sent: OPENAI_API_KEY (or the config list's api_key) is empty"
		case a.code == "mismatched_organization":
			return fmt.Sprintf("the key does not belong to organization %q: fix or unset OPENAI_ORG_ID%s", t.Org, cred)
		case a.code == "no_organization":
			return "the key's account is not a member of any organization: ask an OpenAI admin to add it, or use a project key" + cred
		case strings.Contains(msg, "ip not authorized") || strings.Contains(msg, "ip address"):
			return "the key is not allowed from this IP address: add it to the project's IP allowlist, or probe through the app's proxy" + cred
		case a.code == "invalid_api_key":
			return "the key was rejected as invalid: it may be revoked, rotated or mistyped" + cred
		}
		return "the key was rejected: it may be revoked or rotated, or belong to another provider or account" + cred
	case Forbidden:
		if strings.Contains(msg, "country") || strings.Contains(msg, "region") || strings.Contains(a.code, "region") {
			return "the provider does not serve requests from this country or region: run from a supported region" + cred
		}
		return "the key was refused access (403): its project, role or IP may not allow this request" + quotedErr(a) + cred
	case NoQuota:
		return "the key is valid but its account has no quota left: check the plan and billing details" + cred
	case NotFound:
		if r.kind == checkModel {
			if a.code == "model_not_found" {
				return fmt.Sprintf("model %s does not exist or this key has no access to it: check --model or probe.model%s", t.Model, cred)
			}
			return fmt.Sprintf("model %s was not found at %s, or the base URL is wrong: check --model and OPENAI_BASE_URL", t.Model, baseOf(r))
		}
		return fmt.Sprintf("nothing answers at %s: the base URL is wrong (OpenAI-compatible bases usually end in /v1); check OPENAI_BASE_URL", r.url.Redacted())
	}
	return "the provider answered " + string(d) + quotedErr(a)
}

// baseOf is the request URL without the probe's own path, for hints.
func baseOf(r *probeRequest) string {
	if r.target.BaseURL != "" {
		return displayURL(nil, r.target.BaseURL, r.secrets)
	}
	return DefaultOpenAIBase
}
