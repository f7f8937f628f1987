package verify

import (
	"fmt"
	"strings"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// Entry is one resolved AutoGen/AG2 config-list entry, as the checks need it.
type Entry struct {
	Index  int
	Label  string         // "config list entry 0 (gpt-4o)"
	Fields map[string]any // resolved and sanitized
	Refs   map[string]string
}

// StandsAlone reports whether the entry's candidate needs nothing from the
// environment: its key and base URL are its own (and an Azure entry's
// api_version), so it can be checked and probed before the environment is
// final, and the final check builds the same requests.
func (e Entry) StandsAlone() bool {
	if e.str("api_key") == "" || e.str("base_url") == "" && e.str("azure_endpoint") == "" {
		return false
	}
	return !strings.Contains(strings.ToLower(e.str("api_type")), "azure") || e.str("api_version") != ""
}

func (e Entry) str(field string) string {
	s, _ := e.Fields[field].(string)
	return s
}

func (e Entry) has(field string) bool { return e.Fields[field] != nil }

// EntryCandidate builds the candidate of a config-list entry as the client
// AG2 builds from it will see it: its api_type selects the provider (an
// unknown type is passed on, not proven), and what the entry leaves out is
// read from the environment as that client does (env is the child's final
// environment, origins where its values came from).
func EntryCandidate(e Entry, env map[string]string, opts CheckOptions) Candidate {
	apiType := e.str("api_type")
	u := provider.ForAPIType(apiType)
	c := Candidate{From: FromEntry, Index: e.Index, Label: e.Label}
	if u == nil {
		c.NotProven = fmt.Sprintf("api_type %s is not one keyexec checks (%s): passed on resolved but unproven", sources.ShowValue(apiType), knownAPITypes())
		return c
	}
	c.Client = u
	c.Names = provider.Names{Key: "api_key", Token: "azure_ad_token", URL: "base_url", APIVersion: "api_version", Org: "organization", Model: "model", Entry: true}
	if why := entryNotProven(u, e); why != "" {
		c.NotProven = why
		return c
	}
	fromEnv := func(field, name string) string {
		v, ok := env[name]
		if ok && v != "" {
			c.Notes = append(c.Notes, field+" from "+name+fromWhere(opts.Origins[name]))
		}
		return v
	}
	c.Model = e.str("model")
	if c.Model == "" {
		c.Problems = append(c.Problems, checkError("model", `"model" is empty: every AutoGen config list entry needs one (for azure: the deployment name)`))
	}
	entryKey(&c, u, e, fromEnv, opts)
	entryURL(&c, u, e, fromEnv)
	switch u.Name {
	case provider.OpenAI:
		c.Org = e.str("organization")
		if !e.has("organization") {
			c.Org = fromEnv("organization", "OPENAI_ORG_ID")
		}
		if !e.has("base_url") && c.BaseURL == "" {
			if owner := provider.ForModel(c.Model); owner != nil && owner.Name != provider.OpenAI && len(owner.AG2.Types) > 0 {
				c.Problems = append(c.Problems, checkError("api_type", "model %s is %s model, but the entry has no \"api_type\", so AG2 sends it to OpenAI: set \"api_type\": %q (and the %s key in \"api_key\")",
					provider.ShowName(c.Model), withArticle(owner.Title), trimStar(owner.AG2.Types[0]), owner.Title))
			}
		}
	case provider.Azure:
		c.APIVersion = e.str("api_version")
		if !e.has("api_version") {
			c.APIVersion = fromEnv("api_version", "OPENAI_API_VERSION")
		}
		if d := e.str("azure_deployment"); d != "" {
			c.Names.Model, c.Model = "azure_deployment", d
		}
		c.Names.Deployment = c.Names.Model
	}
	return c
}

// entryNotProven names entries of a known type that reach a service
// keyexec does not check (Anthropic on Bedrock or Vertex, Gemini on Vertex).
func entryNotProven(u *provider.Unit, e Entry) string {
	switch {
	case u.Name == provider.Anthropic && !e.has("api_key") && (e.has("aws_access_key") || e.has("aws_region") || e.has("aws_profile_name")):
		return "an anthropic entry for Amazon Bedrock (aws_* fields): AWS credentials are not proven"
	case u.Name == provider.Anthropic && !e.has("api_key") && (e.has("gcp_project_id") || e.has("gcp_region")):
		return "an anthropic entry for Vertex AI (gcp_* fields): Google Cloud credentials are not proven"
	case u.Name == provider.Gemini && !e.has("api_key") && (e.has("project_id") || e.has("location") || e.has("google_application_credentials")):
		return "a google entry for Vertex AI (project_id/location): Google Cloud credentials are not proven"
	}
	return ""
}

// entryKey finds the credential an entry's client sends: api_key, a token,
// Entra ID, or the variable the client falls back to.
func entryKey(c *Candidate, u *provider.Unit, e Entry, fromEnv func(field, name string) string, opts CheckOptions) {
	origin := func(field string) string {
		if ref := e.Refs[field]; ref != "" {
			return field + " from " + ref
		}
		return field + " of " + e.Label
	}
	switch {
	case u.Keyless:
		return
	case e.has("api_key"):
		// An empty api_key is the key check's to report, as for a variable.
		c.Key, c.KeySet, c.Origin = sources.NewSecret(e.str("api_key")), true, origin("api_key")
		return
	case u.Name == provider.Azure && e.has("azure_ad_token"):
		c.Token, c.TokenName, c.Origin = sources.NewSecret(e.str("azure_ad_token")), "AD token", origin("azure_ad_token")
		return
	case u.Name == provider.Azure && e.has("azure_ad_token_provider"):
		c.Entra = &Entra{Scopes: entraScopes(opts.EntraScopes)}
		c.Origin = "azure_ad_token_provider (Microsoft Entra ID)"
		return
	case u.AG2.FallbackOf != "":
		fb := provider.ByName(string(u.AG2.FallbackOf))
		c.Problems = append(c.Problems, checkError("api_key", "no \"api_key\": AG2 has no %s client of its own and hands the entry to the %s client, which would send %s (%s's key) to %s: set \"api_key\" to the %s key",
			u.Title, fb.Title, fb.Var(provider.RoleKey), fb.Title, u.Title, u.Title))
		return
	}
	name := keyEnvOf(u)
	if v := fromEnv("api_key", name); v != "" {
		c.Key, c.KeySet, c.Names.Key = sources.NewSecret(v), true, name
		c.Origin = name + " from " + opts.origin(name)
		return
	}
	if u.Name == provider.Azure {
		if v := fromEnv("azure_ad_token", "AZURE_OPENAI_AD_TOKEN"); v != "" {
			c.Token, c.TokenName, c.Names.Token = sources.NewSecret(v), "AD token", "AZURE_OPENAI_AD_TOKEN"
			c.Origin = "AZURE_OPENAI_AD_TOKEN from " + opts.origin("AZURE_OPENAI_AD_TOKEN")
			return
		}
	}
	c.Problems = append(c.Problems, checkError("api_key", "no \"api_key\", and %s is not set either: the SDK would fail when AG2 builds the client; set api_key (a reference such as \"vault://secret/llm#api_key\") or %s", name, name))
}

// keyEnvOf is the variable an entry's client reads for a missing api_key.
func keyEnvOf(u *provider.Unit) string {
	if u.AG2.KeyEnv != "" {
		return u.AG2.KeyEnv
	}
	return u.Var(provider.RoleKey)
}

// entryURL finds the base URL an entry's client uses.
func entryURL(c *Candidate, u *provider.Unit, e Entry, fromEnv func(field, name string) string) {
	switch u.Name {
	case provider.Azure:
		if e.has("azure_endpoint") {
			c.Names.URL, c.BaseURL = "azure_endpoint", e.str("azure_endpoint")
		} else {
			c.BaseURL = e.str("base_url")
		}
	case provider.Ollama:
		c.Names.URL = "client_host"
		if h := e.str("client_host"); h != "" {
			c.BaseURL = provider.OllamaBase(h)
		} else if h := fromEnv("client_host", "OLLAMA_HOST"); h != "" {
			c.BaseURL = provider.OllamaBase(h)
		}
		return
	default:
		c.BaseURL = e.str("base_url")
	}
	if c.BaseURL == "" && !e.has("base_url") {
		if bv := u.Var(provider.RoleBaseURL); bv != "" {
			c.BaseURL = fromEnv("base_url", bv)
		}
	}
	if c.BaseURL == "" && u.AG2.DefaultBase != "" {
		c.BaseURL = u.AG2.DefaultBase
	}
}

// knownAPITypes lists the api_type values keyexec checks.
func knownAPITypes() string {
	var out []string
	for _, u := range provider.All() {
		for _, t := range u.AG2.Types {
			out = append(out, trimStar(t))
		}
	}
	return strings.Join(out, ", ")
}

// fromWhere is " (vault://…)" for a variable resolved from a reference.
func fromWhere(origin string) string {
	if origin == "" || origin == "environment" || origin == "config" {
		return ""
	}
	return " (" + origin + ")"
}
