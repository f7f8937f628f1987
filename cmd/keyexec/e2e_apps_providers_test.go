package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/verify/provider"
	"github.com/keyexec/keyexec/verify/providertest"
)

// compatCase is one app of testdata/apps/compat_app.py against one
// provider's fake, started with a damaged credential: through keyexec it
// answers, without keyexec the SDK fails its own way.
type compatCase struct {
	name     string
	kind     providertest.Kind
	client   string // compat_app.py CLIENT
	model    string
	provider string // --provider; "" lets keyexec detect (the generic OpenAI-compatible path)
	// env is the app's environment for the fake f, the damage included.
	env func(f *providertest.Server) map[string]string
	// baseURL is base_urls.<provider> for the fake f, for providers whose
	// SDK reads no base URL from the environment.
	baseURL func(f *providertest.Server) string
	fix     string // the repair keyexec reports
	// probe is the path keyexec's probe asks for at the fake ("": the
	// generic probe, GET {OpenAI SDK base}/models).
	probe string
	// without is the SDK's exception type without keyexec, status its HTTP status (0: none).
	without string
	status  int
}

// gatewayKey is the key of the generic path: an app that points the openai
// SDK at a loopback URL is talking to a server keyexec does not know (a
// gateway, a proxy), where a key of a known provider's shape is an error
// ("put it in GROQ_API_KEY"), so these keys have no known shape.
const gatewayKey = "gatewaykey-0123456789abcdefXYZ"

// mistralKey: Mistral keys have no known shape (PROVIDERS.md).
const mistralKey = "mistralKey0123456789abcdefABCDEF"

