package verify

import (
	"errors"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/verify/provider"
)

var keys = provider.ExampleKeys()

const azureEndpoint = "https://myres.openai.azure.com"

// assertCheckErr checks err wraps want, contains every piece, and shows no
// 12-character piece of any secret.
func assertCheckErr(t *testing.T, err, want error, pieces []string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", pieces)
	}
	if !errors.Is(err, want) {
		t.Errorf("error %v does not wrap %v", err, want)
	}
	for _, p := range pieces {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q\ndoes not contain %q", err, p)
		}
	}
	assertNoSecret(t, err.Error(), secrets...)
}

func assertNoSecret(t *testing.T, msg string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		for i := 0; i+12 <= len(s); i += 4 {
			if strings.Contains(msg, s[i:i+12]) {
				t.Fatalf("output shows a piece of a secret: %q", msg)
			}
		}
	}
}

// envCheck builds the environment's candidates and checks them all.
func envCheck(env map[string]string, opts CheckOptions) ([]Target, error) {
	cands, err := EnvCandidates(env, opts, nil)
	if err != nil {
		return nil, err
	}
	targets, errs, _ := Plan(cands, opts)
	return targets, errors.Join(errs...)
}

// ownEnv is an environment that holds unit u's credentials with key, plus
// what the unit needs besides (Azure's endpoint and api-version).
func ownEnv(u *provider.Unit, key string) map[string]string {
	env := map[string]string{}
	if k := detectKey(u); k != "" {
		env[k] = key
	}
	if u.Name == provider.Azure {
		env["AZURE_OPENAI_ENDPOINT"] = azureEndpoint
		env["OPENAI_API_VERSION"] = "2024-10-21"
	}
	return env
}

// detectKey is the key variable whose presence selects unit u.
func detectKey(u *provider.Unit) string {
	for _, d := range u.Detect {
		if v, _ := provider.VarByName(d); v.Role == provider.RoleKey {
			return d
		}
	}
	return ""
}

// ownKey is a key of unit u's own shape, or a plain one when it has none.
func ownKey(u *provider.Unit) string {
	for _, s := range u.Shapes {
		if !s.Admin {
			return keys[s.Kind]
		}
	}
	return "plainkey0123456789abcdefXYZ"
}

// TestEnvDetectsEveryUnit is generated from the units: each unit's detect
// variable alone yields one candidate of that unit, which passes the checks
// with a key of its own shape.
func TestEnvDetectsEveryUnit(t *testing.T) {
	t.Parallel()
	for _, u := range provider.All() {
		if len(u.Detect) == 0 {
			continue
		}
		t.Run(string(u.Name), func(t *testing.T) {
			t.Parallel()
			targets, err := envCheck(ownEnv(u, ownKey(u)), CheckOptions{})
			if err != nil {
				t.Fatalf("check: %v", err)
			}
			if len(targets) != 1 || targets[0].API != u {
				t.Fatalf("targets %+v, want one for %s", targets, u.Name)
			}
			if u.DefaultBase != "" && targets[0].BaseURL != strings.TrimRight(u.DefaultBase, "/") {
				t.Errorf("base %s, want the SDK default %s", targets[0].BaseURL, u.DefaultBase)
			}
		})
	}
}

// TestKeyShapeMatrix is generated from the units and their shapes: every
// strong shape in another unit's key variable is an error naming whose key
// it looks like; at a unit's own host an unknown shape fails only for units
// whose keys always have one.
func TestKeyShapeMatrix(t *testing.T) {
	t.Parallel()
	for _, u := range provider.All() {
		if u.Keyless || len(u.Detect) == 0 {
			continue
		}
		for _, s := range provider.Shapes() {
			key := keys[s.Kind]
			t.Run(string(u.Name)+"/"+string(s.Kind), func(t *testing.T) {
				t.Parallel()
				_, err := envCheck(ownEnv(u, key), CheckOptions{})
				switch {
				case s.Owner == u.Name && s.Admin:
					assertCheckErr(t, err, ErrMisconfigured, []string{"Admin API key"}, key)
				case s.Owner == u.Name:
					if err != nil {
						t.Fatalf("own key refused: %v", err)
					}
				case !s.Weak:
					assertCheckErr(t, err, ErrMisconfigured, []string{detectKey(u), "looks like " + s.Desc}, key)
				case u.StrictShape:
					assertCheckErr(t, err, ErrMisconfigured, []string{"does not look like"}, key)
				case err != nil && !strings.Contains(err.Error(), "does not look like"):
					t.Fatalf("a weak shape failed for another reason: %v", err)
				}
			})
		}
	}
}

