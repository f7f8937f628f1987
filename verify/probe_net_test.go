package verify

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/providertest"
	"go.uber.org/goleak"
)

// probeOne probes a single Target and returns its Result.
func probeOne(t *testing.T, tg Target, opts ProbeOptions) Result {
	t.Helper()
	res := Probe(context.Background(), []Target{tg}, opts)
	if len(res) != 1 {
		t.Fatalf("got %d results, want 1", len(res))
	}
	return res[0]
}

func probeFake(t *testing.T, kind providertest.Kind, keys map[string]providertest.Key) *providertest.Server {
	return providertest.Start(t, kind, providertest.Config{Keys: keys})
}

func TestProbeDedupe(t *testing.T) {
	t.Parallel()
	srv := probeFake(t, providertest.OpenAI, map[string]providertest.Key{probeKeyGood: {}, probeKeyOther: {}})
	a := probeTarget(OpenAI, srv, probeKeyGood)
	b := a
	b.Label, b.Origin = "config list entry 0 (gpt-4o)", "OAI_CONFIG_LIST[0].api_key from env"
	c := probeTarget(OpenAI, srv, probeKeyOther)
	res := Probe(context.Background(), []Target{a, b, c, a}, ProbeOptions{})
	if len(res) != 2 || srv.Requests() != 2 || srv.KeyRequests(probeKeyGood) != 1 || srv.KeyRequests(probeKeyOther) != 1 {
		t.Fatalf("got %d results and %d requests, want 2 and 2", len(res), srv.Requests())
	}
	if want := "environment; config list entry 0 (gpt-4o)"; res[0].Label != want {
		t.Errorf("Label = %q, want %q", res[0].Label, want)
	}
	if !strings.Contains(res[0].Origin, "OAI_CONFIG_LIST") || res[0].Diagnosis != OK || res[1].Diagnosis != OK {
		t.Errorf("results: %+v", res)
	}
}

func TestProbeParallel(t *testing.T) {
	t.Parallel()
	srv := providertest.Start(t, providertest.OpenAI, providertest.Config{
		Keys:    map[string]providertest.Key{probeKeyGood: {}, probeKeyOther: {}, probeKeyBad: {}},
		Latency: time.Second, // long enough that parallel requests overlap even on a loaded machine
	})
	var targets []Target
	for _, k := range []string{probeKeyGood, probeKeyOther, probeKeyBad} {
		targets = append(targets, probeTarget(OpenAI, srv, k))
	}
	res := Probe(context.Background(), targets, ProbeOptions{})
	if len(res) != 3 {
		t.Fatalf("got %d results", len(res))
	}
	if got := srv.MaxConcurrent(); got != 3 {
		t.Errorf("max concurrent requests = %d, want 3 (probes must run in parallel)", got)
	}
}

func TestProbeRedirectNeverCarriesTheKey(t *testing.T) {
	t.Parallel()
	for _, p := range []Provider{OpenAI, Azure, Anthropic} {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			other := probeFake(t, probeKind(p), map[string]providertest.Key{probeKeyGood: {}})
			loc := other.BaseURL() + "/models"
			srv := probeFake(t, probeKind(p), map[string]providertest.Key{probeKeyGood: {Mode: providertest.Redirect, Location: loc}})
			r := probeOne(t, probeTarget(p, srv, probeKeyGood), ProbeOptions{})
			if r.Diagnosis != Redirected || r.Status != http.StatusTemporaryRedirect || r.Location != loc || !errors.Is(r.Err, ErrMisconfigured) {
				t.Fatalf("got %s %d location %q err %v", r.Diagnosis, r.Status, r.Location, r.Err)
			}
			if !strings.Contains(r.Hint, loc) {
				t.Errorf("hint %q does not name %s", r.Hint, loc)
			}
			if n := other.Requests(); n != 0 {
				t.Fatalf("the redirect target received %d requests, headers %v", n, other.Log()[0].Header)
			}
		})
	}
}

// probeCountingTransport fails the test when any request is sent.
type probeCountingTransport struct{ n atomic.Int32 }

func (c *probeCountingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, errors.New("no request should be sent")
}

