package vault

import (
	"net/http"

	"github.com/keyexec/keyexec/sources/internal/bounded"
)

// maxAnswer and tooLargeError are the shared bound on answers.
const maxAnswer = bounded.Max

type tooLargeError = bounded.TooLargeError

// boundedTransport fails answers whose body passes maxAnswer: at once when
// Content-Length says so, else when the reader gets there.
type boundedTransport struct{ next http.RoundTripper }

// RoundTrip sends r and bounds the answer's body.
func (t *boundedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	if err != nil {
		return resp, err
	}
	return bounded.Response(resp, r.URL.Host)
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach the
// transport underneath.
func (t *boundedTransport) CloseIdleConnections() {
	if c, ok := t.next.(interface{ CloseIdleConnections() }); ok {
		c.CloseIdleConnections()
	}
}
