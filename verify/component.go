package verify

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// Component is one AutoGen 0.4+ model-client component, as the checks
// need it: {provider, config} after its references were resolved.
type Component struct {
	Index    int
	Label    string
	Provider string         // as written: "OpenAIChatCompletionClient" or the full class path
	Config   map[string]any // resolved
	// Ref returns the reference a config field (a dotted path under
	// config, "api_key") was resolved from, "" for a literal.
	Ref func(field string) string
}

func (c Component) str(field string) string {
	s, _ := c.Config[field].(string)
	return s
}

func (c Component) has(field string) bool { return c.Config[field] != nil }

// autogenTables are the models AutoGen's clients know without model_info.
type autogenTables struct {
	OpenAI         []string          `json:"openai"`
	OpenAIPointers map[string]string `json:"openai_pointers"`
	Anthropic      []string          `json:"anthropic"`
	Ollama         []string          `json:"ollama"`
}

// componentClient is the client class a component's provider names.
func componentClient(p string) string {
	name := p[strings.LastIndexByte(p, '.')+1:]
	switch name {
	case "OpenAIChatCompletionClient", "openai_chat_completion_client":
		return "openai"
	case "AzureOpenAIChatCompletionClient", "azure_openai_chat_completion_client":
		return "azure"
	case "AnthropicChatCompletionClient":
		return "anthropic"
	case "OllamaChatCompletionClient":
		return "ollama"
	}
	return ""
}

// ComponentCandidate builds the candidate of a model-client component as
// the AutoGen client it names will see it: config fields first, then the
// variables that client (and the SDK under it) falls back to, including
// AutoGen's model-prefix rules (gemini- → Gemini's OpenAI-compatible API
// with GEMINI_API_KEY, claude- → Anthropic's with ANTHROPIC_API_KEY).
func ComponentCandidate(cc Component, env map[string]string, opts CheckOptions) Candidate {
	c := Candidate{From: FromComponent, Index: cc.Index, Label: cc.Label}
	kind := componentClient(cc.Provider)
	if kind == "" {
		c.NotProven = fmt.Sprintf("model client %s is not one keyexec checks (OpenAI, Azure OpenAI, Anthropic, Ollama): passed on resolved but unproven", sources.ShowValue(cc.Provider))
		return c
	}
	c.Client = provider.ByName(kind)
	c.Names = provider.Names{Key: "config.api_key", Token: "config.azure_ad_token", URL: "config.base_url", APIVersion: "config.api_version",
		Org: "config.organization", Model: "config.model", Entry: true, Component: true}
	c.Model = cc.str("model")
	if c.Model == "" {
		c.Problems = append(c.Problems, checkError("config.model", "config.model is empty: %s needs one", componentName(cc.Provider)))
	}
	// What the config leaves out, the SDK under the client reads from its
	// variables, as for config-list entries.
	fromEnv := func(field, name string) string {
		v := env[name]
		if v != "" {
			c.Notes = append(c.Notes, field+" from "+name+fromWhere(opts.Origins[name]))
		}
		return v
	}
	keyEnv := c.Client.Var(provider.RoleKey)
	switch kind {
	case "openai":
		keyEnv = componentOpenAI(&c, cc, fromEnv)
		if c.NotProven != "" {
			return c
		}
	case "azure":
		componentAzure(&c, cc, env, opts)
	case "anthropic":
		c.BaseURL = cc.str("base_url")
		if c.BaseURL == "" {
			c.BaseURL = fromEnv("config.base_url", "ANTHROPIC_BASE_URL")
		}
	case "ollama":
		c.Names.URL = "config.host"
		if h := cc.str("host"); h != "" {
			c.BaseURL = provider.OllamaBase(h)
		} else if h := env["OLLAMA_HOST"]; h != "" {
			c.BaseURL = provider.OllamaBase(h)
		}
	}
	componentKey(&c, cc, keyEnv, env, opts)
	if kind != "azure" || !cc.has("azure_deployment") {
		c.Problems = append(c.Problems, modelInfoProblems(kind, cc)...)
	}
	return c
}

