package exec

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// rotation runs Supervise in the background with a fileRefresh watching
// dir/key every millisecond; the child appends $KEY to dir/starts.
type rotation struct {
	t      *testing.T
	dir    string
	key    string
	starts string
	r      *fileRefresh
	log    *syncBuffer
	cancel context.CancelFunc
	done   chan result
}

type result struct {
	code int
	err  error
}

func startRotation(t *testing.T, script string, opts SuperviseOptions) *rotation {
	t.Helper()
	dir := t.TempDir()
	rt := &rotation{t: t, dir: dir, key: filepath.Join(dir, "key"), starts: filepath.Join(dir, "starts"), log: &syncBuffer{}, done: make(chan result, 1)}
	const first = "sk-first-0001"
	writeFile(t, rt.key, first)
	env := append(os.Environ(), "DIR="+dir, "KEY="+first)
	rt.r = newFileRefresh(rt.key, env)
	opts.Watch, opts.Refresh = time.Millisecond, rt.r.refresh
	opts.Logger = slog.New(slog.NewTextHandler(rt.log, nil))
	ctx, cancel := context.WithCancel(context.Background())
	rt.cancel = cancel
	go func() {
		code, err := Supervise(ctx, []string{"sh", "-c", script}, env, opts)
		rt.done <- result{code, err}
	}()
	waitFor(t, "the first start", func() bool { return len(lines(rt.starts)) == 1 })
	return rt
}

// cycles waits for n more Refresh calls.
func (rt *rotation) cycles(n int64) {
	rt.t.Helper()
	target := rt.r.calls.Load() + n
	waitFor(rt.t, fmt.Sprintf("%d watch cycles", n), func() bool { return rt.r.calls.Load() >= target })
}

func (rt *rotation) wantStarts(want ...string) {
	rt.t.Helper()
	if got := lines(rt.starts); !slices.Equal(got, want) {
		rt.t.Errorf("child started with KEY = %q, want %q", got, want)
	}
}

// stop cancels the context and returns Supervise's result.
func (rt *rotation) stop() result {
	rt.cancel()
	return <-rt.done
}

const startScript = `echo "$KEY" >> "$DIR/starts"; exec sleep 1000`

func TestRotationRestartsOnceOnGoodValue(t *testing.T) {
	t.Parallel()
	rt := startRotation(t, startScript, SuperviseOptions{})
	rt.cycles(5)
	rt.wantStarts("sk-first-0001") // unchanged: no restart

	writeFile(t, rt.key, "sk-second-0002")
	waitFor(t, "the restart", func() bool { return len(lines(rt.starts)) == 2 })
	rt.cycles(20)
	rt.wantStarts("sk-first-0001", "sk-second-0002")

	if res := rt.stop(); res.err != nil || res.code != 128+15 {
		t.Errorf("Supervise = %d, %v; want 143 (sleep killed by SIGTERM), nil", res.code, res.err)
	}
}

func TestRotationFailureKeepsChild(t *testing.T) {
	t.Parallel()
	rt := startRotation(t, startScript, SuperviseOptions{})
	failures := func() int { return strings.Count(rt.log.String(), "rotation check failed") }

	writeFile(t, rt.key, "revoked-key-aa")
	rt.cycles(20)
	writeFile(t, rt.key, "revoked-key-bb")
	rt.cycles(20)
	if err := os.Remove(rt.key); err != nil { // the source goes down
		t.Fatal(err)
	}
	rt.cycles(20)
	rt.wantStarts("sk-first-0001")
	if n := failures(); n != 3 {
		t.Errorf("logged %d failures over 60 failing cycles, want 3 (one per distinct failure)\nlog:\n%s", n, rt.log)
	}

	writeFile(t, rt.key, "sk-third-0003") // the source is back with a good key
	waitFor(t, "the restart", func() bool { return len(lines(rt.starts)) == 2 })
	rt.wantStarts("sk-first-0001", "sk-third-0003")
	rt.stop()

	for _, secret := range []string{"sk-first-0001", "revoked-key-aa", "revoked-key-bb", "sk-third-0003"} {
		if strings.Contains(rt.log.String(), secret) {
			t.Errorf("log holds the value %s:\n%s", secret, rt.log)
		}
	}
}