func compatCases() []compatCase {
	keys := provider.ExampleKeys()
	generic := func(name string, kind providertest.Kind, model, variable, value, fix, without string, status int) compatCase {
		return compatCase{name: "OPENAI_BASE_URL, " + name, kind: kind, client: "openai", model: model,
			env: func(f *providertest.Server) map[string]string {
				return map[string]string{"OPENAI_BASE_URL": f.OpenAIBaseURL(), variable: value}
			},
			fix: fix, without: without, status: status}
	}
	root := func(f *providertest.Server) string { return f.URL }
	base := func(f *providertest.Server) string { return f.BaseURL() }
	const (
		connErr  = "openai.APIConnectionError"
		authErr  = "openai.AuthenticationError"
		noKeyErr = "openai.OpenAIError"
	)
	return []compatCase{
		// The generic path: openai.OpenAI() reads OPENAI_API_KEY and
		// OPENAI_BASE_URL; keyexec probes GET {base}/models.
		generic("groq", providertest.Groq, "llama-3.3-70b-versatile", "OPENAI_API_KEY", gatewayKey+"\n", `removed trailing \n`, connErr, 0),
		generic("mistral", providertest.Mistral, "mistral-small-latest", "OPENAI_API_KEY", `"`+gatewayKey+`"`, `removed surrounding quotes "…"`, authErr, 401),
		generic("openrouter", providertest.OpenRouter, "openai/gpt-4o-mini", "OPENAI_KEY", gatewayKey, "copied from OPENAI_KEY", noKeyErr, 0),
		generic("together", providertest.Together, "meta-llama/Llama-3.3-70B-Instruct-Turbo", "OPENAI_API_KEY", "Bearer "+gatewayKey, `removed leading "Bearer "`, authErr, 401),
		generic("xai", providertest.XAI, "grok-3-mini", "OPENAI_API_KEY", gatewayKey+"\r\n", `removed trailing \r, \n`, connErr, 0),
		generic("deepseek", providertest.DeepSeek, "deepseek-chat", "OPENAI_API_KEY", "export OPENAI_API_KEY="+gatewayKey, `removed leading "export OPENAI_API_KEY="`, authErr, 401),
		generic("gemini", providertest.Gemini, "gemini-2.0-flash", "OPENAI_API_KEY", "\ufeff"+gatewayKey, "removed leading BOM (U+FEFF)", "builtins.UnicodeEncodeError", 0),
		generic("ollama", providertest.Ollama, "llama3.2", "OPENAI_API_KEY", "ollama\n", `removed trailing \n`, connErr, 0),

		// The provider's own variables: keyexec runs that provider's probe.
		{name: "groq", kind: providertest.Groq, client: "groq", model: "llama-3.3-70b-versatile", provider: "groq",
			env: func(f *providertest.Server) map[string]string {
				return map[string]string{"GROQ_API_KEY": "'" + keys["groq"] + "'", "GROQ_BASE_URL": f.BaseURL()}
			},
			fix: "removed surrounding quotes '…'", probe: "/openai/v1/models", without: authErr, status: 401},
		{name: "mistral", kind: providertest.Mistral, client: "mistral", model: "mistral-small-latest", provider: "mistral",
			env: func(f *providertest.Server) map[string]string {
				return map[string]string{"MISTRAL_API_KEY": mistralKey + "\n", "APP_BASE_URL": f.OpenAIBaseURL()}
			},
			baseURL: root, fix: `removed trailing \n`, probe: "/v1/models", without: connErr},
		{name: "openrouter", kind: providertest.OpenRouter, client: "openrouter", model: "openai/gpt-4o-mini", provider: "openrouter",
			env: func(f *providertest.Server) map[string]string {
				return map[string]string{"OPENROUTER_API_KEY": `"` + keys["openrouter"] + `"`, "APP_BASE_URL": f.BaseURL()}
			},
			baseURL: base, fix: `removed surrounding quotes "…"`, probe: "/api/v1/key", without: authErr, status: 401},
		{name: "together", kind: providertest.Together, client: "together", model: "meta-llama/Llama-3.3-70B-Instruct-Turbo", provider: "together",
			env: func(f *providertest.Server) map[string]string {
				return map[string]string{"TOGETHERAI_API_KEY": keys["together"], "TOGETHER_BASE_URL": f.BaseURL()}
			},
			fix: "copied from TOGETHERAI_API_KEY", probe: "/v1/models", without: noKeyErr},
		{name: "xai", kind: providertest.XAI, client: "xai", model: "grok-3-mini", provider: "xai",
			env: func(f *providertest.Server) map[string]string {
				return map[string]string{"XAI_API_KEY": "Bearer " + keys["xai"], "APP_BASE_URL": f.BaseURL()}
			},
			baseURL: base, fix: `removed leading "Bearer "`, probe: "/v1/api-key", without: "openai.BadRequestError", status: 400},
		{name: "deepseek", kind: providertest.DeepSeek, client: "deepseek", model: "deepseek-chat", provider: "deepseek",
			env: func(f *providertest.Server) map[string]string {
				return map[string]string{"DEEPSEEK_API_KEY": keys["deepseek"] + "\r\n", "APP_BASE_URL": f.URL}
			},
			baseURL: root, fix: `removed trailing \r, \n`, probe: "/user/balance", without: connErr},
		{name: "gemini, openai client", kind: providertest.Gemini, client: "gemini", model: "gemini-2.0-flash", provider: "gemini",
			env: func(f *providertest.Server) map[string]string {
				return map[string]string{"GOOGLE_GEMINI_API_KEY": keys["google"], "GOOGLE_GEMINI_BASE_URL": f.URL}
			},
			fix: "copied from GOOGLE_GEMINI_API_KEY", probe: "/v1beta/models", without: noKeyErr},
		{name: "gemini, google-genai, quoted key", kind: providertest.Gemini, client: "genai", model: "gemini-2.0-flash", provider: "gemini",
			env: func(f *providertest.Server) map[string]string {
				return map[string]string{"GEMINI_API_KEY": `"` + keys["google"] + `"`, "GOOGLE_GEMINI_BASE_URL": f.URL}
			},
			fix: `removed surrounding quotes "…"`, probe: "/v1beta/models", without: "google.genai.errors.ClientError", status: 400},
		{name: "gemini, google-genai, AG2's variable", kind: providertest.Gemini, client: "genai", model: "gemini-2.0-flash", provider: "gemini",
			env: func(f *providertest.Server) map[string]string {
				return map[string]string{"GOOGLE_GEMINI_API_KEY": keys["google"], "GOOGLE_GEMINI_BASE_URL": f.URL}
			},
			fix: "copied from GOOGLE_GEMINI_API_KEY", probe: "/v1beta/models", without: "builtins.ValueError"},
		{name: "ollama", kind: providertest.Ollama, client: "ollama", model: "llama3.2", provider: "ollama",
			env: func(f *providertest.Server) map[string]string {
				return map[string]string{"OLLAMA_HOST": strings.TrimPrefix(f.URL, "http://") + "\n"}
			},
			fix: `removed trailing \n`, probe: "/api/version", without: "httpx.InvalidURL"},
	}
}

// compatResult is what compat_app.py printed for one call.
type compatResult struct {
	OK    bool   `json:"ok"`
	Reply string `json:"reply"`
	Error struct {
		Type    string `json:"type"`
		Status  int    `json:"status"`
		Message string `json:"message"`
	} `json:"error"`
}

