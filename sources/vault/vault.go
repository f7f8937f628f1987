// Package vault reads vault:// references from HashiCorp Vault's KV secrets
// engines (v1 and v2, told apart from the mount as the Vault CLI does), with
// token, AppRole or Kubernetes authentication.
//
// A Source is configured from the config file's vault: section and, for what
// that leaves unset, from Vault's own VAULT_* variables in the environment it
// is given (never the process environment). It logs in lazily on each Fetch,
// reads each distinct path once, in parallel with a bound, retrying transient
// failures within the context's deadline. The mount lookup that tells KV v1
// from v2 overlaps a speculative KV v2 read (read.go), and a token obtained
// by logging in is revoked by Finish, beside the probe, not inside Fetch.
package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"

	"github.com/keyexec/keyexec/sources"
)

// Config configures the Vault source. Its mapstructure tags match the config
// file's vault: section. Unset fields fall back to Vault's standard
// variables in Env.
type Config struct {
	// Address of the Vault server; default VAULT_ADDR, else https://127.0.0.1:8200.
	Address string `mapstructure:"address"`
	// Namespace (Vault Enterprise); default VAULT_NAMESPACE.
	Namespace string `mapstructure:"namespace"`
	// Auth is the login method: "token" (the default when empty),
	// "approle" or "kubernetes".
	Auth string `mapstructure:"auth"`
	// TokenFile holds a token for token auth. When empty: VAULT_TOKEN, else
	// $HOME/.vault-token.
	TokenFile string `mapstructure:"token_file"`
	// Mount is the auth method's mount; default "approle" or "kubernetes".
	Mount string `mapstructure:"mount"`
	// RoleID for AppRole; default VAULT_ROLE_ID.
	RoleID string `mapstructure:"role_id"`
	// SecretID for AppRole; else SecretIDFile, else VAULT_SECRET_ID.
	SecretID     string `mapstructure:"secret_id"`
	SecretIDFile string `mapstructure:"secret_id_file"`
	// Role for Kubernetes auth.
	Role string `mapstructure:"role"`
	// JWTFile is the service account token for Kubernetes auth; default
	// /var/run/secrets/kubernetes.io/serviceaccount/token.
	JWTFile string `mapstructure:"jwt_file"`
	// KVVersion maps a KV mount ("secret", "team/kv") to its version, 1 or 2.
	// A path under a listed mount is read without asking Vault which engine
	// serves it: set it when the token may not read sys/internal/ui/mounts,
	// and for KV v1 mounts and mounts deeper than one segment, which
	// otherwise cost one extra round trip and one denied or not-found read
	// of MOUNT/data/… in Vault's audit log (the speculative KV v2 read).
	KVVersion map[string]int `mapstructure:"kv_version"`
	// RevokeToken revokes, in Finish, a token keyexec obtained by logging in
	// (AppRole, Kubernetes); nil means true. A token the user supplied is
	// never revoked.
	RevokeToken *bool `mapstructure:"revoke_token"`
	// Concurrency bounds the requests in flight (reads, mount lookups,
	// speculative reads); 0 means 8.
	Concurrency int `mapstructure:"concurrency"`

	// Env is keyexec's own environment, passed in by cmd/keyexec: the source
	// of VAULT_* fallbacks and HOME.
	Env map[string]string `mapstructure:"-"`
	// HTTPClient, when set, is used as is (tests); TLS variables are then
	// applied only if its Transport is an *http.Transport.
	HTTPClient *http.Client `mapstructure:"-"`
	// Logger receives debug notes (a discarded speculative read); nil
	// discards them. Failures are errors, never only logged.
	Logger *slog.Logger `mapstructure:"-"`
}

// Source reads vault:// references. It is safe for concurrent use.
//
// A Source that logged in (AppRole, Kubernetes) keeps the token after Fetch
// so that Fetch returns as soon as the reads are done: call Finish after
// Fetch, whatever it returned, once nothing more is read from Vault (the
// pipeline runs it beside the probe and waits for it before exec). A token
// Finish is never called for stays valid until its TTL ends.
type Source struct {
	set    settings
	http   *http.Client
	ownsHC bool
	log    *slog.Logger

	mu      sync.Mutex
	pending []*session // logged-in sessions whose token Finish revokes
	used    []string   // every credential the sessions used, for Credentials
}

var (
	_ sources.Source         = (*Source)(nil)
	_ sources.Finisher       = (*Source)(nil)
	_ sources.CredentialUser = (*Source)(nil)
)

