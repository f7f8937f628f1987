package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/keyexec/keyexec/sources"
)

// location is one distinct read: references that share it share the read.
type location struct {
	path    string // logical path as `vault kv get` takes it: "secret/llm/openai"
	version string // ?version=N, "" for the latest
	kv      int    // ?kv=1|2 override, 0 to detect
}

// readResult is what one read produced: the secret's fields, or an error.
type readResult struct {
	data    map[string]any
	version string // for the report: "kv2 version 3", "kv1"
	err     error
}

// mountInfo says how to read paths under a mount.
type mountInfo struct {
	path    string // "secret/", with the trailing slash
	typ     string // "kv", or another engine type read as a plain path
	version int    // 1 or 2 for kv
}

// mountCache remembers the mounts learned from the preflight during one
// Fetch, so paths under one mount cost one preflight. Paths that share a
// first segment are detected one at a time for that reason.
type mountCache struct {
	mu     sync.Mutex
	known  []mountInfo
	groups map[string]*sync.Mutex
}

func (c *mountCache) group(p string) *sync.Mutex {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups == nil {
		c.groups = map[string]*sync.Mutex{}
	}
	first, _, _ := strings.Cut(p, "/")
	g, ok := c.groups[first]
	if !ok {
		g = &sync.Mutex{}
		c.groups[first] = g
	}
	return g
}

func (c *mountCache) lookup(p string) (mountInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	best, found := mountInfo{}, false
	for _, m := range c.known {
		if strings.HasPrefix(p+"/", m.path) && len(m.path) > len(best.path) {
			best, found = m, true
		}
	}
	return best, found
}

func (c *mountCache) add(m mountInfo) {
	c.mu.Lock()
	c.known = append(c.known, m)
	c.mu.Unlock()
}

// locate turns a reference into the read it needs.
func (s *Source) locate(ref sources.Ref) (location, error) {
	if ref.Scheme != "vault" {
		return location{}, fmt.Errorf("not a vault:// reference: %w", sources.ErrInvalid)
	}
	loc := location{path: strings.Trim(ref.Path, "/"), version: ref.Query.Get("version")}
	if loc.path == "" {
		return location{}, fmt.Errorf("empty path: write vault://MOUNT/PATH#FIELD: %w", sources.ErrInvalid)
	}
	switch ref.Query.Get("kv") {
	case "1":
		loc.kv = 1
	case "2":
		loc.kv = 2
	}
	if loc.kv == 1 && loc.version != "" {
		return location{}, fmt.Errorf("?version needs KV v2, but the reference says ?kv=1: %w", sources.ErrInvalid)
	}
	return loc, nil
}

// configuredMount finds the longest vault.kv_version mount that holds p.
func (s *Source) configuredMount(p string) (string, int, bool) {
	best, version := "", 0
	for m, v := range s.set.kvVersion {
		if (p == m || strings.HasPrefix(p, m+"/")) && len(m) > len(best) {
			best, version = m, v
		}
	}
	return best, version, best != ""
}

// mountFor decides how to read loc: the ?kv override, vault.kv_version, or
// Vault's answer to sys/internal/ui/mounts/PATH (as the Vault CLI asks).
func (ss *session) mountFor(ctx context.Context, loc location) (mountInfo, error) {
	cm, cv, configured := ss.src.configuredMount(loc.path)
	if loc.kv != 0 {
		if !configured {
			cm, _, _ = strings.Cut(loc.path, "/")
		}
		return mountInfo{path: cm + "/", typ: "kv", version: loc.kv}, nil
	}
	if configured {
		return mountInfo{path: cm + "/", typ: "kv", version: cv}, nil
	}
	g := ss.mounts.group(loc.path)
	g.Lock()
	defer g.Unlock()
	if m, ok := ss.mounts.lookup(loc.path); ok {
		return m, nil
	}
	m, err := ss.preflight(ctx, loc.path)
	if err == nil {
		ss.mounts.add(m)
	}
	return m, err
}

