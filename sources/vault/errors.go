package vault

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"

	"github.com/keyexec/keyexec/sources"
)

// attemptsWithoutDeadline bounds retries when the context has no deadline.
const attemptsWithoutDeadline = 4

// vaultError is a Vault failure translated to a sources sentinel. Its text
// is ours (it names the path, the server and what to do); the SDK error it
// came from stays reachable with errors.As but is not printed, since its
// text is multi-line and may quote a request.
type vaultError struct {
	msg   string
	kind  error
	cause error
}

// Error is our message and the sentinel's word.
func (e *vaultError) Error() string { return e.msg + ": " + e.kind.Error() }

// Unwrap gives errors.Is the sentinel and errors.As the SDK's error.
func (e *vaultError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}
	return []error{e.kind, e.cause}
}

// retry runs op until it succeeds, fails for good, or another attempt would
// not fit before ctx's deadline, waiting sources.NextWait between attempts
// (op returns the answer's Retry-After, if any). It returns op's last error.
func retry(ctx context.Context, op func(context.Context) (retryAfter string, err error)) error {
	var last error
	for attempt := 1; ; attempt++ {
		retryAfter, err := op(ctx)
		if err != nil && ctx.Err() != nil && last != nil {
			// The deadline cut this attempt short: the previous answer
			// (sealed, 5xx) says more than "deadline exceeded". A stop is
			// told apart later, by describe.
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
		wait, fits := sources.NextWait(attempt, retryAfter, deadline, time.Now())
		if !fits || !sources.Sleep(ctx, wait) {
			return err
		}
	}
}

// transient reports whether err may pass on retry: 5xx (but 501), 429, 412
// (a performance standby not yet caught up), and the network failures
// sources.ClassifyNet calls passing. A wrong address, scheme or certificate,
// an oversized answer or a redirect is final.
func transient(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var re *api.ResponseError
	if errors.As(err, &re) {
		return (re.StatusCode >= 500 && re.StatusCode != 501) || re.StatusCode == 429 || re.StatusCode == 412
	}
	if errors.As(err, new(*tooLargeError)) || errors.As(err, new(*redirectError)) || speaksTLS(err) {
		return false
	}
	k := sources.ClassifyNet(err)
	return k != sources.NetNone && !k.Final()
}

// describe translates a failed call (what names it) to a sentinel. A stop
// by the user comes first and is never "unavailable"; then Vault's answer
// (5xx, 429 unavailable; 401/403 permission; 404 not found; other 4xx
// invalid), then the transport (wrong scheme, certificate or host, oversized
// answers and redirects are configuration errors; the rest unavailable).
func (ss *session) describe(ctx context.Context, err error, what string) error {
	if stop := sources.Stopped(ctx); stop != nil {
		return fmt.Errorf("%s: %w", what, stop)
	}
	if e := ss.configProblem(err, what); e != nil {
		return e
	}
	set := ss.src.set
	var re *api.ResponseError
	if errors.As(err, &re) {
		return ss.describeStatus(re, err, what)
	}
	switch {
	case errors.As(err, new(*redirectError)):
		return &vaultError{msg: fmt.Sprintf("%s: vault at %s answered with a redirect (%s): check %s", what, set.display, err, set.addrName()), kind: sources.ErrInvalid, cause: err}
	case errors.As(err, new(*tooLargeError)):
		return &vaultError{msg: fmt.Sprintf("%s: the answer from %s is larger than %d MiB: check %s (a proxy or a wrong endpoint?)", what, set.display, maxAnswer>>20, set.addrName()), kind: sources.ErrInvalid, cause: err}
	}
	switch sources.ClassifyNet(err) {
	case sources.NetTLS:
		return &vaultError{msg: fmt.Sprintf("%s: TLS with %s failed (%s): set VAULT_CACERT to the CA that signed Vault's certificate", what, set.display, sources.NetReason(err)), kind: sources.ErrInvalid, cause: err}
	case sources.NetProtocol:
		return &vaultError{msg: fmt.Sprintf("%s: vault address %s (from %s) says https://, but the server answers plain HTTP: write http:// there, or enable TLS on Vault's listener%s", what, set.display, set.addrName(), set.defaultHint()), kind: sources.ErrInvalid, cause: err}
	case sources.NetNoHost:
		return &vaultError{msg: fmt.Sprintf("%s: unknown host in vault address %s: check %s%s", what, set.display, set.addrName(), set.defaultHint()), kind: sources.ErrInvalid, cause: err}
	case sources.NetTimeout:
		if ctx.Err() != nil {
			return ss.deadline(ctx, err)
		}
		fallthrough
	case sources.NetRefused, sources.NetReset, sources.NetOther:
		return &vaultError{msg: fmt.Sprintf("%s: cannot reach vault at %s (%s); retried until the deadline%s", what, set.display, sources.NetReason(err), set.defaultHint()), kind: sources.ErrUnavailable, cause: err}
	}
	if ctx.Err() != nil {
		return ss.deadline(ctx, err)
	}
	return &vaultError{msg: fmt.Sprintf("%s: %s", what, ss.redact(err.Error())), kind: sources.ErrInvalid, cause: err}
}

// describeStatus translates an error status from Vault.
func (ss *session) describeStatus(re *api.ResponseError, err error, what string) error {
	set := ss.src.set
	msgs := ss.redact(vaultMessages(re))
	switch code := re.StatusCode; {
	case code == 503 && strings.Contains(strings.ToLower(msgs), "sealed"):
		return &vaultError{msg: fmt.Sprintf("%s: vault at %s is sealed: unseal it, or point %s at an unsealed node", what, set.display, set.addrName()), kind: sources.ErrUnavailable, cause: err}
	case code >= 500 || code == 429 || code == 412:
		return &vaultError{msg: fmt.Sprintf("%s: vault at %s cannot serve it (%d %s); retried until the deadline", what, set.display, code, msgs), kind: sources.ErrUnavailable, cause: err}
	case code == 401 || code == 403:
		return &vaultError{msg: fmt.Sprintf("%s: permission denied to %s (%d %s)", what, ss.who, code, msgs), kind: sources.ErrPermission, cause: err}
	case code == 404:
		return &vaultError{msg: fmt.Sprintf("%s: not found (404)", what), kind: sources.ErrNotFound, cause: err}
	default:
		return &vaultError{msg: fmt.Sprintf("%s: vault refused the request (%d %s)", what, code, msgs), kind: sources.ErrInvalid, cause: err}
	}
}

// notVault reports a 404 whose body is not Vault's JSON: Vault answers every
// 404 with {"errors": […]}, so the address points to another server.
func notVault(err error) bool {
	var re *api.ResponseError
	return errors.As(err, &re) && re.RawError && re.StatusCode == 404
}

// configProblem recognises answers that mean the configuration points to
// the wrong place, whatever was asked: an unknown namespace, and an http://
// address whose server speaks TLS. They are final: retrying cannot help.
func (ss *session) configProblem(err error, what string) error {
	set := ss.src.set
	switch {
	case namespaceMissing(err):
		return &vaultError{msg: fmt.Sprintf("%s: vault at %s has no namespace %q (from %s): check its name (a nested namespace is written parent/child), or unset %s for the root namespace",
			what, set.display, sources.RedactText(set.namespace), set.nsFrom, set.nsFrom), kind: sources.ErrInvalid, cause: err}
	case speaksTLS(err):
		return &vaultError{msg: fmt.Sprintf("%s: vault address %s (from %s) says http://, but the server speaks TLS: write https:// there%s", what, set.display, set.addrName(), set.defaultHint()), kind: sources.ErrInvalid, cause: err}
	case notVault(err):
		return &vaultError{msg: fmt.Sprintf("%s: the server at %s (from %s) answered 404 without Vault's JSON: it is not Vault (another web server, or a proxy in the way): check the address%s", what, set.display, set.addrName(), set.defaultHint()), kind: sources.ErrInvalid, cause: err}
	}
	return nil
}

// namespaceMissing reports Vault's 404 for an X-Vault-Namespace it does not
// know (OpenBao and Vault Enterprise: {"errors":["namespace not found"]}).
func namespaceMissing(err error) bool {
	var re *api.ResponseError
	return errors.As(err, &re) && re.StatusCode == 404 && !re.RawError && strings.Contains(strings.Join(re.Errors, " "), "namespace not found")
}

// speaksTLS reports the answers of a TLS listener to plain HTTP: Go's (and
// so Vault's) 400 "Client sent an HTTP request to an HTTPS server.",
// nginx's "The plain HTTP request was sent to HTTPS port", or a TLS alert
// record read as an HTTP response.
func speaksTLS(err error) bool {
	var re *api.ResponseError
	if errors.As(err, &re) && re.StatusCode == 400 && re.RawError {
		body := strings.Join(re.Errors, " ")
		return strings.Contains(body, "HTTP request to an HTTPS server") || strings.Contains(body, "plain HTTP request was sent to HTTPS port")
	}
	return err != nil && strings.Contains(err.Error(), `malformed HTTP response "\x15\x03`)
}

// deadline is the error for a context that ended during a call without a
// stop (describe asks sources.Stopped first): its deadline passed, or the
// caller cancelled the fetch.
func (ss *session) deadline(ctx context.Context, cause error) error {
	set := ss.src.set
	if errors.Is(ctx.Err(), context.Canceled) {
		return &vaultError{msg: fmt.Sprintf("the read from vault at %s was cancelled before it answered", set.display), kind: sources.ErrUnavailable, cause: cause}
	}
	return &vaultError{msg: fmt.Sprintf("vault at %s did not answer before the deadline: check that it is up, or raise --timeout%s", set.display, set.defaultHint()), kind: sources.ErrUnavailable, cause: cause}
}

// redirectError is a redirect left after the api client followed one.
type redirectError struct {
	status   int
	location string
}

// Error shows the redirect's target without userinfo or query.
func (e *redirectError) Error() string {
	u, err := url.Parse(e.location)
	if err != nil || e.location == "" {
		return fmt.Sprintf("HTTP %d", e.status)
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return fmt.Sprintf("HTTP %d to %s", e.status, u)
}

// vaultMessages joins Vault's "errors" array, shortened and without
// go-multierror's framing ("1 error occurred:\n\t* …"); a body that was not
// Vault's JSON is summarized rather than quoted.
func vaultMessages(re *api.ResponseError) string {
	if re.RawError {
		return "(a body that is not Vault's JSON: a proxy in the way?)"
	}
	if len(re.Errors) == 0 {
		return "(no message)"
	}
	var parts []string
	for _, e := range re.Errors {
		for _, line := range strings.Split(e, "\n") {
			line = strings.TrimPrefix(strings.TrimSpace(line), "* ")
			if line != "" && !(strings.HasSuffix(line, "occurred:") && strings.Contains(line, "error")) {
				parts = append(parts, line)
			}
		}
	}
	msg := strings.Join(strings.Fields(strings.Join(parts, "; ")), " ")
	if len(msg) > 300 {
		msg = msg[:300] + "…"
	}
	return msg
}
