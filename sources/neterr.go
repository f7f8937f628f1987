package sources

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/url"
	"strings"
	"syscall"
)

// NetKind sorts the transport failures of every client keyexec runs (Vault,
// Secrets Manager, the provider probe): some say the configuration points to
// the wrong place and are final, the rest may pass on retry.
type NetKind int

// Kinds of transport failure.
const (
	NetNone     NetKind = iota // not a transport failure
	NetOther                   // another network failure: retried
	NetRefused                 // connection refused: retried
	NetReset                   // connection reset or closed early: retried
	NetTimeout                 // timed out: retried
	NetNoHost                  // the host name does not resolve: final
	NetTLS                     // the certificate does not verify: final
	NetProtocol                // https to a plain-http server: final
)

// Final reports whether retrying cannot help: the address, scheme or
// certificate is wrong (a configuration error, exit 78).
func (k NetKind) Final() bool { return k == NetNoHost || k == NetTLS || k == NetProtocol }

// ClassifyNet names the kind of transport failure err is. A cancelled or
// expired context is NetTimeout only when it ended the call; ask Stopped
// first to tell a user's stop from a deadline.
func ClassifyNet(err error) NetKind {
	if err == nil {
		return NetNone
	}
	var (
		dns      *net.DNSError
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		ue       *url.Error
		op       *net.OpError
	)
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		return NetNoHost
	case errors.As(err, &verify), errors.As(err, &unknown), errors.As(err, &hostname), errors.As(err, &invalid):
		return NetTLS
	case errors.As(err, &record), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return NetProtocol
	case errors.Is(err, syscall.ECONNREFUSED):
		return NetRefused
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, net.ErrClosed),
		strings.Contains(err.Error(), "EOF"):
		return NetReset
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled), isTimeout(err):
		return NetTimeout
	case errors.As(err, &ue), errors.As(err, &op), errors.As(err, &dns):
		return NetOther
	}
	return NetNone
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// NetReason is the innermost network error without the request URL (which
// url.Error repeats and which callers report on their own, redacted).
func NetReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch ClassifyNet(err) {
	case NetRefused:
		return "connection refused"
	case NetTimeout:
		return "timed out"
	case NetNoHost:
		var dns *net.DNSError
		errors.As(err, &dns)
		return "host " + dns.Name + " does not resolve"
	case NetProtocol:
		return "the server speaks plain HTTP, not HTTPS"
	}
	return err.Error()
}
