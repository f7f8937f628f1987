package verify

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// buildAzure prepares GET {endpoint}/openai/models?api-version=V, or with a
// deployment POST {endpoint}/openai/deployments/{d}/chat/completions with
// body "{}", which Azure refuses with 400 only after accepting the key and
// finding the deployment. The v1 API (api-version v1, preview or latest)
// lives under /openai/v1 and names the deployment in the body instead.
func buildAzure(r *probeRequest) error {
	t := r.target
	if t.BaseURL == "" {
		return errNoEndpoint
	}
	// openai-python sends an AD token instead of the key when both are set.
	if !t.ADToken.IsZero() {
		r.credName = "AD token"
		r.secret = t.ADToken.Reveal()
		r.header.Set("Authorization", "Bearer "+r.secret)
	} else {
		r.credName = "key"
		r.secret = t.Key.Reveal()
		r.header.Set("api-key", r.secret)
	}
	v1 := t.APIVersion == "v1" || t.APIVersion == "preview" || t.APIVersion == "latest"
	query := url.Values{}
	if t.APIVersion != "" && t.APIVersion != "v1" {
		query.Set("api-version", t.APIVersion)
	}
	path := "openai/models"
	if v1 {
		path = "openai/v1/models"
	}
	r.method = http.MethodGet
	if t.Model != "" {
		if err := checkSegment("deployment", t.Model); err != nil {
			return err
		}
		r.kind = checkDeployment
		r.method = http.MethodPost
		r.header.Set("Content-Type", "application/json")
		r.body = []byte("{}")
		path = "openai/deployments/" + url.PathEscape(t.Model) + "/chat/completions"
		if v1 {
			path = "openai/v1/chat/completions"
			body, _ := jsonObject("model", t.Model)
			r.body = body
		}
	}
	u, err := joinURL(t.BaseURL, path, query)
	if err != nil {
		return err
	}
	r.url = u
	return nil
}

// azureHint explains a 401, 403 or 404 from Azure OpenAI.
func azureHint(r *probeRequest, a *probeAnswer, d Diagnosis) string {
	t := r.target
	cred := withCred(r)
	host := r.url.Host
	switch d {
	case Rejected:
		if r.credName == "AD token" {
			return "Azure rejected the AD token: it may be expired or issued for another audience (it must be https://cognitiveservices.azure.com)" + cred
		}
		if r.secret == "" {
			return "no key was sent: AZURE_OPENAI_API_KEY is empty"
		}
		return fmt.Sprintf("Azure rejected the key: it may belong to another resource than %s, or have been regenerated%s", host, cred)
	case Forbidden:
		return "Azure refused access (403): the resource's network rules (firewall, private endpoint) or the identity's role do not allow this client" + quotedErr(a) + cred
	case NoQuota:
		return "the key is valid but the resource has no quota left for this deployment" + cred
	case NotFound:
		if strings.EqualFold(a.code, "DeploymentNotFound") {
			return fmt.Sprintf("deployment %s does not exist on %s: check the deployment name (--model, probe.deployment or AZURE_OPENAI_DEPLOYMENT), or wait a few minutes after creating it", t.Model, host)
		}
		return fmt.Sprintf("Azure answered 404%s: api-version %q is not supported or the endpoint path is wrong; check OPENAI_API_VERSION and AZURE_OPENAI_ENDPOINT (scheme and host only)",
			quotedErr(a), t.APIVersion)
	}
	return "Azure answered " + string(d) + quotedErr(a)
}
