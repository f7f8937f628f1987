package verify

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// maxSteps bounds a probe's follow-up requests (a restricted key takes
// three; Ollama two).
const maxSteps = 6

// exec runs one probe to its end: the unit's first request, each answer
// read by the unit, follow-ups, retries of transient failures until the
// deadline.
func (p *Prober) exec(t Target) Result {
	ctx, cancel := context.WithTimeout(p.ctx, p.opts.Timeout)
	defer cancel()
	res := Result{API: t.API.Name, URL: sources.DisplayURL(t.BaseURL), Fingerprint: fingerprintOf(t)}
	start := time.Now()
	defer func() { res.Latency = time.Since(start) }()
	c := call(t)
	secrets := []string{c.Key, c.Token}
	if t.Entra != nil {
		o, ok := p.entra(ctx, t, c)
		if !ok {
			p.finish(&res, o, secrets)
			return res
		}
		secrets = append(secrets, c.Token)
		res.Fingerprint = sources.Fingerprint(c.Token)
	}
	req, err := t.API.Probe().First(c)
	if err != nil {
		p.finish(&res, provider.Outcome{Diagnosis: provider.BadURL, Hint: err.Error()}, secrets)
		return res
	}
	for step := 0; ; step++ {
		res.Method, res.URL = req.Method, sources.Mask(sources.DisplayURL(req.URL.String()), secrets...)
		if err := checkScheme(req.URL, p.opts.AllowHTTP); err != nil {
			p.finish(&res, provider.Outcome{Diagnosis: provider.BadURL, Hint: err.Error()}, secrets)
			return res
		}
		if res.Proxy == "" {
			res.Proxy = p.client.proxyFor(req.URL)
		}
		o, next := p.attempts(ctx, t, c, req, &res)
		if next == nil || step+1 >= maxSteps {
			p.finish(&res, o, secrets)
			return res
		}
		req = next
	}
}

// attempts sends req until an answer is final or the deadline passes, and
// returns the unit's reading of it (with any follow-up request).
func (p *Prober) attempts(ctx context.Context, t Target, c *provider.Call, req *provider.Request, res *Result) (provider.Outcome, *provider.Request) {
	deadline, _ := ctx.Deadline()
	// An attempt gets half the probe's time, so a stalled connection is
	// retried once instead of eating the whole deadline.
	perAttempt := max(p.opts.Timeout/2, 100*time.Millisecond)
	var last provider.Outcome
	for attempt := 1; ; attempt++ {
		res.Attempts, res.Requests = res.Attempts+1, res.Requests+1
		req.Header.Set("User-Agent", userAgent)
		a, err := p.client.do(ctx, req, perAttempt)
		res.Status = 0
		if a != nil {
			res.Status = a.Status
		}
		if err := sources.Stopped(ctx); err != nil {
			return provider.Outcome{Diagnosis: provider.Stopped, Hint: err.Error()}, nil
		}
		var o provider.Outcome
		retryAfter := ""
		switch {
		case err != nil:
			kind := sources.ClassifyNet(err)
			if kind.Final() {
				return provider.Outcome{Diagnosis: provider.BadURL, Hint: badURLHint(req.URL, c, kind, err)}, nil
			}
			o = provider.Outcome{Diagnosis: provider.Retry, Message: sources.NetReason(err), Hint: proxyPrefix(err) + sources.NetReason(err)}
			if ctx.Err() != nil && last.Diagnosis == provider.Retry {
				// The probe's own deadline cut this attempt short: the
				// answer before it says more than "timed out".
				o = last
			}
		case a.Status >= 300 && a.Status < 400:
			loc := a.Header.Get("Location")
			if u, err := url.Parse(loc); err == nil && loc != "" {
				loc = u.Redacted()
			}
			return provider.Outcome{Diagnosis: provider.Redirected, Code: strconv.Itoa(a.Status), Message: loc,
				Hint: fmt.Sprintf("%s answered %d with a redirect to %s, which keyexec never follows (headers would reach the new host): set %s to the final address", req.URL.Host, a.Status, orUnknown(loc), c.URLName)}, nil
		default:
			var next *provider.Request
			o, next = t.API.Probe().Next(c, req, a)
			if o.Diagnosis != provider.Retry {
				if o.Diagnosis == provider.OK && o.Hint == "" {
					o.Hint = req.Proves
				}
				return o, next
			}
			retryAfter = a.Header.Get("Retry-After")
			o.Hint = strconv.Itoa(a.Status) + provider.Quoted(o.Code, o.Message)
		}
		last = o
		wait, ok := sources.NextWait(attempt, retryAfter, deadline, time.Now())
		if !ok || !sources.Sleep(ctx, wait) {
			if err := sources.Stopped(ctx); err != nil {
				return provider.Outcome{Diagnosis: provider.Stopped, Hint: err.Error()}, nil
			}
			return provider.Outcome{Diagnosis: provider.Unreachable, Code: o.Code, Message: o.Message,
				Hint: unreachableHint(req.URL, res, o.Hint)}, nil
		}
	}
}