// componentOpenAI applies OpenAIChatCompletionClient's model-prefix rules
// and returns the variable its key falls back to. A base URL or
// organization the config leaves out comes from OPENAI_BASE_URL and
// OPENAI_ORG_ID, as the openai SDK reads them, except where a model prefix
// makes AutoGen set the base URL itself.
func componentOpenAI(c *Candidate, cc Component, fromEnv func(field, name string) string) string {
	c.BaseURL, c.Org = cc.str("base_url"), cc.str("organization")
	if c.Org == "" {
		c.Org = fromEnv("config.organization", "OPENAI_ORG_ID")
	}
	m := c.Model
	prefixed := strings.HasPrefix(m, "gemini-") || strings.HasPrefix(m, "claude-") || strings.HasPrefix(m, "Llama-")
	if c.BaseURL == "" && !prefixed {
		c.BaseURL = fromEnv("config.base_url", "OPENAI_BASE_URL")
	}
	switch {
	case strings.HasPrefix(m, "gemini-"):
		if c.BaseURL == "" {
			c.BaseURL = provider.ByName(string(provider.Gemini)).CompatBase
			c.Notes = append(c.Notes, "AutoGen sends gemini- models to Gemini's OpenAI-compatible API")
		}
		return "GEMINI_API_KEY"
	case strings.HasPrefix(m, "claude-"):
		if c.BaseURL == "" {
			c.BaseURL = provider.ByName(string(provider.Anthropic)).CompatBase
			c.Notes = append(c.Notes, "AutoGen sends claude- models to Anthropic's OpenAI-compatible API")
		}
		return "ANTHROPIC_API_KEY"
	case strings.HasPrefix(m, "Llama-") && c.BaseURL == "":
		c.NotProven = "AutoGen sends Llama- models to Meta's Llama API (https://api.llama.com/compat/v1) with LLAMA_API_KEY, which keyexec does not check"
	}
	return "OPENAI_API_KEY"
}

// componentAzure reads AzureOpenAIChatCompletionClient's settings.
func componentAzure(c *Candidate, cc Component, env map[string]string, opts CheckOptions) {
	c.Names.URL = "config.azure_endpoint"
	c.BaseURL = cc.str("azure_endpoint")
	if c.BaseURL == "" {
		c.BaseURL = env["AZURE_OPENAI_ENDPOINT"]
	}
	c.APIVersion = cc.str("api_version")
	if c.APIVersion == "" {
		c.APIVersion = env["OPENAI_API_VERSION"]
	}
	if d := cc.str("azure_deployment"); d != "" {
		c.Names.Model, c.Model = "config.azure_deployment", d
	}
	c.Names.Deployment = c.Names.Model
	if tp, ok := cc.Config["azure_ad_token_provider"].(map[string]any); ok {
		c.Entra = &Entra{Scopes: tokenProviderScopes(tp, opts.EntraScopes)}
		c.Origin = "config.azure_ad_token_provider (Microsoft Entra ID)"
		if cfg, _ := tp["config"].(map[string]any); cfg != nil {
			if kind, _ := cfg["provider_kind"].(string); kind != "" && kind != "DefaultAzureCredential" {
				c.Problems = append(c.Problems, checkError("config.azure_ad_token_provider", "azure_ad_token_provider has provider_kind %s: AutoGen's AzureTokenProvider supports DefaultAzureCredential only", sources.ShowValue(kind)))
			}
		}
	}
}

// tokenProviderScopes are the scopes of an AzureTokenProvider component.
func tokenProviderScopes(tp map[string]any, fallback []string) []string {
	cfg, _ := tp["config"].(map[string]any)
	list, _ := cfg["scopes"].([]any)
	var out []string
	for _, s := range list {
		if str, ok := s.(string); ok && str != "" {
			out = append(out, str)
		}
	}
	if len(out) == 0 {
		return entraScopes(fallback)
	}
	return out
}

