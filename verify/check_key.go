package verify

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/keyexec/keyexec/verify/provider"
)

// key checks the candidate's key against the API it is sent to (api) at
// host (nil for a gateway or local server; the default base counts as the
// API's own host). A key of another provider's distinctive shape is an error
// naming that provider; at a provider's own host the key must have a shape
// it accepts. Shapes other keys can share (weak) pass anywhere else: the
// probe has the last word.
func (k *checker) key(api, host *provider.Unit, urlSet bool) {
	c, n := k.c, k.c.Names
	switch {
	case api.Keyless, c.Entra != nil, !c.Token.IsZero() && !c.KeySet:
		return
	case !c.KeySet:
		k.add(n.Key, "no key: %s (%s)", n.SetHint(n.Key), api.KeyHelp)
		return
	}
	v := c.Key.Reveal()
	if v == "" {
		switch sdk := c.Client.SDK; {
		case strings.HasPrefix(sdk, "openai-python"):
			k.add(n.Key, "%s is set but empty: openai-python raises OpenAIError (\"Missing credentials\") when the client is built; set the key, or %s", n.Key, unsetHint(n))
		case c.Client.Name == provider.Anthropic:
			k.add(n.Key, "%s is set but empty: the anthropic SDK fails its first call with TypeError (\"Could not resolve authentication method\"); set the key, or %s", n.Key, unsetHint(n))
		default:
			k.add(n.Key, "%s is set but empty: %s has no key to send; set the key, or %s", n.Key, c.Client.SDK, unsetHint(n))
		}
		return
	}
	sh := provider.ClassifyKey(v)
	fp := maskKey(v) + fromOrigin(c.Origin)
	ownHost := host != nil || !urlSet
	strong := !sh.Weak && !sh.Unknown()
	switch {
	case strong && sh.Owner != api.Name && !(!ownHost && sh.Owner == c.Client.Name):
		owner := provider.ByName(string(sh.Owner))
		where := ""
		switch {
		case host != nil && urlSet:
			where = fmt.Sprintf(", but %s points to %s (%s)", n.URL, provider.NormHost(hostOfURL(c.BaseURL)), host.Title)
		case !urlSet && sh.Owner != c.Client.Name:
			where = fmt.Sprintf(", but %s is not set, so it would go to %s (%s)", n.URL, provider.NormHost(hostOfURL(c.Client.DefaultBase)), c.Client.Title)
		}
		fix := moveHint(owner, n)
		if sh.Owner == c.Client.Name && host != nil {
			fix = fmt.Sprintf("point %s at %s, or use %s key here", n.URL, c.Client.DefaultBase, withArticle(api.Title))
		}
		k.add(n.Key, "%s holds what looks like %s (%s)%s: %s", n.Key, sh.Desc, fp, where, fix)
	case ownHost && !api.AcceptsKey(sh):
		help := api.KeyHelp
		if c.Client.Name == provider.OpenAI && api.Name == provider.OpenAI {
			help += "; for another OpenAI-compatible server set " + n.URL
		}
		k.add(n.Key, "%s (%s) does not look like %s key: %s", n.Key, fp, withArticle(api.Title), help)
	}
}

// moveHint says where a key of provider u belongs.
func moveHint(u *provider.Unit, n provider.Names) string {
	if n.Component {
		switch u.Name {
		case provider.Azure:
			return "use it in an AzureOpenAIChatCompletionClient component"
		case provider.Anthropic:
			return "use it in an AnthropicChatCompletionClient component, or with a claude- model"
		case provider.Gemini:
			return "use it with a gemini- model"
		}
		return fmt.Sprintf("use it with config.base_url %q", u.CompatBase)
	}
	if n.Entry {
		switch {
		case u.Name == provider.Azure:
			return `use it in an entry with "api_type": "azure", the resource's base_url and an api_version`
		case len(u.AG2.Types) > 0 && u.AG2.FallbackOf == "":
			return fmt.Sprintf("use it in an entry with \"api_type\": %q", trimStar(u.AG2.Types[0]))
		}
		return fmt.Sprintf("use it with \"base_url\": %q", u.CompatBase)
	}
	switch {
	case u.Name == provider.Azure:
		return "put it in AZURE_OPENAI_API_KEY with AZURE_OPENAI_ENDPOINT"
	case u.SDK == "openai-python" && u.Name != provider.OpenAI:
		return fmt.Sprintf("use it as OPENAI_API_KEY with OPENAI_BASE_URL=%s (or in %s)", u.CompatBase, u.Var(provider.RoleKey))
	}
	return "put it in " + u.Var(provider.RoleKey)
}

func trimStar(s string) string {
	if len(s) > 0 && s[len(s)-1] == '*' {
		return s[:len(s)-1]
	}
	return s
}

func unsetHint(n provider.Names) string {
	if n.Entry {
		return "remove the field"
	}
	return "unset the variable"
}

// fromOrigin is ", NAME from ORIGIN" for a value that came from a
// reference or a file, "" for a plain variable.
func fromOrigin(origin string) string {
	if origin == "" || strings.HasSuffix(origin, " from environment") {
		return ""
	}
	return ", " + origin
}

// withArticle puts "a" or "an" before a provider name.
func withArticle(name string) string {
	if name != "" && (name[0] == 'A' || name[0] == 'E' || name[0] == 'I' || name[0] == 'O' || name[0] == 'U') {
		return "an " + name
	}
	return "a " + name
}

// hostOfURL is the host of raw, "" when it does not parse.
func hostOfURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Host
}
