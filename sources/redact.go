package sources

import (
	"net/url"
	"strings"
)

// keyPrefixes start the credentials people paste by mistake.
var keyPrefixes = []string{"sk-", "gsk_", "AIza", "ghp_", "github_pat_", "xox", "AKIA", "ASIA"}

// looksSecret reports whether a run of key characters is likely a credential:
// a known key prefix, a long hex string, or a long mix of upper case, lower
// case and digits (which names and paths rarely are).
func looksSecret(run string) bool {
	for _, p := range keyPrefixes {
		if strings.HasPrefix(run, p) {
			return true
		}
	}
	var upper, lower, digit, hex bool
	hex = len(run) >= 32
	for _, c := range run {
		switch {
		case c >= 'A' && c <= 'Z':
			upper = true
		case c >= 'a' && c <= 'z':
			lower = true
		case c >= '0' && c <= '9':
			digit = true
		}
		if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			hex = false
		}
	}
	return hex || (upper && lower && digit && len(run) >= 24)
}

// RedactText replaces anything in s that looks like a credential with its
// fingerprint. It is for text that is not secret by design but may hold a
// pasted key by mistake: references, config keys, URLs, field values shown
// in reports.
func RedactText(s string) string {
	var b strings.Builder
	start := -1 // start of the current run of key characters
	flush := func(end int) {
		if start < 0 {
			return
		}
		if run := s[start:end]; len(run) >= 20 && looksSecret(run) {
			b.WriteString("[" + Fingerprint(run) + "]")
		} else {
			b.WriteString(run)
		}
		start = -1
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '+' || c == '=' {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		b.WriteByte(c)
	}
	flush(len(s))
	return b.String()
}

// DisplayURL is a URL as reports may show it: scheme, host and path, never
// userinfo or fragment; of the query only api-version (Azure) is shown, any
// other parameter may carry a key (Google's ?key=). Anything left that looks
// like a credential is replaced by its fingerprint, and text that does not
// parse as a URL is shown as a fingerprint.
func DisplayURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || strings.ContainsAny(raw, " \t\r\n") {
		return "(not a URL: " + Fingerprint(raw) + ")"
	}
	shown := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	if u.Opaque != "" {
		return "(not a URL: " + Fingerprint(raw) + ")"
	}
	out := shown.String()
	if u.RawQuery != "" {
		q := u.Query()
		if v := q.Get("api-version"); v != "" && len(q) == 1 {
			out += "?api-version=" + url.QueryEscape(v)
		} else {
			out += "?…"
		}
	}
	return RedactText(out)
}