func TestRotationSignalMode(t *testing.T) {
	t.Parallel()
	script := `
trap 'echo hup >> "$DIR/hups"' HUP
trap 'kill $! 2>/dev/null; exit 0' TERM
echo "$KEY" >> "$DIR/starts"
while :; do sleep 1 & wait $!; done
`
	rt := startRotation(t, script, SuperviseOptions{OnChange: OnChangeSignal})
	hups := filepath.Join(rt.dir, "hups")
	writeFile(t, rt.key, "sk-second-0002")
	waitFor(t, "SIGHUP in the child", func() bool { return len(lines(hups)) == 1 })
	rt.cycles(20)
	rt.wantStarts("sk-first-0001") // signalled, not restarted
	if got := lines(hups); len(got) != 1 {
		t.Errorf("child got %d SIGHUPs, want 1", len(got))
	}
	if res := rt.stop(); res.err != nil || res.code != 0 {
		t.Errorf("Supervise = %d, %v; want 0 (child's TERM trap), nil", res.code, res.err)
	}
}

func TestRotationGraceEndsInSIGKILL(t *testing.T) {
	t.Parallel()
	// The child ignores the restart signal: after the grace it is killed
	// and the new child starts all the same.
	script := `trap '' TERM; echo "$KEY" >> "$DIR/starts"; exec sleep 1000`
	rt := startRotation(t, script, SuperviseOptions{RestartGrace: 10 * time.Millisecond})
	writeFile(t, rt.key, "sk-second-0002")
	waitFor(t, "the restart", func() bool { return len(lines(rt.starts)) == 2 })
	rt.wantStarts("sk-first-0001", "sk-second-0002")
	if res := rt.stop(); res.code != 128+9 {
		t.Errorf("Supervise code = %d, want 137 (SIGKILL after the grace)", res.code)
	}
	if !strings.Contains(rt.log.String(), "sending SIGKILL") {
		t.Errorf("no SIGKILL logged:\n%s", rt.log)
	}
}

// TestWatchNoLeak runs 100 watch cycles, with restarts and failures among
// them and the child's output going through a pipe, and checks that no
// goroutine or file descriptor outlives Supervise. Not parallel: it counts
// the whole process's goroutines and descriptors.
func TestWatchNoLeak(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	run := func(cycles int) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		n := 0
		refresh := func(context.Context) ([]string, bool, error) {
			n++
			switch {
			case n >= cycles:
				cancel()
				return nil, false, nil
			case n%10 == 0:
				return []string{fmt.Sprintf("KEY=k%d", n)}, true, nil
			case n%7 == 0:
				return nil, false, fmt.Errorf("probe failed %d", n)
			}
			return nil, false, nil
		}
		out := &syncBuffer{}
		opts := SuperviseOptions{Stdin: strings.NewReader("in\n"), Stdout: out, Stderr: out, Logger: discard(), Watch: time.Millisecond, Refresh: refresh}
		if _, err := Supervise(ctx, []string{"/bin/sh", "-c", "echo started; exec sleep 1000"}, nil, opts); err != nil {
			t.Fatalf("Supervise: %v", err)
		}
		if got := strings.Count(out.String(), "started"); got != 1+(cycles-1)/10 {
			t.Errorf("child started %d times over %d cycles, want %d", got, cycles, 1+(cycles-1)/10)
		}
	}
	run(3) // the runtime opens some descriptors once (epoll, pidfd probe)
	before := openFDs(t)
	run(100)
	if after := openFDs(t); !slices.Equal(before, after) {
		t.Errorf("descriptors before %v, after %v", before, after)
	}
}

// openFDs lists this process's descriptors with their targets.
func openFDs(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var fds []string
	for _, e := range entries {
		target, err := os.Readlink("/proc/self/fd/" + e.Name())
		if err != nil {
			continue // ReadDir's own descriptor, closed by now
		}
		fds = append(fds, e.Name()+"->"+target)
	}
	return fds
}

func TestJittered(t *testing.T) {
	t.Parallel()
	const d = time.Minute
	tests := []struct {
		name   string
		frac   float64
		lo, hi time.Duration
	}{
		{"none", 0, d, d},
		{"negative is none", -1, d, d},
		{"ten percent", 0.1, d - 6*time.Second, d + 6*time.Second},
		{"capped at 100%", 5, 0, 2 * d},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for range 1000 {
				if got := jittered(d, tt.frac); got < tt.lo || got > tt.hi || got <= 0 {
					t.Fatalf("jittered(%s, %v) = %s, want in [%s, %s] and positive", d, tt.frac, got, tt.lo, tt.hi)
				}
			}
		})
	}
}
