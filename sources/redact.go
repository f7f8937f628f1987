package sources

import (
	"bytes"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
)

// keyPrefixes start the credentials people paste by mistake.
var keyPrefixes = [...]string{"sk-", "gsk_", "AIza", "xai-", "hvs.", "hvb.", "ghp_", "github_pat_", "xox", "AKIA", "ASIA"}

// looksSecret reports whether a run of key characters is likely a credential:
// a known key prefix, a long hex string, or a long random-looking mix of
// upper case, lower case and digits. Random base62 changes between the
// three classes at about six characters in ten; words (a CamelCase test name,
// a path) change every few letters, so they stay readable.
func looksSecret(run string) bool {
	for _, p := range keyPrefixes {
		if strings.HasPrefix(run, p) {
			return true
		}
	}
	var upper, lower, digit int
	hex := len(run) >= 32
	changes, last := 0, byte(0)
	for i := 0; i < len(run); i++ {
		c, class := run[i], byte(0)
		switch {
		case c >= 'A' && c <= 'Z':
			upper, class = upper+1, 'A'
		case c >= 'a' && c <= 'z':
			lower, class = lower+1, 'a'
		case c >= '0' && c <= '9':
			digit, class = digit+1, '0'
		}
		if class != 0 && last != 0 && class != last {
			changes++
		}
		if class != 0 {
			last = class
		}
		if !strings.ContainsRune("0123456789abcdefABCDEF", rune(c)) {
			hex = false
		}
	}
	return hex || upper > 0 && lower > 0 && digit > 1 && len(run) >= 24 && changes*2 >= len(run)
}

// isKeyChar is a character of the runs RedactText looks at: what API keys,
// tokens and base64 are made of.
func isKeyChar(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '+' || c == '='
}

// RedactText replaces anything in s that looks like a credential with its
// fingerprint. It is for text that is not secret by design but may hold a
// pasted key by mistake: references, config keys, URLs, field values shown
// in reports.
func RedactText(s string) string { return redactRuns(s, nil) }

// redactRuns replaces each run of key characters of 20 or more that looks
// secret, or that one of shapes recognises, with "[fingerprint]".
func redactRuns(s string, shapes []func(string) bool) string {
	var b strings.Builder
	start := -1 // start of the current run of key characters
	flush := func(end int) {
		if start < 0 {
			return
		}
		run := s[start:end]
		secret := len(run) >= 20 && looksSecret(run)
		for _, shape := range shapes {
			secret = secret || len(run) >= 12 && shape(run)
		}
		if secret {
			b.WriteString("[" + Fingerprint(run) + "]")
		} else {
			b.WriteString(run)
		}
		start = -1
	}
	for i := 0; i < len(s); i++ {
		if isKeyChar(s[i]) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
		b.WriteByte(s[i])
	}
	flush(len(s))
	return b.String()
}

// maskUserinfo hides the password of every URL in s written with one
// (scheme://user:password@host), whatever the password looks like.
func maskUserinfo(s string) string {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			break
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		end := strings.IndexAny(s, "/?# \t\r\n\"'<>")
		if end < 0 {
			end = len(s)
		}
		at := strings.LastIndexByte(s[:end], '@')
		if at < 0 {
			continue
		}
		user, _, hasPass := strings.Cut(s[:at], ":")
		if hasPass {
			b.WriteString(user + ":" + masked + "@")
		} else {
			b.WriteString(masked + "@")
		}
		s = s[at+1:]
	}
	b.WriteString(s)
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

// ShowValue quotes a setting's value for an error message when it is a
// plain short word (a typo the user must see: "opnai"), and shows anything
// longer or key-like as its fingerprint: a key typed into the wrong flag is
// never echoed.
func ShowValue(v string) string {
	if len(v) > 24 || strings.ContainsFunc(v, func(r rune) bool { return r < ' ' || r > '~' }) || RedactText(v) != v {
		return Fingerprint(v)
	}
	return fmt.Sprintf("%q", v)
}

// Redactor masks secrets in everything keyexec writes: every value it was
// told about (Add), anything of a known key shape, the password in a URL's
// userinfo, and long runs that look like credentials. One Redactor serves a
// run, and its Writers are the only way keyexec's output reaches stdout and
// stderr, so a key that reached an error message by any path (a flag, a
// config key, a reference path, a provider's answer) is still never shown.
type Redactor struct {
	mu     sync.RWMutex
	known  grams
	shapes []func(string) bool
}

// NewRedactor returns a Redactor that also masks runs any of shapes
// recognises (the key shapes of verify/provider).
func NewRedactor(shapes ...func(string) bool) *Redactor {
	return &Redactor{shapes: shapes}
}

// Add tells r about secret values to mask wherever they appear. Values
// shorter than 8 characters cannot be told from ordinary words and are
// ignored.
func (r *Redactor) Add(values ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, v := range values {
		r.known.add(v)
	}
}

// Redact returns s with every secret masked.
func (r *Redactor) Redact(s string) string {
	r.mu.RLock()
	s = r.known.apply(s)
	shapes := r.shapes
	r.mu.RUnlock()
	return redactRuns(maskUserinfo(s), shapes)
}

// maxLine bounds what a Writer holds while waiting for a line's end.
const maxLine = 64 << 10

// Writer returns an io.Writer that redacts what passes through it, a line at
// a time (so a secret split over two writes is still seen whole), onto w.
// Call Flush before the process ends or execs.
func (r *Redactor) Writer(w io.Writer) *RedactWriter {
	return &RedactWriter{r: r, w: w}
}

// RedactWriter is Redactor.Writer's writer. It is safe for concurrent use.
type RedactWriter struct {
	mu  sync.Mutex
	r   *Redactor
	w   io.Writer
	buf []byte
}

// Write takes p and writes every complete line, redacted.
func (w *RedactWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		if err := w.emit(w.buf[:i+1]); err != nil {
			return len(p), err
		}
		w.buf = w.buf[i+1:]
	}
	if len(w.buf) > maxLine {
		// Cut after the last space, quote or comma (no secret holds one),
		// so a secret is not split between two redactions.
		cut := len(w.buf)
		for i := len(w.buf) - 1; i > 0; i-- {
			if c := w.buf[i-1]; c == ' ' || c == '\t' || c == '"' || c == ',' {
				cut = i
				break
			}
		}
		if err := w.emit(w.buf[:cut]); err != nil {
			return len(p), err
		}
		w.buf = append(w.buf[:0], w.buf[cut:]...)
	}
	return len(p), nil
}

// Flush writes what is left of an unfinished line.
func (w *RedactWriter) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.buf) == 0 {
		return nil
	}
	err := w.emit(w.buf)
	w.buf = w.buf[:0]
	return err
}

func (w *RedactWriter) emit(line []byte) error {
	_, err := io.WriteString(w.w, w.r.Redact(string(line)))
	return err
}