func TestProbeRefusesPlainHTTP(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, base string
		allow      bool
		want       Diagnosis
	}{
		{name: "non-loopback http", base: "http://api.example.invalid/v1", want: BadURL},
		{name: "other scheme", base: "ftp://api.example.invalid/v1", want: BadURL},
		{name: "no host", base: "api.openai.com/v1", want: BadURL},
		{name: "allowed", base: "http://api.example.invalid/v1", allow: true, want: Unreachable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rt := &probeCountingTransport{}
			tg := Target{Provider: OpenAI, BaseURL: tc.base, Key: sources.NewSecret(probeKeyGood)}
			r := probeOne(t, tg, ProbeOptions{Transport: rt, AllowHTTP: tc.allow, Timeout: 300 * time.Millisecond})
			if r.Diagnosis != tc.want {
				t.Fatalf("got %s (%s), want %s", r.Diagnosis, r.Hint, tc.want)
			}
			if tc.want == BadURL && (rt.n.Load() != 0 || r.Attempts != 0 || !errors.Is(r.Err, ErrMisconfigured)) {
				t.Fatalf("%d requests sent, %d attempts, err %v", rt.n.Load(), r.Attempts, r.Err)
			}
			if tc.name == "non-loopback http" && !strings.Contains(r.Hint, "probe.allow_http") {
				t.Errorf("hint %q does not say how to allow http", r.Hint)
			}
			probeNoLeak(t, r, probeKeyGood)
		})
	}
}

func TestProbeUnknownHost(t *testing.T) {
	t.Parallel()
	// The machine's resolver may not answer NXDOMAIN for .invalid; a dialer
	// that does keeps the test local.
	var dials atomic.Int32
	tr := &http.Transport{DialContext: func(_ context.Context, _, addr string) (net.Conn, error) {
		dials.Add(1)
		host, _, _ := net.SplitHostPort(addr)
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}}
	}}
	defer tr.CloseIdleConnections()
	tg := Target{Provider: Anthropic, BaseURL: "https://api.example.invalid", Key: sources.NewSecret(probeAntKey)}
	r := probeOne(t, tg, ProbeOptions{Transport: tr})
	if r.Diagnosis != BadURL || r.Attempts != 1 || dials.Load() != 1 || !errors.Is(r.Err, ErrMisconfigured) {
		t.Fatalf("got %s after %d attempts: %v", r.Diagnosis, r.Attempts, r.Err)
	}
	if !strings.Contains(r.Hint, "api.example.invalid does not resolve") || !strings.Contains(r.Hint, "ANTHROPIC_BASE_URL") {
		t.Errorf("hint %q", r.Hint)
	}
}

func TestProbeReadsAtMost64KiB(t *testing.T) {
	t.Parallel()
	const size = 50 << 20
	srv := probeFake(t, providertest.OpenAI, map[string]providertest.Key{probeKeyGood: {Mode: providertest.HugeBody, Size: size}})
	r := probeOne(t, probeTarget(OpenAI, srv, probeKeyGood), ProbeOptions{})
	if r.Diagnosis != OK {
		t.Fatalf("got %s: %s", r.Diagnosis, r.Hint)
	}
	// The server can only push what the kernel buffers before the probe
	// hangs up: far less than the whole body.
	if sent := srv.BodyBytesSent(); sent >= size/2 {
		t.Errorf("server sent %d of %d bytes: the probe read the body to the end", sent, size)
	}
}

func TestProbeMasksEchoedKey(t *testing.T) {
	t.Parallel()
	srv := probeFake(t, providertest.OpenAI, map[string]providertest.Key{probeKeyGood: {Mode: providertest.EchoKey}})
	r := probeOne(t, probeTarget(OpenAI, srv, probeKeyGood), ProbeOptions{})
	if r.Diagnosis != Rejected || !strings.Contains(r.Message, "Received API Key = sk-proj-[masked],") {
		t.Fatalf("got %s, message %q", r.Diagnosis, r.Message)
	}
	probeNoLeak(t, r, probeKeyGood)
}

