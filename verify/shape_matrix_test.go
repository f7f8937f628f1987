package verify

import (
	"errors"
	"strings"
	"testing"
)

// allSecrets are every fake key and token, for leak checks.
func allSecrets() []string {
	out := []string{adToken}
	for _, k := range fakeKeys {
		out = append(out, k)
	}
	return out
}

// TestCheckKeyInWrongPlace puts every kind of key in every key variable, in
// front of the default URL, a custom gateway and the well-known hosts.
func TestCheckKeyInWrongPlace(t *testing.T) {
	t.Parallel()
	azureBase := map[string]string{VarAzureEndpoint: azureEndpoint, VarAPIVersion: "2024-10-21"}
	slots := []struct {
		name   string
		keyVar string
		env    map[string]string
		ok     []KeyKind // kinds accepted; every other kind is an error
	}{
		{"openai default URL", VarOpenAIKey, nil,
			[]KeyKind{KeyOpenAIProject, KeyOpenAIServiceAccount, KeyOpenAILegacy, KeyUnknownSK}},
		{"openai custom gateway", VarOpenAIKey, map[string]string{VarOpenAIBaseURL: "https://litellm.example.invalid/v1"},
			[]KeyKind{KeyOpenAIProject, KeyOpenAIServiceAccount, KeyOpenAILegacy, KeyUnknownSK, KeyAzure, KeyUnknown}},
		{"openai via groq", VarOpenAIKey, map[string]string{VarOpenAIBaseURL: "https://api.groq.com/openai/v1"},
			[]KeyKind{KeyGroq, KeyUnknownSK, KeyAzure, KeyUnknown}},
		{"openai via openrouter", VarOpenAIKey, map[string]string{VarOpenAIBaseURL: "https://openrouter.ai/api/v1"},
			[]KeyKind{KeyOpenRouter, KeyUnknownSK, KeyAzure, KeyUnknown}},
		{"openai via google", VarOpenAIKey, map[string]string{VarOpenAIBaseURL: "https://generativelanguage.googleapis.com/v1beta/openai"},
			[]KeyKind{KeyGoogle, KeyUnknownSK, KeyAzure, KeyUnknown}},
		{"openai via deepseek", VarOpenAIKey, map[string]string{VarOpenAIBaseURL: "https://api.deepseek.com"},
			[]KeyKind{KeyDeepSeek, KeyUnknownSK, KeyAzure, KeyUnknown}},
		{"openai via azure v1", VarOpenAIKey, map[string]string{VarOpenAIBaseURL: azureEndpoint + "/openai/v1"},
			[]KeyKind{KeyAzure, KeyAzureAnnotated, KeyUnknown}},
		{"azure resource", VarAzureKey, azureBase,
			[]KeyKind{KeyAzure, KeyAzureAnnotated, KeyUnknown}},
		{"azure private endpoint", VarAzureKey, map[string]string{VarAzureEndpoint: "https://aoai.corp.example.invalid", VarAPIVersion: "v1"},
			[]KeyKind{KeyAzure, KeyAzureAnnotated, KeyUnknown, KeyUnknownSK}},
		{"anthropic default URL", VarAnthropicKey, nil,
			[]KeyKind{KeyAnthropic}},
		{"anthropic custom gateway", VarAnthropicKey, map[string]string{VarAnthropicURL: "https://litellm.example.invalid"},
			[]KeyKind{KeyAnthropic, KeyAzure, KeyUnknown, KeyUnknownSK}},
		{"anthropic via openrouter", VarAnthropicKey, map[string]string{VarAnthropicURL: "https://openrouter.ai/api"},
			[]KeyKind{KeyOpenRouter, KeyAzure, KeyUnknown, KeyUnknownSK}},
		{"anthropic auth token default URL", VarAnthropicToken, nil,
			[]KeyKind{KeyAnthropic}},
	}
	for _, s := range slots {
		for kind, key := range fakeKeys {
			wantOK := false
			for _, k := range s.ok {
				wantOK = wantOK || k == kind
			}
			t.Run(s.name+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				env := mergeEnv(s.env, map[string]string{s.keyVar: key})
				_, err := Check(env, CheckOptions{})
				if wantOK {
					if err != nil {
						t.Fatalf("Check: %v", err)
					}
					return
				}
				want := []string{s.keyVar, maskKey(key)}
				switch o := kind.Owner(); {
				case kind == KeyOpenAIAdmin || kind == KeyAnthropicAdmin:
					want = append(want, o+" Admin API key")
				case o != "" && o != "OpenAI-style":
					want = append(want, "looks like", o)
				}
				assertShapeErr(t, err, want, allSecrets()...)
			})
		}
	}
}

