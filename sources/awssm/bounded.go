package awssm

import (
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/keyexec/keyexec/sources/internal/bounded"
)

// maxAnswer and tooLargeError are the shared bound on answers.
const maxAnswer = bounded.Max

type tooLargeError = bounded.TooLargeError

// boundedClient wraps the SDK's HTTP client (keeping its transport, proxy
// and CA bundle settings): it fails answers whose body passes maxAnswer, at
// once when Content-Length says so, else when the reader gets there.
type boundedClient struct{ next aws.HTTPClient }

// Do sends r with the SDK's client and bounds the answer.
func (c *boundedClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.next.Do(r)
	if err != nil {
		return resp, err
	}
	return bounded.Response(resp, r.URL.Host)
}
