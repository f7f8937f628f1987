package awssm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources"
)

// answer serves GetSecretValue with a SecretString of size bytes,
// announced with Content-Length or streamed without it.
func answer(size int, announce bool) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		head, tail := `{"Name":"prod/x","SecretString":"`, `"}`
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if announce {
			w.Header().Set("Content-Length", fmt.Sprint(size))
		}
		_, _ = io.WriteString(w, head)
		chunk := strings.Repeat("a", 32<<10)
		for left := size - len(head) - len(tail); left > 0; left -= len(chunk) {
			if _, err := io.WriteString(w, chunk[:min(left, len(chunk))]); err != nil {
				return // the client hung up, as it should
			}
		}
		_, _ = io.WriteString(w, tail)
	}
}

// TestNetworkFaults runs the real SDK against loopback servers that point
// nowhere useful: each fault must end as ErrInvalid after a single attempt
// (the SDK would retry a certificate or protocol failure as a connection
// error, three times with backoff).
func TestNetworkFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		handler  http.HandlerFunc
		tls      bool
		https    bool   // ask a plain-HTTP server over https://
		endpoint string // instead of a server
		sentinel error
		says     []string
		attempts int64 // requests (TLS: connections) the server saw; 0 to skip the check
	}{
		{name: "small answer", handler: answer(1000, true), attempts: 1},
		{name: "50 MiB announced", handler: answer(50<<20, true), sentinel: sources.ErrInvalid, says: []string{"larger than 4 MiB", "aws.endpoint"}, attempts: 1},
		{name: "50 MiB streamed", handler: answer(50<<20, false), sentinel: sources.ErrInvalid, says: []string{"larger than 4 MiB", "aws.endpoint"}, attempts: 1},
		{name: "self-signed certificate", handler: answer(1000, true), tls: true, sentinel: sources.ErrInvalid, says: []string{"does not verify", "AWS_CA_BUNDLE"}, attempts: 1},
		{name: "https to a plain-HTTP server", handler: answer(1000, true), https: true, sentinel: sources.ErrInvalid, says: []string{"speaks plain HTTP, not HTTPS", "aws.endpoint"}, attempts: 1},
		{name: "redirect loop", handler: func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, r.URL.RequestURI(), http.StatusTemporaryRedirect)
		}, sentinel: sources.ErrInvalid, says: []string{"redirect (HTTP 307 to /)", "aws.endpoint"}, attempts: 1},
		{name: "unknown host", endpoint: "http://secretsmanager.invalid", sentinel: sources.ErrInvalid, says: []string{"secretsmanager.invalid does not resolve"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			endpoint, attempts := tc.endpoint, func() int64 { return 0 }
			if endpoint == "" {
				endpoint, attempts = faultServer(t, tc.handler, tc.tls, tc.https)
			}
			src, err := New(context.Background(), Config{Endpoint: endpoint, Region: "us-east-1"})
			if err != nil {
				t.Fatal(err)
			}
			ref, err := sources.Parse("awssm://prod/x")
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			res, err := src.Fetch(ctx, []sources.Ref{ref})
			if err != nil {
				t.Fatal(err)
			}
			got := res[0].Err
			if tc.sentinel == nil {
				if got != nil || len(res[0].Value.Reveal()) != 1000-len(`{"Name":"prod/x","SecretString":""}`) {
					t.Fatalf("got %s, %v", res[0].Value, got)
				}
			} else {
				if !errors.Is(got, tc.sentinel) || errors.Is(got, sources.ErrUnavailable) {
					t.Fatalf("got %v, want %v only", got, tc.sentinel)
				}
				for _, s := range append(tc.says, `"prod/x"`) {
					if !strings.Contains(got.Error(), s) {
						t.Errorf("error %q does not mention %q", got, s)
					}
				}
			}
			if n := attempts(); tc.attempts > 0 && n != tc.attempts {
				t.Errorf("%d attempts, want %d (no retry)", n, tc.attempts)
			}
		})
	}
}

// faultServer serves handler on loopback, over TLS with a self-signed
// certificate when tls is set, and returns its URL (https:// on a plain
// server when https is set) and a count of the attempts it saw: requests,
// or connections when no request can get through.
func faultServer(t *testing.T, handler http.HandlerFunc, tls, https bool) (string, func() int64) {
	t.Helper()
	var requests, conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		handler(w, r)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake and protocol failures are the point
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	switch {
	case https:
		return "https://" + srv.Listener.Addr().String(), conns.Load
	case tls:
		return srv.URL, conns.Load
	}
	return srv.URL, requests.Load
}
