package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/keyexec/keyexec/sources"
)

// DefaultProbeTimeout bounds a whole probe when ProbeOptions.Timeout is zero.
const DefaultProbeTimeout = 10 * time.Second

// maxParallel bounds the requests in flight: a long config list should not
// open dozens of connections at once.
const maxParallel = 16

// userAgent names keyexec to the provider (and to proxies and gateway logs).
const userAgent = "keyexec/probe"

// ProbeOptions tunes Probe.
type ProbeOptions struct {
	// Timeout is the deadline of the whole probe, retries included
	// (DefaultProbeTimeout when zero).
	Timeout time.Duration
	// AllowHTTP lets plain http:// reach non-loopback hosts (probe.allow_http).
	AllowHTTP bool
	// Env is keyexec's environment, read for HTTPS_PROXY, HTTP_PROXY,
	// ALL_PROXY and NO_PROXY (lowercase forms win, as in Python's httpx), so
	// that the probe takes the same path to the provider as the child will.
	Env map[string]string
	// Transport replaces the HTTP transport, for tests. Proxy settings from
	// Env are then the transport's business and Result.Proxy stays empty.
	Transport http.RoundTripper
}

// checkKind is what one request proves.
type checkKind int

const (
	checkList       checkKind = iota // the key, by listing models
	checkModel                       // the key and one OpenAI model
	checkDeployment                  // the key and one Azure deployment
)

// probeRequest is one distinct request, serving one or more Targets.
type probeRequest struct {
	target  Target // the first Target it serves: provider, URL, model, origin
	labels  []string
	origins []string
	method  string
	url     *url.URL
	header  http.Header
	body    []byte
	kind    checkKind
	// secret is the credential sent and credName what to call it in hints
	// ("key" or "AD token"); secrets is every value to mask in answers.
	secret   string
	credName string
	secrets  []string
	// refused says why the request must not be sent at all: a URL that
	// does not parse, or plain http to a non-loopback host.
	refused error
}

// Probe proves every Target against its provider and returns one classified
// Result per distinct request, in the order the Targets first ask for it.
// Targets that would send the same request (same method, URL, credential and
// headers) share one request and one Result, whose Label lists them all.
// Requests run in parallel; retries stop at opts.Timeout. Probe never follows
// a redirect and never sends a credential over plain http to a host that is
// not loopback, unless opts.AllowHTTP.
func Probe(ctx context.Context, targets []Target, opts ProbeOptions) []Result {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultProbeTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()

	reqs := planRequests(targets, opts.AllowHTTP)
	c := newClient(opts)
	defer c.close()

	results := make([]Result, len(reqs))
	sem := make(chan struct{}, maxParallel)
	var wg sync.WaitGroup
	for i, r := range reqs {
		if r.refused != nil {
			results[i] = r.result()
			finishResult(&results[i], BadURL, r.refused.Error(), r)
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = c.run(ctx, r, opts.Timeout)
		})
	}
	wg.Wait()
	return results
}

// planRequests builds one request per Target and merges identical ones.
func planRequests(targets []Target, allowHTTP bool) []*probeRequest {
	var out []*probeRequest
	byKey := map[string]*probeRequest{}
	for _, t := range targets {
		r := buildRequest(t, allowHTTP)
		k := r.dedupeKey()
		if prev, ok := byKey[k]; ok {
			prev.labels = appendNew(prev.labels, t.Label)
			prev.origins = appendNew(prev.origins, t.Origin)
			continue
		}
		byKey[k] = r
		out = append(out, r)
	}
	return out
}

// buildRequest turns a Target into its provider's request.
func buildRequest(t Target, allowHTTP bool) *probeRequest {
	r := &probeRequest{
		target:  t,
		labels:  appendNew(nil, t.Label),
		origins: appendNew(nil, t.Origin),
		header:  http.Header{},
	}
	for _, s := range []sources.Secret{t.Key, t.ADToken} {
		if !s.IsZero() {
			r.secrets = append(r.secrets, s.Reveal())
		}
	}
	var err error
	switch t.Provider {
	case OpenAI:
		err = buildOpenAI(r)
	case Azure:
		err = buildAzure(r)
	case Anthropic:
		err = buildAnthropic(r)
	default:
		err = errUnknownProvider
	}
	if err == nil {
		err = checkScheme(r.url, allowHTTP)
	}
	r.refused = err
	r.header.Set("User-Agent", userAgent)
	r.header.Set("Accept", "application/json")
	return r
}

// dedupeKey identifies a request by everything that is sent. It is hashed so
// that the map holds no credential in the clear.
func (r *probeRequest) dedupeKey() string {
	h := sha256.New()
	u := r.target.BaseURL
	if r.url != nil {
		u = r.url.String()
	}
	h.Write([]byte(string(r.target.Provider) + "\x00" + r.method + "\x00" + u + "\x00"))
	names := make([]string, 0, len(r.header))
	for k := range r.header {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		h.Write([]byte(k + "\x00" + strings.Join(r.header[k], "\x01") + "\x00"))
	}
	h.Write(r.body)
	return hex.EncodeToString(h.Sum(nil))
}

// result starts the Result of a request, before any answer.
func (r *probeRequest) result() Result {
	return Result{
		Provider:    r.target.Provider,
		Label:       strings.Join(r.labels, "; "),
		Origin:      strings.Join(r.origins, "; "),
		Method:      r.method,
		URL:         displayURL(r.url, r.target.BaseURL, r.secrets),
		Fingerprint: sources.Fingerprint(r.secret),
	}
}

// displayURL is the request URL as reports show it: no userinfo password and
// no copy of a credential.
func displayURL(u *url.URL, fallback string, secrets []string) string {
	if u == nil {
		return sources.Mask(sources.DisplayURL(fallback), secrets...)
	}
	return sources.Mask(sources.DisplayURL(u.String()), secrets...)
}

// joinURL appends path segments to a base URL, keeping the base's path.
func joinURL(base, path string, query url.Values) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil {
		return nil, errBadURL(err)
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, errNoHost()
	}
	u = u.JoinPath(path)
	if len(query) > 0 {
		q := u.Query()
		for k, v := range query {
			q[k] = v
		}
		u.RawQuery = q.Encode()
	}
	return u, nil
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}
