package verify

import (
	"strings"
	"testing"
)

// fakeFill returns n deterministic characters from alphabet, starting at seed.
// Test keys are built from it: they have the exact shapes of real keys but
// are not keys anyone issued.
func fakeFill(alphabet string, n, seed int) string {
	var b strings.Builder
	for i := range n {
		b.WriteByte(alphabet[(seed+i*7)%len(alphabet)])
	}
	return b.String()
}

const (
	alnum    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	wordDash = alnum + "_-"
	lowerAN  = "abcdefghijklmnopqrstuvwxyz0123456789"
	hexLower = "0123456789abcdef"
)

// fakeKeys are keys of every shape keyexec knows, one per kind.
var fakeKeys = map[KeyKind]string{
	KeyOpenAIProject:        "sk-proj-" + fakeFill(wordDash, 74, 1) + "T3BlbkFJ" + fakeFill(wordDash, 74, 2),
	KeyOpenAIServiceAccount: "sk-svcacct-" + fakeFill(wordDash, 58, 3) + "T3BlbkFJ" + fakeFill(wordDash, 58, 4),
	KeyOpenAIAdmin:          "sk-admin-" + fakeFill(wordDash, 58, 5) + "T3BlbkFJ" + fakeFill(wordDash, 58, 6),
	KeyOpenAILegacy:         "sk-" + fakeFill(alnum, 20, 7) + "T3BlbkFJ" + fakeFill(alnum, 20, 8),
	KeyUnknownSK:            "sk-" + fakeFill(wordDash, 22, 9),
	KeyAnthropic:            "sk-ant-api03-" + fakeFill(wordDash, 93, 10) + "AA",
	KeyAnthropicAdmin:       "sk-ant-admin01-" + fakeFill(wordDash, 93, 11) + "AA",
	KeyAzure:                fakeFill(hexLower, 32, 12),
	KeyAzureAnnotated:       fakeFill(alnum, 52, 13) + "JQQJ99" + fakeFill(alnum, 26, 14),
	KeyGroq:                 "gsk_" + fakeFill(alnum, 52, 15),
	KeyOpenRouter:           "sk-or-v1-" + fakeFill(hexLower, 64, 16),
	KeyGoogle:               "AIza" + fakeFill(wordDash, 35, 17),
	KeyDeepSeek:             "sk-" + fakeFill(lowerAN, 32, 18),
	KeyUnknown:              "not-a-known-key-" + fakeFill(alnum, 10, 19),
}

func TestClassifyKeyShapes(t *testing.T) {
	t.Parallel()
	for want, key := range fakeKeys {
		t.Run(string(want), func(t *testing.T) {
			t.Parallel()
			if got := ClassifyKey(key); got != want {
				t.Errorf("ClassifyKey(%s key) = %s, want %s", want, got, want)
			}
		})
	}
}

func TestClassifyKeyEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want KeyKind
	}{
		{"empty", "", KeyUnknown},
		{"bare sk-", "sk-", KeyUnknown},
		{"short sk- (LiteLLM master key)", "sk-1234", KeyUnknown},
		{"bare project prefix", "sk-proj-", KeyUnknown},
		{"short project body", "sk-proj-" + fakeFill(wordDash, 10, 1), KeyUnknown},
		{"older short project key", "sk-proj-" + fakeFill(alnum, 20, 1) + "T3BlbkFJ" + fakeFill(alnum, 20, 2), KeyOpenAIProject},
		{"sk-None- user key", "sk-None-" + fakeFill(alnum, 40, 3) + "T3BlbkFJ" + fakeFill(alnum, 40, 4), KeyOpenAILegacy},
		{"anthropic oauth token", "sk-ant-oat01-" + fakeFill(wordDash, 80, 5), KeyAnthropic},
		{"deepseek with uppercase is not deepseek", "sk-" + strings.ToUpper(fakeFill(lowerAN, 32, 6)), KeyUnknownSK},
		{"deepseek 33 chars is not deepseek", "sk-" + fakeFill(lowerAN, 33, 6), KeyUnknownSK},
		{"uppercase hex azure", strings.ToUpper(fakeFill(hexLower, 32, 7)), KeyAzure},
		{"31 hex is nothing", fakeFill(hexLower, 31, 7), KeyUnknown},
		{"long alnum is azure", fakeFill(alnum, 84, 8), KeyAzure},
		{"groq with dash", "gsk_" + fakeFill(wordDash, 52, 9) + "-", KeyUnknown},
		{"google short", "AIza" + fakeFill(alnum, 10, 10), KeyUnknown},
		{"inner space", "sk-proj-" + fakeFill(alnum, 40, 11) + " " + fakeFill(alnum, 40, 12), KeyUnknown},
		{"bearer left in", "Bearer " + fakeKeys[KeyOpenAIProject], KeyUnknown},
		{"jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In0.c2ln", KeyUnknown},
		{"url", "https://api.openai.com/v1", KeyUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := ClassifyKey(tt.in); got != tt.want {
				t.Errorf("ClassifyKey = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestLooksLikeOpenAIKey(t *testing.T) {
	t.Parallel()
	for kind, key := range fakeKeys {
		want := kind == KeyOpenAIProject || kind == KeyOpenAIServiceAccount || kind == KeyOpenAIAdmin || kind == KeyOpenAILegacy
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			if got := LooksLikeOpenAIKey(key); got != want {
				t.Errorf("LooksLikeOpenAIKey(%s key) = %v, want %v", kind, got, want)
			}
		})
	}
}

func TestKeyKindOwner(t *testing.T) {
	t.Parallel()
	tests := map[KeyKind]string{
		KeyOpenAIProject: "OpenAI", KeyOpenAIAdmin: "OpenAI", KeyUnknownSK: "OpenAI-style",
		KeyAnthropic: "Anthropic", KeyAnthropicAdmin: "Anthropic", KeyAzure: "Azure OpenAI",
		KeyGroq: "Groq", KeyOpenRouter: "OpenRouter", KeyGoogle: "Google", KeyDeepSeek: "DeepSeek",
		KeyUnknown: "",
	}
	for kind, want := range tests {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			if got := kind.Owner(); got != want {
				t.Errorf("Owner = %q, want %q", got, want)
			}
		})
	}
}

func FuzzClassifyKey(f *testing.F) {
	for _, k := range fakeKeys {
		f.Add(k)
	}
	f.Add("sk-")
	f.Add("AIza")
	f.Fuzz(func(t *testing.T, v string) {
		k := ClassifyKey(v)
		if k.Owner() == "OpenAI" && !strings.HasPrefix(v, "sk-") {
			t.Errorf("ClassifyKey(%q) = %s without the sk- prefix", v, k)
		}
		if k == KeyDeepSeek && len(v) != 35 {
			t.Errorf("ClassifyKey(%q) = deepseek at length %d", v, len(v))
		}
		_ = k.describe()
	})
}

func TestLooksLikeKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"azure key", fakeKeys[KeyAzure], true},
		{"sk- key", fakeKeys[KeyUnknownSK], true},
		{"google key", fakeKeys[KeyGoogle], true},
		{"openai model", "gpt-4o-mini", false},
		{"anthropic model", "claude-sonnet-4-5", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := LooksLikeKey(tt.in); got != tt.want {
				t.Errorf("LooksLikeKey = %v, want %v", got, tt.want)
			}
		})
	}
}
