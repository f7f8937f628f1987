// Package bounded caps the answers the secret backends read: a secret store
// answers in KiB, so a larger body is a wrong address (a proxy, a web page)
// and is not worth reading whole.
package bounded

import (
	"fmt"
	"io"
	"net/http"

	"github.com/keyexec/keyexec/sources"
)

// Max bounds the body of every answer. Vault's answers for a secret, a mount
// or a login are a few KiB; a Secrets Manager secret is at most 64 KiB and a
// batch holds at most 20 of them.
const Max = 4 << 20

// TooLargeError is an answer past Max. It is final: retrying fetches the same
// answer.
type TooLargeError struct{ Host string }

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("answer from %s is larger than %d MiB: check the address (a proxy or a wrong endpoint?)", e.Host, Max>>20)
}

// Unwrap makes an oversized answer a configuration pointing to the wrong
// place.
func (e *TooLargeError) Unwrap() error { return sources.ErrInvalid }

// RetryableError tells the AWS SDK's retryer that another attempt fetches
// the same answer.
func (e *TooLargeError) RetryableError() bool { return false }

// Response fails resp at once when its Content-Length passes Max, and
// otherwise makes its body fail when the reader gets there.
func Response(resp *http.Response, host string) (*http.Response, error) {
	if resp.ContentLength > Max {
		resp.Body.Close()
		return nil, &TooLargeError{Host: host}
	}
	resp.Body = &body{ReadCloser: resp.Body, left: Max, host: host}
	return resp, nil
}

// body reads at most left bytes, then fails with a TooLargeError if the body
// goes on. It reports the overflow once, then io.EOF: whoever drains a body
// after a failed decode (the AWS SDK does, and logs a warning on error)
// stops there.
type body struct {
	io.ReadCloser
	left     int64
	host     string
	overflow bool
}

func (b *body) Read(p []byte) (int, error) {
	if b.overflow {
		return 0, io.EOF
	}
	// One byte past the bound tells a body of exactly Max from a longer one.
	if int64(len(p)) > b.left+1 {
		p = p[:b.left+1]
	}
	n, err := b.ReadCloser.Read(p)
	if int64(n) > b.left {
		n, b.left, b.overflow = int(b.left), 0, true
		return n, &TooLargeError{Host: b.host}
	}
	b.left -= int64(n)
	return n, err
}
