package verify

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	"github.com/keyexec/keyexec/sources"
)

// Sentinels of CheckEntry that are not misconfigurations.
var (
	// ErrEntryNoKey: the entry has no api_key (nor, for azure, an
	// azure_ad_token), so the SDK will fall back to the environment's key.
	// CheckEntry returns it alone, with an otherwise complete Target, only
	// when nothing else is wrong; the caller fills the key from
	// KeyVariable(t.Provider) and calls CheckEntry again.
	ErrEntryNoKey = errors.New("config list entry has no api_key")
	// ErrEntryUnsupported: the entry's api_type is one keyexec does not check
	// (google, mistral, bedrock, …); the caller passes it on unchecked and
	// says so in the report.
	ErrEntryUnsupported = errors.New("config list entry api_type is not checked")
)

// Entry is one resolved AutoGen config-list entry, as far as the checks need.
type Entry struct {
	APIType    string // api_type: "" or openai…, azure…, anthropic
	Model      string // model; for azure the deployment unless Deployment is set
	Deployment string // azure_deployment, when given
	APIKey     sources.Secret
	ADToken    sources.Secret // azure_ad_token
	// BaseURL is base_url, or azure_endpoint for azure entries (AutoGen
	// passes base_url to AzureOpenAI as azure_endpoint).
	BaseURL      string
	APIVersion   string // api_version
	Organization string // organization
	Label        string // "config list entry 0 (gpt-4o)"
	Origin       string // where APIKey came from, such as vault://…
}

// EntryProvider maps an api_type as AutoGen does: empty or starting with
// "openai" is OpenAI, starting with "azure" is Azure, "anthropic" is
// Anthropic. ok is false for every other api_type.
func EntryProvider(apiType string) (p Provider, ok bool) {
	switch {
	case apiType == "" || strings.HasPrefix(apiType, "openai"):
		return OpenAI, true
	case strings.HasPrefix(apiType, "azure"):
		return Azure, true
	case apiType == "anthropic":
		return Anthropic, true
	}
	return "", false
}

// KeyVariable is the environment variable the SDK reads when a client of
// provider p is given no key.
func KeyVariable(p Provider) string {
	switch p {
	case Azure:
		return VarAzureKey
	case Anthropic:
		return VarAnthropicKey
	}
	return VarOpenAIKey
}

// CheckEntry checks one config-list entry for its api_type and returns its
// Target. Problems come joined, each a *ShapeError wrapping ErrMisconfigured
// and starting with e.Label; an unchecked api_type is ErrEntryUnsupported and
// a missing key alone is ErrEntryNoKey (see there). opts.Provider, Model and
// Deployment are not used: the entry names its own.
func CheckEntry(e Entry, opts CheckOptions) (Target, error) {
	p, ok := EntryProvider(e.APIType)
	if !ok {
		return Target{}, fmt.Errorf("%s: api_type %q: %w", e.Label, e.APIType, ErrEntryUnsupported)
	}
	c := entryCheck{e: e, allowHTTP: opts.AllowHTTP}
	t := Target{
		Provider: p,
		Key:      e.APIKey,
		Label:    e.Label,
		Origin:   "api_key of " + e.Label,
	}
	if e.Origin != "" {
		t.Origin = "api_key from " + e.Origin
	}
	switch p {
	case OpenAI:
		c.openAI(&t)
	case Azure:
		c.azure(&t)
	case Anthropic:
		c.anthropic(&t)
	}
	switch {
	case len(c.errs) > 0:
		return Target{}, errors.Join(c.errs...)
	case c.noKey:
		return t, ErrEntryNoKey
	}
	return t, nil
}

// entryCheck collects the problems of one CheckEntry.
type entryCheck struct {
	e         Entry
	allowHTTP bool
	errs      []error
	noKey     bool
}

