package sources

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	t.Parallel()
	key := "sk-proj-AbCdEf0123456789AbCdEf0123456789T3BlbkFJxyz"
	azure := "0123456789abcdef0123456789abcdef"
	tests := []struct{ in, want string }{
		{"vault://secret/llm/openai#api_key", "vault://secret/llm/openai#api_key"},
		{"awssm://prod/llm/openai-production-credentials", "awssm://prod/llm/openai-production-credentials"},
		{"env://" + key, "env://[" + Fingerprint(key) + "]"},
		{"file:///x#" + azure, "file:///x#[" + Fingerprint(azure) + "]"},
	}
	for _, tt := range tests {
		if got := RedactText(tt.in); got != tt.want {
			t.Errorf("RedactText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	urls := []struct{ in, want string }{
		{"https://api.openai.com/v1", "https://api.openai.com/v1"},
		{"https://user:" + key + "@gw.example/v1", "https://gw.example/v1"},
		{"https://" + key + "@gw.example/v1", "https://gw.example/v1"},
		{"https://gw.example/v1?key=" + key, "https://gw.example/v1?…"},
		{"https://r.openai.azure.com/openai/models?api-version=2024-10-21", "https://r.openai.azure.com/openai/models?api-version=2024-10-21"},
		{"https://gw.example/v1#" + key, "https://gw.example/v1"},
		{"https://gw.example/v1/" + key, "https://gw.example/v1/[" + Fingerprint(key) + "]"},
		{key, "[" + Fingerprint(key) + "]"},
		{"https://gw.example/v1 " + key, "(not a URL: " + Fingerprint("https://gw.example/v1 "+key) + ")"},
	}
	for _, tt := range urls {
		got := DisplayURL(tt.in)
		if got != tt.want {
			t.Errorf("DisplayURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if strings.Contains(got, key[8:30]) {
			t.Errorf("DisplayURL leaks the key: %q", got)
		}
	}
}
