package verify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/keyexec/keyexec/sources"
)

// maxBody is how much of an answer is read; the rest is never downloaded.
const maxBody = 64 << 10

// probeClient sends probe requests. It never follows redirects: Go would carry
// custom headers such as api-key and x-api-key to whatever host a 3xx names.
type probeClient struct {
	http  *http.Client
	tr    *http.Transport                  // nil with ProbeOptions.Transport
	proxy func(*url.URL) (*url.URL, error) // nil with ProbeOptions.Transport
}

func newClient(opts ProbeOptions) *probeClient {
	c := &probeClient{}
	rt := opts.Transport
	if rt == nil {
		c.proxy = proxyConfig(opts.Env).ProxyFunc()
		c.tr = &http.Transport{
			Proxy:                 func(r *http.Request) (*url.URL, error) { return c.proxy(r.URL) },
			DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:     true,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 0, // the attempt's context bounds it
			MaxIdleConnsPerHost:   4,
		}
		rt = c.tr
	}
	c.http = &http.Client{
		Transport:     rt,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	return c
}

func (c *probeClient) close() {
	if c.tr != nil {
		c.tr.CloseIdleConnections()
	}
}

// proxyFor names the proxy a request goes through: scheme and host only,
// never the proxy's userinfo.
func (c *probeClient) proxyFor(r *probeRequest) string {
	if c.proxy == nil {
		return ""
	}
	p, err := c.proxy(r.url)
	if err != nil || p == nil {
		return ""
	}
	return p.Scheme + "://" + p.Host
}

// proxyConfig reads proxy variables the way Python's httpx does (through
// urllib's getproxies): a lowercase variable wins over its uppercase form,
// even when empty, and ALL_PROXY serves any scheme without its own proxy.
func proxyConfig(env map[string]string) *httpproxy.Config {
	get := func(name string) string {
		if v, ok := env[strings.ToLower(name)]; ok {
			return v
		}
		return env[name]
	}
	all := get("ALL_PROXY")
	cfg := &httpproxy.Config{
		HTTPSProxy: get("HTTPS_PROXY"),
		HTTPProxy:  get("HTTP_PROXY"),
		NoProxy:    get("NO_PROXY"),
	}
	if cfg.HTTPSProxy == "" {
		cfg.HTTPSProxy = all
	}
	if cfg.HTTPProxy == "" {
		cfg.HTTPProxy = all
	}
	return cfg
}

// attempt sends the request once and reads at most maxBody of the answer.
func (c *probeClient) attempt(ctx context.Context, r *probeRequest, limit time.Duration) *probeAnswer {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, r.url.String(), body)
	if err != nil {
		return netAnswer(err, r)
	}
	req.Header = r.header.Clone()
	resp, err := c.http.Do(req)
	if err != nil {
		return netAnswer(err, r)
	}
	// Closing without draining drops the connection: a 50 MiB answer costs
	// 64 KiB, not 50 MiB.
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return netAnswer(err, r)
	}
	a := &probeAnswer{status: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	if resp.StatusCode/100 == 2 {
		a.jsonLike = looksJSON(data)
		return a
	}
	code, msg := ParseErrorBody(data)
	a.code = strings.ToValidUTF8(sources.Mask(code, r.secrets...), "\uFFFD")
	a.message = strings.ToValidUTF8(sources.Mask(msg, r.secrets...), "\uFFFD")
	if resp.StatusCode/100 == 3 {
		if loc, err := resp.Location(); err == nil {
			a.location = sources.Mask(loc.Redacted(), r.secrets...)
		}
	}
	return a
}

// looksJSON accepts a complete JSON document, or the start of one when the
// body was cut at maxBody (some model lists, OpenRouter's, run to megabytes).
func looksJSON(data []byte) bool {
	if len(data) < maxBody {
		return json.Valid(data)
	}
	t := bytes.TrimLeft(data, " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// netKind sorts transport failures: some are final, the rest are retried.
type netKind int

const (
	netOther       netKind = iota // retried
	netRefused                    // retried
	netTimeout                    // retried
	netNoHost                     // final: the name does not resolve
	netTLS                        // final: certificate or protocol mismatch
	netBadResponse                // final: not an HTTP server there
)

// netAnswer records a transport failure. The url.Error wrapper is dropped:
// it repeats the request URL, which is reported separately.
func netAnswer(err error, r *probeRequest) *probeAnswer {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	a := &probeAnswer{err: err}
	var dns *net.DNSError
	var cve *tls.CertificateVerificationError
	var rhe tls.RecordHeaderError
	var uae x509.UnknownAuthorityError
	var he x509.HostnameError
	var cie x509.CertificateInvalidError
	switch {
	case errors.As(err, &dns) && dns.IsNotFound:
		a.errKind = netNoHost
	case errors.As(err, &cve), errors.As(err, &uae), errors.As(err, &he), errors.As(err, &cie):
		a.errKind = netTLS
	case errors.As(err, &rhe), strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		a.errKind = netBadResponse
	case errors.Is(err, syscall.ECONNREFUSED):
		a.errKind = netRefused
	case errors.Is(err, context.DeadlineExceeded), isTimeout(err):
		a.errKind = netTimeout
	}
	return a
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// describeNetErr says in a few words what went wrong on the wire.
func describeNetErr(r *probeRequest, a *probeAnswer) string {
	prefix := ""
	var op *net.OpError
	if errors.As(a.err, &op) && op.Op == "proxyconnect" {
		prefix = "proxy: "
	}
	switch a.errKind {
	case netRefused:
		return prefix + "connection refused"
	case netTimeout:
		return prefix + "timed out"
	case netNoHost:
		return "host " + r.url.Hostname() + " does not resolve"
	}
	return prefix + oneLineMessage(sources.Mask(a.err.Error(), r.secrets...))
}

// badURLHint explains a final transport failure.
func badURLHint(r *probeRequest, a *probeAnswer) string {
	v := baseVar(r.target.Provider)
	switch a.errKind {
	case netNoHost:
		return fmt.Sprintf("host %s does not resolve: check the base URL (%s)", r.url.Hostname(), v)
	case netBadResponse:
		return fmt.Sprintf("%s does not speak HTTPS on that port: check the scheme and port of %s", r.url.Host, v)
	}
	return fmt.Sprintf("the TLS certificate of %s was not accepted (%s): check %s, or a TLS-intercepting proxy", r.url.Host, describeNetErr(r, a), v)
}

// baseVar names the variable that sets a provider's base URL.
func baseVar(p Provider) string {
	switch p {
	case Azure:
		return "AZURE_OPENAI_ENDPOINT"
	case Anthropic:
		return "ANTHROPIC_BASE_URL"
	}
	return "OPENAI_BASE_URL"
}
