package verify

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// From says where a candidate came from.
type From int

// Where candidates come from.
const (
	FromEnv       From = iota // the child's environment
	FromEntry                 // an AutoGen/AG2 config-list entry
	FromComponent             // an AutoGen 0.4 component config
)

// Candidate is one use of a credential, as the client that will read it sees
// it: its settings, each named as the user wrote it. The environment, a
// config-list entry and a component config all become Candidates, and one
// engine (Check) checks them all.
type Candidate struct {
	From  From
	Index int    // entry or component index; -1 for the environment
	Label string // "environment", "config list entry 0 (gpt-4o)"
	// Client is the unit whose SDK client reads these settings.
	Client *provider.Unit
	Names  provider.Names
	Key    sources.Secret
	KeySet bool // a key was given, even empty
	Token  sources.Secret
	// TokenName calls the token in hints ("AD token").
	TokenName string
	Entra     *Entra
	BaseURL   string // "" for the client's default
	Org       string
	Project   string
	// APIVersion is Azure's api-version; Model the model to probe (for
	// Azure, the deployment).
	APIVersion, Model string
	// Origin says where the key came from: "OPENAI_API_KEY from vault://…".
	Origin string
	// NotProven, when set, says why the candidate is passed on unchecked
	// (an AG2 api_type keyexec has no unit for, Vertex AI).
	NotProven string
	// Notes are remarks for the report (a setting read from the environment).
	Notes []string
	// Problems found while building the candidate (a key that would go to
	// another vendor), reported by Check with the rest.
	Problems []error
}

// CheckOptions steers candidate building and checking.
type CheckOptions struct {
	// Providers is --provider: empty or ["auto"] detects, ["none"] checks
	// nothing, otherwise the named providers are required.
	Providers []string
	// AllowHTTP permits plain http:// to non-loopback hosts.
	AllowHTTP bool
	// Model is --model / probe.model; Deployment is probe.deployment.
	Model, Deployment string
	// Origins maps a variable to where its value came from.
	Origins map[string]string
	// AzureAuth is azure.auth: auto (a key or token when given, else Entra
	// ID), key, or entra. EntraScopes is azure.scope.
	AzureAuth   string
	EntraScopes []string
	// Env is keyexec's own environment, for settings the SDKs read that
	// are not credentials (GOOGLE_GENAI_USE_VERTEXAI).
	Env map[string]string
	// BaseURLs is base_urls: a provider's base URL where the environment
	// has none for it (Mistral's SDK reads none; a proxy in front).
	BaseURLs map[string]string
	// Now and MinTokenTTL judge static tokens' expiry.
	Now         time.Time
	MinTokenTTL time.Duration
}

// Auto reports whether providers are detected from the environment
// (--provider auto, the default).
func (o CheckOptions) Auto() bool {
	return len(o.Providers) == 0 || len(o.Providers) == 1 && o.Providers[0] == "auto"
}

func (o CheckOptions) none() bool { return len(o.Providers) == 1 && o.Providers[0] == "none" }

func (o CheckOptions) origin(name string) string { return cmp.Or(o.Origins[name], "environment") }

// EnvCandidates builds the environment's candidates, one per provider whose
// credentials env holds (auto) or per provider asked for, from the child's
// final environment (sanitized, normalized, under canonical names). A
// variable present in env is set, even when empty. others are the
// candidates of config lists and components: with any, an environment
// without credentials is no error, and a provider asked for may come from
// them instead.
func EnvCandidates(env map[string]string, opts CheckOptions, others []Candidate) ([]Candidate, error) {
	if opts.none() {
		return nil, nil
	}
	var units []*provider.Unit
	if opts.Auto() {
		for _, u := range provider.All() {
			if isSet(env, u.Detect...) {
				units = append(units, u)
			}
		}
		if len(units) == 0 && len(others) == 0 {
			return nil, noCredentials(env)
		}
	} else {
		for _, name := range opts.Providers {
			u := provider.ByName(name)
			if u == nil {
				return nil, checkError("", "unknown provider %s: use auto, none, or one or more of %s", sources.ShowValue(name), strings.Join(provider.List(), ", "))
			}
			if !u.Keyless && !isSet(env, u.Detect...) && !isSet(env, u.VarsOf(provider.RoleKey)...) {
				if slices.ContainsFunc(others, func(c Candidate) bool { return c.Client != nil && c.Client.Name == u.Name }) {
					continue // the config list or a component has it
				}
				return nil, checkError("", "--provider %s: no %s credentials found: set %s", u.Name, u.Title, strings.Join(append(u.VarsOf(provider.RoleKey), u.VarsOf(provider.RoleToken)...), " or "))
			}
			units = append(units, u)
		}
	}
	var out []Candidate
	for _, u := range units {
		c := envCandidate(u, env, opts)
		if user := usedElsewhere(c, others); user != nil && opts.Auto() {
			c.NotProven = fmt.Sprintf("%s is used by %s, which sends it to %s, where keyexec proves it; it is not also sent to %s (%s): with --provider %s it is",
				c.Names.Key, user.Label, sources.DisplayURL(user.BaseURL), u.Title, u.DefaultBase, u.Name)
		}
		out = append(out, c)
	}
	return out, nil
}

