package verify

import (
	"errors"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

func entry(fields map[string]any) Entry {
	return Entry{Index: 0, Label: "config list entry 0 (m)", Fields: fields, Refs: map[string]string{}}
}

func TestEntryCandidates(t *testing.T) {
	t.Parallel()
	oa, an := keys["openai-project"], keys["anthropic"]
	env := map[string]string{"OPENAI_API_KEY": oa, "ANTHROPIC_API_KEY": an, "OPENAI_API_VERSION": "2024-10-21", "GROQ_API_KEY": keys["groq"]}
	cases := []struct {
		name      string
		fields    map[string]any
		client    provider.Name
		notProven string
		errs      []string
		entra     bool
		keyFrom   string
	}{
		{name: "no api_type is openai", fields: map[string]any{"model": "gpt-4o", "api_key": oa}, client: provider.OpenAI},
		{name: "key from the environment", fields: map[string]any{"model": "gpt-4o"}, client: provider.OpenAI, keyFrom: "OPENAI_API_KEY"},
		{name: "anthropic", fields: map[string]any{"model": "claude-sonnet-4-5", "api_type": "anthropic"}, client: provider.Anthropic, keyFrom: "ANTHROPIC_API_KEY"},
		{name: "groq", fields: map[string]any{"model": "llama3-8b", "api_type": "groq"}, client: provider.Groq, keyFrom: "GROQ_API_KEY"},
		{name: "google reads AG2's own name", fields: map[string]any{"model": "gemini-2.0-flash", "api_type": "google"}, client: provider.Gemini,
			errs: []string{"GOOGLE_GEMINI_API_KEY is not set"}},
		{name: "azure with Entra ID", fields: map[string]any{"model": "gpt-4o", "api_type": "azure", "base_url": azureEndpoint, "azure_ad_token_provider": "DEFAULT"},
			client: provider.Azure, entra: true},
		{name: "azure api_version from the environment", fields: map[string]any{"model": "gpt-4o", "api_type": "azure", "base_url": azureEndpoint, "api_key": keys["azure"]}, client: provider.Azure},
		{name: "claude without api_type goes to OpenAI", fields: map[string]any{"model": "claude-sonnet-4-5", "api_key": oa}, client: provider.OpenAI,
			errs: []string{`set "api_type": "anthropic"`}},
		{name: "deepseek falls back to the OpenAI key", fields: map[string]any{"model": "deepseek-chat", "api_type": "deepseek"}, client: provider.DeepSeek,
			errs: []string{"no \"api_key\"", "would send OPENAI_API_KEY", "to DeepSeek", `set "api_key" to the DeepSeek key`}},
		{name: "empty api_key", fields: map[string]any{"model": "gpt-4o", "api_key": ""}, client: provider.OpenAI, errs: []string{"api_key is set but empty", "Missing credentials"}},
		{name: "Anthropic key in an openai entry", fields: map[string]any{"model": "gpt-4o", "api_key": an}, client: provider.OpenAI,
			errs: []string{"looks like an Anthropic key", `"api_type": "anthropic"`}},
		{name: "unknown api_type", fields: map[string]any{"model": "command-r", "api_type": "cohere"}, notProven: `api_type "cohere" is not one keyexec checks`},
		{name: "bedrock", fields: map[string]any{"model": "claude", "api_type": "anthropic", "aws_region": "us-east-1"}, client: provider.Anthropic, notProven: "Bedrock"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cand := EntryCandidate(entry(c.fields), env, CheckOptions{})
			if c.notProven != "" {
				if !strings.Contains(cand.NotProven, c.notProven) {
					t.Fatalf("NotProven %q, want %q", cand.NotProven, c.notProven)
				}
				return
			}
			if cand.Client == nil || cand.Client.Name != c.client {
				t.Fatalf("client %v, want %s", cand.Client, c.client)
			}
			_, _, err := Check(cand, CheckOptions{})
			if len(c.errs) > 0 {
				assertCheckErr(t, err, ErrMisconfigured, append(c.errs, "config list entry 0"), oa, an)
				return
			}
			if err != nil {
				t.Fatalf("check: %v", err)
			}
			if c.entra != (cand.Entra != nil) || c.keyFrom != "" && cand.Names.Key != c.keyFrom {
				t.Errorf("entra %v, key from %q", cand.Entra, cand.Names.Key)
			}
		})
	}
}

