package provider

import (
	"fmt"
	"net/http"
	"strings"
)

// anthropicVersion is the API version header every Anthropic request needs.
const anthropicVersion = "2023-06-01"

// anthropic is Anthropic's Messages API, as anthropic-sdk-python and
// AutoGen's AnthropicChatCompletionClient reach it, and its
// OpenAI-compatible API (AutoGen's OpenAI client uses it for claude- models).
func anthropic() *Unit {
	return &Unit{
		Name: Anthropic, Title: "Anthropic", SDK: "anthropic-sdk-python",
		Vars: []Var{
			{Name: "ANTHROPIC_API_KEY", Role: RoleKey, ReadBy: readBy("anthropic-sdk-python", ByAutoGen, ByAG2, ByLiteLLM)},
			{Name: "ANTHROPIC_AUTH_TOKEN", Role: RoleToken, ReadBy: readBy("anthropic-sdk-python")},
			{Name: "ANTHROPIC_BASE_URL", Role: RoleBaseURL, ReadBy: readBy("anthropic-sdk-python")},
		},
		Aliases: []Alias{
			{Name: "ANTHROPIC_KEY", To: "ANTHROPIC_API_KEY"},
			{Name: "CLAUDE_API_KEY", To: "ANTHROPIC_API_KEY"},
		},
		Detect:        []string{"ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"},
		DefaultBase:   "https://api.anthropic.com",
		CompatBase:    "https://api.anthropic.com/v1",
		Hosts:         []string{"api.anthropic.com"},
		Shapes:        anthropicShapes(),
		StrictShape:   true,
		KeyHelp:       "Anthropic keys start with sk-ant-api03- (https://console.anthropic.com/settings/keys)",
		ModelPrefixes: []string{"claude-"},
		AG2:           AG2{Types: []string{"anthropic"}, KeyEnv: "ANTHROPIC_API_KEY"},
		ProbeDoc:      "GET {base}/v1/models, or /v1/models/{model}; x-api-key (Bearer for ANTHROPIC_AUTH_TOKEN), anthropic-version: 2023-06-01",
		QuotaSeen:     true,
		probe:         anthropicProbe{},
		validate:      validateAnthropic,
	}
}

func anthropicShapes() []Shape {
	return []Shape{
		{Kind: "anthropic-admin", Desc: "an Anthropic Admin API key", Admin: true, order: 10, match: func(v string) bool { return prefixed(v, "sk-ant-admin", minBody, IsWordDash) }},
		{Kind: "anthropic", Desc: "an Anthropic key", order: 11, match: func(v string) bool { return prefixed(v, "sk-ant-", minBody, IsWordDash) }},
	}
}

// validateAnthropic checks the base URL an anthropic.Anthropic() client
// uses (the SDK adds /v1/… itself) and refuses admin keys.
func validateAnthropic(s *Settings) []Problem {
	var out []Problem
	n := s.Names
	if s.URL != nil && s.Host != nil && s.Client != nil && s.Client.Name == Anthropic {
		switch s.Host.Name {
		case OpenAI, Groq, Gemini, Mistral, Together:
			out = append(out, problem(n.URL, "%s points to %s (%s), which does not serve the Anthropic API: unset it to use %s", n.URL, DisplayURL(s.URL), s.Host.Title, "https://api.anthropic.com"))
		case Anthropic:
			if strings.Trim(s.URL.Path, "/") != "" {
				out = append(out, problem(n.URL, "%s points to %s: the Anthropic SDK adds /v1/… itself, so use https://api.anthropic.com (or unset it)", n.URL, DisplayURL(s.URL)))
			}
		}
	}
	if sh := ClassifyKey(s.Key); sh.Admin && sh.Owner == Anthropic {
		out = append(out, problem(n.Key, "%s holds an Anthropic Admin API key, which cannot call the Messages API: use an API key (sk-ant-api03-…) from https://console.anthropic.com/settings/keys", n.Key))
	}
	return out
}

// anthropicProbe proves a key with GET {base}/v1/models (x-api-key, or a
// Bearer token as ANTHROPIC_AUTH_TOKEN is sent), and a model with
// GET {base}/v1/models/{model}. Through the OpenAI-compatible base (…/v1)
// the same reads are one level up.
type anthropicProbe struct{}

func (anthropicProbe) First(c *Call) (*Request, error) {
	path := "v1/models"
	if c.Compat {
		path = "models"
	}
	step, proves := "list", "the "+c.credName()+" was accepted"
	if c.Model != "" {
		if err := checkSegment("model", c.Model); err != nil {
			return nil, err
		}
		path += "/" + c.Model
		step, proves = "model", fmt.Sprintf("the %s was accepted and model %s is available", c.credName(), c.Model)
	}
	r, err := newRequest(http.MethodGet, c.BaseURL, path, nil)
	if err != nil {
		return nil, err
	}
	r.Step, r.Proves = step, proves
	r.Header.Set("anthropic-version", anthropicVersion)
	if c.Token != "" && c.Key == "" {
		r.Header.Set("Authorization", "Bearer "+c.Token)
	} else {
		r.Header.Set("x-api-key", c.Key)
	}
	return r, nil
}

func (anthropicProbe) Next(c *Call, r *Request, a *Answer) (Outcome, *Request) {
	code, msg := ParseErrorBody(a.Body)
	d := common(a, code, msg)
	if d == OK {
		return okOutcome(r), nil
	}
	u := ByName(string(Anthropic))
	hint := fallbackHint(u, c, r, a, d, code, msg)
	low := strings.ToLower(msg)
	switch {
	case d == Rejected && c.Credential() != "":
		hint = "Anthropic rejected the key: it may be revoked, disabled or mistyped" + withCred(c)
	case d == Forbidden && (strings.Contains(low, "not allowed") || strings.Contains(low, "region") || strings.Contains(low, "country")):
		hint = "Anthropic refuses requests from this country or region: run from a supported region" + withCred(c)
	case d == NoQuota:
		hint = "the key is valid but the organization's credit balance is too low: add credits in the Anthropic console" + withCred(c)
	case d == NotFound && r.Step == "model":
		hint = fmt.Sprintf("model %s does not exist at Anthropic: check %s (model names look like claude-sonnet-4-5)", c.Model, c.ModelName)
	case d == NotFound:
		hint = "nothing answers at " + r.URL.Redacted() + ": check " + c.URLName + " (it must not end in /v1)"
	}
	return Outcome{Diagnosis: d, Code: code, Message: msg, Hint: hint}, nil
}
