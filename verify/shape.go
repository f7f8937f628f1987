package verify

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/keyexec/keyexec/sources"
)

// Canonical variables the shape checks read (DESIGN.md, Normalize).
const (
	VarOpenAIKey       = "OPENAI_API_KEY"
	VarOpenAIBaseURL   = "OPENAI_BASE_URL"
	VarOpenAIOrg       = "OPENAI_ORG_ID"
	VarOpenAIProject   = "OPENAI_PROJECT_ID"
	VarAzureKey        = "AZURE_OPENAI_API_KEY"
	VarAzureEndpoint   = "AZURE_OPENAI_ENDPOINT"
	VarAPIVersion      = "OPENAI_API_VERSION"
	VarAzureADToken    = "AZURE_OPENAI_AD_TOKEN"
	VarAzureDeployment = "AZURE_OPENAI_DEPLOYMENT"
	VarAnthropicKey    = "ANTHROPIC_API_KEY"
	VarAnthropicURL    = "ANTHROPIC_BASE_URL"
	VarAnthropicToken  = "ANTHROPIC_AUTH_TOKEN"
)

// Values of CheckOptions.Provider.
const (
	ProviderAuto = "auto"
	ProviderNone = "none"
)

// CheckOptions steers Check and CheckEntry.
type CheckOptions struct {
	// Provider is auto (the default when empty), openai, azure, anthropic or
	// none (no checks, no targets).
	Provider string
	// AllowHTTP permits plain http:// to non-loopback hosts (probe.allow_http).
	AllowHTTP bool
	// Model is --model: the OpenAI model to probe, or the Azure deployment.
	Model string
	// Deployment is probe.deployment, the Azure deployment when Model is empty.
	Deployment string
	// Origins maps a variable to where its value came from, such as
	// "vault://secret/llm/openai#api_key" or "environment" (the default).
	Origins map[string]string
}

// ShapeError is one problem the shape checks found. It wraps
// ErrMisconfigured; Msg names the variable and shows fingerprints only.
type ShapeError struct {
	// Var is the variable or config-list field at fault; "" when the problem
	// is not one variable's ("no LLM credentials found").
	Var string
	Msg string
}

// Error returns the message.
func (e *ShapeError) Error() string { return e.Msg }

// Unwrap returns ErrMisconfigured.
func (e *ShapeError) Unwrap() error { return ErrMisconfigured }

// shapeProblem makes a *ShapeError for variable name.
func shapeProblem(name, format string, args ...any) error {
	return &ShapeError{Var: name, Msg: fmt.Sprintf(format, args...)}
}