// TestAppsOpenAICompatibleProviders is the issue "providers as units",
// item 3: the real openai client at every OpenAI-compatible provider's fake
// (Groq, Mistral, OpenRouter, Together, xAI, DeepSeek, Gemini's
// OpenAI-compatible API, Ollama's /v1) and google-genai at Gemini's own
// API, each started with a damaged credential. Through keyexec the call
// answers, after the repair keyexec names, and keyexec's probe is the
// provider's own where the app uses the provider's own variables; without
// keyexec the same app fails with the SDK's own error. The runs without
// keyexec share one Python process; each run through keyexec is its own.
func TestAppsOpenAICompatibleProviders(t *testing.T) {
	t.Parallel()
	py, guard := appsPython(t)
	app, err := filepath.Abs(filepath.Join("testdata", "apps", "compat_app.py"))
	if err != nil {
		t.Fatal(err)
	}
	keys := provider.ExampleKeys()
	accepted := map[string]providertest.Key{gatewayKey: {}, mistralKey: {}}
	for _, k := range []provider.KeyKind{"groq", "openrouter", "together", "xai", "deepseek", "google"} {
		accepted[keys[k]] = providertest.Key{}
	}
	type prepared struct {
		c    compatCase
		fake *providertest.Server
		env  map[string]string
		dir  string
	}
	var runs []prepared
	var scenarios []map[string]any
	for _, c := range compatCases() {
		reply := "the " + c.name + " fake answered"
		f := providertest.Start(t, c.kind, providertest.Config{Keys: accepted, Reply: reply})
		env := c.env(f)
		dir := t.TempDir()
		if c.baseURL != nil {
			writeTestFile(t, dir, "keyexec.yaml", "base_urls: {"+c.provider+": "+c.baseURL(f)+"}\n")
		}
		if c.probe == "" {
			c.probe = strings.TrimSuffix(strings.TrimPrefix(f.OpenAIBaseURL(), f.URL), "/") + "/models"
		}
		runs = append(runs, prepared{c: c, fake: f, env: env, dir: dir})
		scenarios = append(scenarios, map[string]any{"id": c.name, "client": c.client, "model": c.model, "env": env})
	}

	in, err := json.Marshal(scenarios)
	if err != nil {
		t.Fatal(err)
	}
	bare := appsRunInput(t, "", guard, string(in), py, app, "batch")
	assertGuarded(t, bare)
	var without map[string]compatResult
	if err := json.Unmarshal([]byte(bare.stdout), &without); bare.code != 0 || err != nil {
		t.Fatalf("compat_app.py batch: exit %d, %v:\n%s", bare.code, err, appsOut(bare))
	}

	for _, r := range runs {
		t.Run(r.c.name, func(t *testing.T) {
			t.Parallel()
			c := r.c
			w := without[c.name]
			if w.OK || w.Error.Type != c.without || w.Error.Status != c.status {
				t.Errorf("without keyexec: ok %v, %s (status %d), want %s (status %d): %s",
					w.OK, w.Error.Type, w.Error.Status, c.without, c.status, w.Error.Message)
			}
			env := map[string]string{}
			for k, v := range guard {
				env[k] = v
			}
			for k, v := range r.env {
				env[k] = v
			}
			var flags []string
			if c.provider != "" {
				flags = []string{"--provider", c.provider}
			}
			check := keyexecCmd(t, r.dir, env, append([]string{"check"}, flags...)...)
			if check.code != 0 || !strings.Contains(check.stdout, c.fix) {
				t.Fatalf("keyexec check: exit %d, want 0 with the repair %q:\n%s", check.code, c.fix, appsOut(check))
			}
			before := r.fake.PathRequests(c.probe)
			args := append(append([]string{"run"}, flags...), "--", py, app, c.client, c.model)
			out := keyexecCmd(t, r.dir, env, args...)
			assertGuarded(t, out)
			var got compatResult
			if err := json.Unmarshal([]byte(out.stdout), &got); out.code != 0 || err != nil || !got.OK {
				t.Fatalf("through keyexec: exit %d, %+v:\n%s", out.code, got, appsOut(out))
			}
			if want := "the " + c.name + " fake answered"; got.Reply != want {
				t.Errorf("reply %q, want %q", got.Reply, want)
			}
			if n := r.fake.PathRequests(c.probe) - before; n != 1 {
				t.Errorf("keyexec's probe asked %s %d times in run, want 1", c.probe, n)
			}
			secrets := []string{gatewayKey, mistralKey}
			for _, k := range []provider.KeyKind{"groq", "openrouter", "together", "xai", "deepseek", "google"} {
				secrets = append(secrets, keys[k])
			}
			assertNoPieceOf(t, c.name, secrets, appsOut(check), out.stderr)
		})
	}
}
