package sources

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Backoff between attempts, for every retry loop of keyexec (Vault, the
// provider probe): exponential from backoffBase, capped at backoffCap, with
// full jitter (a uniform wait in [0, step)) so that many keyexec instances
// restarting together do not retry in lockstep.
const (
	backoffBase = 100 * time.Millisecond
	backoffCap  = 2 * time.Second
)

// Backoff is the wait before attempt n+1 (n counts from 1).
func Backoff(n int) time.Duration {
	step := backoffCap
	if n >= 1 && n < 6 {
		step = min(backoffCap, backoffBase<<(n-1))
	}
	return rand.N(step) + time.Millisecond
}

// RetryAfter reads a Retry-After header: delay-seconds or an HTTP date.
func RetryAfter(v string, now time.Time) (time.Duration, bool) {
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

// NextWait says how long to wait before attempt n+1, and false when no
// attempt fits before the deadline (a zero deadline means none). A server's
// Retry-After replaces the backoff; one asking for longer than the time left
// ends the retries, since waiting for it would only miss the deadline.
func NextWait(n int, retryAfter string, deadline, now time.Time) (time.Duration, bool) {
	wait := Backoff(n)
	if ra, ok := RetryAfter(retryAfter, now); ok {
		wait = ra
	}
	if !deadline.IsZero() && !now.Add(wait).Before(deadline) {
		return 0, false
	}
	return wait, true
}

// Sleep waits for d or until ctx ends, and reports whether it waited d.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
