package verify

import (
	"strings"

	"github.com/keyexec/keyexec/sources"
)

// KeyKind is the provider and flavour a key's shape points to, after the
// gitleaks (config/gitleaks.toml) and trufflehog detector rules.
//
// Shapes are not proof: several providers issue "sk-" keys, and 32+
// alphanumeric characters fit Azure as well as Mistral or Together. Kinds a
// stray key of another provider can fall into by accident (KeyAzure,
// KeyUnknownSK, KeyUnknown) are weak: they never make a check fail on their
// own, except where a provider's default URL demands its own shape.
type KeyKind string

// Key kinds ClassifyKey returns.
const (
	KeyOpenAIProject        KeyKind = "openai-project" // sk-proj-…T3BlbkFJ…
	KeyOpenAIServiceAccount KeyKind = "openai-svcacct" // sk-svcacct-…T3BlbkFJ…
	KeyOpenAIAdmin          KeyKind = "openai-admin"   // sk-admin-…: Admin API only
	KeyOpenAILegacy         KeyKind = "openai-legacy"  // sk-…T3BlbkFJ… (user keys, sk-None-…)
	// KeyUnknownSK is "sk-" and 20+ characters that fit no other rule: an
	// older or future OpenAI key, or a gateway's own key (LiteLLM virtual keys).
	KeyUnknownSK      KeyKind = "unknown-sk"
	KeyAnthropic      KeyKind = "anthropic"       // sk-ant-api03-… (any sk-ant- but admin)
	KeyAnthropicAdmin KeyKind = "anthropic-admin" // sk-ant-admin01-…: Admin API only
	// KeyAzure is 32 hex digits, or 32+ alphanumerics fitting no other rule.
	KeyAzure KeyKind = "azure"
	// KeyAzureAnnotated is Microsoft's 84-character annotated key, with the
	// JQQJ signature at offset 52, issued by newer Azure AI resources.
	KeyAzureAnnotated KeyKind = "azure-annotated"
	KeyGroq           KeyKind = "groq"       // gsk_ + 52 alphanumerics
	KeyOpenRouter     KeyKind = "openrouter" // sk-or-v1- + 64 hex
	KeyGoogle         KeyKind = "google"     // AIza + 35 [A-Za-z0-9_-]
	KeyDeepSeek       KeyKind = "deepseek"   // sk- + 32 lowercase alphanumerics
	KeyUnknown        KeyKind = "unknown"
)

// openAISignature is "OpenAI" in base64; every modern OpenAI key holds it.
const openAISignature = "T3BlbkFJ"

// minBody is the fewest characters after a known prefix that still make a
// key of that kind: real keys are far longer, and a bare prefix is no key.
const minBody = 20

// ClassifyKey names the kind of key v looks like. v is expected sanitized;
// anything holding characters no key has is KeyUnknown.
func ClassifyKey(v string) KeyKind {
	switch {
	case prefixed(v, "sk-ant-admin", minBody, isWordDash):
		return KeyAnthropicAdmin
	case prefixed(v, "sk-ant-", minBody, isWordDash):
		return KeyAnthropic
	case prefixed(v, "sk-or-", minBody, isWordDash):
		return KeyOpenRouter
	case prefixed(v, "sk-proj-", minBody, isWordDash):
		return KeyOpenAIProject
	case prefixed(v, "sk-svcacct-", minBody, isWordDash):
		return KeyOpenAIServiceAccount
	case prefixed(v, "sk-admin-", minBody, isWordDash):
		return KeyOpenAIAdmin
	case prefixed(v, "sk-", minBody, isWordDash) && strings.Contains(v, openAISignature):
		return KeyOpenAILegacy
	case len(v) == 35 && prefixed(v, "sk-", 32, isLowerAlnum):
		return KeyDeepSeek
	case prefixed(v, "sk-", minBody, isWordDash):
		return KeyUnknownSK
	case prefixed(v, "gsk_", minBody, isAlnum):
		return KeyGroq
	case prefixed(v, "AIza", 30, isWordDash):
		return KeyGoogle
	case len(v) == 84 && allBytes(v, isAlnum) && v[52:56] == "JQQJ":
		return KeyAzureAnnotated
	case len(v) >= 32 && allBytes(v, isAlnum):
		return KeyAzure
	}
	return KeyUnknown
}

