package exec

import (
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// trapScript records each named signal it gets in $DIR/got and exits 7 on
// it; it sleeps in `wait`, which a trapped signal interrupts at once.
const trapScript = `
trap 'echo $SIGNAME >> "$DIR/got"; kill $! 2>/dev/null; exit 7' $SIGNAME
echo ready > "$DIR/ready"
while :; do sleep 10 & wait $!; done
`

func TestSignalsReachChild(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		sig   syscall.Signal
		group bool // signal keyexec's whole process group, not just keyexec
	}{
		{"TERM", syscall.SIGTERM, false},
		{"INT", syscall.SIGINT, false},
		{"HUP", syscall.SIGHUP, false},
		{"USR1", syscall.SIGUSR1, false},
		{"TERM", syscall.SIGTERM, true},
		{"INT", syscall.SIGINT, true},
	}
	for _, tt := range tests {
		name := "SIG" + tt.name
		if tt.group {
			name += " to the process group"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if signal.Ignored(tt.sig) {
				// Inherited as ignored, it stays ignored for the child, as with exec.
				t.Skipf("%v is ignored in this test process", tt.sig)
			}
			dir := t.TempDir()
			cmd, stderr := helper(t, []string{"DIR=" + dir, "SIGNAME=" + tt.name}, "sh", "-c", trapScript)
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the child to be ready", func() bool { return len(lines(filepath.Join(dir, "ready"))) > 0 })
			target := cmd.Process.Pid
			if tt.group {
				target = -target // the helper leads its group; the child has its own
			}
			if err := syscall.Kill(target, tt.sig); err != nil {
				t.Fatal(err)
			}
			code := exitStatus(t, cmd.Wait())
			if code != 7 {
				t.Errorf("supervisor exit code = %d, want the child's 7\nstderr:\n%s", code, stderr)
			}
			if got := lines(filepath.Join(dir, "got")); !slices.Equal(got, []string{tt.name}) {
				t.Errorf("child got %q, want %s exactly once", got, tt.name)
			}
		})
	}
}

func TestSubreaperReapsOrphans(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The subshell exits at once, so the grandchild is re-parented to the
	// nearest subreaper (the supervisor) and exits in turn.
	script := `
( sh -c 'echo $$ > "$DIR/gc.pid"' & )
while [ ! -s "$DIR/gc.pid" ]; do sleep 0.01; done
echo ready > "$DIR/ready"
exec sleep 1000
`
	cmd, stderr := helper(t, []string{"DIR=" + dir, "KEYEXEC_HELPER_SUBREAPER=1"}, "sh", "-c", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the child to be ready", func() bool { return len(lines(filepath.Join(dir, "ready"))) > 0 })
	gc := lines(filepath.Join(dir, "gc.pid"))[0]
	// A zombie keeps its /proc entry until reaped.
	waitFor(t, "the orphan "+gc+" to be reaped", func() bool {
		_, err := os.Stat("/proc/" + gc)
		return os.IsNotExist(err)
	})
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd.Wait()); code != 128+15 {
		t.Errorf("exit code = %d, want 143\nstderr:\n%s", code, stderr)
	}
	if !strings.Contains(stderr.String(), "reaped an orphan") {
		t.Errorf("supervisor did not log the orphan; stderr:\n%s", stderr)
	}
}

func TestStopSignalDuringRestart(t *testing.T) {
	t.Parallel()
	if signal.Ignored(syscall.SIGINT) {
		t.Skip("SIGINT is ignored in this test process")
	}
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	writeFile(t, key, "v1")
	// The child ignores the restart signal, and the grace is long: the
	// restart hangs until SIGINT, which must end everything instead of
	// starting a new child.
	script := `trap '' TERM; echo "$KEY" >> "$DIR/starts"; exec sleep 1000`
	cmd, stderr := helper(t, []string{"DIR=" + dir, "KEY=v1", "KEYEXEC_HELPER_WATCH_FILE=" + key, "KEYEXEC_HELPER_GRACE=1h"}, "sh", "-c", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	starts := filepath.Join(dir, "starts")
	waitFor(t, "the first start", func() bool { return len(lines(starts)) == 1 })
	writeFile(t, key, "v2")
	waitFor(t, "the restart to begin", func() bool { return strings.Contains(stderr.String(), "restarting the child") })
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd.Wait()); code != 128+2 {
		t.Errorf("exit code = %d, want 130\nstderr:\n%s", code, stderr)
	}
	if got := lines(starts); !slices.Equal(got, []string{"v1"}) {
		t.Errorf("starts = %q, want only v1: no child after the stop", got)
	}
}

func TestForwarded(t *testing.T) {
	t.Parallel()
	caught := caughtSignals()
	for _, sig := range []syscall.Signal{syscall.SIGURG, syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGTTIN, syscall.SIGTTOU} {
		if slices.Contains(caught, os.Signal(sig)) {
			t.Errorf("%s is caught", signalName(sig))
		}
	}
	tests := []struct {
		sig  syscall.Signal
		want bool
	}{
		{syscall.SIGTERM, true},
		{syscall.SIGWINCH, true},
		{syscall.SIGUSR2, true},
		{syscall.SIGCHLD, false},
		{syscall.SIGPIPE, false},
	}
	for _, tt := range tests {
		t.Run(signalName(tt.sig), func(t *testing.T) {
			t.Parallel()
			if got := forwarded(tt.sig); got != tt.want {
				t.Errorf("forwarded = %v, want %v", got, tt.want)
			}
		})
	}
}