// usedElsewhere finds a config-list entry or component that takes the
// environment candidate c's key to a base URL of its own, when c would
// send it to the provider's default host: OPENAI_API_KEY read by AG2
// entries with their base_url (a gateway, a proxy). Probing api.openai.com
// with it would send a credential where the configured app does not, and
// could fail a run for a host the app never calls.
func usedElsewhere(c Candidate, others []Candidate) *Candidate {
	if c.BaseURL != "" || !c.KeySet || c.Key.IsZero() {
		return nil
	}
	for i, o := range others {
		if o.Client != nil && o.Client.Name == c.Client.Name && o.Key == c.Key && o.BaseURL != "" {
			return &others[i]
		}
	}
	return nil
}

// envCandidate reads unit u's variables.
func envCandidate(u *provider.Unit, env map[string]string, opts CheckOptions) Candidate {
	c := Candidate{From: FromEnv, Index: -1, Label: "environment", Client: u, Names: u.EnvNames()}
	keys := presentKeys(u, env)
	if len(keys) > 0 {
		c.Names.Key = keys[0]
		c.Key, c.KeySet = sources.NewSecret(env[keys[0]]), true
		c.Origin = keys[0] + " from " + opts.origin(keys[0])
		for _, other := range keys[1:] {
			if env[other] != env[keys[0]] {
				c.Problems = append(c.Problems, checkError(other, "%s (%s) and %s (%s) are both set, to different values: %s uses %s; unset one of them",
					keys[0], sources.Fingerprint(env[keys[0]]), other, sources.Fingerprint(env[other]), u.SDK, keys[0]))
			}
		}
	}
	if tv := u.Var(provider.RoleToken); tv != "" && isSet(env, tv) {
		c.Token, c.TokenName = sources.NewSecret(env[tv]), "token"
		if u.Name == provider.Azure {
			c.TokenName = "AD token"
		}
		if !c.KeySet {
			c.Origin = tv + " from " + opts.origin(tv)
		}
	}
	if bv := u.Var(provider.RoleBaseURL); bv != "" && isSet(env, bv) {
		c.BaseURL = env[bv]
		if u.Name == provider.Ollama {
			c.BaseURL = provider.OllamaBase(env[bv])
		}
	} else if b := opts.BaseURLs[string(u.Name)]; b != "" {
		c.BaseURL, c.Names.URL = b, "base_urls."+string(u.Name)
	}
	c.Org, c.Project, c.APIVersion = env[u.Var(provider.RoleOrg)], env[u.Var(provider.RoleProject)], env[u.Var(provider.RoleAPIVersion)]
	c.Model = modelFor(u, opts.Model)
	if u.Name == provider.Azure {
		azureEnv(&c, env, opts)
	}
	if u.Name == provider.Gemini && truthy(opts.Env["GOOGLE_GENAI_USE_VERTEXAI"]) {
		c.NotProven = "GOOGLE_GENAI_USE_VERTEXAI is set: google-genai calls Vertex AI with Google Cloud credentials, which keyexec does not check"
	}
	return c
}