func component(p string, cfg map[string]any) Component {
	return Component{Label: "component model_config.yaml (m)", Provider: p, Config: cfg, Ref: func(string) string { return "" }}
}

func TestComponentCandidates(t *testing.T) {
	t.Parallel()
	oa := keys["openai-project"]
	cases := []struct {
		name     string
		provider string
		cfg      map[string]any
		env      map[string]string
		errs     []string
		api      provider.Name
		scopes   string
		notProve bool
		base     string // the base URL probed, when the case is about it
	}{
		{name: "openai known model", provider: "autogen_ext.models.openai.OpenAIChatCompletionClient", cfg: map[string]any{"model": "gpt-4o", "api_key": oa}, api: provider.OpenAI},
		{name: "model_info required", provider: "OpenAIChatCompletionClient", cfg: map[string]any{"model": "llama3.1:8b", "api_key": "x", "base_url": "http://127.0.0.1:11434/v1"},
			errs: []string{"model_info is required when model name is not a valid OpenAI model"}},
		{name: "model_info given", provider: "OpenAIChatCompletionClient", cfg: map[string]any{"model": "llama3.1:8b", "api_key": "x", "base_url": "http://127.0.0.1:4000/v1",
			"model_info": map[string]any{"vision": false, "function_calling": true, "json_output": false, "family": "unknown"}}, api: provider.OpenAI},
		{name: "model_info incomplete", provider: "OpenAIChatCompletionClient", cfg: map[string]any{"model": "x", "api_key": "x", "base_url": "http://127.0.0.1:4000/v1",
			"model_info": map[string]any{"vision": false}}, errs: []string{"lacks function_calling, json_output, family"}},
		{name: "gemini- without GEMINI_API_KEY", provider: "OpenAIChatCompletionClient", cfg: map[string]any{"model": "gemini-2.0-flash"},
			env: map[string]string{"OPENAI_API_KEY": oa}, errs: []string{"GEMINI_API_KEY, which is not set", "send OPENAI_API_KEY (an OpenAI key) to Gemini"}},
		{name: "gemini- with GEMINI_API_KEY", provider: "OpenAIChatCompletionClient", cfg: map[string]any{"model": "gemini-2.0-flash"},
			env: map[string]string{"GEMINI_API_KEY": keys["google"]}, api: provider.Gemini},
		{name: "claude- goes to Anthropic's OpenAI API", provider: "OpenAIChatCompletionClient", cfg: map[string]any{"model": "claude-3-5-haiku-20241022"},
			env: map[string]string{"ANTHROPIC_API_KEY": keys["anthropic"]}, api: provider.Anthropic},
		{name: "azure token provider", provider: "AzureOpenAIChatCompletionClient", cfg: map[string]any{"model": "gpt-4o", "azure_endpoint": azureEndpoint,
			"azure_deployment": "gpt-4o", "api_version": "2024-06-01", "azure_ad_token_provider": map[string]any{"provider": "autogen_ext.auth.azure.AzureTokenProvider",
				"config": map[string]any{"provider_kind": "DefaultAzureCredential", "scopes": []any{"https://cognitiveservices.azure.com/.default"}}}},
			api: provider.Azure, scopes: "https://cognitiveservices.azure.com/.default"},
		{name: "azure without any credential", provider: "AzureOpenAIChatCompletionClient", cfg: map[string]any{"model": "gpt-4o", "azure_endpoint": azureEndpoint, "api_version": "2024-06-01"},
			errs: []string{"Missing credentials"}},
		{name: "unknown client", provider: "autogen_ext.models.llama_cpp.LlamaCppChatCompletionClient", cfg: map[string]any{"model": "x"}, notProve: true},
		// The SDK under the client reads its base URL from the environment
		// when the config has none, as the openai and anthropic SDKs do.
		{name: "openai base URL from OPENAI_BASE_URL", provider: "OpenAIChatCompletionClient", cfg: map[string]any{"model": "gpt-4o", "api_key": oa},
			env: map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:8900/v1"}, api: provider.OpenAI, base: "http://127.0.0.1:8900/v1"},
		{name: "config base_url wins over OPENAI_BASE_URL", provider: "OpenAIChatCompletionClient", cfg: map[string]any{"model": "gpt-4o", "api_key": oa, "base_url": "https://api.openai.com/v1"},
			env: map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:8900/v1"}, api: provider.OpenAI, base: "https://api.openai.com/v1"},
		{name: "gemini- ignores OPENAI_BASE_URL", provider: "OpenAIChatCompletionClient", cfg: map[string]any{"model": "gemini-2.0-flash"},
			env: map[string]string{"GEMINI_API_KEY": keys["google"], "OPENAI_BASE_URL": "http://127.0.0.1:8900/v1"}, api: provider.Gemini,
			base: provider.ByName(string(provider.Gemini)).CompatBase},
		{name: "anthropic base URL from ANTHROPIC_BASE_URL", provider: "AnthropicChatCompletionClient", cfg: map[string]any{"model": "claude-3-5-sonnet-20241022"},
			env: map[string]string{"ANTHROPIC_API_KEY": keys["anthropic"], "ANTHROPIC_BASE_URL": "http://127.0.0.1:8901"}, api: provider.Anthropic, base: "http://127.0.0.1:8901"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cand := ComponentCandidate(component(c.provider, c.cfg), c.env, CheckOptions{})
			if c.notProve {
				if cand.NotProven == "" {
					t.Fatal("an unknown client must be passed on, not proven")
				}
				return
			}
			tg, _, err := Check(cand, CheckOptions{})
			if len(c.errs) > 0 {
				assertCheckErr(t, err, ErrMisconfigured, c.errs, oa)
				return
			}
			if err != nil {
				t.Fatalf("check: %v", err)
			}
			if tg.API.Name != c.api {
				t.Errorf("API %s, want %s", tg.API.Name, c.api)
			}
			if c.base != "" && cand.BaseURL != c.base {
				t.Errorf("base URL %s, want %s", cand.BaseURL, c.base)
			}
			if c.scopes != "" && (tg.Entra == nil || tg.Entra.Scopes[0] != c.scopes) {
				t.Errorf("Entra %+v", tg.Entra)
			}
		})
	}
}

// TestAutoGenKnownModels: the model names AutoGen's clients know without
// model_info come from the pinned autogen-ext (autogen_models.go).
func TestAutoGenKnownModels(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		kind, model string
		want        bool
	}{{"openai", "gpt-4o", true}, {"openai", "gpt-4o-2024-08-06", true}, {"azure", "gpt-4o-mini", true}, {"openai", "llama3", false},
		{"anthropic", "claude-3-5-sonnet-20241022", true}, {"anthropic", "claude-3-5-sonnet-latest", true}, {"ollama", "llama3.1:8b", true}, {"ollama", "mystery", false}} {
		if got := knownModel(c.kind, c.model); got != c.want {
			t.Errorf("knownModel(%s, %s) = %v, want %v", c.kind, c.model, got, c.want)
		}
	}
}

