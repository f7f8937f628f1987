// Package provider holds what keyexec knows about each LLM provider, one
// file a provider: the variables its SDK reads and their aliases (and which
// other consumers read which name), precedence rules, key shapes, the
// default base URL and URL rules, the authenticated probe request(s), and how
// to read its answers, with hints.
//
// resolve reads it for names (what to sanitize, what to rename, what to
// keep); verify reads it for the checks and the probe. It is a leaf: it
// imports nothing of keyexec, and holds no value beyond the call it is given.
// Adding a provider is one file here, its fake in verify/providertest, its
// tests, and the README table.
package provider

import (
	"net/url"
	"slices"
	"strings"
	"sync"
)

// Name names a provider unit, as --provider takes it.
type Name string

// The providers keyexec knows.
const (
	OpenAI     Name = "openai"
	Azure      Name = "azure"
	Anthropic  Name = "anthropic"
	Gemini     Name = "gemini"
	Groq       Name = "groq"
	Mistral    Name = "mistral"
	OpenRouter Name = "openrouter"
	Together   Name = "together"
	XAI        Name = "xai"
	DeepSeek   Name = "deepseek"
	Ollama     Name = "ollama"
)

// Role says what a variable holds.
type Role int

// Roles of variables.
const (
	RoleKey        Role = iota + 1 // an API key the SDK sends
	RoleToken                      // a bearer token sent instead of the key (Entra ID, ANTHROPIC_AUTH_TOKEN)
	RoleBaseURL                    // the API's base URL or endpoint
	RoleOrg                        // OpenAI organization ID
	RoleProject                    // OpenAI project ID
	RoleAPIVersion                 // Azure api-version
	RoleDeployment                 // the Azure deployment keyexec probes (read by keyexec only)
)

// Secret reports whether a variable of role r holds a credential, which is
// fingerprinted in reports; the others (URLs, IDs, versions, names) are shown
// in clear.
func (r Role) Secret() bool { return r == RoleKey || r == RoleToken }

// Consumers that read provider variables, for Var.ReadBy and Alias.ReadBy.
const (
	ByKeyexec   = "keyexec"
	ByOpenAISDK = "openai-python"
	ByLiteLLM   = "LiteLLM"
	ByAG2       = "AG2"
	ByAutoGen   = "AutoGen"
)

// Var is one variable a provider's SDK reads under that name.
type Var struct {
	Name   string
	Role   Role
	ReadBy []string // who reads it: the SDK, AutoGen, AG2, LiteLLM…
}

// Alias is a name people use for a variable the SDK reads under another
// name. keyexec copies its value to To; the alias itself stays in the child
// only when a known consumer reads it under its own name (ReadBy).
type Alias struct {
	Name   string
	To     string
	ReadBy []string
	// Route, when set, decides per value: the canonical name to copy to
	// (To or one of Also), or "" to leave the variable alone (API_KEY
	// moves only when it holds an OpenAI key; OPENAI_API_BASE goes to
	// AZURE_OPENAI_ENDPOINT for an Azure host).
	Route func(value string) string
	Also  []string
}

// Targets are the canonical names the alias may be copied to.
func (a Alias) Targets() []string { return append([]string{a.To}, a.Also...) }

// Target is the canonical name value v is copied to, "" for none.
func (a Alias) Target(v string) string {
	if a.Route != nil {
		return a.Route(v)
	}
	return a.To
}

// AG2 is how AG2 (AutoGen 0.2) config-list entries reach a provider.
type AG2 struct {
	// Types are the api_type values that select it; a value ending in "*"
	// matches by prefix, as AG2 dispatches ("azure*").
	Types []string
	// KeyEnv is the variable AG2's client reads when the entry has no
	// api_key; "" when it reads none of its own (the SDK's fallback then
	// applies, which may belong to another provider: see FallbackOf).
	KeyEnv string
	// FallbackOf names the provider whose key the client sends when the
	// entry has none (AG2's deepseek falls through to OPENAI_API_KEY).
	FallbackOf Name
	// DefaultBase is the base URL AG2 uses when the entry has none.
	DefaultBase string
}

