package vault

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/keyexec/keyexec/sources"
)

// readResult is what one read produced: the secret's fields, or an error.
type readResult struct {
	data    map[string]any
	version string // for the report: "kv2 version 3", "kv1"
	err     error
}

// answer is one GET's outcome after its retries.
type answer struct {
	secret *api.Secret // also for a 404 that carries data (a deleted KV v2 version)
	status int         // the final HTTP status, 0 when there was no answer
	err    error
}

// read performs one location's read.
//
// When the configuration does not say which KV version serves the path
// (vault.kv_version, ?kv=), the mount lookup and a speculative KV v2 read of
// the first segment's mount (FIRST/data/REST) go out at the same time, so
// that the usual case, KV v2 mounted at the first segment, costs one round
// trip. When the lookup says otherwise (KV v1, another engine, a deeper
// mount, a namespace in the path) the speculative answer is discarded and
// the right read follows: such a path costs one extra round trip, and
// Vault's audit log records one denied or not-found read of FIRST/data/REST.
// vault.kv_version or ?kv=1 avoids both.
func (ss *session) read(ctx context.Context, loc location) readResult {
	if m, ok := ss.src.fixedMount(loc); ok {
		return ss.readAt(ctx, loc, m)
	}
	spec := ss.speculate(ctx, loc)
	m, err := ss.mounts.settle(ctx, loc.path, func() (mountInfo, error) { return ss.lookupMount(ctx, loc.path) })
	if errors.Is(err, errAbandoned) {
		err = ss.describe(ctx, ctx.Err(), "look up the mount of "+loc.path)
	}
	if err != nil {
		spec.discard()
		return readResult{err: err}
	}
	if ans, ok := spec.use(m); ok {
		return ss.interpret(ctx, loc, m, ans)
	}
	if spec != nil {
		ss.src.log.Debug("vault: the speculative KV v2 read was discarded: set vault.kv_version for this mount to save a round trip",
			"path", loc.path, "mount", m.path, "engine", m.label())
	}
	return ss.readAt(ctx, loc, m)
}

// speculation is a KV v2 read of a location sent before its mount is known.
type speculation struct {
	mount  string // the mount it assumed: the first segment, "secret/"
	cancel context.CancelFunc
	done   chan struct{}
	ans    answer
}

// speculate starts the KV v2 read of loc at its first segment's mount, or
// returns nil when the path is the first segment alone.
func (ss *session) speculate(ctx context.Context, loc location) *speculation {
	first, rest, _ := strings.Cut(loc.path, "/")
	if rest == "" {
		return nil
	}
	sctx, cancel := context.WithCancel(ctx)
	sp := &speculation{mount: first + "/", cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(sp.done)
		apiPath, params := kv2Request(sp.mount, rest, loc.version)
		sp.ans = ss.get(sctx, apiPath, params)
	}()
	return sp
}

// use returns the speculative answer when m is the mount it assumed, and
// otherwise discards it.
func (sp *speculation) use(m mountInfo) (answer, bool) {
	if sp == nil {
		return answer{}, false
	}
	if !m.kv2() || m.path != sp.mount {
		sp.discard()
		return answer{}, false
	}
	<-sp.done
	sp.cancel()
	return sp.ans, true
}

// discard cancels the speculative read and waits for it to end, so that no
// request outlives the Fetch.
func (sp *speculation) discard() {
	if sp != nil {
		sp.cancel()
		<-sp.done
	}
}

func kv2Request(mount, rest, version string) (string, url.Values) {
	if version == "" {
		return mount + "data/" + rest, nil
	}
	return mount + "data/" + rest, url.Values{"version": {version}}
}

// readAt reads loc from the mount m.
func (ss *session) readAt(ctx context.Context, loc location, m mountInfo) readResult {
	rest := strings.TrimSuffix(strings.TrimPrefix(loc.path+"/", m.path), "/")
	if !m.kv2() && loc.version != "" {
		return readResult{err: fmt.Errorf("?version needs KV v2, but %s is %s (mount %s): drop ?version: %w", loc.path, m.label(), m.path, sources.ErrInvalid)}
	}
	if !m.kv2() {
		return ss.interpret(ctx, loc, m, ss.get(ctx, loc.path, nil))
	}
	if rest == "" {
		return readResult{err: fmt.Errorf("%s is the KV v2 mount itself: name a secret under it: %w", loc.path, sources.ErrInvalid)}
	}
	apiPath, params := kv2Request(m.path, rest, loc.version)
	return ss.interpret(ctx, loc, m, ss.get(ctx, apiPath, params))
}