// LooksLikeOpenAIKey reports whether v has an unmistakable OpenAI shape
// (project, service account, admin or legacy user key). normalize uses it to
// decide whether a bare API_KEY is meant as OPENAI_API_KEY.
func LooksLikeOpenAIKey(v string) bool { return ClassifyKey(v).family() == OpenAI }

// LooksLikeKey reports whether v has the shape of any API key keyexec knows,
// weak shapes included: a value that should not be shown as a model name or
// label.
func LooksLikeKey(v string) bool { return ClassifyKey(v) != KeyUnknown }

// Owner names the provider k belongs to, for messages: "OpenAI",
// "Anthropic", "Azure OpenAI"; "" for KeyUnknown.
func (k KeyKind) Owner() string {
	switch k {
	case KeyOpenAIProject, KeyOpenAIServiceAccount, KeyOpenAIAdmin, KeyOpenAILegacy:
		return "OpenAI"
	case KeyUnknownSK:
		return "OpenAI-style"
	case KeyAnthropic, KeyAnthropicAdmin:
		return "Anthropic"
	case KeyAzure, KeyAzureAnnotated:
		return "Azure OpenAI"
	case KeyGroq:
		return "Groq"
	case KeyOpenRouter:
		return "OpenRouter"
	case KeyGoogle:
		return "Google"
	case KeyDeepSeek:
		return "DeepSeek"
	}
	return ""
}

// Weak reports whether k is a shape other providers' keys can share by
// accident, so that it proves nothing about the key's owner.
func (k KeyKind) Weak() bool {
	return k == KeyAzure || k == KeyUnknownSK || k == KeyUnknown
}

// Provider families used to match keys with hosts. The first three are the
// Provider values of verify.go; the others are OpenAI-compatible services.
const (
	familyGroq       Provider = "groq"
	familyOpenRouter Provider = "openrouter"
	familyGoogle     Provider = "google"
	familyDeepSeek   Provider = "deepseek"
)

// family is the provider that issues keys of kind k; "" when the shape says
// nothing about it.
func (k KeyKind) family() Provider {
	switch k {
	case KeyOpenAIProject, KeyOpenAIServiceAccount, KeyOpenAIAdmin, KeyOpenAILegacy:
		return OpenAI
	case KeyAnthropic, KeyAnthropicAdmin:
		return Anthropic
	case KeyAzure, KeyAzureAnnotated:
		return Azure
	case KeyGroq:
		return familyGroq
	case KeyOpenRouter:
		return familyOpenRouter
	case KeyGoogle:
		return familyGoogle
	case KeyDeepSeek:
		return familyDeepSeek
	}
	return ""
}

// describe is k in a sentence: "an OpenAI key", "an Anthropic Admin API key".
func (k KeyKind) describe() string {
	switch k {
	case KeyOpenAIAdmin:
		return "an OpenAI Admin API key"
	case KeyAnthropicAdmin:
		return "an Anthropic Admin API key"
	case KeyUnknownSK:
		return "an OpenAI-style key"
	case KeyAzure, KeyAzureAnnotated:
		return "an Azure OpenAI key"
	case KeyUnknown:
		return "a key of unknown shape"
	}
	o := k.Owner()
	if strings.HasPrefix(o, "O") || strings.HasPrefix(o, "A") {
		return "an " + o + " key"
	}
	return "a " + o + " key"
}

// prefixed reports whether v is prefix followed by at least n characters,
// every one of which satisfies ok.
func prefixed(v, prefix string, n int, ok func(byte) bool) bool {
	body, found := strings.CutPrefix(v, prefix)
	return found && len(body) >= n && allBytes(body, ok)
}

func allBytes(s string, ok func(byte) bool) bool {
	for i := range len(s) {
		if !ok(s[i]) {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isLowerAlnum(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' }

func isWordDash(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }

// maskKey is how a key appears in messages: "sk-…Wx3f" for a known shape,
// whose prefix is public; the plain fingerprint otherwise, since the start of
// an arbitrary secret may be part of it.
func maskKey(v string) string {
	if k := ClassifyKey(v); k == KeyUnknown || k == KeyAzure || k == KeyAzureAnnotated {
		return sources.Fingerprint(v)
	}
	return sources.MaskedTail(v)
}
