package provider

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// openRouter is OpenRouter, which apps reach with the openai SDK. Its model
// list answers without a key, so it proves nothing: the probe reads the
// key itself, GET {base}/key, whose answer also says whether any credit is
// left (limit_remaining), then one model's endpoints.
func openRouter() *Unit {
	return &Unit{
		Name: OpenRouter, Title: "OpenRouter", SDK: "openai-python",
		Vars: []Var{
			{Name: "OPENROUTER_API_KEY", Role: RoleKey, ReadBy: readBy(ByLiteLLM)},
		},
		Detect:      []string{"OPENROUTER_API_KEY"},
		DefaultBase: "https://openrouter.ai/api/v1",
		CompatBase:  "https://openrouter.ai/api/v1",
		Hosts:       []string{"openrouter.ai"},
		Shapes: []Shape{{Kind: "openrouter", Desc: "an OpenRouter key", order: 12, match: func(v string) bool {
			return prefixed(v, "sk-or-", minBody, IsWordDash)
		}}},
		StrictShape: true,
		KeyHelp:     "OpenRouter keys start with sk-or-v1- (https://openrouter.ai/settings/keys)",
		ProbeDoc:    "GET {base}/key (the key itself, and its credit: its model list needs no key, so it proves nothing), then GET {base}/models/{model}/endpoints with a model; Authorization: Bearer",
		QuotaSeen:   true,
		probe: listProbe{unit: OpenRouter, native: "models", keyPath: "key", keyInfo: openRouterCredit,
			modelPath: func(m string) string { return "models/" + escapeSlug(m) + "/endpoints" }},
	}
}

// escapeSlug escapes each part of an author/slug model id.
func escapeSlug(m string) string {
	parts := strings.Split(m, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}

// openRouterCredit reads GET /key: a key with a limit and nothing left of
// it is valid but cannot call models (its completions get 402).
func openRouterCredit(c *Call, body []byte) (Outcome, bool) {
	var k struct {
		Data struct {
			Limit          *float64 `json:"limit"`
			LimitRemaining *float64 `json:"limit_remaining"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &k) != nil || k.Data.LimitRemaining == nil || *k.Data.LimitRemaining > 0 {
		return Outcome{}, false
	}
	return Outcome{Diagnosis: NoQuota, Code: "limit_remaining",
		Hint: fmt.Sprintf("the key is valid but has no credit left (limit_remaining %g): raise the key's limit or add credits at https://openrouter.ai/settings/credits%s", *k.Data.LimitRemaining, withCred(c))}, true
}
