package verify

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff between attempts: exponential from backoffBase, capped at
// backoffCap, with full jitter (a uniform wait in [0, step)) so that many
// keyexec instances restarting together do not retry in lockstep.
const (
	backoffBase = 200 * time.Millisecond
	backoffCap  = 2 * time.Second
)

// backoff is the full-jitter wait before attempt n+1.
func backoff(n int) time.Duration {
	step := backoffCap
	if n < 5 {
		step = min(backoffCap, backoffBase<<(n-1))
	}
	return rand.N(step) + time.Millisecond
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s < 0 {
			return 0, false
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// nextWait says how long to wait before the next attempt, and false when no
// attempt fits before the deadline (Retry-After asking for longer than the
// time left included: waiting for it would only miss the deadline).
func nextWait(attempt int, retryAfter string, deadline, now time.Time) (time.Duration, bool) {
	wait := backoff(attempt)
	if ra, ok := parseRetryAfter(retryAfter, now); ok {
		wait = ra
	}
	if !deadline.IsZero() && !now.Add(wait).Before(deadline) {
		return 0, false
	}
	return wait, true
}

// sleepCtx waits for d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run sends one request until it gets a final answer or the probe deadline
// passes, and classifies the outcome.
func (c *probeClient) run(ctx context.Context, r *probeRequest, timeout time.Duration) Result {
	res := r.result()
	res.Proxy = c.proxyFor(r)
	deadline, _ := ctx.Deadline()
	// An attempt gets half the probe's time, so a stalled connection is
	// retried once instead of eating the whole deadline.
	perAttempt := max(timeout/2, 100*time.Millisecond)
	var prev *probeAnswer
	for attempt := 1; ; attempt++ {
		start := time.Now()
		a := c.attempt(ctx, r, perAttempt)
		res.Latency = time.Since(start)
		res.Attempts = attempt
		d := diagnoseAttempt(r, a)
		if d != Unreachable {
			classifyResult(&res, r, a, d)
			return res
		}
		// When the probe's own deadline cut the last attempt short, the
		// answer before it says more about the provider than "timed out".
		if a.err != nil && ctx.Err() != nil && prev != nil {
			a = prev
		}
		wait, ok := nextWait(attempt, a.retryAfter, deadline, time.Now())
		if !ok || sleepCtx(ctx, wait) != nil {
			classifyResult(&res, r, a, Unreachable)
			return res
		}
		prev = a
	}
}

// diagnoseAttempt gives the diagnosis of one attempt; Unreachable means retry.
func diagnoseAttempt(r *probeRequest, a *probeAnswer) Diagnosis {
	if a.err == nil {
		return diagnoseStatus(r.kind, a)
	}
	switch a.errKind {
	case netNoHost, netTLS, netBadResponse:
		return BadURL
	}
	return Unreachable
}