// add records err with the entry's label in front.
func (c *entryCheck) add(err error) {
	var se *ShapeError
	switch {
	case err == nil:
	case errors.As(err, &se):
		c.errs = append(c.errs, &ShapeError{Var: se.Var, Msg: c.e.Label + ": " + se.Msg})
	default:
		c.errs = append(c.errs, err)
	}
}

// slot describes the api_key field for checkKeyValue.
func (c *entryCheck) slot(p Provider) keySlot {
	return keySlot{name: "api_key", origin: c.e.Origin, provider: p, urlVar: "base_url", urlSet: c.e.BaseURL != "", entry: true}
}

// key checks api_key, remembering when there is none.
func (c *entryCheck) key(p Provider, host string) {
	if c.e.APIKey.IsZero() {
		c.noKey = true
		return
	}
	c.add(checkKeyValue(c.slot(p), c.e.APIKey.Reveal(), host))
}

// model checks the model field, which every AutoGen entry needs.
func (c *entryCheck) model(name, v string, azure bool) {
	if v == "" {
		c.add(shapeProblem(name, "%s is empty: every AutoGen config list entry needs one (for azure: the deployment name)", name))
		return
	}
	c.add(checkName(name, v, azure))
}

func (c *entryCheck) openAI(t *Target) {
	base := cmp.Or(c.e.BaseURL, DefaultOpenAIBase)
	host := ""
	if u, err := parseBaseURL("base_url", base, c.allowHTTP); err != nil {
		c.add(err)
	} else {
		host = u.Host
		c.add(checkOpenAIURL("base_url", u, true))
	}
	c.key(OpenAI, host)
	c.add(checkOpenAIID("organization", c.e.Organization, "org-", hostFamily(host) == OpenAI))
	c.model("model", c.e.Model, false)
	t.BaseURL, t.Org, t.Model = strings.TrimSuffix(base, "/"), c.e.Organization, c.e.Model
}

func (c *entryCheck) azure(t *Target) {
	host := ""
	if c.e.BaseURL == "" {
		c.add(shapeProblem("base_url", `base_url (or azure_endpoint) is not set: azure entries need the resource's endpoint, like "https://RESOURCE.openai.azure.com"`))
	} else if u, err := parseBaseURL("base_url", c.e.BaseURL, c.allowHTTP); err != nil {
		c.add(err)
	} else {
		host = u.Host
		c.add(checkAzureURL("base_url", u))
	}
	if c.e.ADToken.IsZero() {
		c.key(Azure, host)
	} else {
		if !c.e.APIKey.IsZero() {
			c.add(checkKeyValue(c.slot(Azure), c.e.APIKey.Reveal(), host))
		}
		c.add(checkADToken("azure_ad_token", c.e.ADToken.Reveal(), c.e.Origin))
		if c.e.APIKey.IsZero() {
			t.Origin = strings.Replace(t.Origin, "api_key", "azure_ad_token", 1)
		}
	}
	if c.e.APIVersion == "" {
		c.add(shapeProblem("api_version", `api_version is not set: azure entries need one, such as "2024-10-21", or "v1"`))
	} else {
		c.add(checkAPIVersion("api_version", c.e.APIVersion))
	}
	name, deployment := "model", c.e.Model
	if c.e.Deployment != "" {
		name, deployment = "azure_deployment", c.e.Deployment
	}
	c.model(name, deployment, true)
	t.BaseURL = strings.TrimSuffix(c.e.BaseURL, "/")
	t.ADToken, t.APIVersion, t.Model = c.e.ADToken, c.e.APIVersion, deployment
}

func (c *entryCheck) anthropic(t *Target) {
	base := cmp.Or(c.e.BaseURL, DefaultAnthropicBase)
	host := ""
	if u, err := parseBaseURL("base_url", base, c.allowHTTP); err != nil {
		c.add(err)
	} else {
		host = u.Host
		c.add(checkAnthropicURL("base_url", u))
	}
	c.key(Anthropic, host)
	c.model("model", c.e.Model, false)
	t.BaseURL, t.Model = strings.TrimSuffix(base, "/"), c.e.Model
}
