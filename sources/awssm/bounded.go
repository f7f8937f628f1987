package awssm

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keyexec/keyexec/sources/internal/bounded"
)

// maxAnswer and tooLargeError are the shared bound on answers.
const maxAnswer = bounded.Max

type tooLargeError = bounded.TooLargeError

// finalError is a network failure no retry can fix: a certificate that does
// not verify. The SDK would retry it as a connection error.
type finalError struct{ err error }

func (e *finalError) Error() string        { return e.err.Error() }
func (e *finalError) Unwrap() error        { return e.err }
func (e *finalError) RetryableError() bool { return false }

// boundedClient wraps the SDK's HTTP client (keeping its transport, proxy
// and CA bundle settings): it fails answers whose body passes maxAnswer, at
// once when Content-Length says so, else when the reader gets there, and
// marks TLS verification failures as final.
type boundedClient struct{ next aws.HTTPClient }

func (c *boundedClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(r)
	if err != nil {
		if tlsProblem(err) {
			err = &finalError{err: err}
		}
		return resp, err
	}
	return bounded.Response(resp, r.URL.Host)
}

// tlsProblem reports a certificate that does not verify: an unknown
// authority (a TLS-intercepting proxy, a private endpoint), a name mismatch
// or an expired certificate.
func tlsProblem(err error) bool {
	var (
		verify   *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
	)
	return errors.As(err, &verify) || errors.As(err, &unknown) || errors.As(err, &hostname) || errors.As(err, &invalid)
}

// unknownHost reports a name that does not resolve (NXDOMAIN).
func unknownHost(err error) (*net.DNSError, bool) {
	var dns *net.DNSError
	return dns, errors.As(err, &dns) && dns.IsNotFound
}
