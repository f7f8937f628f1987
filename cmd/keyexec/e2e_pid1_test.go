package main

import (
	"os"
	osexec "os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// unshareOrSkip returns the unshare command line that makes the next
// process PID 1 of a new PID namespace, or skips when this machine does not
// allow it (not root, or no user namespaces).
func unshareOrSkip(t *testing.T) []string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root for unshare --pid")
	}
	if _, err := osexec.LookPath("unshare"); err != nil {
		t.Skip("unshare not installed")
	}
	if err := osexec.Command("unshare", "--pid", "--fork", "--mount-proc", "true").Run(); err != nil {
		t.Skipf("unshare --pid not permitted here: %v", err)
	}
	return []string{"unshare", "--pid", "--fork", "--mount-proc"}
}

// TestPID1ReapsOrphans: keyexec as PID 1 supervises by itself, and an orphan
// grandchild re-parented to it is reaped (no zombie left in /proc).
func TestPID1ReapsOrphans(t *testing.T) {
	t.Parallel()
	pre := unshareOrSkip(t)
	script := `sh -c 'sleep 0.2 &'; sleep 1
z=0; for f in /proc/[0-9]*/stat; do s=$(cut -d' ' -f3 "$f" 2>/dev/null); [ "$s" = Z ] && z=$((z+1)); done
echo "pid=$$ zombies=$z"; exit 7`
	args := append(pre, binPath, "run", "--provider", "none", "--", "sh", "-c", script)
	cmd := osexec.Command(args[0], args[1:]...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, _ := cmd.Output()
	if code := cmd.ProcessState.ExitCode(); code != 7 {
		t.Fatalf("exit %d, want the child's 7; output %q", code, out)
	}
	got := strings.TrimSpace(string(out))
	if strings.HasPrefix(got, "pid=1 ") {
		t.Fatalf("the app ran as PID 1: keyexec did not supervise (%s)", got)
	}
	if !strings.HasSuffix(got, "zombies=0") {
		t.Fatalf("zombies left: %s", got)
	}
}

// TestPID1DockerStop: SIGTERM to keyexec as PID 1 (what docker stop sends)
// reaches the app and keyexec exits with 128+15.
func TestPID1DockerStop(t *testing.T) {
	t.Parallel()
	pre := unshareOrSkip(t)
	dir := t.TempDir()
	ready := dir + "/ready"
	args := append(pre, binPath, "run", "--provider", "none", "--", "sh", "-c", `touch "$READY"; exec sleep 600`)
	cmd := osexec.Command(args[0], args[1:]...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "READY=" + ready}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-done })
	waitFor(t, "the app to start", func() bool { _, err := os.Stat(ready); return err == nil })
	// keyexec is unshare's only child; it is PID 1 inside the namespace.
	data, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/task/" + strconv.Itoa(cmd.Process.Pid) + "/children")
	if err != nil || len(strings.Fields(string(data))) != 1 {
		t.Fatalf("cannot find keyexec under unshare: %v %q", err, data)
	}
	pid, _ := strconv.Atoi(strings.Fields(string(data))[0])
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	<-done
	if code := cmd.ProcessState.ExitCode(); code != 143 {
		t.Fatalf("exit %d after SIGTERM, want 143 (the app killed by SIGTERM)", code)
	}
}
