package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// fault is what a faultServer does to requests before (or instead of)
// passing them to the real fake behind it.
type fault int

const (
	faultNone         fault = iota
	faultFlaky              // 503 for the first two requests, then pass through
	faultDown               // 503 forever
	faultThrottled          // 429 with Retry-After: 1 for the first request, then pass through
	faultThrottledAll       // 429 with Retry-After: 1 forever
	faultTruncated          // 200 whose body stops half-way (connection cut)
	faultNotJSON            // 200 with an HTML page
	faultHuge               // 200 with a 50 MiB JSON body
	faultRedirectLoop       // 307 back to the same URL, forever
	faultHang               // never answers; waits for the client to hang up
)

// flavor is the error-body dialect a faultServer speaks.
type flavor int

const (
	flavorVault  flavor = iota // {"errors":[…]}
	flavorAWS                  // {"__type":…,"message":…} (awsJson1_1)
	flavorOpenAI               // {"error":{"message":…,"type":…}}
)

// hugeBodySize is the 50 MiB of the fault matrix.
const hugeBodySize = 50 << 20

// faultServer is a loopback HTTP server that applies f, then hands the
// request to next (404 when next is nil).
type faultServer struct {
	*httptest.Server
	requests atomic.Int64
}

// newFaultServer starts a faultServer, closed when t ends.
func newFaultServer(t *testing.T, fl flavor, f fault, next http.Handler) *faultServer {
	t.Helper()
	fs := &faultServer{}
	fs.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := fs.requests.Add(1)
		switch {
		case f == faultFlaky && n <= 2, f == faultDown:
			writeFaultError(w, fl, http.StatusServiceUnavailable)
		case f == faultThrottled && n <= 1, f == faultThrottledAll:
			w.Header().Set("Retry-After", "1")
			writeFaultError(w, fl, http.StatusTooManyRequests)
		case f == faultTruncated:
			truncate(w)
		case f == faultNotJSON:
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html><body><h1>502 Bad Gateway</h1>nginx</body></html>")
		case f == faultHuge:
			writeHuge(w)
		case f == faultRedirectLoop:
			http.Redirect(w, r, r.URL.RequestURI(), http.StatusTemporaryRedirect)
		case f == faultHang:
			// The request context ends on hang-up only once the body is read.
			_, _ = io.Copy(io.Discard, r.Body)
			select {
			case <-r.Context().Done():
			case <-time.After(time.Minute):
			}
		case next != nil:
			next.ServeHTTP(w, r)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(func() {
		fs.CloseClientConnections()
		fs.Close()
	})
	return fs
}

// proxyTo forwards to a fake's URL.
func proxyTo(t *testing.T, target string) http.Handler {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	return httputil.NewSingleHostReverseProxy(u)
}

func writeFaultError(w http.ResponseWriter, fl flavor, status int) {
	var body any
	switch fl {
	case flavorVault:
		body = map[string]any{"errors": []string{"injected " + http.StatusText(status)}}
	case flavorAWS:
		code := "ServiceUnavailableException"
		if status == http.StatusTooManyRequests {
			code = "ThrottlingException"
		}
		w.Header().Set("X-Amzn-Errortype", code)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		body = map[string]any{"__type": code, "message": "injected " + http.StatusText(status)}
	default:
		body = map[string]any{"error": map[string]any{"message": "injected " + http.StatusText(status), "type": "server_error"}}
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

// truncate promises 4 KiB of JSON, sends half of it and cuts the connection.
func truncate(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("faultServer: no hijacker")
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		return
	}
	defer conn.Close()
	body := `{"data":{"data":{"api_key":"` + strings.Repeat("x", 2048)
	fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4096\r\n\r\n%s", body)
	buf.Flush()
}

// writeHuge streams a 50 MiB JSON object whose only field is padding.
func writeHuge(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", fmt.Sprint(hugeBodySize))
	bw := bufio.NewWriterSize(w, 64<<10)
	head, tail := `{"padding":"`, `"}`
	bw.WriteString(head)
	chunk := strings.Repeat("a", 64<<10)
	for left := hugeBodySize - len(head) - len(tail); left > 0; left -= len(chunk) {
		if _, err := bw.WriteString(chunk[:min(left, len(chunk))]); err != nil {
			return // the client hung up, as it should
		}
	}
	bw.WriteString(tail)
	bw.Flush()
}

// closedPort is a loopback address nothing listens on (connection refused).
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// selfSignedURL is an HTTPS server with a certificate no one trusts.
func selfSignedURL(t *testing.T) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake failures are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.URL
}

// rawAWSEnv points the AWS SDK in keyexec at endpoint with test credentials and
// nothing from the machine.
func rawAWSEnv(endpoint string) map[string]string {
	return map[string]string{
		"AWS_ENDPOINT_URL":            endpoint,
		"AWS_REGION":                  "us-east-1",
		"AWS_ACCESS_KEY_ID":           "AKIAFAULTMATRIX00000",
		"AWS_SECRET_ACCESS_KEY":       "fault-matrix-secret-access-key",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             "/nonexistent/keyexec-test/config",
		"AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/keyexec-test/credentials",
	}
}

// secretsManager answers GetSecretValue for any name with value, in the
// awsJson1_1 protocol: the Secrets Manager moto cannot make misbehave.
func secretsManager(value string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ SecretId string }
		_ = json.NewDecoder(r.Body).Decode(&in)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".GetSecretValue") {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"__type":"UnknownOperationException","message":"only GetSecretValue"}`)
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{
			"ARN":           "arn:aws:secretsmanager:us-east-1:123456789012:secret:" + in.SecretId + "-AbCdEf",
			"Name":          in.SecretId,
			"SecretString":  value,
			"VersionId":     "00000000-0000-0000-0000-000000000001",
			"VersionStages": []string{"AWSCURRENT"},
			"CreatedDate":   1.7e9,
		})
	})
}
