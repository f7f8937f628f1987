package vault

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/keyexec/keyexec/sources"
)

// revokeTimeout bounds Finish's revocations. They run even when the
// pipeline's context has ended (a deadline, a stop: the token should not
// outlive keyexec's use of it), then with a quarter of it, a last short try.
const revokeTimeout = 2 * time.Second

// keep hands a session that logged in to Finish, or, when there is nothing
// to revoke, lets the connections go now.
func (s *Source) keep(ss *session) {
	if !ss.owned || !s.set.revoke {
		s.closeIdle()
		return
	}
	s.mu.Lock()
	s.pending = append(s.pending, ss)
	s.mu.Unlock()
}

// Finish revokes every token this Source obtained by logging in (AppRole,
// Kubernetes) in the Fetches so far, with auth/token/revoke-self, all at
// once. It implements sources.Finisher: the pipeline calls it beside the
// probe, so revocation costs no round trip before the child starts, and
// waits for it before exec.
//
// Finish is idempotent and safe when nothing is left to revoke (token auth,
// vault.revoke_token: false, a second call). It is bounded by its own short
// timeout, not by ctx, so it still revokes after a deadline or a stop. An
// error names each token by the login that produced it, never by value:
// that token stays valid until its TTL ends.
func (s *Source) Finish(ctx context.Context) error {
	s.mu.Lock()
	pending := s.pending
	s.pending = nil
	s.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	defer s.closeIdle()
	timeout := revokeTimeout
	if ctx.Err() != nil {
		timeout = revokeTimeout / 4
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), timeout)
	defer cancel()
	errs := make([]error, len(pending))
	var wg sync.WaitGroup
	for i, ss := range pending {
		wg.Go(func() { errs[i] = ss.revoke(rctx, timeout) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// revoke revokes the session's token, once; ctx ends after timeout.
func (ss *session) revoke(ctx context.Context, timeout time.Duration) error {
	err := retry(ctx, func(ctx context.Context) (string, error) {
		return "", ss.client.Auth().Token().RevokeSelfWithContext(ctx, "")
	})
	if err == nil {
		return nil
	}
	set := ss.src.set
	reason, kind := sources.NetReason(err), sources.ErrUnavailable
	var re *api.ResponseError
	switch {
	case errors.As(err, &re):
		reason = fmt.Sprintf("%d %s", re.StatusCode, ss.redact(vaultMessages(re)))
		if re.StatusCode == 401 || re.StatusCode == 403 {
			kind = sources.ErrPermission
		}
	case ctx.Err() != nil:
		reason = fmt.Sprintf("no answer within %s", timeout)
	}
	return &vaultError{msg: fmt.Sprintf("revoke %s (vault at %s): %s; it stays valid until its TTL ends", ss.who, set.display, ss.redact(reason)), kind: kind, cause: err}
}

// closeIdle lets our own client's idle connections go (the caller's client
// is theirs to manage).
func (s *Source) closeIdle() {
	if s.ownsHC {
		s.http.CloseIdleConnections()
	}
}
