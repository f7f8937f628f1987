package verify

import "strings"

// maskMin is the shortest run of a secret that masking hides. Shorter runs
// (a provider's "sk-…abcd" echo, a key prefix) carry too little to matter
// and hiding them would garble ordinary words.
const maskMin = 8

// masked replaces a hidden run of secret characters.
const masked = "[masked]"

// Mask returns s with every copy of each secret, and every run of 8 or more
// characters that also occurs in a secret, replaced by "[masked]". It is
// applied to everything a provider sends back before it reaches a Result:
// some gateways echo the whole key in their error messages.
func Mask(s string, secrets ...string) string {
	var grams map[string]struct{}
	for _, sec := range secrets {
		// Runs inside a documented key prefix ("sk-proj-") are public and
		// stay, so that "sk-proj-****abcd" echoes remain readable.
		for i := publicPrefix(sec); i+maskMin <= len(sec); i++ {
			if grams == nil {
				grams = make(map[string]struct{}, len(sec))
			}
			grams[sec[i:i+maskMin]] = struct{}{}
		}
	}
	if len(grams) == 0 || len(s) < maskMin {
		return s
	}
	// Every run of 8+ characters shared with a secret is a chain of
	// overlapping 8-grams of that secret, so marking each gram covers it.
	hide := make([]bool, len(s))
	found := false
	for i := 0; i+maskMin <= len(s); i++ {
		if _, ok := grams[s[i:i+maskMin]]; ok {
			for j := i; j < i+maskMin; j++ {
				hide[j] = true
			}
			found = true
		}
	}
	if !found {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if !hide[i] {
			b.WriteByte(s[i])
			i++
			continue
		}
		b.WriteString(masked)
		for i < len(s) && hide[i] {
			i++
		}
	}
	return b.String()
}

// publicPrefix is the length of sec's documented key-shape prefix that may
// be shown (PROVIDERS.md, key shapes), 0 when it has none. Only 8-character
// runs lying wholly within it escape masking.
func publicPrefix(sec string) int {
	for _, p := range [...]string{"sk-proj-", "sk-svcacct-", "sk-admin-", "sk-ant-api03-", "sk-ant-admin01-", "sk-or-v1-"} {
		if strings.HasPrefix(sec, p) {
			return len(p) - maskMin + 1
		}
	}
	return 0
}
