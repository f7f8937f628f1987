package bounded

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

// transport applies Response to every answer, as the backends do.
type transport struct{}

func (transport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	return Response(resp, r.URL.Host)
}

func TestResponse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		size     int
		announce bool
		tooLarge bool
	}{
		{name: "small", size: 100, announce: true},
		{name: "exactly the bound", size: Max},
		{name: "one byte over, announced", size: Max + 1, announce: true, tooLarge: true},
		{name: "one byte over, streamed", size: Max + 1, tooLarge: true},
		{name: "50 MiB streamed", size: 50 << 20, tooLarge: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				if tc.announce {
					w.Header().Set("Content-Length", fmt.Sprint(tc.size))
				}
				chunk := strings.Repeat("a", 32<<10)
				for left := tc.size; left > 0; left -= len(chunk) {
					if _, err := io.WriteString(w, chunk[:min(left, len(chunk))]); err != nil {
						return // the client hung up, as it should
					}
				}
			}))
			defer srv.Close()
			hc := &http.Client{Transport: transport{}}
			got, err := func() (int64, error) {
				resp, err := hc.Get(srv.URL)
				if err != nil {
					return 0, err
				}
				defer resp.Body.Close()
				return io.Copy(io.Discard, resp.Body)
			}()
			if !tc.tooLarge {
				if err != nil || got != int64(tc.size) {
					t.Fatalf("read %d bytes, %v; want %d", got, err, tc.size)
				}
				return
			}
			var tl *TooLargeError
			if !errors.As(err, &tl) || !errors.Is(err, sources.ErrInvalid) || got > Max {
				t.Fatalf("read %d bytes, %v; want at most %d and a TooLargeError", got, err, Max)
			}
			if !strings.Contains(err.Error(), "larger than 4 MiB") || !strings.Contains(err.Error(), srv.Listener.Addr().String()) {
				t.Errorf("error %q should name the host and the bound", err)
			}
		})
	}
}
