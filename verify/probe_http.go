package verify

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/keyexec/keyexec/verify/provider"
)

// maxBody is how much of an answer is read; the rest is never downloaded.
const maxBody = 64 << 10

// probeClient sends probe requests. It never follows redirects: Go would
// carry custom headers such as api-key and x-api-key to whatever host a 3xx
// names.
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
			Proxy:               func(r *http.Request) (*url.URL, error) { return c.proxy(r.URL) },
			DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			ForceAttemptHTTP2:   true,
			TLSClientConfig:     &tls.Config{MinVersion: tls.VersionTLS12},
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 4,
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

// proxyFor names the proxy a request to u goes through: scheme and host
// only, never the proxy's userinfo.
func (c *probeClient) proxyFor(u *url.URL) string {
	if c.proxy == nil {
		return ""
	}
	p, err := c.proxy(u)
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

// do sends r once and reads at most maxBody of the answer. Closing the body
// without draining it drops the connection: a 50 MiB answer costs 64 KiB.
func (c *probeClient) do(ctx context.Context, r *provider.Request, limit time.Duration) (*provider.Answer, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var body io.Reader
	if r.Body != nil {
		body = bytes.NewReader(r.Body)
	}
	req, err := http.NewRequestWithContext(ctx, r.Method, r.URL.String(), body)
	if err != nil {
		return nil, err
	}
	req.Header = r.Header.Clone()
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return nil, err
	}
	a := &provider.Answer{Status: resp.StatusCode, Header: resp.Header, Body: data}
	if len(data) > maxBody {
		a.Body, a.Cut = data[:maxBody], true
	}
	return a, nil
}

// proxyPrefix marks a failure to reach the proxy itself.
func proxyPrefix(err error) string {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "proxyconnect" {
		return "proxy: "
	}
	return ""
}
