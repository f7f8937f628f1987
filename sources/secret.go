package sources

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
)

// Secret holds a secret value. Every way of printing it (String, GoString,
// Format with any verb, slog) yields its fingerprint, never the value; only
// Reveal returns the raw string, for the final environment and probe headers.
type Secret struct{ v string }

// NewSecret wraps a raw value.
func NewSecret(v string) Secret { return Secret{v: v} }

// Reveal returns the raw value. Call it only where the value must leave
// keyexec: the child's environment or a request to the provider.
func (s Secret) Reveal() string { return s.v }

// IsZero reports whether the secret is empty.
func (s Secret) IsZero() bool { return s.v == "" }

// Fingerprint returns the printable identity of the value.
func (s Secret) Fingerprint() string { return Fingerprint(s.v) }

// String implements fmt.Stringer with the fingerprint.
func (s Secret) String() string { return Fingerprint(s.v) }

// GoString implements fmt.GoStringer with the fingerprint.
func (s Secret) GoString() string { return "sources.Secret(" + Fingerprint(s.v) + ")" }

// Format makes every fmt verb print the fingerprint (%x, %q and %v included).
func (s Secret) Format(f fmt.State, _ rune) { fmt.Fprint(f, Fingerprint(s.v)) }

// LogValue implements slog.LogValuer with the fingerprint.
func (s Secret) LogValue() slog.Value { return slog.StringValue(Fingerprint(s.v)) }

// MarshalText implements encoding.TextMarshaler (JSON, YAML) with the fingerprint.
func (s Secret) MarshalText() ([]byte, error) { return []byte(Fingerprint(s.v)), nil }

// Fingerprint is "sha256:" and the first 8 hex digits of the value's SHA-256,
// followed by "…" and the last 4 characters for values of 20 or more
// characters (long enough that 4 characters reveal nothing useful). An empty
// value is "(empty)".
func Fingerprint(v string) string {
	if v == "" {
		return "(empty)"
	}
	sum := sha256.Sum256([]byte(v))
	fp := "sha256:" + hex.EncodeToString(sum[:4])
	if r := []rune(v); len(r) >= 20 {
		fp += "…" + string(r[len(r)-4:])
	}
	return fp
}

// MaskedTail is the short form used in hints: "sk-…Wx3f" style, the scheme
// prefix of a known key shape (up to the first dash) and the last 4 characters.
func MaskedTail(v string) string {
	r := []rune(v)
	if len(r) < 20 {
		return Fingerprint(v)
	}
	prefix := ""
	for i, c := range r[:min(len(r), 16)] {
		if c == '-' || c == '_' {
			prefix = string(r[:i+1])
			break
		}
	}
	return prefix + "…" + string(r[len(r)-4:])
}