func TestJudgePolicies(t *testing.T) {
	t.Parallel()
	env := Candidate{From: FromEnv, Label: "environment"}
	e0 := Candidate{From: FromEntry, Index: 0, Label: "config list entry 0 (a)"}
	e1 := Candidate{From: FromEntry, Index: 1, Label: "config list entry 1 (b)"}
	rejected := Result{Diagnosis: provider.Rejected, Err: ErrRejected, Targets: []int{0}}
	unreachable := Result{Diagnosis: provider.Unreachable, Err: ErrUnreachable, Targets: []int{0}}
	badCheck := &CheckError{Msg: "bad", Kind: ErrMisconfigured}
	cases := []struct {
		name    string
		cands   []Candidate
		errs    []error
		targets []Target
		results []Result
		pol     Policy
		want    error // nil: the child may start
		status  Status
	}{
		{"env rejected fails under drop", []Candidate{env}, []error{nil}, []Target{{Candidate: 0}}, []Result{rejected}, Policy{OnEntryFailure: "drop"}, ErrRejected, StatusFailed},
		{"entry rejected dropped, another left", []Candidate{e0, e1}, []error{nil, nil}, []Target{{Candidate: 0}, {Candidate: 1}},
			[]Result{rejected, {Diagnosis: provider.OK, Targets: []int{1}}}, Policy{OnEntryFailure: "drop"}, nil, StatusDropped},
		{"every entry dropped fails", []Candidate{e0}, []error{badCheck}, nil, nil, Policy{OnEntryFailure: "drop"}, ErrMisconfigured, StatusDropped},
		{"unreachable warns", []Candidate{env}, []error{nil}, []Target{{Candidate: 0}}, []Result{unreachable}, Policy{OnUnreachable: "warn"}, nil, StatusUnreachable},
		{"warn does not cover a rejection", []Candidate{env}, []error{nil}, []Target{{Candidate: 0}}, []Result{rejected}, Policy{OnUnreachable: "warn"}, ErrRejected, StatusFailed},
		{"warn does not cover a failed check", []Candidate{env}, []error{badCheck}, nil, nil, Policy{OnUnreachable: "warn"}, ErrMisconfigured, StatusFailed},
		{"not proven passes", []Candidate{{From: FromEntry, NotProven: "cohere"}}, []error{nil}, nil, nil, Policy{}, nil, StatusNotProven},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			v := Judge(c.cands, c.errs, c.targets, c.results, c.pol)
			if c.want == nil && v.Err != nil || c.want != nil && !errors.Is(v.Err, c.want) {
				t.Fatalf("Err = %v, want %v", v.Err, c.want)
			}
			if v.Candidates[0].Status != c.status {
				t.Errorf("status %s, want %s", v.Candidates[0].Status, c.status)
			}
		})
	}
}

