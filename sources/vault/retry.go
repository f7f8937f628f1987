package vault

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/keyexec/keyexec/sources"
)

// Backoff between attempts: full jitter over an exponential ceiling.
const (
	backoffStart = 100 * time.Millisecond
	backoffMax   = 2 * time.Second
	// attemptsWithoutDeadline bounds retries when the context has no deadline.
	attemptsWithoutDeadline = 4
)

// vaultError is a Vault failure translated to a sources sentinel. Its text
// is ours (it names the path, the server and what to do); the SDK error it
// came from stays reachable with errors.As but is not printed, since its
// text is multi-line and may quote a request.
type vaultError struct {
	msg   string
	kind  error
	cause error
}

func (e *vaultError) Error() string { return e.msg + ": " + e.kind.Error() }

func (e *vaultError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// retry runs op until it succeeds, fails for good, or another attempt would
// not fit before ctx's deadline. It returns op's last error.
func retry(ctx context.Context, op func(context.Context) error) error {
	ceiling := backoffStart
	var last error
	for attempt := 1; ; attempt++ {
		err := op(ctx)
		if err != nil && ctx.Err() != nil && last != nil {
			// The deadline cut this attempt short: the previous answer
			// (sealed, 5xx) says more than "deadline exceeded".
			return last
		}
		if err == nil || !transient(ctx, err) {
			return err
		}
		last = err
		deadline, ok := ctx.Deadline()
		if !ok && attempt >= attemptsWithoutDeadline {
			return err
		}
		wait := ceiling/2 + rand.N(ceiling/2+1)
		if ok && time.Until(deadline) < wait {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		ceiling = min(ceiling*2, backoffMax)
	}
}

// transient reports whether err may pass on retry: 5xx (but 501), 429, 412
// (a performance standby not yet caught up), and network failures other
// than TLS verification, unknown hosts and oversized answers.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		return (re.StatusCode >= 500 && re.StatusCode != 501) || re.StatusCode == 429 || re.StatusCode == 412
	}
	var tooLarge *tooLargeError
	if tlsProblem(err) || errors.As(err, &tooLarge) {
		return false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return !dns.IsNotFound
	}
	var ue *url.Error
	return errors.As(err, &ue) || errors.Is(err, net.ErrClosed)
}

func tlsProblem(err error) bool {
	var (
		unknown   x509.UnknownAuthorityError
		hostname  x509.HostnameError
		invalid   x509.CertificateInvalidError
		verifyErr *tls.CertificateVerificationError
		recordErr tls.RecordHeaderError
	)
	return errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid) ||
		errors.As(err, &verifyErr) || errors.As(err, &recordErr)
}

// describe translates a failed call (what names it) to a sentinel: 5xx,
// 429, deadlines and connection failures are ErrUnavailable, 401/403
// ErrPermission, 404 ErrNotFound, other 4xx, TLS problems and oversized
// answers ErrInvalid.
func (ss *session) describe(ctx context.Context, err error, what string) error {
	addr := ss.src.set.address
	var re *api.ResponseError
	switch {
	case errors.As(err, &re):
		msgs := ss.redact(vaultMessages(re))
		switch code := re.StatusCode; {
		case code == 503 && strings.Contains(strings.ToLower(msgs), "sealed"):
			return &vaultError{msg: fmt.Sprintf("%s: vault at %s is sealed: unseal it, or point VAULT_ADDR at an unsealed node", what, addr), kind: sources.ErrUnavailable, cause: err}
		case code >= 500 || code == 429 || code == 412:
			return &vaultError{msg: fmt.Sprintf("%s: vault at %s cannot serve it (%d %s); retried until the deadline", what, addr, code, msgs), kind: sources.ErrUnavailable, cause: err}
		case code == 401 || code == 403:
			return &vaultError{msg: fmt.Sprintf("%s: permission denied to %s (%d %s)", what, ss.who, code, msgs), kind: sources.ErrPermission, cause: err}
		case code == 404:
			return &vaultError{msg: fmt.Sprintf("%s: not found (404)", what), kind: sources.ErrNotFound, cause: err}
		default:
			return &vaultError{msg: fmt.Sprintf("%s: vault refused the request (%d %s)", what, code, msgs), kind: sources.ErrInvalid, cause: err}
		}
	case ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return deadlineError(addr, err)
	case errors.As(err, new(*redirectError)):
		return &vaultError{msg: fmt.Sprintf("%s: vault at %s answered with a redirect (%s): check VAULT_ADDR or vault.address", what, addr, err), kind: sources.ErrInvalid, cause: err}
	case errors.As(err, new(*tooLargeError)):
		return &vaultError{msg: fmt.Sprintf("%s: the answer from %s is larger than %d MiB: check VAULT_ADDR or vault.address (a proxy or a wrong endpoint?)", what, addr, maxAnswer>>20), kind: sources.ErrInvalid, cause: err}
	case tlsProblem(err):
		return &vaultError{msg: fmt.Sprintf("%s: TLS with %s failed (%s): set VAULT_CACERT to the CA that signed Vault's certificate, or use the right http/https scheme", what, addr, netReason(err)), kind: sources.ErrInvalid, cause: err}
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return &vaultError{msg: fmt.Sprintf("%s: unknown host in vault address %s: check VAULT_ADDR or vault.address", what, addr), kind: sources.ErrInvalid, cause: err}
	}
	var ue *url.Error
	if errors.As(err, &ue) || errors.Is(err, net.ErrClosed) {
		return &vaultError{msg: fmt.Sprintf("%s: cannot reach vault at %s (%s); retried until the deadline", what, addr, netReason(err)), kind: sources.ErrUnavailable, cause: err}
	}
	return &vaultError{msg: fmt.Sprintf("%s: %s", what, ss.redact(err.Error())), kind: sources.ErrInvalid, cause: err}
}

// redirectError is a redirect left after the api client followed one.
type redirectError struct {
	status   int
	location string
}

func (e *redirectError) Error() string {
	u, err := url.Parse(e.location)
	if err != nil || e.location == "" {
		return fmt.Sprintf("HTTP %d", e.status)
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return fmt.Sprintf("HTTP %d to %s", e.status, u)
}

// deadlineError is the error for a context that ran out during a call.
func deadlineError(addr string, cause error) error {
	return &vaultError{msg: fmt.Sprintf("vault at %s did not answer before the deadline: check that it is up, or raise --timeout", addr), kind: sources.ErrUnavailable, cause: cause}
}

// netReason is the innermost network error without the request URL.
func netReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// vaultMessages joins Vault's "errors" array, shortened; a body that was
// not Vault's JSON is summarized rather than quoted.
func vaultMessages(re *api.ResponseError) string {
	if re.RawError {
		return "(a body that is not Vault's JSON: a proxy in the way?)"
	}
	if len(re.Errors) == 0 {
		return "(no message)"
	}
	msg := strings.Join(re.Errors, "; ")
	msg = strings.Join(strings.Fields(msg), " ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}
