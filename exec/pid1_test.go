package exec

import (
	"os"
	osexec "os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// needUnshare skips unless this machine lets us start a PID namespace.
func needUnshare(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("PID namespace tests need root (unshare --pid)")
	}
	if _, err := osexec.LookPath("unshare"); err != nil {
		t.Skip("unshare (util-linux) is not installed")
	}
	if out, err := osexec.Command("unshare", "--pid", "--fork", "--mount-proc", "true").CombinedOutput(); err != nil {
		t.Skipf("unshare --pid is not permitted here: %v: %s", err, out)
	}
}

// asPID1 prepares the supervisor as PID 1 of a new PID namespace, with its
// own /proc, as a container runtime would start keyexec.
func asPID1(t *testing.T, env []string, argv ...string) (*osexec.Cmd, *syncBuffer) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd, stderr := helper(t, env, append([]string{"--pid", "--fork", "--mount-proc", "--kill-child", self}, argv...)...)
	cmd.Path, cmd.Args[0] = mustLookPath(t, "unshare"), "unshare"
	return cmd, stderr
}

func mustLookPath(t *testing.T, name string) string {
	t.Helper()
	p, err := osexec.LookPath(name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// childOf finds the process whose parent is ppid: the supervisor under
// unshare, seen from outside its namespace.
func childOf(t *testing.T, ppid int) int {
	t.Helper()
	var found int
	waitFor(t, "the supervisor under unshare", func() bool {
		entries, _ := os.ReadDir("/proc")
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil {
				continue
			}
			b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
			if err != nil {
				continue
			}
			// pid (comm) state ppid ...: comm may hold spaces, so cut at ')'.
			f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
			if len(f) > 1 && f[1] == strconv.Itoa(ppid) {
				found = pid
				return true
			}
		}
		return false
	})
	return found
}

func TestPID1ReapsOrphans(t *testing.T) {
	t.Parallel()
	needUnshare(t)
	dir := t.TempDir()
	// Inside the namespace: an orphan is re-parented to PID 1 (the
	// supervisor) and exits; the child waits for it to leave /proc, then
	// counts zombies and waits for docker stop.
	script := `
( sh -c 'echo $$ > "$DIR/gc.pid"' & )
while [ ! -s "$DIR/gc.pid" ]; do sleep 0.01; done
gc=$(cat "$DIR/gc.pid")
n=0
while [ -e /proc/$gc ] && [ $n -lt 2000 ]; do sleep 0.01; n=$((n+1)); done
z=0
for f in /proc/[0-9]*/stat; do
  s=$(sed 's/.*) //' "$f" 2>/dev/null | cut -d' ' -f1)
  [ "$s" = Z ] && z=$((z+1))
done
[ -e /proc/$gc ] && gone=no || gone=yes
echo "parent=$PPID orphan_reaped=$gone zombies=$z" > "$DIR/result"
trap 'kill $! 2>/dev/null; exit 42' TERM
while :; do sleep 10 & wait $!; done
`
	cmd, stderr := asPID1(t, []string{"DIR=" + dir}, "sh", "-c", script)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	result := filepath.Join(dir, "result")
	waitFor(t, "the zombie count", func() bool { return len(lines(result)) == 3 })
	want := []string{"parent=1", "orphan_reaped=yes", "zombies=0"}
	if got := lines(result); !slices.Equal(got, want) {
		t.Errorf("inside the namespace: %q, want %q\nstderr:\n%s", got, want, stderr)
	}
	// docker stop: SIGTERM to PID 1 only.
	if err := syscall.Kill(childOf(t, cmd.Process.Pid), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd.Wait()); code != 42 {
		t.Errorf("exit code = %d, want the child's 42\nstderr:\n%s", code, stderr)
	}
}

func TestPID1DockerStop(t *testing.T) {
	t.Parallel()
	needUnshare(t)
	dir := t.TempDir()
	// The app does not trap SIGTERM: it dies of it and the supervisor, PID 1,
	// ends with 128+15 as docker expects.
	cmd, stderr := asPID1(t, []string{"DIR=" + dir}, "sh", "-c", `echo ready > "$DIR/ready"; exec sleep 1000`)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the child to be ready", func() bool { return len(lines(filepath.Join(dir, "ready"))) > 0 })
	if err := syscall.Kill(childOf(t, cmd.Process.Pid), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := exitStatus(t, cmd.Wait()); code != 128+15 {
		t.Errorf("exit code = %d, want 143\nstderr:\n%s", code, stderr)
	}
}
