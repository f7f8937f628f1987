package sources

import "strings"

// maskMin is the shortest run of a secret that masking hides. Shorter runs
// (a provider's "sk-…abcd" echo, a key prefix) carry too little to matter
// and hiding them would garble ordinary words.
const maskMin = 8

// masked replaces a hidden run of secret characters.
const masked = "[masked]"

// Mask returns s with every copy of each secret, and every run of 8 or more
// characters that also occurs in a secret, replaced by "[masked]" (a
// documented key prefix such as "sk-proj-" stays visible). The probe applies
// it to what a provider sends back, with the credential it sent (some
// gateways echo the whole key in their error messages); the Redactor applies
// it to everything keyexec writes, with every secret of the run.
func Mask(s string, secrets ...string) string {
	var g grams
	for _, sec := range secrets {
		g.add(sec)
	}
	return g.apply(s)
}

// grams maps each 8-character run of the known secrets to how many of its
// leading characters are public: runs overlapping a documented key prefix
// ("sk-proj-") keep that part, so "sk-proj-****abcd" echoes stay readable and
// a leaked key shows as "sk-proj-[masked]". Secrets made of words
// ("environment", a weak password) are in words instead and masked only
// where they stand whole: their 8-character runs are in ordinary words too
// ("credentials" shares "redentia" with "ManagedIdentityCredential"), and
// masking those would garble the report and the keys of its JSON.
type grams struct {
	runs  map[string]int
	words map[string]bool
}

// isWord reports whether sec is made of words: letters only, possibly
// joined by '-' or '_' ("environment", "ManagedIdentityCredential"). Keys
// and tokens hold digits; a random one without any is masked whole.
func isWord(sec string) bool {
	for i := 0; i < len(sec); i++ {
		c := sec[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || (c == '-' || c == '_') && i > 0) {
			return false
		}
	}
	return true
}

func (g *grams) add(sec string) {
	if len(sec) < maskMin {
		return
	}
	if isWord(sec) {
		if g.words == nil {
			g.words = map[string]bool{}
		}
		g.words[sec] = true
		return
	}
	pub := PublicPrefix(sec)
	for i := 0; i+maskMin <= len(sec); i++ {
		keep := max(0, pub-i)
		if keep >= maskMin {
			continue
		}
		if g.runs == nil {
			g.runs = make(map[string]int, len(sec))
		}
		if old, ok := g.runs[sec[i:i+maskMin]]; !ok || keep < old {
			g.runs[sec[i:i+maskMin]] = keep
		}
	}
}

func (g *grams) apply(s string) string {
	if len(g.runs) == 0 && len(g.words) == 0 || len(s) < maskMin {
		return s
	}
	// Every run of 8+ characters shared with a secret is a chain of
	// overlapping 8-grams of that secret, so marking each gram covers it.
	var hide []bool
	mark := func(from, to int) {
		if hide == nil {
			hide = make([]bool, len(s))
		}
		for j := from; j < to; j++ {
			hide[j] = true
		}
	}
	for i := 0; len(g.runs) > 0 && i+maskMin <= len(s); i++ {
		if keep, ok := g.runs[s[i:i+maskMin]]; ok {
			mark(i+keep, i+maskMin)
		}
	}
	for i := 0; len(g.words) > 0 && i < len(s); {
		if !isKeyChar(s[i]) {
			i++
			continue
		}
		j := i
		for j < len(s) && isKeyChar(s[j]) {
			j++
		}
		if g.words[s[i:j]] {
			mark(i, j)
		}
		i = j
	}
	if hide == nil {
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

// PublicPrefix is the length of sec's documented key-shape prefix, which
// may be shown (PROVIDERS.md, key shapes); 0 when it has none.
func PublicPrefix(sec string) int {
	for _, p := range [...]string{"sk-proj-", "sk-svcacct-", "sk-admin-", "sk-ant-api03-", "sk-ant-admin01-", "sk-or-v1-"} {
		if strings.HasPrefix(sec, p) {
			return len(p)
		}
	}
	return 0
}