func TestCheckMessages(t *testing.T) {
	t.Parallel()
	oa, an, groq := fakeKeys[KeyOpenAIProject], fakeKeys[KeyAnthropic], fakeKeys[KeyGroq]
	azureOK := map[string]string{VarAzureKey: fakeKeys[KeyAzure], VarAzureEndpoint: azureEndpoint, VarAPIVersion: "2024-10-21"}
	tests := []struct {
		name string
		env  map[string]string
		opts CheckOptions
		want []string
	}{
		{"openai key in anthropic variable", map[string]string{VarAnthropicKey: oa},
			CheckOptions{}, []string{"ANTHROPIC_API_KEY holds what looks like an OpenAI key (sk-…" + oa[len(oa)-4:] + ")", "put it in OPENAI_API_KEY"}},
		{"anthropic key in openai variable", map[string]string{VarOpenAIKey: an},
			CheckOptions{}, []string{"OPENAI_API_KEY holds what looks like an Anthropic key", "put it in ANTHROPIC_API_KEY"}},
		{"origin shown", map[string]string{VarOpenAIKey: an},
			CheckOptions{Origins: map[string]string{VarOpenAIKey: "vault://secret/llm/openai#api_key"}}, []string{"from vault://secret/llm/openai#api_key"}},
		{"groq key without base URL", map[string]string{VarOpenAIKey: groq},
			CheckOptions{}, []string{"a Groq key", "OPENAI_BASE_URL is not set", "OPENAI_BASE_URL=https://api.groq.com/openai/v1"}},
		{"openai key at groq", map[string]string{VarOpenAIKey: oa, VarOpenAIBaseURL: "https://api.groq.com/openai/v1"},
			CheckOptions{}, []string{"OPENAI_BASE_URL points to api.groq.com (Groq)", "use a Groq key here"}},
		{"openai admin key", map[string]string{VarOpenAIKey: fakeKeys[KeyOpenAIAdmin]},
			CheckOptions{}, []string{"OpenAI Admin API key", "sk-proj-"}},
		{"anthropic admin key", map[string]string{VarAnthropicKey: fakeKeys[KeyAnthropicAdmin]},
			CheckOptions{}, []string{"Anthropic Admin API key"}},
		{"unknown key at openai", map[string]string{VarOpenAIKey: "my-gateway-token-1234567"},
			CheckOptions{}, []string{"does not look like an OpenAI key", "set OPENAI_BASE_URL"}},
		{"openai base url with wrong path", map[string]string{VarOpenAIKey: oa, VarOpenAIBaseURL: "https://api.openai.com/v1/chat/completions"},
			CheckOptions{}, []string{"for OpenAI it must be https://api.openai.com/v1"}},
		{"openai base url at anthropic", map[string]string{VarOpenAIKey: an, VarOpenAIBaseURL: "https://api.anthropic.com/v1"},
			CheckOptions{}, []string{"Anthropic's API", "ANTHROPIC_API_KEY"}},
		{"openai base url at azure resource", map[string]string{VarOpenAIKey: fakeKeys[KeyAzure], VarOpenAIBaseURL: azureEndpoint},
			CheckOptions{}, []string{"v1 API", "AZURE_OPENAI_ENDPOINT=https://myres.openai.azure.com"}},
		{"http remote base url", map[string]string{VarOpenAIKey: "x", VarOpenAIBaseURL: "http://vllm.example.invalid:8000/v1"},
			CheckOptions{}, []string{"plain http://", "probe.allow_http"}},
		{"empty base url", map[string]string{VarOpenAIKey: oa, VarOpenAIBaseURL: ""},
			CheckOptions{}, []string{"OPENAI_BASE_URL is set but empty"}},
		{"org holds a key", map[string]string{VarOpenAIKey: oa, VarOpenAIOrg: oa},
			CheckOptions{}, []string{"OPENAI_ORG_ID holds what looks like an OpenAI key"}},
		{"org malformed", map[string]string{VarOpenAIKey: oa, VarOpenAIOrg: "acme"},
			CheckOptions{}, []string{`OPENAI_ORG_ID "acme" is not an OpenAI ID`, "org-"}},
		{"project malformed", map[string]string{VarOpenAIKey: oa, VarOpenAIProject: "acme"},
			CheckOptions{}, []string{`OPENAI_PROJECT_ID "acme"`, "proj_"}},
		{"model holds a key", map[string]string{VarOpenAIKey: oa},
			CheckOptions{Model: an}, []string{"--model holds what looks like an Anthropic key"}},
		{"azure missing version", map[string]string{VarAzureKey: fakeKeys[KeyAzure], VarAzureEndpoint: azureEndpoint},
			CheckOptions{}, []string{"OPENAI_API_VERSION is not set", "Must provide either the `api_version` argument or the `OPENAI_API_VERSION` environment variable", "2024-10-21"}},
		{"azure endpoint missing", map[string]string{VarAzureKey: fakeKeys[KeyAzure], VarAPIVersion: "v1"},
			CheckOptions{}, []string{"AZURE_OPENAI_ENDPOINT is not set", "https://RESOURCE.openai.azure.com"}},
		{"azure credentials missing", map[string]string{VarAzureEndpoint: azureEndpoint, VarAPIVersion: "v1"},
			CheckOptions{}, []string{"neither AZURE_OPENAI_API_KEY nor AZURE_OPENAI_AD_TOKEN is set"}},
		{"azure endpoint is openai", mergeEnv(azureOK, map[string]string{VarAzureEndpoint: "https://api.openai.com"}),
			CheckOptions{}, []string{"AZURE_OPENAI_ENDPOINT points to https://api.openai.com (OpenAI), not to Azure OpenAI"}},
		{"azure endpoint with path", mergeEnv(azureOK, map[string]string{VarAzureEndpoint: azureEndpoint + "/openai/deployments/x"}),
			CheckOptions{}, []string{"has a path", "set it to https://myres.openai.azure.com"}},
		{"azure bad version", mergeEnv(azureOK, map[string]string{VarAPIVersion: "2024-02-30"}),
			CheckOptions{}, []string{`OPENAI_API_VERSION "2024-02-30" is not an Azure OpenAI api-version`, "2024-10-21"}},
		{"azure empty version", mergeEnv(azureOK, map[string]string{VarAPIVersion: ""}),
			CheckOptions{}, []string{"OPENAI_API_VERSION is set but empty"}},
		{"azure openai key", mergeEnv(azureOK, map[string]string{VarAzureKey: oa}),
			CheckOptions{}, []string{"AZURE_OPENAI_API_KEY holds what looks like an OpenAI key", "put it in OPENAI_API_KEY"}},
		{"azure bad deployment", azureOK,
			CheckOptions{Deployment: "my deployment/x"}, []string{`probe.deployment "my deployment/x" is not an Azure deployment name`}},
		{"azure AD token not a JWT", mergeEnv(azureOK, map[string]string{VarAzureADToken: "opaque-token-value-123456"}),
			CheckOptions{}, []string{"AZURE_OPENAI_AD_TOKEN", "not an Entra ID access token", "az account get-access-token"}},
		{"azure AD token holds a key", mergeEnv(azureOK, map[string]string{VarAzureADToken: oa}),
			CheckOptions{}, []string{"AZURE_OPENAI_AD_TOKEN holds what looks like an OpenAI key"}},
		{"anthropic base url with /v1", map[string]string{VarAnthropicKey: an, VarAnthropicURL: "https://api.anthropic.com/v1"},
			CheckOptions{}, []string{"adds /v1/… itself"}},
		{"anthropic base url at openai", map[string]string{VarAnthropicKey: an, VarAnthropicURL: "https://api.openai.com/v1"},
			CheckOptions{}, []string{"does not serve the Anthropic API"}},
		{"anthropic empty key", map[string]string{VarAnthropicKey: ""},
			CheckOptions{}, []string{"ANTHROPIC_API_KEY is set but empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Check(tt.env, tt.opts)
			assertShapeErr(t, err, tt.want, allSecrets()...)
		})
	}
}