// componentKey finds the credential a component's client sends.
func componentKey(c *Candidate, cc Component, keyEnv string, env map[string]string, opts CheckOptions) {
	origin := func(field string) string {
		if ref := cc.Ref(field); ref != "" {
			return "config." + field + " from " + ref
		}
		return "config." + field + " of " + cc.Label
	}
	switch {
	case c.Client.Keyless || c.Entra != nil:
		return
	case cc.has("api_key"):
		c.Key, c.KeySet, c.Origin = sources.NewSecret(cc.str("api_key")), true, origin("api_key")
		return
	case c.Client.Name == provider.Azure && cc.has("azure_ad_token"):
		c.Token, c.TokenName, c.Origin = sources.NewSecret(cc.str("azure_ad_token")), "AD token", origin("azure_ad_token")
		return
	}
	if v, ok := env[keyEnv]; ok && v != "" {
		c.Key, c.KeySet, c.Names.Key = sources.NewSecret(v), true, keyEnv
		c.Origin = keyEnv + " from " + opts.origin(keyEnv)
		c.Notes = append(c.Notes, "config.api_key from "+keyEnv+fromWhere(opts.Origins[keyEnv]))
		return
	}
	if c.Client.Name == provider.Azure {
		if v := env["AZURE_OPENAI_AD_TOKEN"]; v != "" {
			c.Token, c.TokenName, c.Names.Token = sources.NewSecret(v), "AD token", "AZURE_OPENAI_AD_TOKEN"
			c.Origin = "AZURE_OPENAI_AD_TOKEN from " + opts.origin("AZURE_OPENAI_AD_TOKEN")
			return
		}
		c.Problems = append(c.Problems, checkError("config.api_key", "no config.api_key, azure_ad_token or azure_ad_token_provider, and neither AZURE_OPENAI_API_KEY nor AZURE_OPENAI_AD_TOKEN is set: AzureOpenAIChatCompletionClient fails with \"Missing credentials\"; add an AzureTokenProvider component (Entra ID) or an api_key"))
		return
	}
	if keyEnv != "OPENAI_API_KEY" && (c.BaseURL == provider.ByName(string(provider.Gemini)).CompatBase || c.BaseURL == provider.ByName(string(provider.Anthropic)).CompatBase) {
		u := provider.ForHost(c.BaseURL)
		c.Problems = append(c.Problems, checkError("config.api_key", "model %s: AutoGen sends it to %s with %s, which is not set, so the openai SDK would send OPENAI_API_KEY (an OpenAI key) to %s instead: set %s, or config.api_key",
			provider.ShowName(c.Model), u.Title, keyEnv, u.Title, keyEnv))
		return
	}
	c.Problems = append(c.Problems, checkError("config.api_key", "no config.api_key, and %s is not set either: %s would fail when the app loads it; set config.api_key (a reference such as \"vault://secret/llm#api_key\", with env: beside the file) or %s",
		keyEnv, componentName(cc.Provider), keyEnv))
}

// modelInfoProblems finds AutoGen's "model_info is required when model name
// is not a valid OpenAI model" before Python starts: a model the client
// does not know needs a model_info with the required fields.
func modelInfoProblems(kind string, cc Component) []error {
	model := cc.str("model")
	if info, ok := cc.Config["model_info"].(map[string]any); ok {
		var missing []string
		for _, f := range []string{"vision", "function_calling", "json_output", "family"} {
			if _, ok := info[f]; !ok {
				missing = append(missing, f)
			}
		}
		if len(missing) > 0 {
			return []error{checkError("config.model_info", "config.model_info lacks %s: AutoGen (0.4.7 and later) refuses it with \"Missing required field '%s' in ModelInfo\"", strings.Join(missing, ", "), missing[0])}
		}
		return nil
	}
	if cc.has("model_capabilities") || model == "" || knownModel(kind, model) {
		return nil
	}
	return []error{checkError("config.model_info", "model %s is not one %s knows, so AutoGen raises \"model_info is required when model name is not a valid OpenAI model\" when the app loads it: add config.model_info {vision, function_calling, json_output, family, structured_output}",
		provider.ShowName(model), componentName(cc.Provider))}
}

// knownModel reports whether an AutoGen client of kind knows model without
// a model_info, as its get_info looks it up.
func knownModel(kind, model string) bool {
	t := autogenModels()
	switch kind {
	case "openai", "azure":
		if p, ok := t.OpenAIPointers[model]; ok {
			model = p
		}
		return slices.Contains(t.OpenAI, model)
	case "anthropic":
		for _, id := range t.Anthropic {
			if model == id || strings.HasPrefix(model, strings.SplitN(id, "-2", 2)[0]) {
				return true
			}
		}
	case "ollama":
		return slices.Contains(t.Ollama, strings.SplitN(model, ":", 2)[0])
	}
	return false
}

// componentName is a provider's class name for messages.
func componentName(p string) string {
	if p == "" {
		return "the client"
	}
	return p[strings.LastIndexByte(p, '.')+1:]
}