func TestNoCredentials(t *testing.T) {
	t.Parallel()
	_, err := envCheck(map[string]string{"PATH": "/bin", "MY_KEY": keys["openai-project"], "OTHER": keys["azure"]}, CheckOptions{})
	assertCheckErr(t, err, ErrMisconfigured, []string{"no LLM credentials found", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "--provider none",
		"MY_KEY holds what looks like an OpenAI project key", "rename it to OPENAI_API_KEY"}, keys["openai-project"])
	if strings.Contains(err.Error(), "OTHER") {
		t.Errorf("a weak shape was named as a misnamed key: %v", err)
	}
	_, err = envCheck(map[string]string{"OPENAI_API_KEY": keys["openai-project"]}, CheckOptions{Providers: []string{"anthropic"}})
	assertCheckErr(t, err, ErrMisconfigured, []string{"--provider anthropic", "ANTHROPIC_API_KEY"})
	if c, err := EnvCandidates(map[string]string{}, CheckOptions{}, []Candidate{{From: FromEntry, Client: provider.ByName("openai")}}); err != nil || len(c) != 0 {
		t.Errorf("with a config list, no environment credential is no error: %v %v", c, err)
	}
	if c, err := EnvCandidates(map[string]string{"OPENAI_API_KEY": ""}, CheckOptions{Providers: []string{"none"}}, nil); err != nil || c != nil {
		t.Errorf("--provider none: %v %v", c, err)
	}
}

func TestGeminiPrecedence(t *testing.T) {
	t.Parallel()
	k1, k2 := keys["google"], "AIza"+strings.Repeat("b", 35)
	_, err := envCheck(map[string]string{"GEMINI_API_KEY": k1, "GOOGLE_API_KEY": k2}, CheckOptions{})
	assertCheckErr(t, err, ErrMisconfigured, []string{"GOOGLE_API_KEY", "GEMINI_API_KEY", "google-genai uses GOOGLE_API_KEY"}, k1, k2)
	targets, err := envCheck(map[string]string{"GEMINI_API_KEY": k1, "GOOGLE_API_KEY": k1}, CheckOptions{})
	if err != nil || len(targets) != 1 || targets[0].Key.Reveal() != k1 || targets[0].Names.Key != "GOOGLE_API_KEY" {
		t.Fatalf("same value: %+v %v", targets, err)
	}
	if _, err := envCheck(map[string]string{"GOOGLE_API_KEY": k1}, CheckOptions{}); err == nil {
		t.Error("GOOGLE_API_KEY alone is any Google key: not detected as Gemini")
	}
	if targets, err := envCheck(map[string]string{"GOOGLE_API_KEY": k1}, CheckOptions{Providers: []string{"gemini"}}); err != nil || len(targets) != 1 {
		t.Errorf("--provider gemini with GOOGLE_API_KEY: %v %v", targets, err)
	}
}