// finish records the final outcome in res, masked, with its error.
func (p *Prober) finish(res *Result, o provider.Outcome, secrets []string) {
	mask := func(s string) string { return sources.Mask(s, secrets...) }
	res.Diagnosis = o.Diagnosis
	res.Hint, res.Note = mask(o.Hint), mask(o.Note)
	if o.Diagnosis == provider.Redirected {
		res.Location = mask(o.Message)
	} else if o.Diagnosis != provider.OK {
		res.Code, res.Message = mask(o.Code), mask(o.Message)
	}
	if o.Diagnosis == provider.Stopped {
		res.Err = sources.Stopped(p.ctx)
		if res.Err == nil {
			res.Err = fmt.Errorf("%s", res.Hint)
		}
		return
	}
	res.Err = resultError(res)
}

// resultError is the error of a failed result, nil for a success.
func resultError(res *Result) error {
	sentinel := Sentinel(res.Diagnosis)
	if sentinel == nil {
		return nil
	}
	what := string(res.Diagnosis)
	if res.Status != 0 {
		what = strconv.Itoa(res.Status)
		if res.Code != "" {
			what += " " + res.Code
		}
	}
	return fmt.Errorf("%s probe %s: %s: %s: %w", res.API, strings.TrimSpace(res.Method+" "+res.URL), what, res.Hint, sentinel)
}

// checkScheme allows https everywhere and http only to loopback hosts, so
// that a key never crosses a network in the clear unless the user said so.
func checkScheme(u *url.URL, allowHTTP bool) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if allowHTTP || provider.IsLoopbackHost(u.Host) {
			return nil
		}
		return fmt.Errorf("refusing plain http:// to %s, which is not a loopback host: the key would cross the network unencrypted; use https:// or set probe.allow_http: true", u.Hostname())
	}
	return fmt.Errorf("the base URL scheme %q is not http or https", u.Scheme)
}

// badURLHint explains a final transport failure.
func badURLHint(u *url.URL, c *provider.Call, kind sources.NetKind, err error) string {
	switch kind {
	case sources.NetNoHost:
		return fmt.Sprintf("host %s does not resolve: check the base URL (%s)", u.Hostname(), c.URLName)
	case sources.NetProtocol:
		return fmt.Sprintf("%s does not speak HTTPS on that port: check the scheme and port of %s", u.Host, c.URLName)
	}
	return fmt.Sprintf("the TLS certificate of %s was not accepted (%s): check %s, or a TLS-intercepting proxy", u.Host, sources.NetReason(err), c.URLName)
}

// unreachableHint explains a probe that got no usable answer in time.
func unreachableHint(u *url.URL, res *Result, last string) string {
	via := ""
	if res.Proxy != "" {
		via = " via proxy " + res.Proxy
	}
	tries := "1 attempt"
	if res.Attempts != 1 {
		tries = strconv.Itoa(res.Attempts) + " attempts"
	}
	return fmt.Sprintf("no usable answer from %s%s after %s, the last %s: the provider or the network may be down; probe.on_unreachable: warn starts the child anyway",
		u.Host, via, tries, last)
}

func orUnknown(s string) string {
	if s == "" {
		return "(no Location)"
	}
	return s
}