// Unit is everything keyexec knows about one provider.
type Unit struct {
	Name  Name
	Title string // "Azure OpenAI", for messages
	SDK   string // the Python SDK whose variables Vars are

	// Vars are the variables the SDK reads; key variables in the SDK's
	// order of precedence (google-genai takes GOOGLE_API_KEY before
	// GEMINI_API_KEY). Two key variables set to different values are an
	// error naming both.
	Vars    []Var
	Aliases []Alias
	// Detect names the variables whose presence says the environment is
	// meant for this provider (auto mode); empty for providers probed only
	// when asked for (Ollama needs no key).
	Detect []string

	// DefaultBase is where the SDK goes without a base URL; CompatBase is
	// the provider's OpenAI-compatible API, for apps using the openai SDK
	// against it ("" when it has none).
	DefaultBase, CompatBase string
	// Hosts are its well-known API host names; one starting with "." is a
	// suffix ("*.openai.azure.com").
	Hosts []string
	// Shapes are the shapes of the keys it issues; with StrictShape every
	// key of its own API has one, so a key of unknown shape sent there is
	// an error.
	Shapes      []Shape
	StrictShape bool
	// Keyless providers take no key (Ollama).
	Keyless bool
	// KeyHelp says what its keys look like and where to get one.
	KeyHelp string
	// ModelPrefixes are model-name prefixes only this provider serves
	// ("claude-", "gemini-"), for hints about entries sent to the wrong API.
	ModelPrefixes []string
	AG2           AG2
	// ProbeDoc describes the probe's requests, for the README.
	ProbeDoc string
	// QuotaSeen: the probe's read shows an account without quota or credit
	// (elsewhere the key reads succeed all the same: the first generation
	// call tells).
	QuotaSeen bool

	probe    Prober
	validate func(*Settings) []Problem
	// repair fixes a base URL the SDK would misuse, and says what it did.
	repair func(u *url.URL) (fixed, fix string)
}

// RepairURL applies the repairs of the unit's base URL: trailing slashes
// removed, then the unit's own rule (an Azure endpoint cut back to scheme
// and host; https://api.openai.com given its /v1). It returns the value
// and one line per fix.
func (u *Unit) RepairURL(v string) (string, []string) {
	var fixes []string
	if t := strings.TrimRight(v, "/"); t != v {
		fixes = append(fixes, "removed trailing slash")
		v = t
	}
	parsed, err := url.Parse(v)
	if err != nil || parsed.Host == "" || u.repair == nil {
		return v, fixes // the checks report a broken URL with its fix
	}
	if fixed, fix := u.repair(parsed); fix != "" {
		v, fixes = fixed, append(fixes, fix)
	}
	return v, fixes
}

// UnitOfVar returns the unit whose SDK reads variable name, or nil.
func UnitOfVar(name string) *Unit {
	for _, u := range All() {
		for _, v := range u.Vars {
			if v.Name == name {
				return u
			}
		}
	}
	return nil
}

// Probe is the unit's probe: the requests that prove a credential and how
// to read their answers.
func (u *Unit) Probe() Prober { return u.probe }

// Var returns the variable of role r the SDK reads ("" when none); for
// RoleKey the first in precedence.
func (u *Unit) Var(r Role) string {
	for _, v := range u.Vars {
		if v.Role == r {
			return v.Name
		}
	}
	return ""
}

// VarsOf returns every variable of role r, in precedence order.
func (u *Unit) VarsOf(r Role) []string {
	var out []string
	for _, v := range u.Vars {
		if v.Role == r {
			out = append(out, v.Name)
		}
	}
	return out
}

