package resolve

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

// FuzzLoadComponent feeds AutoGen 0.4 component files, as JSON and as YAML:
// an error wraps ErrInvalid and never repeats the file; what loads encodes
// back to JSON the child can read.
func FuzzLoadComponent(f *testing.F) {
	for _, seed := range []string{
		`{"provider": "autogen_ext.models.openai.OpenAIChatCompletionClient", "config": {"model": "gpt-4o", "api_key": "` + fuzzSecret + `"}}`,
		`{"provider": "autogen_ext.models.openai.AzureOpenAIChatCompletionClient", "component_type": "model", "config": {"model": "gpt-4o", "azure_endpoint": "https://x.openai.azure.com", "api_version": "2024-10-21", "api_key": "vault://secret/llm#k"}}`,
		`{"provider": "autogen_agentchat.teams.RoundRobinGroupChat", "config": {"participants": [{"provider": "autogen_agentchat.agents.AssistantAgent", "config": {"model_client": {"provider": "OpenAIChatCompletionClient", "config": {"model": "gpt-4o"}}}}]}}`,
		`[{"provider": "autogen_ext.models.anthropic.AnthropicChatCompletionClient", "config": {"model": "claude-sonnet-4-5", "api_key": "env://ANTHROPIC_API_KEY"}}]`,
		"provider: autogen_ext.models.openai.OpenAIChatCompletionClient\nconfig:\n  model: gpt-4o\n  api_key: " + fuzzSecret + "\n",
		"a: &x [*x]\n",
		"{\"provider\": 1, \"config\": []}",
		"\ufeff{}",
		``,
	} {
		f.Add([]byte(seed), seed != "" && seed[0] != '{' && seed[0] != '[')
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte, asYAML bool) {
		name := "c.json"
		if asYAML {
			name = "c.yaml"
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cf, err := LoadComponent(path, "", "")
		if err != nil {
			if !errors.Is(err, sources.ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			if strings.Contains(err.Error(), fuzzSecret[:16]) {
				t.Fatalf("error repeats the file: %v", err)
			}
			return
		}
		if _, err := cf.JSON(); err != nil && !errors.Is(err, sources.ErrInvalid) {
			t.Fatalf("loaded file does not encode: %v", err)
		}
	})
}
