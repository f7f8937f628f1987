package resolve

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/keyexec/keyexec/sources"
)

// zeroWidth are invisible characters that copy-paste from web pages and
// password managers leaves at the edges of keys.
const zeroWidth = "\u200b\u200c\u200d\u2060\ufeff"

// edgeCutset is what Sanitize strips from both ends: whitespace, CR/LF, NUL,
// the byte-order mark and zero-width characters.
const edgeCutset = " \t\r\n\v\f\x00\u00a0" + zeroWidth

// exportPrefix returns the length of a leading "export NAME=" and the name.
func exportPrefix(v string) (int, string) {
	rest, ok := strings.CutPrefix(v, "export")
	if !ok {
		return 0, ""
	}
	trimmed := strings.TrimLeft(rest, " \t")
	if len(trimmed) == len(rest) {
		return 0, "" // "exporter=…" is not a shell export
	}
	name, _, ok := strings.Cut(trimmed, "=")
	if !ok || !sources.IsVarName(name) {
		return 0, ""
	}
	return len(v) - len(trimmed) + len(name) + 1, name
}

// quotePairs are the surrounding quotes Sanitize removes, one pair at most.
var quotePairs = [][2]string{{`"`, `"`}, {`'`, `'`}, {"`", "`"}, {"\u201c", "\u201d"}, {"\u2018", "\u2019"}}

// Sanitize repairs what copy-paste, shell files and secret stores do to a
// value and returns the repaired value with one line per fix applied (for the
// report; the lines never contain the value). isKey enables the rules for
// API keys: a leading "Bearer " is removed and any whitespace, control or
// non-ASCII character left inside is an error naming its byte offset, because
// httpx refuses such a header before sending ("Connection error").
func Sanitize(v string, isKey bool) (string, []string, error) {
	var fixes []string
	trim := func() {
		t := strings.Trim(v, edgeCutset)
		if t != v {
			fixes = append(fixes, describeTrim(v, t))
			v = t
		}
	}
	trim()
	if n, name := exportPrefix(v); n > 0 {
		v = v[n:]
		fixes = append(fixes, fmt.Sprintf("removed leading %q left from a shell file", "export "+name+"="))
		trim()
	}
	for _, q := range quotePairs {
		if len(v) >= len(q[0])+len(q[1]) && strings.HasPrefix(v, q[0]) && strings.HasSuffix(v, q[1]) {
			v = v[len(q[0]) : len(v)-len(q[1])]
			fixes = append(fixes, "removed surrounding quotes "+q[0]+"…"+q[1])
			trim()
			break
		}
	}
	if isKey && len(v) > 7 && strings.EqualFold(v[:7], "bearer ") {
		v = v[7:]
		fixes = append(fixes, `removed leading "Bearer " (the SDK adds it)`)
		trim()
	}
	if isKey {
		if err := checkKeyBytes(v); err != nil {
			return v, fixes, err
		}
	}
	return v, fixes, nil
}

// describeTrim says what was cut from the edges, by kind, never by value.
func describeTrim(before, after string) string {
	i := strings.Index(before, after)
	if after == "" {
		i = len(before)
	}
	lead, trail := before[:i], before[i+len(after):]
	parts := []string{}
	if lead != "" {
		parts = append(parts, "leading "+kinds(lead))
	}
	if trail != "" {
		parts = append(parts, "trailing "+kinds(trail))
	}
	return "removed " + strings.Join(parts, " and ")
}

func kinds(s string) string {
	seen := map[string]bool{}
	var out []string
	add := func(k string) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, r := range s {
		switch {
		case r == '\r':
			add(`\r`)
		case r == '\n':
			add(`\n`)
		case r == 0:
			add("NUL")
		case r == '\ufeff':
			add("BOM (U+FEFF)")
		case strings.ContainsRune(zeroWidth, r):
			add(fmt.Sprintf("zero-width U+%04X", r))
		case r == '\t':
			add("tab")
		default:
			add("space")
		}
	}
	return strings.Join(out, ", ")
}

// maxKeyLen bounds an API key or token. Real keys are under 256
// characters and Azure AD tokens a few KiB; servers refuse headers of 8 KiB
// or more, so a longer value is the wrong thing (a whole file, a list).
const maxKeyLen = 8 << 10

// checkKeyBytes rejects keys that no HTTP header can carry.
func checkKeyBytes(v string) error {
	if len(v) > maxKeyLen {
		return fmt.Errorf("%d bytes is too long for a key or token (at most %d): check that the reference points at the key, not a whole file or secret: %w", len(v), maxKeyLen, sources.ErrInvalid)
	}
	for i := 0; i < len(v); {
		r, size := utf8.DecodeRuneInString(v[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return fmt.Errorf("invalid UTF-8 at byte %d of %d: the key is corrupted; copy it again from the provider's console: %w", i, len(v), sources.ErrInvalid)
		case unicode.IsSpace(r):
			return fmt.Errorf("whitespace inside the key at byte %d of %d: a key cannot contain spaces or line breaks (httpx refuses the header and openai reports \"Connection error\"); check that the value holds one key only: %w", i, len(v), sources.ErrInvalid)
		case r < 0x20 || r == 0x7f:
			return fmt.Errorf("control character inside the key at byte %d of %d: %w", i, len(v), sources.ErrInvalid)
		case r > 0x7e:
			return fmt.Errorf("non-ASCII character U+%04X inside the key at byte %d of %d (a smart quote or look-alike letter from copy-paste?); HTTP headers take ASCII only: %w", r, i, len(v), sources.ErrInvalid)
		}
		i += size
	}
	return nil
}
