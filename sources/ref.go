package sources

import (
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Schemes lists every reference scheme keyexec knows, in the order the README
// documents them. A value is a reference when it starts with one of these
// followed by "://", or with "arn:aws:secretsmanager:".
var Schemes = []string{"vault", "awssm", "file", "cred", "env"}

// arnPrefixes mark a bare Secrets Manager ARN (secrets-init style
// reference), in the commercial, China and GovCloud partitions.
var arnPrefixes = []string{"arn:aws:secretsmanager:", "arn:aws-cn:secretsmanager:", "arn:aws-us-gov:secretsmanager:"}

func isARN(s string) bool {
	for _, p := range arnPrefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}

// Ref is a parsed secret reference. References are not secret: they name
// where a value lives, so they may be printed.
type Ref struct {
	Scheme string     // "vault", "awssm", "file", "cred" or "env"
	Path   string     // what to read: Vault path, secret name or ARN, file path, credential or variable name
	Field  string     // the part after '#': a field, JSON key or JSON pointer; "" for the whole value
	Query  url.Values // options after '?', such as version=2 or version-stage=AWSPREVIOUS
	Raw    string     // the reference as written
}

// String returns the reference as written.
func (r Ref) String() string { return r.Raw }

// Location identifies what a backend must read, without the field: two refs
// with the same Location are served by one read.
func (r Ref) Location() string {
	loc := r.Scheme + "://" + r.Path
	if len(r.Query) > 0 {
		loc += "?" + r.Query.Encode()
	}
	return loc
}

// IsRef reports whether v is written as a reference (starts with a known
// scheme). It says nothing about whether the reference is well formed: Parse
// does that, so a typo such as "vault:/x" is not a reference while
// "vault://" with an empty path is a malformed one.
func IsRef(v string) bool {
	if isARN(v) {
		return true
	}
	scheme, _, ok := strings.Cut(v, "://")
	if !ok {
		return false
	}
	for _, s := range Schemes {
		if scheme == s {
			return true
		}
	}
	return false
}

// LooksLikeRef reports whether v starts with a scheme that is a near miss of
// a known one ("vualt://", "Vault://", "aws-sm://", "secretsmanager://"), so
// that a typo fails closed instead of reaching the child as a literal.
// Connection strings (postgres://user:pass@…) and other URLs are not near
// misses, which matters because such values may hold passwords.
func LooksLikeRef(v string) (scheme string, ok bool) {
	scheme, _, found := strings.Cut(v, "://")
	if !found || IsRef(v) || len(scheme) > 20 {
		return "", false
	}
	low := strings.ToLower(scheme)
	switch low {
	case "secretsmanager", "secrets-manager", "aws-sm", "aws", "sm", "ssm", "kv", "secret", "secrets", "credential", "credentials", "creds", "hashicorp-vault":
		return scheme, true
	}
	for _, s := range Schemes {
		if editDistance(low, s) <= 1 || (len(s) > 4 && editDistance(low, s) <= 2) {
			return scheme, true
		}
	}
	return "", false
}

// editDistance is the optimal-string-alignment distance of two short
// strings: insertions, deletions, substitutions and swaps of neighbours
// ("fiel" is one typo away from "file").
func editDistance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}

// MissingSlashes reports whether v is a registered scheme written without
// "//" ("vault:secret/x", "file:/run/secrets/k", "env:NAME"), and returns
// the reference the user meant. Such a value is never passed to the child as
// a literal: it is an error that shows the corrected reference. Anything
// else with a colon (a URL, "host:port", an unknown prefix) is no reference.
func MissingSlashes(v string) (fixed string, ok bool) {
	for _, s := range Schemes {
		rest, found := strings.CutPrefix(v, s+":")
		if !found || strings.HasPrefix(rest, "//") || isPort(rest) {
			continue // a reference, or host:port ("vault:8200" in a compose file)
		}
		if s == "file" && strings.HasPrefix(rest, "/") {
			return "file://" + rest, true // file:/abs → file:///abs
		}
		return s + "://" + strings.TrimLeft(rest, "/"), true
	}
	return "", false
}

// isPort reports whether s starts with a port number (digits, then the
// end or a path).
func isPort(s string) bool {
	digits, _, _ := strings.Cut(s, "/")
	return digits != "" && isDigits(digits)
}

// IsVarName reports whether s is a portable environment variable name:
// letters, digits and _, not starting with a digit.
func IsVarName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9') {
			return false
		}
	}
	return s != ""
}

// isCredName reports whether s is a systemd credential name: a plain file
// name, no slashes.
func isCredName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte("_.@:-", c) >= 0) {
			return false
		}
	}
	return s != "" && s != "." && s != ".."
}