// interpret turns the answer to loc's read at mount m into its result.
func (ss *session) interpret(ctx context.Context, loc location, m mountInfo, ans answer) readResult {
	rest := strings.TrimSuffix(strings.TrimPrefix(loc.path+"/", m.path), "/")
	apiPath := loc.path
	if m.kv2() {
		apiPath = m.path + "data/" + rest
	}
	where := fmt.Sprintf("read %s (%s mount %s)", loc.path, m.label(), m.path)
	switch {
	case ans.err != nil && (sources.Stopped(ctx) != nil || ss.configProblem(ans.err, where) != nil):
		return readResult{err: ss.describe(ctx, ans.err, where)}
	case ans.status == http.StatusNotFound:
		return readResult{err: ss.notFound(ctx, loc, m, rest, ans.secret)}
	case ans.status == http.StatusForbidden || ans.status == http.StatusUnauthorized:
		msg := fmt.Sprintf("vault denied reading %s to %s: its policy needs \"read\" on %s", loc.path, ss.who, apiPath)
		if info := ss.tokenInfo(ctx); info != "" {
			msg += " (" + info + ")"
		}
		return readResult{err: &vaultError{msg: msg, kind: sources.ErrPermission, cause: ans.err}}
	case ans.err != nil:
		return readResult{err: ss.describe(ctx, ans.err, where)}
	case ans.secret == nil:
		return readResult{err: fmt.Errorf("%s: empty answer: %w", where, sources.ErrNotFound)}
	}
	if !m.kv2() {
		return readResult{data: ans.secret.Data, version: m.label()}
	}
	data, _ := ans.secret.Data["data"].(map[string]any)
	meta, _ := ans.secret.Data["metadata"].(map[string]any)
	return readResult{data: data, version: "kv2 version " + fmt.Sprint(meta["version"])}
}

// notFound explains a 404: a deleted or destroyed KV v2 version, a missing
// version, or a missing secret, with the names next to it when the token
// may list them.
func (ss *session) notFound(ctx context.Context, loc location, m mountInfo, rest string, secret *api.Secret) error {
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
		return fmt.Errorf("%s has no version %s (%s mount %s): %w", loc.path, loc.version, m.label(), m.path, sources.ErrNotFound)
	}
	msg := fmt.Sprintf("no secret at %s (%s mount %s)", loc.path, m.label(), m.path)
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
	if m.kv2() {
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

// get performs one GET with retries, each attempt holding one of the
// session's request slots (Config.Concurrency).
func (ss *session) get(ctx context.Context, apiPath string, params url.Values) answer {
	var ans answer
	ans.err = retry(ctx, func(ctx context.Context) (string, error) {
		ans = answer{}
		select {
		case ss.slots <- struct{}{}:
			defer func() { <-ss.slots }()
		case <-ctx.Done():
			return "", ctx.Err()
		}
		r := ss.client.NewRequest(http.MethodGet, "/v1/"+apiPath)
		for k, vs := range params {
			r.Params[k] = vs
		}
		resp, err := ss.client.RawRequestWithContext(ctx, r)
		if resp == nil {
			return "", err
		}
		defer resp.Body.Close()
		retryAfter := resp.Header.Get("Retry-After")
		if errors.As(err, new(*tooLargeError)) {
			return "", err // an error status whose body is not Vault's
		}
		ans.status = resp.StatusCode
		if notVault(err) {
			ans.status = 0 // not Vault's 404: describe says what the address is
			return "", err
		}
		if err == nil && ans.status >= 300 && ans.status < 400 {
			// The api client follows one redirect (standby to active); a
			// second is a loop or a proxy, not Vault.
			return "", &redirectError{status: ans.status, location: resp.Header.Get("Location")}
		}
		if err == nil || ans.status == http.StatusNotFound {
			s, perr := api.ParseSecret(resp.Body)
			switch {
			case perr == nil:
				ans.secret = s
			case errors.As(perr, new(*tooLargeError)):
				ans.status = 0
				return "", perr
			case err == nil:
				return "", fmt.Errorf("vault's answer for %s is not JSON: %w: %w", apiPath, perr, sources.ErrUnavailable)
			}
		}
		return retryAfter, err
	})
	return ans
}