func TestURLRules(t *testing.T) {
	t.Parallel()
	oa := keys["openai-project"]
	tests := []struct {
		name string
		env  map[string]string
		want []string // "" pieces: no error
	}{
		{"plain http elsewhere", map[string]string{"OPENAI_API_KEY": oa, "OPENAI_BASE_URL": "http://gw.example/v1"}, []string{"plain http://", "probe.allow_http"}},
		{"plain http to loopback", map[string]string{"OPENAI_API_KEY": "local", "OPENAI_BASE_URL": "http://127.0.0.1:4000/v1"}, nil},
		{"userinfo", map[string]string{"OPENAI_API_KEY": oa, "OPENAI_BASE_URL": "https://u:" + oa + "@gw.example/v1"}, []string{"user name or password"}},
		{"key in the URL variable", map[string]string{"OPENAI_API_KEY": oa, "OPENAI_BASE_URL": oa}, []string{"not a URL"}},
		{"openai host without /v1", map[string]string{"OPENAI_API_KEY": oa, "OPENAI_BASE_URL": "https://api.openai.com/v2"}, []string{"OpenAI-compatible API is https://api.openai.com/v1"}},
		{"openai client at Groq", map[string]string{"OPENAI_API_KEY": keys["groq"], "OPENAI_BASE_URL": "https://api.groq.com/openai/v1"}, nil},
		{"openai client at Groq, wrong path", map[string]string{"OPENAI_API_KEY": keys["groq"], "OPENAI_BASE_URL": "https://api.groq.com/v1"}, []string{"Groq's OpenAI-compatible API is https://api.groq.com/openai/v1"}},
		{"openai key at Groq", map[string]string{"OPENAI_API_KEY": oa, "OPENAI_BASE_URL": "https://api.groq.com/openai/v1"}, []string{"points to api.groq.com (Groq)", "or use a Groq key here"}},
		{"azure resource without v1", map[string]string{"OPENAI_API_KEY": keys["azure"], "OPENAI_BASE_URL": "https://r.openai.azure.com/openai"}, []string{"only through its v1 API"}},
		{"azure endpoint with path", map[string]string{"AZURE_OPENAI_API_KEY": keys["azure"], "AZURE_OPENAI_ENDPOINT": azureEndpoint + "/openai", "OPENAI_API_VERSION": "2024-10-21"}, []string{"has a path"}},
		{"azure endpoint at OpenAI", map[string]string{"AZURE_OPENAI_API_KEY": keys["azure"], "AZURE_OPENAI_ENDPOINT": "https://api.openai.com", "OPENAI_API_VERSION": "v1"}, []string{"not to Azure OpenAI"}},
		{"azure bad api-version", map[string]string{"AZURE_OPENAI_API_KEY": keys["azure"], "AZURE_OPENAI_ENDPOINT": azureEndpoint, "OPENAI_API_VERSION": "2024-13-01"}, []string{"not an Azure OpenAI api-version"}},
		{"azure no api-version", map[string]string{"AZURE_OPENAI_API_KEY": keys["azure"], "AZURE_OPENAI_ENDPOINT": azureEndpoint}, []string{"OPENAI_API_VERSION is not set", "Must provide either"}},
		{"anthropic base with /v1", map[string]string{"ANTHROPIC_API_KEY": keys["anthropic"], "ANTHROPIC_BASE_URL": "https://api.anthropic.com/v1"}, []string{"adds /v1/… itself"}},
		{"anthropic at OpenAI", map[string]string{"ANTHROPIC_API_KEY": keys["anthropic"], "ANTHROPIC_BASE_URL": "https://api.openai.com/v1"}, []string{"does not serve the Anthropic API"}},
		{"empty openai key", map[string]string{"OPENAI_API_KEY": ""}, []string{"set but empty", "Missing credentials"}},
		{"org with a key", map[string]string{"OPENAI_API_KEY": oa, "OPENAI_ORG_ID": oa}, []string{"OPENAI_ORG_ID holds what looks like"}},
		{"org without org-", map[string]string{"OPENAI_API_KEY": oa, "OPENAI_ORG_ID": "acme"}, []string{`"acme" is not an OpenAI ID`}},
		{"model with a key", map[string]string{"OPENAI_API_KEY": oa}, []string{"not a model or deployment name"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			opts := CheckOptions{}
			if tt.name == "model with a key" {
				opts.Model = oa
			}
			_, err := envCheck(tt.env, opts)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("unexpected: %v", err)
				}
				return
			}
			assertCheckErr(t, err, ErrMisconfigured, tt.want, oa)
		})
	}
}

func TestAzureEntraAndTokens(t *testing.T) {
	t.Parallel()
	env := map[string]string{"AZURE_OPENAI_ENDPOINT": azureEndpoint, "OPENAI_API_VERSION": "2024-10-21"}
	targets, err := envCheck(env, CheckOptions{})
	if err != nil || len(targets) != 1 || targets[0].Entra == nil || targets[0].Entra.Scopes[0] != provider.CognitiveServicesScope {
		t.Fatalf("no key, no token: want Entra ID, got %+v %v", targets, err)
	}
	env["AZURE_OPENAI_API_KEY"] = keys["azure"]
	if targets, _ := envCheck(env, CheckOptions{}); targets[0].Entra != nil {
		t.Error("a key means no Entra ID in auto mode")
	}
	if targets, _ := envCheck(env, CheckOptions{AzureAuth: "entra"}); targets[0].Entra == nil || !targets[0].Key.IsZero() {
		t.Error("azure.auth: entra ignores the key")
	}
	delete(env, "AZURE_OPENAI_API_KEY")
	if _, err := envCheck(env, CheckOptions{AzureAuth: "key"}); err == nil {
		t.Error("azure.auth: key without a key")
	}
}
