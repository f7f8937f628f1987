// Package vault reads vault:// references from HashiCorp Vault's KV secrets
// engines (v1 and v2, told apart from the mount as the Vault CLI does), with
// token, AppRole or Kubernetes authentication.
//
// A Source is configured from the config file's vault: section and, for what
// that leaves unset, from Vault's own VAULT_* variables in the environment it
// is given (never the process environment). It logs in lazily on each Fetch,
// reads each distinct path once, in parallel with a bound, retrying transient
// failures within the context's deadline, and revokes a token it obtained by
// logging in once the reads are done.
package vault

import (
	"context"
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
	// serves it: set it when the token may not read sys/internal/ui/mounts.
	KVVersion map[string]int `mapstructure:"kv_version"`
	// RevokeToken revokes a token keyexec obtained by logging in (AppRole,
	// Kubernetes) once the reads are done; nil means true. A token the user
	// supplied is never revoked.
	RevokeToken *bool `mapstructure:"revoke_token"`
	// Concurrency bounds parallel reads; 0 means 8.
	Concurrency int `mapstructure:"concurrency"`

	// Env is keyexec's own environment, passed in by cmd/keyexec: the source
	// of VAULT_* fallbacks and HOME.
	Env map[string]string `mapstructure:"-"`
	// HTTPClient, when set, is used as is (tests); TLS variables are then
	// applied only if its Transport is an *http.Transport.
	HTTPClient *http.Client `mapstructure:"-"`
	// Logger receives warnings (a failed token revocation); nil discards them.
	Logger *slog.Logger `mapstructure:"-"`
}

// Source reads vault:// references. It is safe for concurrent use.
type Source struct {
	set    settings
	http   *http.Client
	ownsHC bool
	log    *slog.Logger
}

var _ sources.Source = (*Source)(nil)

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

// ScrubVars lists the variables holding Vault credentials that keyexec
// removes from the child's environment by default (informative; the list
// in use lives in cmd/keyexec).
func ScrubVars() []string { return []string{"VAULT_TOKEN", "VAULT_ROLE_ID", "VAULT_SECRET_ID"} }

// Fetch reads every reference: one read per distinct path and version, at
// most Concurrency at a time. A login failure fails the batch; anything else
// is reported per reference in Result.Err, which names the reference.
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
	if s.ownsHC {
		defer s.http.CloseIdleConnections()
	}

	sess, err := s.login(ctx)
	if err != nil {
		return nil, fmt.Errorf("%w (needed for %s)", err, describeRefs(refs))
	}
	defer sess.close(ctx)

	reads := make([]readResult, len(locs))
	var wg sync.WaitGroup
	sem := make(chan struct{}, s.set.concurrency)
	for i, loc := range locs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
				defer func() { <-sem }()
				reads[i] = sess.read(ctx, loc)
			case <-ctx.Done():
				reads[i] = readResult{err: deadlineError(s.set.address, ctx.Err())}
			}
		}()
	}
	wg.Wait()

	for i, loc := range locs {
		rd := reads[i]
		for _, j := range byLoc[loc] {
			ref := refs[j]
			if rd.err != nil {
				results[j].Err = fmt.Errorf("%s: %w", ref, rd.err)
				continue
			}
			results[j].Version = rd.version
			v, err := sources.PickField(rd.data, ref.Field)
			if err != nil {
				results[j].Err = fmt.Errorf("%s: %s (%s): %w", ref, loc.path, rd.version, err)
				continue
			}
			results[j].Value = sources.NewSecret(v)
		}
	}
	return results, nil
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