func TestCheckCollectsAllProblems(t *testing.T) {
	t.Parallel()
	env := map[string]string{
		VarOpenAIKey:     fakeKeys[KeyAnthropic],
		VarOpenAIOrg:     "acme",
		VarAzureKey:      fakeKeys[KeyOpenAIProject],
		VarAzureEndpoint: "http://aoai.example.invalid",
		VarAnthropicKey:  "",
	}
	_, err := Check(env, CheckOptions{})
	assertShapeErr(t, err, []string{VarOpenAIKey, VarOpenAIOrg, VarAzureKey, VarAzureEndpoint, VarAPIVersion, VarAnthropicKey}, allSecrets()...)
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T is not joined", err)
	}
	vars := map[string]bool{}
	for _, e := range joined.Unwrap() {
		var se *ShapeError
		if !errors.As(e, &se) {
			t.Fatalf("problem %v is not a *ShapeError", e)
		}
		vars[se.Var] = true
	}
	for _, v := range []string{VarOpenAIKey, VarOpenAIOrg, VarAzureKey, VarAzureEndpoint, VarAPIVersion, VarAnthropicKey} {
		if !vars[v] {
			t.Errorf("no problem reported for %s (got %v)", v, vars)
		}
	}
}

func TestCheckAllowHTTP(t *testing.T) {
	t.Parallel()
	env := map[string]string{VarOpenAIKey: "token", VarOpenAIBaseURL: "http://vllm.example.invalid:8000/v1"}
	if _, err := Check(env, CheckOptions{AllowHTTP: true}); err != nil {
		t.Fatalf("Check with AllowHTTP: %v", err)
	}
}

func TestNotes(t *testing.T) {
	t.Parallel()
	both := map[string]string{VarOpenAIKey: "k", VarAzureEndpoint: azureEndpoint}
	if n := Notes(both, CheckOptions{}); len(n) != 1 || !strings.Contains(n[0], "Ambiguous use of module client") {
		t.Errorf("Notes(both) = %q", n)
	}
	if n := Notes(both, CheckOptions{Provider: "openai"}); n != nil {
		t.Errorf("Notes with --provider openai = %q, want none", n)
	}
	if n := Notes(map[string]string{VarOpenAIKey: "k"}, CheckOptions{}); n != nil {
		t.Errorf("Notes(openai only) = %q, want none", n)
	}
}
