package vault

import (
	"fmt"
	"io"
	"net/http"

	"github.com/keyexec/keyexec/sources"
)

// maxAnswer bounds the body of every answer: Vault's answers for a secret,
// a mount or a login are a few KiB, so a larger one is not Vault's and is
// not worth reading whole.
const maxAnswer = 4 << 20

// tooLargeError is an answer past maxAnswer. It is final: retrying fetches
// the same answer.
type tooLargeError struct{ host string }

func (e *tooLargeError) Error() string {
	return fmt.Sprintf("answer from %s is larger than %d MiB: check the address (a proxy or a wrong endpoint?)", e.host, maxAnswer>>20)
}

func (e *tooLargeError) Unwrap() error { return sources.ErrInvalid }

// boundedTransport fails answers whose body passes maxAnswer: at once when
// Content-Length says so, else when the reader gets there.
type boundedTransport struct{ next http.RoundTripper }

func (t *boundedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	if resp.ContentLength > maxAnswer {
		resp.Body.Close()
		return nil, &tooLargeError{host: r.URL.Host}
	}
	resp.Body = &boundedBody{ReadCloser: resp.Body, left: maxAnswer, host: r.URL.Host}
	return resp, nil
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport underneath.
func (t *boundedTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
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