func TestProbeRetries(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		key      providertest.Key
		timeout  time.Duration
		want     Diagnosis
		attempts int // exact when > 0; at least 2 when -1
		last     string
	}{
		{name: "5xx then success", key: providertest.Key{Mode: providertest.ServerError, Times: 2, Status: 503}, want: OK, attempts: 3},
		{name: "429 then success", key: providertest.Key{Mode: providertest.RateLimited, Times: 1, RetryAfter: "0"}, want: OK, attempts: 2},
		{name: "5xx until the deadline", key: providertest.Key{Mode: providertest.ServerError, Status: 502},
			timeout: 600 * time.Millisecond, want: Unreachable, attempts: -1, last: "502"},
		{name: "Retry-After beyond the deadline", key: providertest.Key{Mode: providertest.RateLimited, RetryAfter: "30"},
			timeout: 2 * time.Second, want: Unreachable, attempts: 1, last: "429 rate limited"},
		{name: "slow answer times out", key: providertest.Key{Mode: providertest.Slow, Delay: 5 * time.Second},
			timeout: 400 * time.Millisecond, want: Unreachable, attempts: -1, last: "timed out"},
		{name: "body cut half-way", key: providertest.Key{Mode: providertest.Truncated},
			timeout: 400 * time.Millisecond, want: Unreachable, attempts: -1, last: "EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := probeFake(t, providertest.OpenAI, map[string]providertest.Key{probeKeyGood: tc.key})
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			r := probeOne(t, probeTarget(OpenAI, srv, probeKeyGood), ProbeOptions{Timeout: timeout})
			if r.Diagnosis != tc.want {
				t.Fatalf("got %s after %d attempts: %s", r.Diagnosis, r.Attempts, r.Hint)
			}
			if tc.attempts > 0 && r.Attempts != tc.attempts || tc.attempts < 0 && r.Attempts < 2 {
				t.Errorf("Attempts = %d, want %d (-1: 2 or more)", r.Attempts, tc.attempts)
			}
			if r.Attempts != srv.Requests() {
				t.Errorf("%d attempts but %d requests", r.Attempts, srv.Requests())
			}
			if tc.want == Unreachable && (!errors.Is(r.Err, ErrUnreachable) || !strings.Contains(r.Hint, tc.last)) {
				t.Errorf("err %v, hint %q lacks %q", r.Err, r.Hint, tc.last)
			}
		})
	}
}

func TestProbeConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	tg := Target{Provider: OpenAI, BaseURL: "http://" + addr + "/v1", Key: sources.NewSecret(probeKeyGood)}
	r := probeOne(t, tg, ProbeOptions{Timeout: 500 * time.Millisecond})
	if r.Diagnosis != Unreachable || r.Attempts < 2 || !strings.Contains(r.Hint, "connection refused") {
		t.Fatalf("got %s after %d attempts: %s", r.Diagnosis, r.Attempts, r.Hint)
	}
}

