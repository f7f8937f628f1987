package provider

import "strings"

// ExampleKeys returns a key of every shape the units declare, by kind:
// exactly the shape of a real key, but deterministic filler no one issued.
// Tests (here, in verify and end to end) and the README use them.
func ExampleKeys() map[KeyKind]string {
	return map[KeyKind]string{
		"openai-project":  "sk-proj-" + fill(wordDash, 74, 1) + openAISignature + fill(wordDash, 74, 2),
		"openai-svcacct":  "sk-svcacct-" + fill(wordDash, 58, 3) + openAISignature + fill(wordDash, 58, 4),
		"openai-admin":    "sk-admin-" + fill(wordDash, 58, 5) + openAISignature + fill(wordDash, 58, 6),
		"openai-legacy":   "sk-" + fill(alnum, 20, 7) + openAISignature + fill(alnum, 20, 8),
		"unknown-sk":      "sk-" + fill(wordDash, 22, 9),
		"anthropic":       "sk-ant-api03-" + fill(wordDash, 93, 10) + "AA",
		"anthropic-admin": "sk-ant-admin01-" + fill(wordDash, 93, 11) + "AA",
		"azure":           fill(hexLower, 32, 12),
		"azure-annotated": fill(alnum, 52, 13) + "JQQJ99" + fill(alnum, 26, 14),
		"groq":            "gsk_" + fill(alnum, 52, 15),
		"openrouter":      "sk-or-v1-" + fill(hexLower, 64, 16),
		"google":          "AIza" + fill(wordDash, 35, 17),
		"deepseek":        "sk-" + fill(lowerAN, 32, 18),
		"xai":             "xai-" + fill(alnum+"_", 80, 19),
		"together":        "tgp_v1_" + fill(wordDash, 43, 20),
	}
}

const (
	alnum    = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	wordDash = alnum + "_-"
	lowerAN  = "abcdefghijklmnopqrstuvwxyz0123456789"
	hexLower = "0123456789abcdef"
)

// fill returns n deterministic characters from alphabet, starting at seed.
func fill(alphabet string, n, seed int) string {
	var b strings.Builder
	for i := range n {
		b.WriteByte(alphabet[(seed+i*7)%len(alphabet)])
	}
	return b.String()
}
