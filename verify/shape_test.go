package verify

import (
	"errors"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

const (
	azureEndpoint = "https://myres.openai.azure.com"
	adToken       = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJodHRwczovL2NvZ25pdGl2ZXNlcnZpY2VzLmF6dXJlLmNvbSJ9.c2lnbmF0dXJlLWZha2U"
)

// assertShapeErr checks err wraps ErrMisconfigured, contains every want, and
// shows none of the secrets (whole, or a 12-character piece of one).
func assertShapeErr(t *testing.T, err error, want []string, secrets ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one containing %q", want)
	}
	if !errors.Is(err, ErrMisconfigured) {
		t.Errorf("error %v does not wrap ErrMisconfigured", err)
	}
	msg := err.Error()
	for _, w := range want {
		if !strings.Contains(msg, w) {
			t.Errorf("error %q\ndoes not contain %q", msg, w)
		}
	}
	assertNoSecret(t, msg, secrets...)
}

func assertNoSecret(t *testing.T, msg string, secrets ...string) {
	t.Helper()
	for _, s := range secrets {
		if len(s) < 8 {
			continue
		}
		if strings.Contains(msg, s) {
			t.Errorf("output shows a secret value: %q", msg)
		}
		if len(s) >= 20 && strings.Contains(msg, s[4:16]) {
			t.Errorf("output shows part of a secret value: %q", msg)
		}
	}
}