// Credentials are the values of every credential this Source used: the
// token (from VAULT_TOKEN, a token file or ~/.vault-token), AppRole's role
// and secret IDs, the Kubernetes service account token, and the tokens its
// logins returned. The pipeline masks them in all output and keeps any
// variable holding one out of the child (sources.CredentialUser).
func (s *Source) Credentials() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.used...)
}

// New checks cfg and prepares a Source. It does no network I/O: login
// happens on each Fetch. Errors wrap sources.ErrInvalid.
func New(ctx context.Context, cfg Config) (*Source, error) {
	set, err := resolveSettings(cfg)
	if err != nil {
		return nil, err
	}
	hc, owns, err := httpClient(cfg, set)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{set: set, http: hc, ownsHC: owns, log: log}, nil
}

// Scheme returns "vault".
func (s *Source) Scheme() string { return "vault" }

// Fetch reads every reference: one read per distinct path and version, at
// most Concurrency requests at a time. A login failure fails the batch;
// anything else is reported per reference in Result.Err, which names the
// reference. When the user stopped keyexec (sources.Stopped), every error
// wraps that *sources.StopError. A token from a login is left for Finish.
func (s *Source) Fetch(ctx context.Context, refs []sources.Ref) ([]sources.Result, error) {
	results := make([]sources.Result, len(refs))
	byLoc := map[location][]int{}
	var locs []location
	for i, ref := range refs {
		results[i].Ref = ref
		loc, err := s.locate(ref)
		if err != nil {
			results[i].Err = fmt.Errorf("%s: %w", ref, err)
			continue
		}
		if _, seen := byLoc[loc]; !seen {
			locs = append(locs, loc)
		}
		byLoc[loc] = append(byLoc[loc], i)
	}
	if len(locs) == 0 {
		return results, nil
	}
	sess, err := s.login(ctx)
	if err != nil {
		s.closeIdle()
		if stop := sources.Stopped(ctx); stop != nil && !errors.As(err, new(*sources.StopError)) {
			err = fmt.Errorf("vault login: %w", stop)
		}
		return nil, fmt.Errorf("%w (needed for %s)", err, describeRefs(refs))
	}
	defer s.keep(sess)
	s.mu.Lock()
	s.used = append(s.used, sess.creds...)
	s.mu.Unlock()

	reads := make([]readResult, len(locs))
	var wg sync.WaitGroup
	for i, loc := range locs {
		wg.Go(func() { reads[i] = sess.read(ctx, loc) })
	}
	wg.Wait()
	for i, loc := range locs {
		for _, j := range byLoc[loc] {
			results[j] = pick(refs[j], loc, reads[i])
		}
	}
	if stop := sources.Stopped(ctx); stop != nil {
		// Whatever an attempt cut short reported, the run ends as the stop.
		for j := range results {
			if results[j].Err != nil && !errors.As(results[j].Err, new(*sources.StopError)) {
				results[j].Err = fmt.Errorf("%s: %w", refs[j], stop)
			}
		}
	}
	return results, nil
}

// pick makes ref's result from its location's read: the field it names, or
// with ?raw=true the secret's whole data as a JSON object.
func pick(ref sources.Ref, loc location, rd readResult) sources.Result {
	res := sources.Result{Ref: ref}
	if rd.err != nil {
		res.Err = fmt.Errorf("%s: %w", ref, rd.err)
		return res
	}
	res.Version = rd.version
	if ref.Query.Get("raw") == "true" {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // the app gets the bytes Vault holds, not \u003c
		data := rd.data
		if data == nil {
			data = map[string]any{}
		}
		if err := enc.Encode(data); err != nil {
			res.Err = fmt.Errorf("%s: %s (%s): the secret does not encode as JSON: %w", ref, loc.path, rd.version, sources.ErrInvalid)
			return res
		}
		res.Value = sources.NewSecret(strings.TrimSuffix(b.String(), "\n"))
		return res
	}
	v, err := sources.PickField(rd.data, ref.Field)
	if err != nil {
		res.Err = fmt.Errorf("%s: %s (%s): %w", ref, loc.path, rd.version, err)
		return res
	}
	res.Value = sources.NewSecret(v)
	return res
}

// describeRefs names the references a batch failure affects.
func describeRefs(refs []sources.Ref) string {
	var names []string
	seen := map[string]bool{}
	for _, r := range refs {
		if !seen[r.Raw] {
			seen[r.Raw] = true
			names = append(names, r.Raw)
		}
	}
	if len(names) > 3 {
		return strings.Join(names[:3], ", ") + fmt.Sprintf(" and %d more", len(names)-3)
	}
	return strings.Join(names, ", ")
}
