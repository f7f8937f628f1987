package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"

	"github.com/keyexec/keyexec/sources"
)

// location is one distinct read: references that share it share the read.
type location struct {
	path    string // logical path as `vault kv get` takes it: "secret/llm/openai"
	version string // ?version=N, "" for the latest
	kv      int    // ?kv=1|2 override, 0 to detect
}

// mountInfo says how to read paths under a mount.
type mountInfo struct {
	path    string // "secret/", with the trailing slash
	typ     string // "kv", or another engine type read as a plain path
	version int    // 1 or 2 for kv
}

func (m mountInfo) kv2() bool { return m.typ == "kv" && m.version == 2 }

// holds reports whether p lies under the mount.
func (m mountInfo) holds(p string) bool { return strings.HasPrefix(p+"/", m.path) }

// label names the engine for reports and errors: "kv2", "kv1", "pki engine".
func (m mountInfo) label() string {
	if m.typ != "kv" {
		return m.typ + " engine"
	}
	return fmt.Sprintf("kv%d", m.version)
}

// mountTable settles which mount serves each path during one Fetch. The
// first path under a first segment asks Vault; the paths after it wait for
// that answer instead of asking again, so N paths of one mount cost one
// lookup. A failed lookup is the answer for the paths waiting on it too.
type mountTable struct {
	mu     sync.Mutex
	known  []mountInfo
	groups map[string]*settlement // first segment → its first lookup
}

// errAbandoned: the context ended while a path waited for another path's
// mount lookup; the caller describes why.
var errAbandoned = errors.New("stopped waiting for the mount lookup")

// settlement is one lookup that later paths wait for.
type settlement struct {
	done chan struct{}
	m    mountInfo
	err  error
}

// settle returns the mount serving p, calling lookup when no answer of this
// Fetch covers it yet.
func (t *mountTable) settle(ctx context.Context, p string, lookup func() (mountInfo, error)) (mountInfo, error) {
	first, _, _ := strings.Cut(p, "/")
	t.mu.Lock()
	if m, ok := t.longest(p); ok {
		t.mu.Unlock()
		return m, nil
	}
	if t.groups == nil {
		t.groups = map[string]*settlement{}
	}
	g, waiting := t.groups[first]
	if !waiting {
		g = &settlement{done: make(chan struct{})}
		t.groups[first] = g
	}
	t.mu.Unlock()
	if !waiting {
		g.m, g.err = lookup()
		t.learn(g.m, g.err)
		close(g.done)
		return g.m, g.err
	}
	select {
	case <-g.done:
	case <-ctx.Done():
		return mountInfo{}, errAbandoned
	}
	if g.err != nil || g.m.holds(p) {
		return g.m, g.err
	}
	// The first path's mount lies deeper than this one ("team/kv/" for
	// "team/other/x"): this path needs a lookup of its own.
	m, err := lookup()
	t.learn(m, err)
	return m, err
}

func (t *mountTable) learn(m mountInfo, err error) {
	if err == nil {
		t.mu.Lock()
		t.known = append(t.known, m)
		t.mu.Unlock()
	}
}

// longest finds the deepest known mount holding p; t.mu must be held.
func (t *mountTable) longest(p string) (mountInfo, bool) {
	best, found := mountInfo{}, false
	for _, m := range t.known {
		if m.holds(p) && len(m.path) > len(best.path) {
			best, found = m, true
		}
	}
	return best, found
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

// fixedMount is the mount the configuration gives for loc, with no lookup:
// the ?kv override (at the first segment unless vault.kv_version names a
// deeper mount), else the longest vault.kv_version mount holding the path.
func (s *Source) fixedMount(loc location) (mountInfo, bool) {
	best, version := "", 0
	for m, v := range s.set.kvVersion {
		if (loc.path == m || strings.HasPrefix(loc.path, m+"/")) && len(m) > len(best) {
			best, version = m, v
		}
	}
	if loc.kv != 0 {
		if best == "" {
			best, _, _ = strings.Cut(loc.path, "/")
		}
		return mountInfo{path: best + "/", typ: "kv", version: loc.kv}, true
	}
	return mountInfo{path: best + "/", typ: "kv", version: version}, best != ""
}

// lookupMount asks Vault which mount serves p and which KV version it runs
// (sys/internal/ui/mounts/PATH, as the Vault CLI asks).
func (ss *session) lookupMount(ctx context.Context, p string) (mountInfo, error) {
	apiPath := "sys/internal/ui/mounts/" + p
	ans := ss.get(ctx, apiPath, nil)
	first, _, _ := strings.Cut(p, "/")
	what := "look up the mount of " + p
	switch {
	case ans.err != nil && (sources.Stopped(ctx) != nil || ss.configProblem(ans.err, what) != nil):
		return mountInfo{}, ss.describe(ctx, ans.err, what)
	case ans.status == http.StatusNotFound:
		// Vault before 0.10 has no such endpoint and only KV v1; the CLI
		// assumes the same.
		return mountInfo{path: first + "/", typ: "kv", version: 1}, nil
	case ans.status == http.StatusForbidden:
		if info := ss.tokenInfo(ctx); info == tokenInvalid {
			return mountInfo{}, &vaultError{msg: fmt.Sprintf("%s: vault rejected %s: %s", what, ss.who, info), kind: sources.ErrPermission, cause: ans.err}
		}
		return mountInfo{}, &vaultError{
			msg: fmt.Sprintf("vault would not say which secrets engine serves %s (403 on %s for %s): either no engine is mounted there, "+
				"or the token may not read it; if the token may read the secret but Vault's mount lookup is blocked, "+
				"set vault.kv_version (for example {%s: 2}) or add ?kv=2 to the reference", p, apiPath, ss.who, first),
			kind: sources.ErrPermission, cause: ans.err}
	case ans.err != nil:
		return mountInfo{}, ss.describe(ctx, ans.err, what)
	case ans.secret == nil:
		return mountInfo{}, fmt.Errorf("%s: empty answer from vault: %w", what, sources.ErrUnavailable)
	}
	m := mountInfo{typ: "kv", version: 1}
	mp, _ := ans.secret.Data["path"].(string)
	m.path = relativeMount(p, mp)
	if t, ok := ans.secret.Data["type"].(string); ok && t != "" && t != "generic" {
		m.typ = t
	}
	if opts, ok := ans.secret.Data["options"].(map[string]any); ok {
		if v, _ := opts["version"].(string); v == "2" {
			m.version = 2
		}
	}
	return m, nil
}

// relativeMount returns the mount path as a prefix of p. Vault may answer
// with the mount's full path, which starts with namespaces that p, being
// relative to the request's namespace, lacks: drop leading segments until
// it fits.
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