// Parse parses a reference. Errors wrap ErrInvalid and say how to write the
// reference correctly.
func Parse(raw string) (Ref, error) {
	if isARN(raw) {
		return parseBody("awssm", raw, raw)
	}
	scheme, body, ok := strings.Cut(raw, "://")
	if !ok || !IsRef(raw) {
		return Ref{}, fmt.Errorf("%q is not a reference: want one of %s://…: %w", truncate(raw), strings.Join(Schemes, "://, "), ErrInvalid)
	}
	return parseBody(scheme, body, raw)
}

func parseBody(scheme, body, raw string) (Ref, error) {
	bad := func(format string, args ...any) (Ref, error) {
		return Ref{}, fmt.Errorf("reference %q: %s: %w", truncate(raw), fmt.Sprintf(format, args...), ErrInvalid)
	}
	if strings.ContainsAny(raw, "\x00\r\n\t ") {
		return bad("contains whitespace or control characters")
	}
	// Standard order is path?query#field; also accept path#field?query, the
	// order people write when they add an option to an existing reference.
	path, field, _ := strings.Cut(body, "#")
	var query string
	if p, q, ok := strings.Cut(path, "?"); ok {
		path, query = p, q
	} else if f, q, ok := strings.Cut(field, "?"); ok {
		field, query = f, q
	}
	values, err := url.ParseQuery(query)
	if err != nil {
		return bad("options after '?' do not parse: %v", err)
	}
	for k, vs := range values {
		if len(vs) != 1 || vs[0] == "" {
			return bad("option %q needs exactly one non-empty value", k)
		}
	}
	if len(values) == 0 {
		values = nil
	}
	if path == "" {
		return bad("empty path: write %s://PATH[#FIELD]", scheme)
	}
	if _, err := url.PathUnescape(path); err != nil {
		return bad("bad %%-escape in the path: write the path as it is, unescaped")
	}
	if !utf8.ValidString(raw) {
		return bad("not valid UTF-8")
	}
	if strings.Contains(body, "#") && field == "" {
		return bad("empty field after '#': name a field or drop the '#'")
	}
	ref := Ref{Scheme: scheme, Path: path, Field: field, Query: values, Raw: raw}
	if problem := refProblem(&ref); problem != "" {
		return bad("%s", problem)
	}
	return ref, nil
}

// refProblem checks a parsed reference's options and its scheme's path
// rules, and says what is wrong ("" when nothing is). It trims a Vault path
// in place.
func refProblem(ref *Ref) string {
	values, path, field := ref.Query, ref.Path, ref.Field
	allowed := append(map[string][]string{
		"vault": {"version", "kv"},
		"awssm": {"version-stage", "version-id", "region"},
	}[ref.Scheme], "raw")
	for k := range values {
		if !contains(allowed, k) {
			return fmt.Sprintf("unknown option %q for %s:// (known: %s)", RedactText(k), ref.Scheme, strings.Join(allowed, ", "))
		}
	}
	switch raw := values.Get("raw"); {
	case raw != "" && raw != "true" && raw != "false":
		return "raw must be true or false, got " + ShowValue(raw)
	case raw == "true" && field != "":
		return fmt.Sprintf("?raw=true takes the whole value: drop the #%s, or drop ?raw", RedactText(field))
	}
	switch ref.Scheme {
	case "vault":
		ref.Path = strings.Trim(path, "/")
		if ref.Path == "" || strings.Contains(ref.Path, "//") {
			return "Vault path must look like MOUNT/PATH, as `vault kv get` takes it"
		}
		if v := values.Get("version"); v != "" && !isDigits(v) {
			return "version must be a positive integer, got " + ShowValue(v)
		}
		if kv := values.Get("kv"); kv != "" && kv != "1" && kv != "2" {
			return "kv must be 1 or 2, got " + ShowValue(kv)
		}
	case "awssm":
		if strings.HasPrefix(path, "arn:") && !isARN(path) {
			return "not a Secrets Manager ARN: want arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME"
		}
		if isARN(path) && len(strings.Split(path, ":")) < 7 {
			return "incomplete ARN: want arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME"
		}
		if values.Get("version-stage") != "" && values.Get("version-id") != "" {
			return "give version-stage or version-id, not both"
		}
	case "file":
		// file:///abs/path, or file://relative/path from the working directory.
	case "cred":
		if !isCredName(path) {
			return fmt.Sprintf("credential name must be a plain file name as in LoadCredential=NAME, got %q", RedactText(path))
		}
	case "env":
		if !IsVarName(path) {
			return fmt.Sprintf("%q is not a variable name", RedactText(path))
		}
	}
	return ""
}

// truncate shortens a reference for an error message and hides anything in
// it that looks like a pasted key.
func truncate(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return RedactText(s)
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != "" && s != "0"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
