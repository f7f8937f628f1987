package verify

import "strings"

// maskMin is the shortest run of a secret that masking hides. Shorter runs
// (a provider's "sk-…abcd" echo, a key prefix) carry too little to matter
// and hiding them would garble ordinary words.
const maskMin = 8

// masked replaces a hidden run of secret characters.
const masked = "[masked]"

// Mask returns s with every copy of each secret, and every run of 8 or more
// characters that also occurs in a secret, replaced by "[masked]" (a
// documented key prefix such as "sk-proj-" stays visible). It is
// applied to everything a provider sends back before it reaches a Result:
// some gateways echo the whole key in their error messages.
func Mask(s string, secrets ...string) string {
	// grams maps each 8-character run of a secret to how many of its leading
	// characters are public: runs overlapping a documented key prefix
	// ("sk-proj-") keep that part, so "sk-proj-****abcd" echoes stay
	// readable and a leaked key shows as "sk-proj-[masked]".
	var grams map[string]int
	for _, sec := range secrets {
		pub := publicPrefix(sec)
		for i := 0; i+maskMin <= len(sec); i++ {
			keep := max(0, pub-i)
			if keep >= maskMin {
				continue
			}
			if grams == nil {
				grams = make(map[string]int, len(sec))
			}
			if old, ok := grams[sec[i:i+maskMin]]; !ok || keep < old {
				grams[sec[i:i+maskMin]] = keep
			}
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
		if keep, ok := grams[s[i:i+maskMin]]; ok {
			for j := i + keep; j < i+maskMin; j++ {
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

// publicPrefix is the length of sec's documented key-shape prefix, which
// may be shown (PROVIDERS.md, key shapes); 0 when it has none.
func publicPrefix(sec string) int {
	for _, p := range [...]string{"sk-proj-", "sk-svcacct-", "sk-admin-", "sk-ant-api03-", "sk-ant-admin01-", "sk-or-v1-"} {
		if strings.HasPrefix(sec, p) {
			return len(p)
		}
	}
	return 0
}