// preflight asks Vault which mount serves p and which KV version it runs.
func (ss *session) preflight(ctx context.Context, p string) (mountInfo, error) {
	apiPath := "sys/internal/ui/mounts/" + p
	secret, status, err := ss.get(ctx, apiPath, nil)
	first, _, _ := strings.Cut(p, "/")
	switch {
	case status == http.StatusNotFound:
		// Vault before 0.10 has no such endpoint and only KV v1; the CLI
		// assumes the same.
		return mountInfo{path: first + "/", typ: "kv", version: 1}, nil
	case status == http.StatusForbidden:
		if info := ss.tokenInfo(ctx); info == tokenInvalid {
			return mountInfo{}, &vaultError{msg: fmt.Sprintf("look up the mount of %s: vault rejected %s: %s", p, ss.who, info), kind: sources.ErrPermission, cause: err}
		}
		return mountInfo{}, &vaultError{
			msg: fmt.Sprintf("vault would not say which secrets engine serves %s (403 on %s for %s): either no engine is mounted there, "+
				"or the token may not read it; if the token may read the secret but Vault's mount lookup is blocked, "+
				"set vault.kv_version (for example {%s: 2}) or add ?kv=2 to the reference", p, apiPath, ss.who, first),
			kind: sources.ErrPermission, cause: err}
	case err != nil:
		return mountInfo{}, ss.describe(ctx, err, "look up the mount of "+p)
	case secret == nil:
		return mountInfo{}, fmt.Errorf("look up the mount of %s: empty answer from vault: %w", p, sources.ErrUnavailable)
	}
	m := mountInfo{typ: "kv", version: 1}
	mp, _ := secret.Data["path"].(string)
	m.path = relativeMount(p, mp)
	if t, ok := secret.Data["type"].(string); ok && t != "" && t != "generic" {
		m.typ = t
	}
	if opts, ok := secret.Data["options"].(map[string]any); ok {
		if v, _ := opts["version"].(string); v == "2" {
			m.version = 2
		}
	}
	return m, nil
}

// relativeMount returns the mount path as a prefix of p. Vault answers with
// the mount's full path, which starts with namespaces that p, being relative
// to the request's namespace, lacks: drop leading segments until it fits.
func relativeMount(p, mountPath string) string {
	mp := strings.TrimPrefix(mountPath, "/")
	if mp != "" && !strings.HasSuffix(mp, "/") {
		mp += "/"
	}
	for mp != "" && !strings.HasPrefix(p+"/", mp) {
		_, rest, _ := strings.Cut(mp, "/")
		mp = rest
	}
	if mp == "" {
		first, _, _ := strings.Cut(p, "/")
		return first + "/"
	}
	return mp
}

// read performs one location's read.
func (ss *session) read(ctx context.Context, loc location) readResult {
	m, err := ss.mountFor(ctx, loc)
	if err != nil {
		return readResult{err: err}
	}
	rest := strings.TrimPrefix(loc.path+"/", m.path)
	rest = strings.TrimSuffix(rest, "/")
	kv2 := m.typ == "kv" && m.version == 2
	label := fmt.Sprintf("kv%d", m.version)
	if m.typ != "kv" {
		label = m.typ + " engine"
	}
	if !kv2 && loc.version != "" {
		return readResult{err: fmt.Errorf("?version needs KV v2, but %s is %s (mount %s): drop ?version: %w", loc.path, label, m.path, sources.ErrInvalid)}
	}
	apiPath, params := loc.path, url.Values(nil)
	if kv2 {
		if rest == "" {
			return readResult{err: fmt.Errorf("%s is the KV v2 mount itself: name a secret under it: %w", loc.path, sources.ErrInvalid)}
		}
		apiPath = m.path + "data/" + rest
		if loc.version != "" {
			params = url.Values{"version": {loc.version}}
		}
	}
	secret, status, err := ss.get(ctx, apiPath, params)
	where := fmt.Sprintf("read %s (%s mount %s)", loc.path, label, m.path)
	switch {
	case status == http.StatusNotFound:
		return readResult{err: ss.notFound(ctx, loc, m, rest, secret, label)}
	case status == http.StatusForbidden || status == http.StatusUnauthorized:
		msg := fmt.Sprintf("vault denied reading %s to %s: its policy needs \"read\" on %s", loc.path, ss.who, apiPath)
		if info := ss.tokenInfo(ctx); info != "" {
			msg += " (" + info + ")"
		}
		return readResult{err: &vaultError{msg: msg, kind: sources.ErrPermission, cause: err}}
	case err != nil:
		return readResult{err: ss.describe(ctx, err, where)}
	case secret == nil:
		return readResult{err: fmt.Errorf("%s: empty answer: %w", where, sources.ErrNotFound)}
	}
	if !kv2 {
		return readResult{data: secret.Data, version: label}
	}
	data, _ := secret.Data["data"].(map[string]any)
	meta, _ := secret.Data["metadata"].(map[string]any)
	return readResult{data: data, version: "kv2 version " + fmt.Sprint(meta["version"])}
}