// probeProxy is a loopback HTTP proxy that answers every request itself.
func probeProxy(t *testing.T) (*httptest.Server, chan *http.Request) {
	seen := make(chan *http.Request, 8)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case seen <- r.Clone(context.Background()):
		default: // retries may outnumber the buffer; the first ones are enough
		}
		if r.Method == http.MethodConnect {
			http.Error(w, "no tunnels here", http.StatusBadGateway)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"object":"list","data":[]}`))
	}))
	t.Cleanup(srv.Close)
	return srv, seen
}

func TestProbeUsesProxy(t *testing.T) {
	t.Parallel()
	proxy, seen := probeProxy(t)
	withUser := strings.Replace(proxy.URL, "http://", "http://user:pa55word@", 1)

	t.Run("http_proxy", func(t *testing.T) {
		tg := Target{Provider: OpenAI, BaseURL: "http://api.example.invalid/v1", Key: sources.NewSecret(probeKeyGood)}
		r := probeOne(t, tg, ProbeOptions{AllowHTTP: true, Env: map[string]string{"HTTP_PROXY": withUser}})
		if r.Diagnosis != OK || r.Proxy != proxy.URL {
			t.Fatalf("got %s via %q (%s), want ok via %s", r.Diagnosis, r.Proxy, r.Hint, proxy.URL)
		}
		got := <-seen
		if got.Host != "api.example.invalid" || got.Header.Get("Authorization") != "Bearer "+probeKeyGood {
			t.Errorf("proxy saw host %q", got.Host)
		}
		if got.Header.Get("Proxy-Authorization") == "" {
			t.Errorf("proxy credentials from the URL were not sent")
		}
	})
	t.Run("no_proxy wins", func(t *testing.T) {
		env := map[string]string{"ALL_PROXY": proxy.URL, "NO_PROXY": ".example.invalid"}
		tg := Target{Provider: OpenAI, BaseURL: "https://api.example.invalid/v1", Key: sources.NewSecret(probeKeyGood)}
		if got := newClient(ProbeOptions{Env: env}).proxyFor(buildRequest(tg, false)); got != "" {
			t.Errorf("proxy %q used for a NO_PROXY host", got)
		}
	})
	t.Run("https_proxy", func(t *testing.T) {
		tg := Target{Provider: Azure, BaseURL: "https://res.example.invalid", APIVersion: "2024-10-21", Key: sources.NewSecret(probeAzureKey)}
		r := probeOne(t, tg, ProbeOptions{Timeout: 400 * time.Millisecond, Env: map[string]string{"https_proxy": proxy.URL, "HTTPS_PROXY": "http://127.0.0.1:1"}})
		if r.Diagnosis != Unreachable || r.Proxy != proxy.URL || !strings.Contains(r.Hint, "via proxy "+proxy.URL) {
			t.Fatalf("got %s via %q: %s", r.Diagnosis, r.Proxy, r.Hint)
		}
		if got := <-seen; got.Method != http.MethodConnect || got.Host != "res.example.invalid:443" {
			t.Errorf("proxy saw %s %s", got.Method, got.Host)
		}
		probeNoLeak(t, r, probeAzureKey, "pa55word")
	})
}

func TestProxyConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name              string
		env               map[string]string
		https, http, none string
	}{
		{name: "upper", env: map[string]string{"HTTPS_PROXY": "a:1", "HTTP_PROXY": "b:2", "NO_PROXY": "x"}, https: "a:1", http: "b:2", none: "x"},
		{name: "lower wins", env: map[string]string{"HTTPS_PROXY": "a:1", "https_proxy": "c:3"}, https: "c:3"},
		{name: "empty lower unsets", env: map[string]string{"HTTPS_PROXY": "a:1", "https_proxy": ""}, https: ""},
		{name: "all_proxy fills", env: map[string]string{"ALL_PROXY": "socks5://d:4", "HTTP_PROXY": "b:2"}, https: "socks5://d:4", http: "b:2"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := proxyConfig(tc.env)
			if c.HTTPSProxy != tc.https || c.HTTPProxy != tc.http || c.NoProxy != tc.none {
				t.Errorf("got %+v", c)
			}
		})
	}
}

// TestProbeLeavesNoGoroutines runs before the parallel tests resume, so
// goleak sees only what Probe and its fakes left behind.
func TestProbeLeavesNoGoroutines(t *testing.T) {
	opts := goleak.IgnoreCurrent()
	srv := providertest.New(providertest.OpenAI, providertest.Config{Keys: map[string]providertest.Key{
		probeKeyGood:  {Mode: providertest.HugeBody},
		probeKeyOther: {Mode: providertest.Slow, Delay: 5 * time.Second},
		probeKeyBad:   {Mode: providertest.Redirect, Location: "https://elsewhere.example.invalid/"},
	}})
	var targets []Target
	for _, k := range []string{probeKeyGood, probeKeyOther, probeKeyBad} {
		targets = append(targets, probeTarget(OpenAI, srv, k))
	}
	res := Probe(context.Background(), targets, ProbeOptions{Timeout: 300 * time.Millisecond})
	srv.Close()
	if res[0].Diagnosis != OK || res[1].Diagnosis != Unreachable || res[2].Diagnosis != Redirected {
		t.Errorf("got %s %s %s", res[0].Diagnosis, res[1].Diagnosis, res[2].Diagnosis)
	}
	goleak.VerifyNone(t, opts)
}
