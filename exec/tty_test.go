package exec

import (
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"
)

// openPTY returns a pseudo-terminal's controlling side and its terminal.
func openPTY(t *testing.T) (ptm, pts *os.File) {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetUint32(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	pts, err = os.OpenFile("/dev/pts/"+strconv.Itoa(int(n)), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty: %v", err)
	}
	t.Cleanup(func() { pts.Close() })
	return ptm, pts
}

// TestTerminalInterruptReachesChildOnce types ^C on the supervisor's
// controlling terminal, as a user at a shell would: the child, in the
// terminal's foreground group, gets SIGINT from the terminal, and the
// supervisor, no longer in that group, does not pass a second one on.
func TestTerminalInterruptReachesChildOnce(t *testing.T) {
	t.Parallel()
	if signal.Ignored(syscall.SIGINT) {
		t.Skip("SIGINT is ignored in this test process")
	}
	ptm, pts := openPTY(t)
	dir := t.TempDir()
	cmd, stderr := helper(t, []string{"DIR=" + dir, "SIGNAME=INT"}, "sh", "-c", trapScript)
	cmd.Stdin, cmd.Stdout = pts, pts
	// A session of its own with the terminal as its controlling terminal,
	// holding the foreground: an interactive `keyexec run --supervise`.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the child to be ready", func() bool { return len(lines(filepath.Join(dir, "ready"))) > 0 })
	fg, err := unix.IoctlGetUint32(int(ptm.Fd()), unix.TIOCGPGRP)
	if err != nil {
		t.Fatal(err)
	}
	if int(fg) == cmd.Process.Pid {
		t.Errorf("the supervisor still holds the terminal's foreground; the child should")
	}
	if _, err := ptm.Write([]byte{3}); err != nil { // ^C
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd.Wait()); code != 7 {
		t.Errorf("exit code = %d, want the child's 7\nstderr:\n%s", code, stderr)
	}
	if got := lines(filepath.Join(dir, "got")); !slices.Equal(got, []string{"INT"}) {
		t.Errorf("child got %q, want INT exactly once", got)
	}
}