// OPENAI_API_KEY read by a config-list entry with its own base_url is
// proven there and not sent to api.openai.com, whatever its shape; asked
// for with --provider openai, the environment is proven at OpenAI too.
func TestEnvKeyUsedOnlyElsewhere(t *testing.T) {
	t.Parallel()
	entry := Entry{Index: 0, Label: "config list entry 0 (gpt-4o-mini)", Fields: map[string]any{"model": "gpt-4o-mini", "base_url": "http://127.0.0.1:4000/v1"}}
	for _, tc := range []struct {
		key       string
		providers []string
		notProven bool
	}{
		{key: "litellm-virtual-key-0123456789abcdef", notProven: true},
		{key: keys["openai-project"], notProven: true},
		{key: keys["openai-project"], providers: []string{"openai"}, notProven: false},
	} {
		env := map[string]string{"OPENAI_API_KEY": tc.key}
		opts := CheckOptions{Providers: tc.providers}
		others := []Candidate{EntryCandidate(entry, env, opts)}
		cands, err := EnvCandidates(env, opts, others)
		if err != nil || len(cands) != 1 {
			t.Fatalf("EnvCandidates: %d, %v", len(cands), err)
		}
		c := cands[0]
		if got := c.NotProven != ""; got != tc.notProven {
			t.Errorf("key %s, providers %v: not proven %v (%q), want %v", sources.Fingerprint(tc.key), tc.providers, got, c.NotProven, tc.notProven)
		}
		if tc.notProven && (!strings.Contains(c.NotProven, "config list entry 0 (gpt-4o-mini)") || !strings.Contains(c.NotProven, "http://127.0.0.1:4000/v1") || strings.Contains(c.NotProven, tc.key[:12])) {
			t.Errorf("note: %s", c.NotProven)
		}
		// The entry itself is proven at its own base URL either way.
		if _, _, err := Check(others[0], opts); err != nil || others[0].BaseURL != "http://127.0.0.1:4000/v1" {
			t.Errorf("entry: base %s, %v", others[0].BaseURL, err)
		}
	}
}