// Check runs the offline shape checks over the child's final environment
// (sanitized, normalized, under canonical names) and returns one Target per
// detected provider, labelled "environment". A variable present in env is
// set, even when empty. Detection: Azure when AZURE_OPENAI_ENDPOINT,
// AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN is set; OpenAI when
// OPENAI_API_KEY is; Anthropic when ANTHROPIC_API_KEY or ANTHROPIC_AUTH_TOKEN
// is. An explicit opts.Provider checks that provider only and requires its
// credentials. Every problem is reported (errors.Join of *ShapeError, each
// wrapping ErrMisconfigured); no Target is returned with a non-nil error.
func Check(env map[string]string, opts CheckOptions) ([]Target, error) {
	mode := cmp.Or(opts.Provider, ProviderAuto)
	if mode == ProviderNone {
		return nil, nil
	}
	detected := map[Provider]bool{
		OpenAI:    isSet(env, VarOpenAIKey),
		Azure:     isSet(env, VarAzureEndpoint, VarAzureKey, VarAzureADToken),
		Anthropic: isSet(env, VarAnthropicKey, VarAnthropicToken),
	}
	var want []Provider
	switch p := Provider(mode); {
	case mode == ProviderAuto:
		for _, p := range []Provider{OpenAI, Azure, Anthropic} {
			if detected[p] {
				want = append(want, p)
			}
		}
		if len(want) == 0 {
			return nil, shapeProblem("", "no LLM credentials found: set %s (OpenAI, or an OpenAI-compatible server with %s), %s with %s and %s (Azure OpenAI), or %s (Anthropic); or use --provider none to inject secrets without LLM checks",
				VarOpenAIKey, VarOpenAIBaseURL, VarAzureKey, VarAzureEndpoint, VarAPIVersion, VarAnthropicKey)
		}
	case p == OpenAI || p == Azure || p == Anthropic:
		if !detected[p] {
			return nil, shapeProblem("", "--provider %s: no %s credentials found: set %s", p, familyName(p), needs(p))
		}
		want = []Provider{p}
	default:
		return nil, shapeProblem("", "unknown provider %q: use auto, openai, azure, anthropic or none", opts.Provider)
	}

	c := envCheck{env: env, opts: opts}
	var targets []Target
	for _, p := range want {
		var t Target
		switch p {
		case OpenAI:
			t = c.openAI()
		case Azure:
			t = c.azure()
		case Anthropic:
			t = c.anthropic()
		}
		targets = append(targets, t)
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	return targets, nil
}

// Notes returns remarks on env that are not errors, for the report: today,
// that OpenAI and Azure OpenAI credentials are both set.
func Notes(env map[string]string, opts CheckOptions) []string {
	if cmp.Or(opts.Provider, ProviderAuto) != ProviderAuto {
		return nil
	}
	if isSet(env, VarOpenAIKey) && isSet(env, VarAzureEndpoint, VarAzureKey, VarAzureADToken) {
		return []string{"both OpenAI (" + VarOpenAIKey + ") and Azure OpenAI (AZURE_OPENAI_*) credentials are set: " +
			"openai.OpenAI() uses the first and openai.AzureOpenAI() the second, both are checked; " +
			"the module-level openai client needs OPENAI_API_TYPE to choose (else \"Ambiguous use of module client\")"}
	}
	return nil
}

// needs says what --provider p requires, for the error when it is missing.
func needs(p Provider) string {
	switch p {
	case OpenAI:
		return VarOpenAIKey + " (and " + VarOpenAIBaseURL + " for an OpenAI-compatible server)"
	case Azure:
		return VarAzureEndpoint + ", " + VarAzureKey + " (or " + VarAzureADToken + ") and " + VarAPIVersion
	}
	return VarAnthropicKey + " (or " + VarAnthropicToken + ")"
}

// envCheck collects the problems of one Check.
type envCheck struct {
	env  map[string]string
	opts CheckOptions
	errs []error
}

func (c *envCheck) add(err error) {
	if err != nil {
		c.errs = append(c.errs, err)
	}
}

// origin is where variable name's value came from; "environment" by default.
func (c *envCheck) origin(name string) string {
	return cmp.Or(c.opts.Origins[name], "environment")
}

// slot describes one key variable for checkKey.
func (c *envCheck) slot(name string, p Provider, urlVar string) keySlot {
	return keySlot{name: name, origin: c.origin(name), provider: p, urlVar: urlVar, urlSet: isSet(c.env, urlVar)}
}

func (c *envCheck) target(p Provider, base, keyVar string) Target {
	return Target{
		Provider: p,
		BaseURL:  strings.TrimSuffix(base, "/"),
		Key:      sources.NewSecret(c.env[keyVar]),
		Label:    "environment",
		Origin:   keyVar + " from " + c.origin(keyVar),
	}
}

// baseURL parses the URL in variable name, or def when name is unset.
// It returns nil after recording a problem.
func (c *envCheck) baseURL(name, def string) *url.URL {
	raw, ok := c.env[name]
	if !ok {
		raw = def
	}
	u, err := parseBaseURL(name, raw, c.opts.AllowHTTP)
	c.add(err)
	return u
}

func (c *envCheck) openAI() Target {
	u := c.baseURL(VarOpenAIBaseURL, DefaultOpenAIBase)
	host := ""
	if u != nil {
		host = u.Host
		c.add(checkOpenAIURL(VarOpenAIBaseURL, u, false))
	}
	c.add(checkKeyValue(c.slot(VarOpenAIKey, OpenAI, VarOpenAIBaseURL), c.env[VarOpenAIKey], host))
	official := hostFamily(host) == OpenAI
	c.add(checkOpenAIID(VarOpenAIOrg, c.env[VarOpenAIOrg], "org-", official))
	c.add(checkOpenAIID(VarOpenAIProject, c.env[VarOpenAIProject], "proj_", official))
	c.add(checkName("--model", c.opts.Model, false))

	t := c.target(OpenAI, cmp.Or(c.env[VarOpenAIBaseURL], DefaultOpenAIBase), VarOpenAIKey)
	t.Org, t.Project, t.Model = c.env[VarOpenAIOrg], c.env[VarOpenAIProject], c.opts.Model
	return t
}

func (c *envCheck) azure() Target {
	host := ""
	if !isSet(c.env, VarAzureEndpoint) {
		c.add(shapeProblem(VarAzureEndpoint, "%s is not set: set it to your resource's endpoint, like https://RESOURCE.openai.azure.com (Azure portal, Keys and Endpoint)", VarAzureEndpoint))
	} else if u := c.baseURL(VarAzureEndpoint, ""); u != nil {
		host = u.Host
		c.add(checkAzureURL(VarAzureEndpoint, u))
	}

	_, hasKey := c.env[VarAzureKey]
	_, hasToken := c.env[VarAzureADToken]
	if !hasKey && !hasToken {
		c.add(shapeProblem(VarAzureKey, "neither %s nor %s is set: openai.AzureOpenAI() fails with \"Missing credentials\"; set the key from the Azure portal (Keys and Endpoint) or an Entra ID token", VarAzureKey, VarAzureADToken))
	}
	if hasKey {
		c.add(checkKeyValue(c.slot(VarAzureKey, Azure, VarAzureEndpoint), c.env[VarAzureKey], host))
	}
	if hasToken {
		c.add(checkADToken(VarAzureADToken, c.env[VarAzureADToken], c.origin(VarAzureADToken)))
	}

	if v, ok := c.env[VarAPIVersion]; !ok {
		c.add(shapeProblem(VarAPIVersion, "%s is not set: openai.AzureOpenAI() fails with \"Must provide either the `api_version` argument or the `OPENAI_API_VERSION` environment variable\"; set it to an api-version such as 2024-10-21, or v1", VarAPIVersion))
	} else {
		c.add(checkAPIVersion(VarAPIVersion, v))
	}

	from, deployment := VarAzureDeployment, c.env[VarAzureDeployment]
	switch {
	case c.opts.Model != "":
		from, deployment = "--model", c.opts.Model
	case c.opts.Deployment != "":
		from, deployment = "probe.deployment", c.opts.Deployment
	}
	c.add(checkName(from, deployment, true))

	keyVar := VarAzureKey
	if !hasKey {
		keyVar = VarAzureADToken
	}
	t := c.target(Azure, c.env[VarAzureEndpoint], keyVar)
	t.Key = sources.NewSecret(c.env[VarAzureKey])
	t.ADToken = sources.NewSecret(c.env[VarAzureADToken])
	t.APIVersion, t.Model = c.env[VarAPIVersion], deployment
	return t
}

func (c *envCheck) anthropic() Target {
	u := c.baseURL(VarAnthropicURL, DefaultAnthropicBase)
	host := ""
	if u != nil {
		host = u.Host
		c.add(checkAnthropicURL(VarAnthropicURL, u))
	}
	_, hasKey := c.env[VarAnthropicKey]
	_, hasToken := c.env[VarAnthropicToken]
	if hasKey {
		c.add(checkKeyValue(c.slot(VarAnthropicKey, Anthropic, VarAnthropicURL), c.env[VarAnthropicKey], host))
	}
	if hasToken {
		c.add(checkKeyValue(c.slot(VarAnthropicToken, Anthropic, VarAnthropicURL), c.env[VarAnthropicToken], host))
	}
	keyVar := VarAnthropicKey
	if !hasKey {
		keyVar = VarAnthropicToken
	}
	t := c.target(Anthropic, cmp.Or(c.env[VarAnthropicURL], DefaultAnthropicBase), keyVar)
	// ANTHROPIC_AUTH_TOKEN is sent as Authorization: Bearer, like an AD token.
	t.Key = sources.NewSecret(c.env[VarAnthropicKey])
	t.ADToken = sources.NewSecret(c.env[VarAnthropicToken])
	return t
}

// isSet reports whether any of names is present in env, even empty.
func isSet(env map[string]string, names ...string) bool {
	for _, n := range names {
		if _, ok := env[n]; ok {
			return true
		}
	}
	return false
}