// OwnsHost reports whether host (a host name, optionally with a port) is one
// of the unit's well-known API hosts.
func (u *Unit) OwnsHost(host string) bool {
	h := NormHost(host)
	for _, p := range u.Hosts {
		switch {
		case strings.Contains(p, ":"): // host and port, as Ollama's
			if strings.EqualFold(host, p) {
				return true
			}
		case strings.HasPrefix(p, ".") && strings.HasSuffix(h, p) && len(h) > len(p), h == p:
			return true
		}
	}
	return false
}

// OwnsModel reports whether model names one of this provider's own models.
func (u *Unit) OwnsModel(model string) bool {
	for _, p := range u.ModelPrefixes {
		if strings.HasPrefix(strings.ToLower(model), p) {
			return true
		}
	}
	return false
}

var (
	allOnce  sync.Once
	allUnits []*Unit
)

// All returns every unit, in the order reports list them. The table is
// built on first use, not at package init; each unit is one value, so
// units compare by pointer.
func All() []*Unit {
	allOnce.Do(func() {
		allUnits = []*Unit{
			openAI(), azure(), anthropic(), gemini(), groq(), mistral(),
			openRouter(), together(), xai(), deepSeek(), ollama(),
		}
	})
	return allUnits
}

// List names every provider, for --provider and messages.
func List() []string {
	var out []string
	for _, u := range All() {
		out = append(out, string(u.Name))
	}
	return out
}

// ByName returns the unit called name, or nil.
func ByName(name string) *Unit {
	for _, u := range All() {
		if string(u.Name) == strings.ToLower(strings.TrimSpace(name)) {
			return u
		}
	}
	return nil
}

// ForHost returns the unit whose well-known host base's host is, or nil for
// any other host (a gateway, proxy or local server). A loopback Ollama
// address counts as Ollama's.
func ForHost(base string) *Unit {
	u, err := url.Parse(base)
	if err != nil {
		return nil
	}
	for _, unit := range All() {
		if unit.OwnsHost(u.Host) {
			return unit
		}
	}
	return nil
}

// ForAPIType returns the unit an AG2 config-list api_type selects ("" and
// "openai…" are OpenAI), or nil for a type keyexec does not check.
func ForAPIType(apiType string) *Unit {
	t := strings.ToLower(strings.TrimSpace(apiType))
	if t == "" {
		t = "openai"
	}
	for _, u := range All() {
		for _, want := range u.AG2.Types {
			if p, ok := strings.CutSuffix(want, "*"); ok && strings.HasPrefix(t, p) || t == want {
				return u
			}
		}
	}
	return nil
}

// ForModel returns the unit whose own model prefix model starts with, or nil.
func ForModel(model string) *Unit {
	for _, u := range All() {
		if u.OwnsModel(model) {
			return u
		}
	}
	return nil
}

// Canonical reports whether name is a variable some provider's SDK reads.
func Canonical(name string) bool {
	_, ok := VarByName(name)
	return ok
}

// VarByName finds the variable called name in any unit.
func VarByName(name string) (Var, bool) {
	for _, u := range All() {
		for _, v := range u.Vars {
			if v.Name == name {
				return v, true
			}
		}
	}
	return Var{}, false
}

// Aliases returns every built-in alias.
func Aliases() []Alias {
	var out []Alias
	for _, u := range All() {
		out = append(out, u.Aliases...)
	}
	return out
}

// RoleOf returns the role of a canonical variable or of an alias (the role
// of the variable it is copied to), and false for any other name.
func RoleOf(name string) (Role, bool) {
	if v, ok := VarByName(name); ok {
		return v.Role, true
	}
	for _, a := range Aliases() {
		if a.Name == name {
			if v, ok := VarByName(a.To); ok {
				return v.Role, true
			}
		}
	}
	return 0, false
}

// KeptAlias reports whether a known consumer reads alias under its own name,
// so that it stays in the child after being copied to its canonical name.
func KeptAlias(alias string) bool {
	for _, a := range Aliases() {
		if a.Name == alias && len(a.ReadBy) > 0 {
			return true
		}
	}
	return false
}

// readBy is a small constructor for Var.ReadBy lists.
func readBy(who ...string) []string { return slices.Clip(who) }