// azureEnv sets the deployment and the authentication of an Azure
// candidate: the static token or key when given, else Entra ID.
func azureEnv(c *Candidate, env map[string]string, opts CheckOptions) {
	c.Names.Model = "AZURE_OPENAI_DEPLOYMENT"
	c.Model = env["AZURE_OPENAI_DEPLOYMENT"]
	switch {
	case opts.Model != "":
		c.Names.Model, c.Model = "--model", opts.Model
	case opts.Deployment != "":
		c.Names.Model, c.Model = "probe.deployment", opts.Deployment
	}
	c.Names.Deployment = c.Names.Model
	auth := cmp.Or(opts.AzureAuth, "auto")
	if auth == "entra" || auth == "auto" && !c.KeySet && c.Token.IsZero() {
		c.Key, c.KeySet, c.Token = sources.Secret{}, false, sources.Secret{}
		c.Entra = &Entra{Scopes: entraScopes(opts.EntraScopes)}
		c.Origin = "Microsoft Entra ID (DefaultAzureCredential)"
		c.Notes = append(c.Notes, "Azure OpenAI has no key and no AD token: keyexec proves Entra ID (DefaultAzureCredential) for "+strings.Join(c.Entra.Scopes, " ")+
			"; openai.AzureOpenAI() reads no Entra setting itself, so the app must pass azure_ad_token_provider")
	}
}

func entraScopes(s []string) []string {
	if len(s) == 0 {
		return []string{provider.CognitiveServicesScope}
	}
	return s
}

// modelFor applies --model to unit u unless the model is plainly another
// provider's (gpt-4o is not Anthropic's); Azure serves OpenAI's models.
func modelFor(u *provider.Unit, model string) string {
	owner := provider.ForModel(model)
	if model == "" || owner == nil || owner.Name == u.Name || u.Name == provider.Azure && owner.Name == provider.OpenAI {
		return model
	}
	return ""
}

// presentKeys returns u's key variables present in env, in precedence order.
func presentKeys(u *provider.Unit, env map[string]string) []string {
	var out []string
	for _, k := range u.VarsOf(provider.RoleKey) {
		if isSet(env, k) {
			out = append(out, k)
		}
	}
	return out
}

// noCredentials is the error for an environment without any LLM
// credential: the variables to set, and any variable that holds what looks
// like a key under another name.
func noCredentials(env map[string]string) error {
	var names []string
	for _, u := range provider.All() {
		for _, d := range u.Detect {
			if v, _ := provider.VarByName(d); v.Role == provider.RoleKey {
				names = append(names, d)
				break
			}
		}
	}
	msg := fmt.Sprintf("no LLM credentials found: set one of %s (with OPENAI_BASE_URL for an OpenAI-compatible server; Azure OpenAI also needs AZURE_OPENAI_ENDPOINT and OPENAI_API_VERSION), or use --provider none to inject secrets without LLM checks",
		strings.Join(names, ", "))
	if hints := misnamedKeys(env); len(hints) > 0 {
		msg += "; " + strings.Join(hints, "; ")
	}
	return checkError("", "%s", msg)
}

// misnamedKeys names variables that hold a key of a known, distinctive
// shape under a name no SDK reads ("MY_KEY=sk-proj-…").
func misnamedKeys(env map[string]string) []string {
	var out []string
	for _, n := range slices.Sorted(maps.Keys(env)) {
		if _, known := provider.RoleOf(n); known {
			continue
		}
		sh := provider.ClassifyKey(env[n])
		if sh.Weak || sh.Unknown() || sh.Admin {
			continue
		}
		u := provider.ByName(string(sh.Owner))
		to := u.Var(provider.RoleKey)
		if to == "" {
			continue
		}
		out = append(out, fmt.Sprintf("%s holds what looks like %s (%s): rename it to %s, or add aliases: {%s: %s} to the config file", n, sh.Desc, maskKey(env[n]), to, n, to))
		if len(out) == 3 {
			break
		}
	}
	return out
}

// Notes returns remarks on the environment's candidates for the report.
func Notes(cands []Candidate) []string {
	var out []string
	has := func(n provider.Name) bool {
		return slices.ContainsFunc(cands, func(c Candidate) bool { return c.From == FromEnv && c.Client.Name == n })
	}
	if has(provider.OpenAI) && has(provider.Azure) {
		out = append(out, "both OpenAI (OPENAI_API_KEY) and Azure OpenAI (AZURE_OPENAI_*) credentials are set: openai.OpenAI() uses the first and openai.AzureOpenAI() the second, both are checked; the module-level openai client needs OPENAI_API_TYPE to choose (else \"Ambiguous use of module client\")")
	}
	for _, c := range cands {
		out = append(out, c.Notes...)
	}
	return out
}

// isSet reports whether any of names is present in env, even empty.
func isSet(env map[string]string, names ...string) bool {
	for _, n := range names {
		if _, ok := env[n]; ok && n != "" {
			return true
		}
	}
	return false
}

func truthy(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true
	}
	return false
}
