package exec

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// refreshResult is one Refresh call's answer, carried back to the loop.
type refreshResult struct {
	env     []string
	changed bool
	err     error
}

// watcher runs Refresh once per period, one call at a time: the next period
// starts when the previous call returned, so a slow source never piles up
// calls. All its methods but the goroutine's body run on the loop.
type watcher struct {
	period  time.Duration // 0: watching is off
	jitter  float64
	refresh func(context.Context) ([]string, bool, error)

	ctx     context.Context
	cancel  context.CancelFunc
	timer   *time.Timer
	armed   bool
	busy    bool
	stopped bool
	results chan refreshResult
	wg      sync.WaitGroup
}

func newWatcher(ctx context.Context, period time.Duration, jitter float64, refresh func(context.Context) ([]string, bool, error)) *watcher {
	w := &watcher{period: period, jitter: jitter, refresh: refresh, results: make(chan refreshResult, 1)}
	w.ctx, w.cancel = context.WithCancel(ctx)
	return w
}

// arm starts the next period unless watching is off, stopped, or a call is
// still running.
func (w *watcher) arm() {
	if w.period <= 0 || w.stopped || w.busy || w.armed {
		return
	}
	d := jittered(w.period, w.jitter)
	if w.timer == nil {
		w.timer = time.NewTimer(d)
	} else {
		w.timer.Reset(d)
	}
	w.armed = true
}

// C is ready when a period has passed; nil (never ready) when not armed.
func (w *watcher) C() <-chan time.Time {
	if !w.armed {
		return nil
	}
	return w.timer.C
}

// begin runs one Refresh in the background; its answer arrives on results.
func (w *watcher) begin() {
	w.armed = false
	if w.stopped {
		return
	}
	w.busy = true
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		env, changed, err := w.refresh(w.ctx)
		w.results <- refreshResult{env: env, changed: changed, err: err}
	}()
}

// finish marks the running call as answered.
func (w *watcher) finish() { w.busy = false }

// stop cancels a running call and waits for it: nothing outlives Supervise.
func (w *watcher) stop() {
	if w.stopped {
		return
	}
	w.stopped = true
	w.armed = false
	if w.timer != nil {
		w.timer.Stop()
	}
	w.cancel()
	w.wg.Wait()
}

// jittered spreads d by ±frac so that many replicas do not hit a secret
// store in step.
func jittered(d time.Duration, frac float64) time.Duration {
	if frac <= 0 {
		return d
	}
	spread := float64(d) * min(frac, 1) * (2*rand.Float64() - 1)
	if j := d + time.Duration(spread); j > 0 {
		return j
	}
	return d
}

// onRefresh acts on a Refresh answer: a failure keeps the child and is
// logged once until it changes or a call succeeds; a change restarts or
// signals the child.
func (s *supervisor) onRefresh(r refreshResult) {
	if s.state != running {
		return
	}
	if r.err != nil {
		if msg := r.err.Error(); msg != s.lastFailure {
			s.lastFailure = msg
			s.log.Warn("rotation check failed; keeping the running child", "error", msg)
		}
		return
	}
	s.lastFailure = ""
	if !r.changed {
		return
	}
	if s.opts.OnChange == OnChangeSignal {
		s.log.Info("values changed and passed the checks; signalling the child", "signal", signalName(s.changeSig), "pid", s.pid)
		s.signal(s.changeSig)
		return
	}
	s.log.Info("values changed and passed the checks; restarting the child",
		"signal", signalName(s.restartSig), "grace", s.opts.RestartGrace, "pid", s.pid)
	s.next = r.env
	s.state = restarting
	s.signal(s.restartSig)
	s.startGrace()
}
