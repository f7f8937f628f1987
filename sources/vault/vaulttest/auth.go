package vaulttest

import (
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// token is an issued Vault token.
type token struct {
	id       string
	accessor string
	policies []string
	root     bool
	path     string // auth path that issued it, e.g. "auth/approle/login"
	meta     map[string]any
	issued   time.Time
}

// authMount is an enabled auth method with its roles.
type authMount struct {
	typ   string
	roles map[string]*authRole
}

// authRole is an AppRole or Kubernetes role.
type authRole struct {
	name     string
	roleID   string
	secretID map[string]bool
	jwt      string
	policies []string
}

// rule is one path block of an ACL policy.
type rule struct {
	pattern string
	re      *regexp.Regexp
	glob    bool
	caps    map[string]bool
}

// defaultPolicy is the part of Vault's built-in "default" policy that
// matters here: a token may look itself up and revoke itself.
const defaultPolicy = `
path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
path "auth/token/revoke-self" { capabilities = ["update"] }
path "sys/capabilities-self" { capabilities = ["update"] }
path "cubbyhole/*" { capabilities = ["create", "read", "update", "delete", "list"] }
`

var (
	pathBlock = regexp.MustCompile(`path\s+"([^"]+)"\s*\{([^}]*)\}`)
	capsList  = regexp.MustCompile(`capabilities\s*=\s*\[([^\]]*)\]`)
	quoted    = regexp.MustCompile(`"([^"]*)"`)
)

// parsePolicy reads the path/capabilities subset of Vault's policy HCL.
func parsePolicy(hcl string) []rule {
	var rules []rule
	for _, m := range pathBlock.FindAllStringSubmatch(hcl, -1) {
		r := rule{pattern: m[1], caps: map[string]bool{}}
		if c := capsList.FindStringSubmatch(m[2]); c != nil {
			for _, q := range quoted.FindAllStringSubmatch(c[1], -1) {
				r.caps[q[1]] = true
			}
		}
		r.re, r.glob = compilePattern(m[1])
		rules = append(rules, r)
	}
	return rules
}

// compilePattern turns a policy path into a regexp: + is one segment, a
// trailing * any suffix.
func compilePattern(p string) (*regexp.Regexp, bool) {
	glob := strings.HasSuffix(p, "*")
	body := strings.TrimSuffix(p, "*")
	parts := strings.Split(body, "/")
	for i, part := range parts {
		if part == "+" {
			parts[i] = `[^/]+`
		} else {
			parts[i] = regexp.QuoteMeta(part)
		}
	}
	expr := "^" + strings.Join(parts, "/")
	if glob {
		expr += ".*"
	}
	return regexp.MustCompile(expr + "$"), glob
}

// denied reports whether a Deny rule covers p for tok.
func (s *Server) denied(tok *token, p string) bool {
	for _, pat := range s.deny[tok.id] {
		if re, _ := compilePattern(pat); re.MatchString(p) {
			return true
		}
	}
	return false
}

// allowed applies Vault's ACL rules: an exact rule beats globs, a longer
// glob beats a shorter one, and deny wins within the chosen rule.
func (s *Server) allowed(tok *token, p, capability string) bool {
	if s.denied(tok, p) {
		return false
	}
	if tok.root {
		return true
	}
	var best *rule
	merged := map[string]bool{}
	for _, r := range s.rules(tok) {
		if !r.re.MatchString(p) {
			continue
		}
		switch {
		case best == nil, !r.glob && best.glob, r.glob == best.glob && len(r.pattern) > len(best.pattern):
			best, merged = &r, map[string]bool{}
		case r.glob != best.glob || len(r.pattern) != len(best.pattern):
			continue
		}
		for c := range r.caps {
			merged[c] = true
		}
	}
	if best == nil || merged["deny"] {
		return false
	}
	if capability == "update" {
		return merged["update"] || merged["create"]
	}
	return merged[capability]
}

// mountAccess reports whether tok may reach anything under mount, as Vault
// checks before answering the mounts preflight.
func (s *Server) mountAccess(tok *token, mount string) bool {
	if tok.root {
		return true
	}
	for _, r := range s.rules(tok) {
		if r.caps["deny"] || len(r.caps) == 0 {
			continue
		}
		pat := strings.TrimSuffix(r.pattern, "*")
		if strings.HasPrefix(pat, mount) || strings.HasPrefix(mount, pat) || r.re.MatchString(mount) {
			return true
		}
	}
	return false
}

func (s *Server) rules(tok *token) []rule {
	rules := parsePolicy(defaultPolicy)
	for _, name := range tok.policies {
		rules = append(rules, s.policies[name]...)
	}
	return rules
}

func (s *Server) putPolicy(rq *request, name string) {
	switch rq.r.Method {
	case http.MethodPost, http.MethodPut:
		hcl, _ := rq.body["policy"].(string)
		if hcl == "" {
			hcl, _ = rq.body["rules"].(string)
		}
		s.policies[name] = parsePolicy(hcl)
		rq.w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		delete(s.policies, name)
		rq.w.WriteHeader(http.StatusNoContent)
	default:
		writeErrors(rq.w, http.StatusMethodNotAllowed, "unsupported operation")
	}
}

// tokenTTL is the TTL of every token the fake issues, in seconds.
const tokenTTL = 600

// issue creates a token and returns Vault's "auth" block for it.
func (s *Server) issue(policies []string, path string, meta map[string]any) map[string]any {
	t := &token{id: "hvs." + randomHex(12), accessor: randomHex(12), path: path, meta: meta, issued: time.Now().UTC()}
	t.policies = append([]string{"default"}, policies...)
	s.tokens[t.id] = t
	return map[string]any{
		"client_token":    t.id,
		"accessor":        t.accessor,
		"policies":        t.policies,
		"token_policies":  t.policies,
		"metadata":        meta,
		"lease_duration":  tokenTTL,
		"renewable":       true,
		"entity_id":       "",
		"token_type":      "service",
		"orphan":          path != "auth/token/create",
		"mfa_requirement": nil,
		"num_uses":        0,
	}
}

func (s *Server) createToken(rq *request) {
	var policies []string
	if ps, ok := rq.body["policies"].([]any); ok {
		for _, p := range ps {
			if p, ok := p.(string); ok && p != "default" {
				policies = append(policies, p)
			}
		}
	}
	writeJSON(rq.w, http.StatusOK, envelope(nil, s.issue(policies, "auth/token/create", nil), nil))
}

// tokenData is what lookup-self and lookup-accessor say about t; the
// accessor lookup leaves the token's id empty, as Vault does.
func tokenData(t *token, withID bool) map[string]any {
	d := map[string]any{
		"accessor":         t.accessor,
		"creation_time":    t.issued.Unix(),
		"creation_ttl":     tokenTTL,
		"display_name":     "token",
		"entity_id":        "",
		"expire_time":      t.issued.Add(tokenTTL * time.Second).Format(time.RFC3339Nano),
		"explicit_max_ttl": 0,
		"id":               "",
		"issue_time":       t.issued.Format(time.RFC3339Nano),
		"meta":             t.meta,
		"num_uses":         0,
		"orphan":           t.path != "auth/token/create" || t.root,
		"path":             t.path,
		"policies":         t.policies,
		"renewable":        !t.root,
		"ttl":              max(0, tokenTTL-int(time.Since(t.issued).Seconds())),
		"type":             "service",
	}
	if withID {
		d["id"] = t.id
	}
	if t.root {
		d["creation_ttl"], d["expire_time"], d["ttl"] = 0, nil, 0
	}
	if name, _, ok := strings.Cut(strings.TrimPrefix(t.path, "auth/"), "/"); ok && name != "token" {
		d["display_name"] = name
	}
	return d
}

func (s *Server) lookupSelf(rq *request) { writeSecret(rq.w, http.StatusOK, tokenData(rq.tok, true)) }

// listAccessors answers LIST auth/token/accessors.
func (s *Server) listAccessors(rq *request) {
	keys := make([]string, 0, len(s.tokens))
	for _, t := range s.tokens {
		keys = append(keys, t.accessor)
	}
	sort.Strings(keys)
	writeSecret(rq.w, http.StatusOK, map[string]any{"keys": keys})
}

// lookupAccessor answers POST auth/token/lookup-accessor {"accessor": …}.
func (s *Server) lookupAccessor(rq *request) {
	acc, _ := rq.body["accessor"].(string)
	for _, t := range s.tokens {
		if t.accessor == acc && acc != "" {
			writeSecret(rq.w, http.StatusOK, tokenData(t, false))
			return
		}
	}
	writeErrors(rq.w, http.StatusBadRequest, multiError("invalid accessor"))
}

func (s *Server) revokeSelf(rq *request) {
	if rq.r.Method != http.MethodPost && rq.r.Method != http.MethodPut {
		writeErrors(rq.w, http.StatusMethodNotAllowed, "unsupported operation")
		return
	}
	delete(s.tokens, rq.tok.id)
	s.revoked = append(s.revoked, rq.tok.id)
	rq.w.WriteHeader(http.StatusNoContent)
}

// sysAuth answers POST sys/auth/MOUNT {"type": …} (enable an auth method).
func (s *Server) sysAuth(rq *request, name string) {
	name = strings.Trim(name, "/") + "/"
	if rq.r.Method == http.MethodDelete {
		delete(rq.ns.auths, name)
		rq.w.WriteHeader(http.StatusNoContent)
		return
	}
	if _, ok := rq.ns.auths[name]; ok {
		writeErrors(rq.w, http.StatusBadRequest, "path is already in use at "+name)
		return
	}
	typ, _ := rq.body["type"].(string)
	rq.ns.auths[name] = &authMount{typ: typ, roles: map[string]*authRole{}}
	rq.w.WriteHeader(http.StatusNoContent)
}

// authConfig serves AppRole role management under auth/MOUNT/role/…:
// POST role/NAME, GET role/NAME/role-id, POST role/NAME/secret-id.
func (s *Server) authConfig(rq *request, p string) {
	mountName, rest, _ := strings.Cut(p, "/")
	am, ok := rq.ns.auths[mountName+"/"]
	parts := strings.Split(rest, "/")
	if !ok || am.typ != "approle" || len(parts) < 2 || parts[0] != "role" {
		writeErrors(rq.w, http.StatusNotFound, "no handler for route \"auth/"+p+"\". route entry not found.")
		return
	}
	name := parts[1]
	role := am.roles[name]
	switch {
	case len(parts) == 2 && (rq.r.Method == http.MethodPost || rq.r.Method == http.MethodPut):
		if role == nil {
			role = &authRole{name: name, roleID: uuid(), secretID: map[string]bool{}}
			am.roles[name] = role
		}
		role.policies = nil
		for _, key := range []string{"token_policies", "policies"} {
			switch ps := rq.body[key].(type) {
			case []any:
				for _, p := range ps {
					if p, ok := p.(string); ok {
						role.policies = append(role.policies, p)
					}
				}
			case string:
				role.policies = append(role.policies, strings.Split(ps, ",")...)
			}
		}
		rq.w.WriteHeader(http.StatusNoContent)
	case role == nil:
		writeErrors(rq.w, http.StatusBadRequest, "role \""+name+"\" does not exist")
	case len(parts) == 3 && parts[2] == "role-id" && rq.r.Method == http.MethodGet:
		writeSecret(rq.w, http.StatusOK, map[string]any{"role_id": role.roleID})
	case len(parts) == 3 && parts[2] == "secret-id" && (rq.r.Method == http.MethodPost || rq.r.Method == http.MethodPut):
		id := uuid()
		role.secretID[id] = true
		writeSecret(rq.w, http.StatusOK, map[string]any{"secret_id": id, "secret_id_accessor": uuid(), "secret_id_num_uses": 0, "secret_id_ttl": 0})
	default:
		writeErrors(rq.w, http.StatusMethodNotAllowed, "unsupported operation")
	}
}

// login answers POST auth/MOUNT/login for AppRole and Kubernetes.
func (s *Server) login(rq *request, mountName string) {
	am, ok := rq.ns.auths[mountName+"/"]
	if !ok || (rq.r.Method != http.MethodPost && rq.r.Method != http.MethodPut) {
		writeErrors(rq.w, http.StatusForbidden, "permission denied")
		return
	}
	str := func(k string) string { v, _ := rq.body[k].(string); return v }
	path := "auth/" + mountName + "/login"
	switch am.typ {
	case "approle":
		roleID, secretID := str("role_id"), str("secret_id")
		if roleID == "" {
			writeErrors(rq.w, http.StatusBadRequest, "missing role_id")
			return
		}
		for _, role := range am.roles {
			if role.roleID == roleID && role.secretID[secretID] {
				auth := s.issue(role.policies, path, map[string]any{"role_name": role.name})
				writeJSON(rq.w, http.StatusOK, envelope(nil, auth, nil))
				return
			}
		}
		writeErrors(rq.w, http.StatusBadRequest, "invalid role or secret ID")
	case "kubernetes":
		role := am.roles[str("role")]
		switch {
		case str("role") == "":
			writeErrors(rq.w, http.StatusBadRequest, "missing role")
		case role == nil:
			writeErrors(rq.w, http.StatusBadRequest, "invalid role name \""+str("role")+"\"")
		case str("jwt") == "" || str("jwt") != role.jwt:
			writeErrors(rq.w, http.StatusForbidden, "permission denied")
		default:
			auth := s.issue(role.policies, path, map[string]any{"role": role.name, "service_account_name": "default",
				"service_account_namespace": "default", "service_account_secret_name": "", "service_account_uid": uuid()})
			writeJSON(rq.w, http.StatusOK, envelope(nil, auth, nil))
		}
	default:
		writeErrors(rq.w, http.StatusBadRequest, "unsupported auth method "+am.typ)
	}
}
