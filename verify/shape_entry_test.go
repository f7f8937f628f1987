package verify

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

func TestCheckEntry(t *testing.T) {
	t.Parallel()
	secret := func(k KeyKind) sources.Secret { return sources.NewSecret(fakeKeys[k]) }
	const label = "config list entry 0 (gpt-4o)"
	tests := []struct {
		name    string
		e       Entry
		want    Target
		wantIs  error    // a sentinel the error must match; nil with wantErr unset: no error
		wantErr []string // substrings of a misconfiguration
	}{
		{
			name: "openai default",
			e:    Entry{Model: "gpt-4o", APIKey: secret(KeyOpenAIProject), Organization: "org-abc", Label: label, Origin: "vault://secret/llm/openai#api_key"},
			want: Target{Provider: OpenAI, BaseURL: DefaultOpenAIBase, Key: secret(KeyOpenAIProject), Org: "org-abc", Model: "gpt-4o", Label: label, Origin: "api_key from vault://secret/llm/openai#api_key"},
		},
		{
			name: "openai-prefixed api_type through groq",
			e:    Entry{APIType: "openai_compatible", Model: "llama-3.3-70b-versatile", APIKey: secret(KeyGroq), BaseURL: "https://api.groq.com/openai/v1/", Label: label},
			want: Target{Provider: OpenAI, BaseURL: "https://api.groq.com/openai/v1", Key: secret(KeyGroq), Model: "llama-3.3-70b-versatile", Label: label, Origin: "api_key of " + label},
		},
		{
			name: "azure with model as deployment",
			e:    Entry{APIType: "azure", Model: "gpt-4o", APIKey: secret(KeyAzure), BaseURL: azureEndpoint, APIVersion: "2024-10-21", Label: label},
			want: Target{Provider: Azure, BaseURL: azureEndpoint, Key: secret(KeyAzure), APIVersion: "2024-10-21", Model: "gpt-4o", Label: label, Origin: "api_key of " + label},
		},
		{
			name: "azure_ad with AD token and azure_deployment",
			e:    Entry{APIType: "azure_ad", Model: "gpt-4o", Deployment: "prod-4o", ADToken: sources.NewSecret(adToken), BaseURL: azureEndpoint, APIVersion: "v1", Label: label, Origin: "file:///run/secrets/aad"},
			want: Target{Provider: Azure, BaseURL: azureEndpoint, ADToken: sources.NewSecret(adToken), APIVersion: "v1", Model: "prod-4o", Label: label, Origin: "azure_ad_token from file:///run/secrets/aad"},
		},
		{
			name: "anthropic",
			e:    Entry{APIType: "anthropic", Model: "claude-sonnet-4-5", APIKey: secret(KeyAnthropic), Label: label},
			want: Target{Provider: Anthropic, BaseURL: DefaultAnthropicBase, Key: secret(KeyAnthropic), Model: "claude-sonnet-4-5", Label: label, Origin: "api_key of " + label},
		},
		{
			name:   "no key falls back to the environment",
			e:      Entry{Model: "gpt-4o", Label: label},
			want:   Target{Provider: OpenAI, BaseURL: DefaultOpenAIBase, Model: "gpt-4o", Label: label, Origin: "api_key of " + label},
			wantIs: ErrEntryNoKey,
		},
		{
			name:   "azure without key or token falls back to the environment",
			e:      Entry{APIType: "azure", Model: "gpt-4o", BaseURL: azureEndpoint, APIVersion: "v1", Label: label},
			want:   Target{Provider: Azure, BaseURL: azureEndpoint, APIVersion: "v1", Model: "gpt-4o", Label: label, Origin: "api_key of " + label},
			wantIs: ErrEntryNoKey,
		},
		{
			name:   "unsupported api_type",
			e:      Entry{APIType: "google", Model: "gemini-2.0-flash", APIKey: secret(KeyGoogle), Label: label},
			wantIs: ErrEntryUnsupported,
		},
		{
			name:    "no key and another problem reports the problem",
			e:       Entry{Label: label},
			wantErr: []string{label + ": model is empty"},
		},
		{
			name:    "anthropic key in openai entry",
			e:       Entry{Model: "gpt-4o", APIKey: secret(KeyAnthropic), Label: label},
			wantErr: []string{label + ": api_key holds what looks like an Anthropic key", `"api_type": "anthropic"`},
		},
		{
			name:    "openai key in azure entry",
			e:       Entry{APIType: "azure", Model: "gpt-4o", APIKey: secret(KeyOpenAIProject), BaseURL: azureEndpoint, APIVersion: "v1", Label: label},
			wantErr: []string{"api_key holds what looks like an OpenAI key", "base_url points to myres.openai.azure.com", `"api_type": "openai"`},
		},
		{
			name:    "openai key in anthropic entry",
			e:       Entry{APIType: "anthropic", Model: "claude-sonnet-4-5", APIKey: secret(KeyOpenAIProject), Label: label},
			wantErr: []string{"api_key holds what looks like an OpenAI key"},
		},
		{
			name:    "anthropic host in openai entry",
			e:       Entry{Model: "claude-sonnet-4-5", APIKey: secret(KeyAnthropic), BaseURL: "https://api.anthropic.com/v1", Label: label},
			wantErr: []string{"base_url points to https://api.anthropic.com/v1, Anthropic's API", `"api_type": "anthropic"`},
		},
		{
			name:    "azure host without api_type azure",
			e:       Entry{Model: "gpt-4o", APIKey: secret(KeyAzure), BaseURL: azureEndpoint + "/", Label: label},
			wantErr: []string{"Azure OpenAI resource", `add "api_type": "azure"`},
		},
		{
			name:    "groq key at openai",
			e:       Entry{Model: "gpt-4o", APIKey: secret(KeyGroq), Label: label},
			wantErr: []string{"a Groq key", `"base_url": "https://api.groq.com/openai/v1"`},
		},
		{
			name:    "azure missing endpoint and version",
			e:       Entry{APIType: "azure", Model: "gpt-4o", APIKey: secret(KeyAzure), Label: label},
			wantErr: []string{"base_url (or azure_endpoint) is not set", "api_version is not set"},
		},
		{
			name:    "azure bad version and deployment",
			e:       Entry{APIType: "azure", Model: "gpt 4o", APIKey: secret(KeyAzure), BaseURL: azureEndpoint, APIVersion: "2024-10", Label: label},
			wantErr: []string{`api_version "2024-10"`, `model "gpt 4o" is not an Azure deployment name`},
		},
		{
			name:    "openai entry with http remote base",
			e:       Entry{Model: "llama3", APIKey: sources.NewSecret("token-123"), BaseURL: "http://vllm.example.invalid:8000/v1", Label: label},
			wantErr: []string{"base_url uses plain http://"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := CheckEntry(tt.e, CheckOptions{})
			switch {
			case tt.wantErr != nil:
				assertShapeErr(t, err, tt.wantErr, allSecrets()...)
				if errors.Is(err, ErrEntryNoKey) {
					t.Errorf("error %v matches ErrEntryNoKey alongside a misconfiguration", err)
				}
				return
			case tt.wantIs != nil:
				if !errors.Is(err, tt.wantIs) || errors.Is(err, ErrMisconfigured) {
					t.Fatalf("CheckEntry error = %v, want only %v", err, tt.wantIs)
				}
				assertNoSecret(t, err.Error(), allSecrets()...)
			case err != nil:
				t.Fatalf("CheckEntry: %v", err)
			}
			if got != tt.want {
				t.Errorf("target\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestEntryProvider(t *testing.T) {
	t.Parallel()
	tests := []struct {
		apiType string
		want    Provider
		ok      bool
	}{
		{"", OpenAI, true}, {"openai", OpenAI, true}, {"openai_v1", OpenAI, true},
		{"azure", Azure, true}, {"azure_ad", Azure, true},
		{"anthropic", Anthropic, true},
		{"google", "", false}, {"Azure", "", false}, {"mistral", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.apiType, func(t *testing.T) {
			t.Parallel()
			if got, ok := EntryProvider(tt.apiType); got != tt.want || ok != tt.ok {
				t.Errorf("EntryProvider(%q) = %q, %v; want %q, %v", tt.apiType, got, ok, tt.want, tt.ok)
			}
		})
	}
}

// ExampleCheck shows the message for a key put in the wrong variable: it
// names the variable, whose key it looks like and the fix, with the key
// fingerprinted.
func ExampleCheck() {
	key := "sk-proj-" + strings.Repeat("a", 74) + "T3BlbkFJ" + strings.Repeat("b", 70) + "WXYZ"
	_, err := Check(map[string]string{"ANTHROPIC_API_KEY": key}, CheckOptions{})
	fmt.Println(err)
	fmt.Println(errors.Is(err, ErrMisconfigured))
	// Output:
	// ANTHROPIC_API_KEY holds what looks like an OpenAI key (sk-…WXYZ), but ANTHROPIC_BASE_URL is not set, so it would go to api.anthropic.com (Anthropic): put it in OPENAI_API_KEY
	// true
}

// ExampleClassifyKey shows that "sk-" alone does not mean OpenAI.
func ExampleClassifyKey() {
	fmt.Println(ClassifyKey("sk-" + strings.Repeat("0123456789abcdef", 2)))
	fmt.Println(ClassifyKey("sk-ant-api03-" + strings.Repeat("x", 93) + "AA").Owner())
	// Output:
	// deepseek
	// Anthropic
}

func TestKeyVariable(t *testing.T) {
	t.Parallel()
	for p, want := range map[Provider]string{OpenAI: VarOpenAIKey, Azure: VarAzureKey, Anthropic: VarAnthropicKey} {
		if got := KeyVariable(p); got != want {
			t.Errorf("KeyVariable(%s) = %s, want %s", p, got, want)
		}
	}
}