func TestCheckDetection(t *testing.T) {
	t.Parallel()
	oa, az, an := fakeKeys[KeyOpenAIProject], fakeKeys[KeyAzure], fakeKeys[KeyAnthropic]
	azureEnv := map[string]string{VarAzureKey: az, VarAzureEndpoint: azureEndpoint, VarAPIVersion: "2024-10-21"}
	tests := []struct {
		name     string
		env      map[string]string
		provider string
		want     []Provider
		wantErr  []string
	}{
		{name: "auto nothing", env: map[string]string{"PATH": "/bin"},
			wantErr: []string{"no LLM credentials found", VarOpenAIKey, VarAzureKey, VarAzureEndpoint, VarAPIVersion, VarAnthropicKey, "--provider none"}},
		{name: "auto base URL alone is not a credential", env: map[string]string{VarOpenAIBaseURL: "http://localhost:11434/v1"},
			wantErr: []string{"no LLM credentials found"}},
		{name: "auto openai", env: map[string]string{VarOpenAIKey: oa}, want: []Provider{OpenAI}},
		{name: "auto azure", env: azureEnv, want: []Provider{Azure}},
		{name: "auto azure by endpoint only", env: map[string]string{VarAzureEndpoint: azureEndpoint},
			wantErr: []string{VarAzureKey, VarAPIVersion}},
		{name: "auto anthropic", env: map[string]string{VarAnthropicKey: an}, want: []Provider{Anthropic}},
		{name: "auto anthropic by auth token", env: map[string]string{VarAnthropicToken: an}, want: []Provider{Anthropic}},
		{name: "auto all three", env: mergeEnv(azureEnv, map[string]string{VarOpenAIKey: oa, VarAnthropicKey: an}),
			want: []Provider{OpenAI, Azure, Anthropic}},
		{name: "empty provider is auto", provider: "", env: map[string]string{VarOpenAIKey: oa}, want: []Provider{OpenAI}},
		{name: "none with nothing", provider: "none", env: map[string]string{}},
		{name: "none skips broken values", provider: "none", env: map[string]string{VarOpenAIKey: "", VarAnthropicKey: oa}},
		{name: "openai required", provider: "openai", env: azureEnv,
			wantErr: []string{"--provider openai", "no OpenAI credentials", VarOpenAIKey}},
		{name: "azure required", provider: "azure", env: map[string]string{VarOpenAIKey: oa},
			wantErr: []string{"--provider azure", VarAzureEndpoint, VarAzureKey, VarAzureADToken, VarAPIVersion}},
		{name: "anthropic required", provider: "anthropic", env: map[string]string{VarOpenAIKey: oa},
			wantErr: []string{"--provider anthropic", VarAnthropicKey}},
		{name: "explicit provider checks only that one", provider: "openai",
			env: map[string]string{VarOpenAIKey: oa, VarAzureKey: oa, VarAnthropicKey: ""}, want: []Provider{OpenAI}},
		{name: "unknown provider", provider: "gemini", env: map[string]string{VarOpenAIKey: oa},
			wantErr: []string{`unknown provider "gemini"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			targets, err := Check(tt.env, CheckOptions{Provider: tt.provider})
			if tt.wantErr != nil {
				assertShapeErr(t, err, tt.wantErr, oa, az, an)
				if targets != nil {
					t.Errorf("targets = %v alongside an error", targets)
				}
				return
			}
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			var got []Provider
			for _, tg := range targets {
				got = append(got, tg.Provider)
			}
			if strings.Join(providerNames(got), ",") != strings.Join(providerNames(tt.want), ",") {
				t.Errorf("providers = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckTargets(t *testing.T) {
	t.Parallel()
	oa, az, an := fakeKeys[KeyOpenAIProject], fakeKeys[KeyAzureAnnotated], fakeKeys[KeyAnthropic]
	tests := []struct {
		name string
		env  map[string]string
		opts CheckOptions
		want Target
	}{
		{
			name: "openai defaults",
			env:  map[string]string{VarOpenAIKey: oa},
			want: Target{Provider: OpenAI, BaseURL: DefaultOpenAIBase, Key: sources.NewSecret(oa), Label: "environment", Origin: "OPENAI_API_KEY from environment"},
		},
		{
			name: "openai everything",
			env:  map[string]string{VarOpenAIKey: oa, VarOpenAIBaseURL: "https://api.openai.com/v1/", VarOpenAIOrg: "org-abc123", VarOpenAIProject: "proj_abc123"},
			opts: CheckOptions{Model: "gpt-4o-mini", Origins: map[string]string{VarOpenAIKey: "vault://secret/llm/openai#api_key"}},
			want: Target{Provider: OpenAI, BaseURL: DefaultOpenAIBase, Key: sources.NewSecret(oa), Org: "org-abc123", Project: "proj_abc123",
				Model: "gpt-4o-mini", Label: "environment", Origin: "OPENAI_API_KEY from vault://secret/llm/openai#api_key"},
		},
		{
			name: "openai-compatible local server",
			env:  map[string]string{VarOpenAIKey: "ollama", VarOpenAIBaseURL: "http://localhost:11434/v1"},
			want: Target{Provider: OpenAI, BaseURL: "http://localhost:11434/v1", Key: sources.NewSecret("ollama"), Label: "environment", Origin: "OPENAI_API_KEY from environment"},
		},
		{
			name: "azure deployment from variable",
			env:  map[string]string{VarAzureKey: az, VarAzureEndpoint: azureEndpoint + "/", VarAPIVersion: "2024-10-21", VarAzureDeployment: "gpt-4o"},
			want: Target{Provider: Azure, BaseURL: azureEndpoint, Key: sources.NewSecret(az), APIVersion: "2024-10-21", Model: "gpt-4o", Label: "environment", Origin: "AZURE_OPENAI_API_KEY from environment"},
		},
		{
			name: "azure deployment from probe.deployment over variable",
			env:  map[string]string{VarAzureKey: az, VarAzureEndpoint: azureEndpoint, VarAPIVersion: "v1", VarAzureDeployment: "gpt-4o"},
			opts: CheckOptions{Deployment: "prod-4o"},
			want: Target{Provider: Azure, BaseURL: azureEndpoint, Key: sources.NewSecret(az), APIVersion: "v1", Model: "prod-4o", Label: "environment", Origin: "AZURE_OPENAI_API_KEY from environment"},
		},
		{
			name: "azure deployment from --model over everything",
			env:  map[string]string{VarAzureKey: az, VarAzureEndpoint: azureEndpoint, VarAPIVersion: "v1", VarAzureDeployment: "gpt-4o"},
			opts: CheckOptions{Deployment: "prod-4o", Model: "gpt-4.1"},
			want: Target{Provider: Azure, BaseURL: azureEndpoint, Key: sources.NewSecret(az), APIVersion: "v1", Model: "gpt-4.1", Label: "environment", Origin: "AZURE_OPENAI_API_KEY from environment"},
		},
		{
			name: "azure AD token on a private endpoint",
			env:  map[string]string{VarAzureADToken: adToken, VarAzureEndpoint: "https://aoai.corp.example.invalid", VarAPIVersion: "2025-04-01-preview"},
			opts: CheckOptions{Origins: map[string]string{VarAzureADToken: "file:///run/secrets/aad"}},
			want: Target{Provider: Azure, BaseURL: "https://aoai.corp.example.invalid", ADToken: sources.NewSecret(adToken), APIVersion: "2025-04-01-preview", Label: "environment", Origin: "AZURE_OPENAI_AD_TOKEN from file:///run/secrets/aad"},
		},
		{
			name: "anthropic defaults",
			env:  map[string]string{VarAnthropicKey: an},
			want: Target{Provider: Anthropic, BaseURL: DefaultAnthropicBase, Key: sources.NewSecret(an), Label: "environment", Origin: "ANTHROPIC_API_KEY from environment"},
		},
		{
			name: "anthropic auth token through OpenRouter",
			env:  map[string]string{VarAnthropicToken: fakeKeys[KeyOpenRouter], VarAnthropicURL: "https://openrouter.ai/api"},
			want: Target{Provider: Anthropic, BaseURL: "https://openrouter.ai/api", ADToken: sources.NewSecret(fakeKeys[KeyOpenRouter]), Label: "environment", Origin: "ANTHROPIC_AUTH_TOKEN from environment"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			targets, err := Check(tt.env, tt.opts)
			if err != nil {
				t.Fatalf("Check: %v", err)
			}
			if len(targets) != 1 {
				t.Fatalf("got %d targets, want 1", len(targets))
			}
			if got := targets[0]; got != tt.want {
				t.Errorf("target\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestCheckEmptyOpenAIKey(t *testing.T) {
	t.Parallel()
	_, err := Check(map[string]string{VarOpenAIKey: ""}, CheckOptions{})
	assertShapeErr(t, err, []string{VarOpenAIKey, "set but empty", "Bearer ", "401"})
	var se *ShapeError
	if !errors.As(err, &se) || se.Var != VarOpenAIKey {
		t.Errorf("ShapeError.Var = %v, want %s", se, VarOpenAIKey)
	}
}

// mergeEnv returns a new map with the entries of all ms, later ones winning.
func mergeEnv(ms ...map[string]string) map[string]string {
	out := map[string]string{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

func providerNames(ps []Provider) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = string(p)
	}
	return out
}
