package resolve

import (
	"fmt"
	"slices"
	"strings"

	"github.com/keyexec/keyexec/verify/provider"
)

// BuiltinScrub are the variables holding credentials keyexec itself uses,
// which never reach the child (and every KEYEXEC_* variable): scrub: adds
// to them, and keeping one takes pass_through: [NAME], reported.
func BuiltinScrub() []string { return []string{"VAULT_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID"} }

// scrub builds the child's environment from the final entries, leaving out
// the scrubbed variables, and gathers the secret values for the redactor.
func (r *Result) scrub(entries []*entry, opts Options) {
	scrub := map[string]string{}
	for _, s := range BuiltinScrub() {
		scrub[s] = "a credential keyexec uses"
	}
	for _, s := range opts.Scrub {
		scrub[s] = "scrub: in the config file"
	}
	for _, p := range opts.PassThrough {
		if why, builtin := scrub[p]; builtin && why != "scrub: in the config file" {
			delete(scrub, p)
			r.Warnings = append(r.Warnings, fmt.Sprintf("%s is passed to the child (pass_through: [%s]): the app can use %s", p, p, why))
		}
	}
	own := map[string]bool{}
	for _, c := range r.ownCredentials {
		own[c] = true
	}
	for _, e := range entries {
		if e.err != nil {
			continue
		}
		if r.secret(e) {
			r.Secrets = append(r.Secrets, e.value)
		}
		_, named := scrub[e.name]
		switch {
		case strings.HasPrefix(e.name, "KEYEXEC_") || named:
			r.Scrubbed = append(r.Scrubbed, e.name)
			continue
		case own[e.value] && e.value != "" && !slices.Contains(opts.PassThrough, e.name):
			r.Scrubbed = append(r.Scrubbed, e.name)
			r.Notes = append(r.Notes, e.name+" holds a credential keyexec itself used (a Vault token or secret ID it read): not passed to the child")
			continue
		}
		r.Environ = append(r.Environ, e.name+"="+e.value)
		r.Values[e.name] = e.value
		r.Origins[e.name] = e.origin
	}
	r.Secrets = append(r.Secrets, r.ownCredentials...)
}

// secret reports whether an entry's value is a secret the redactor must
// know: a key or token variable, or anything resolved from a reference but
// the known non-secret settings (base URLs, api-versions, IDs).
func (r *Result) secret(e *entry) bool {
	role, known := provider.RoleOf(e.name)
	if known {
		return role.Secret()
	}
	return e.ref != nil || isSecretName(e.name)
}

// isSecretName reports whether a variable's name says it holds a credential,
// not a path, an ID, an address or a selector naming one
// (AWS_WEB_IDENTITY_TOKEN_FILE, AZURE_CLIENT_ID, AZURE_TOKEN_CREDENTIALS).
func isSecretName(name string) bool {
	n := strings.ToUpper(name)
	for _, suffix := range []string{"_FILE", "_PATH", "_DIR", "_ID", "_URL", "_HOST", "_ENDPOINT", "_ADDR", "_CREDENTIALS", "_TYPE", "_NAME"} {
		if strings.HasSuffix(n, suffix) {
			return false
		}
	}
	for _, part := range []string{"KEY", "TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL"} {
		if strings.Contains(n, part) {
			return true
		}
	}
	return false
}
