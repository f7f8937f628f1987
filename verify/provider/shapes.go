package provider

import (
	"sort"
	"strings"
)

// KeyKind is the provider and flavour a key's shape points to, after the
// gitleaks (config/gitleaks.toml) and trufflehog detector rules.
//
// Shapes are not proof: several providers issue "sk-" keys, and 32+
// alphanumeric characters fit Azure as well as Mistral. Shapes a stray key of
// another provider can fall into by accident are Weak: they never make a
// check fail on their own, except where a provider's default URL demands its
// own shape.
type KeyKind string

// KeyUnknown is the kind of a value no shape matches.
const KeyUnknown KeyKind = "unknown"

// Shape is one key shape a unit issues.
type Shape struct {
	Kind  KeyKind
	Owner Name
	Desc  string // in a sentence: "an OpenAI project key"
	Weak  bool   // other keys may share it by accident
	Admin bool   // an admin key, which cannot call models
	// order ranks the shapes: more specific prefixes are tried first.
	order int
	match func(string) bool
}

// Matches reports whether v has the shape.
func (s Shape) Matches(v string) bool { return s.match != nil && s.match(v) }

// Unknown reports whether no shape matched.
func (s Shape) Unknown() bool { return s.Kind == "" || s.Kind == KeyUnknown }

// Shapes returns every unit's key shapes in the order ClassifyKey tries
// them: strong shapes by specificity, then the weak ones.
func Shapes() []Shape {
	var all []Shape
	for _, u := range All() {
		for _, s := range u.Shapes {
			s.Owner = u.Name
			all = append(all, s)
		}
	}
	sort.SliceStable(all, func(i, j int) bool {
		if all[i].Weak != all[j].Weak {
			return !all[i].Weak
		}
		return all[i].order < all[j].order
	})
	return all
}

// ClassifyKey returns the shape v has, or a Shape of kind KeyUnknown. v is
// expected sanitized: anything holding characters no key has is unknown.
func ClassifyKey(v string) Shape {
	for _, s := range Shapes() {
		if s.Matches(v) {
			return s
		}
	}
	return Shape{Kind: KeyUnknown, Desc: "a key of unknown shape", Weak: true}
}

// LooksLikeKey reports whether v has the shape of any key keyexec knows,
// weak shapes included: a value never to be shown as a model name or label,
// and what the redactor masks wherever it appears.
func LooksLikeKey(v string) bool { return !ClassifyKey(v).Unknown() }

// Distinctive reports whether v has a shape that only keys have: any
// strong shape, or "sk-" and 20 more characters. The redactor masks such
// runs wherever they appear; the weak 32-alphanumeric shape would also hide
// test names and paths, so it is left to the known secrets.
func Distinctive(v string) bool {
	s := ClassifyKey(v)
	return !s.Unknown() && (!s.Weak || s.Kind == "unknown-sk")
}

// minBody is the fewest characters after a known prefix that still make a
// key of that kind: real keys are far longer, and a bare prefix is no key.
const minBody = 20

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

// IsWordDash reports whether c is a letter, a digit, '_' or '-': what most
// key bodies, model names and deployment names are made of.
func IsWordDash(c byte) bool { return isAlnum(c) || c == '_' || c == '-' }

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
