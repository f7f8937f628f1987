package verify

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// DefaultProbeTimeout bounds a probe when ProbeOptions.Timeout is zero.
const DefaultProbeTimeout = 10 * time.Second

// maxParallel bounds the requests in flight: a long config list should not
// open dozens of connections at once.
const maxParallel = 16

// userAgent names keyexec to the provider (and to proxies and gateway logs).
const userAgent = "keyexec/probe"

// ProbeOptions tunes the probe.
type ProbeOptions struct {
	// Timeout is the deadline of each probe, retries and follow-ups
	// included (DefaultProbeTimeout when zero).
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
	// Entra gets Microsoft Entra ID tokens for targets that need one
	// (NewEntraSource in production); nil refuses such targets.
	Entra TokenSource
}

// Prober proves targets for one run of the pipeline. A target may be
// started as soon as its credential is resolved (Start) and asked for again
// with all the others later (Probe): targets that send the same requests
// (same provider, URL, credential and headers) are probed once.
type Prober struct {
	ctx    context.Context
	opts   ProbeOptions
	client *probeClient
	sem    chan struct{}

	mu   sync.Mutex
	runs map[string]*run
}

// run is one probe, in flight or done.
type run struct {
	done chan struct{}
	res  Result
}

// NewProber returns a Prober whose probes end when ctx does. Close it when
// the run is over.
func NewProber(ctx context.Context, opts ProbeOptions) *Prober {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultProbeTimeout
	}
	return &Prober{ctx: ctx, opts: opts, client: newClient(opts), sem: make(chan struct{}, maxParallel), runs: map[string]*run{}}
}

// Close releases the prober's idle connections.
func (p *Prober) Close() { p.client.close() }

// Start begins proving t in the background, unless a probe sending the same
// requests already runs.
func (p *Prober) Start(t Target) { p.start(t) }

func (p *Prober) start(t Target) *run {
	key := dedupeKey(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	if r, ok := p.runs[key]; ok {
		return r
	}
	r := &run{done: make(chan struct{})}
	p.runs[key] = r
	go func() {
		defer close(r.done)
		select {
		case p.sem <- struct{}{}:
			defer func() { <-p.sem }()
			r.res = p.exec(t)
		case <-p.ctx.Done():
			r.res = stoppedOrUnreachable(p.ctx, t)
		}
	}()
	return r
}

// Probe proves every target and returns one Result per distinct probe, in
// the order the targets first ask for it; Result.Targets lists the indexes
// of the targets each served. Probes already started are awaited, not sent
// again.
func (p *Prober) Probe(targets []Target) []Result {
	var order []*run
	served := map[*run][]int{}
	for i, t := range targets {
		r := p.start(t)
		if _, seen := served[r]; !seen {
			order = append(order, r)
		}
		served[r] = append(served[r], i)
	}
	out := make([]Result, 0, len(order))
	for _, r := range order {
		<-r.done
		res := r.res
		res.Targets = served[r]
		var labels, origins []string
		for _, i := range served[r] {
			labels = appendNew(labels, targets[i].Label)
			origins = appendNew(origins, targets[i].Origin)
		}
		res.Label, res.Origin = strings.Join(labels, "; "), strings.Join(origins, "; ")
		out = append(out, res)
	}
	return out
}

// Probe proves targets once, in parallel: NewProber, Probe, Close.
func Probe(ctx context.Context, targets []Target, opts ProbeOptions) []Result {
	p := NewProber(ctx, opts)
	defer p.Close()
	return p.Probe(targets)
}

// dedupeKey identifies a probe by everything it sends. It is hashed so
// that the map holds no credential in the clear.
func dedupeKey(t Target) string {
	h := sha256.New()
	parts := []string{string(t.API.Name), t.BaseURL, boolStr(t.Compat), t.Key.Reveal(), t.Token.Reveal(), t.Org, t.Project, t.APIVersion, t.Model}
	if t.Entra != nil {
		scopes := slices.Clone(t.Entra.Scopes)
		sort.Strings(scopes)
		parts = append(parts, "entra", strings.Join(scopes, " "))
	}
	for _, s := range parts {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

func boolStr(b bool) string {
	if b {
		return "compat"
	}
	return ""
}

// call turns a target into what its unit's probe builds requests from.
func call(t Target) *provider.Call {
	return &provider.Call{
		BaseURL: t.BaseURL, Compat: t.Compat, Key: t.Key.Reveal(), Token: t.Token.Reveal(), TokenName: t.TokenName,
		Org: t.Org, Project: t.Project, APIVersion: t.APIVersion, Model: t.Model,
		Cred: credPhrase(t), KeyName: cmpOr(t.Names.Key, t.Names.Token), URLName: t.Names.URL, ModelName: cmpOr(t.Names.Model, "--model"),
		VersionName: t.Names.APIVersion,
	}
}

// credPhrase says which credential a target sends and where it came from:
// "key sk-…Wx3f is OPENAI_API_KEY from vault://secret/llm/openai#api_key".
func credPhrase(t Target) string {
	switch {
	case t.Entra != nil:
		return "the token came from Microsoft Entra ID (DefaultAzureCredential)"
	case !t.Token.IsZero():
		return cmpOr(t.TokenName, "token") + " " + maskKey(t.Token.Reveal()) + " is " + t.Origin
	case t.Key.IsZero():
		return ""
	}
	return "key " + maskKey(t.Key.Reveal()) + " is " + t.Origin
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func appendNew(list []string, s string) []string {
	if s == "" || slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

// stoppedOrUnreachable is the result of a probe that never started because
// the run ended first: a stop when the user stopped keyexec.
func stoppedOrUnreachable(ctx context.Context, t Target) Result {
	res := Result{API: t.API.Name, URL: sources.DisplayURL(t.BaseURL), Fingerprint: fingerprintOf(t)}
	if err := sources.Stopped(ctx); err != nil {
		res.Diagnosis, res.Hint, res.Err = provider.Stopped, err.Error(), err
		return res
	}
	res.Diagnosis, res.Hint = provider.Unreachable, "the probe deadline passed before this probe could start"
	res.Err = resultError(&res)
	return res
}

func fingerprintOf(t Target) string {
	switch {
	case !t.Token.IsZero():
		return t.Token.Fingerprint()
	case !t.Key.IsZero():
		return t.Key.Fingerprint()
	}
	return ""
}