// notFound explains a 404: a deleted or destroyed KV v2 version, a missing
// version, or a missing secret, with the names next to it when the token
// may list them.
func (ss *session) notFound(ctx context.Context, loc location, m mountInfo, rest string, secret *api.Secret, label string) error {
	if secret != nil {
		if meta, ok := secret.Data["metadata"].(map[string]any); ok {
			v := fmt.Sprint(meta["version"])
			if destroyed, _ := meta["destroyed"].(bool); destroyed {
				return fmt.Errorf("version %s of %s was destroyed: point ?version at another version: %w", v, loc.path, sources.ErrNotFound)
			}
			if dt, _ := meta["deletion_time"].(string); dt != "" {
				return fmt.Errorf("version %s of %s was deleted (%s): `vault kv undelete -versions=%s %s`, or write a new version: %w", v, loc.path, dt, v, loc.path, sources.ErrNotFound)
			}
		}
	}
	if loc.version != "" {
		return fmt.Errorf("%s has no version %s (%s mount %s): %w", loc.path, loc.version, label, m.path, sources.ErrNotFound)
	}
	msg := fmt.Sprintf("no secret at %s (%s mount %s)", loc.path, label, m.path)
	if names := ss.siblings(ctx, m, rest); names != "" {
		msg += "; " + names
	}
	return fmt.Errorf("%s: %w", msg, sources.ErrNotFound)
}

// siblings lists the secret names in the missing secret's folder, once and
// best effort: a token without "list" gets no hint.
func (ss *session) siblings(ctx context.Context, m mountInfo, rest string) string {
	dir := ""
	if i := strings.LastIndex(rest, "/"); i >= 0 {
		dir = rest[:i+1]
	}
	listPath := m.path + dir
	if m.typ == "kv" && m.version == 2 {
		listPath = m.path + "metadata/" + dir
	}
	lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	r := ss.client.NewRequest(http.MethodGet, "/v1/"+listPath)
	r.Params.Set("list", "true")
	resp, err := ss.client.RawRequestWithContext(lctx, r)
	if resp != nil {
		defer resp.Body.Close()
	}
	if err != nil {
		return ""
	}
	secret, err := api.ParseSecret(resp.Body)
	if err != nil || secret == nil {
		return ""
	}
	raw, _ := secret.Data["keys"].([]any)
	var keys []string
	for _, k := range raw {
		if k, ok := k.(string); ok {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return ""
	}
	sort.Strings(keys)
	more := ""
	if len(keys) > 20 {
		keys, more = keys[:20], fmt.Sprintf(" and %d more", len(keys)-20)
	}
	return fmt.Sprintf("%s%s holds: %s%s", m.path, dir, strings.Join(keys, ", "), more)
}

// get performs one GET with retries. It returns the parsed secret (also for
// a 404 that carries data, as KV v2 does for a deleted version), the final
// HTTP status (0 when there was no answer) and the error, if any.
func (ss *session) get(ctx context.Context, apiPath string, params url.Values) (*api.Secret, int, error) {
	var (
		secret *api.Secret
		status int
	)
	err := retry(ctx, func(ctx context.Context) error {
		secret, status = nil, 0
		r := ss.client.NewRequest(http.MethodGet, "/v1/"+apiPath)
		for k, vs := range params {
			r.Params[k] = vs
		}
		resp, err := ss.client.RawRequestWithContext(ctx, r)
		if resp == nil {
			return err
		}
		defer resp.Body.Close()
		if errors.As(err, new(*tooLargeError)) {
			return err // an error status whose body is not Vault's
		}
		status = resp.StatusCode
		if err == nil && status >= 300 && status < 400 {
			// The api client follows one redirect (standby to active); a
			// second is a loop or a proxy, not Vault.
			return &redirectError{status: status, location: resp.Header.Get("Location")}
		}
		if err == nil || status == http.StatusNotFound {
			s, perr := api.ParseSecret(resp.Body)
			switch {
			case perr == nil:
				secret = s
			case errors.As(perr, new(*tooLargeError)):
				status = 0
				return perr
			case err == nil:
				return fmt.Errorf("vault's answer for %s is not JSON: %w: %w", apiPath, perr, sources.ErrUnavailable)
			}
		}
		return err
	})
	return secret, status, err
}
