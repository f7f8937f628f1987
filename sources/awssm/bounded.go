package awssm

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keyexec/keyexec/sources"
)

// maxAnswer bounds the body of every answer: a secret is at most 64 KiB and
// a batch holds at most 20 of them, so a larger answer is not Secrets
// Manager's and is not worth reading whole.
const maxAnswer = 4 << 20

// tooLargeError is an answer past maxAnswer. It is final: retrying fetches
// the same answer.
type tooLargeError struct{ host string }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("answer from %s is larger than %d MiB: check the address (a proxy or a wrong endpoint?)", e.host, maxAnswer>>20)
}

// Unwrap makes an oversized answer a configuration pointing to the wrong
// place.
func (e *tooLargeError) Unwrap() error { return sources.ErrInvalid }

// RetryableError tells the SDK's retryer that another attempt fetches the
// same answer.
func (e *tooLargeError) RetryableError() bool { return false }

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
	if resp.ContentLength > maxAnswer {
		resp.Body.Close()
		return nil, &tooLargeError{host: r.URL.Host}
	}
	resp.Body = &boundedBody{ReadCloser: resp.Body, left: maxAnswer, host: r.URL.Host}
	return resp, nil
}

// boundedBody reads at most left bytes, then fails with a tooLargeError if
// the body goes on. It reports the overflow once, then io.EOF: whoever
// drains a body after a failed decode (the AWS SDK does, and logs a warning
// on error) stops there.
type boundedBody struct {
	io.ReadCloser
	left     int64
	host     string
	overflow bool
}

func (b *boundedBody) Read(p []byte) (int, error) {
	if b.overflow {
		return 0, io.EOF
	}
	// One byte past the bound tells a body of exactly maxAnswer from a longer one.
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	if int64(n) > b.left {
		n, b.left, b.overflow = int(b.left), 0, true
		return n, &tooLargeError{host: b.host}
	}
	b.left -= int64(n)
	return n, err
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
