package exec

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// The test binary doubles as a supervisor process: with
// KEYEXEC_SUPERVISE_HELPER=1 it runs Supervise on its arguments and exits
// with the code, as cmd/keyexec does. Options come from the environment:
//
//	KEYEXEC_HELPER_SUBREAPER=1      become a child subreaper
//	KEYEXEC_HELPER_WATCH_FILE=path  watch every 5ms; KEY= is the file's content
//	KEYEXEC_HELPER_GRACE=1h         restart grace
func TestMain(m *testing.M) {
	if os.Getenv("KEYEXEC_SUPERVISE_HELPER") == "1" {
		os.Exit(helperMain())
	}
	goleak.VerifyTestMain(m)
}

func helperMain() int {
	opts := SuperviseOptions{
		Logger:    slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Subreaper: os.Getenv("KEYEXEC_HELPER_SUBREAPER") == "1",
	}
	if path := os.Getenv("KEYEXEC_HELPER_WATCH_FILE"); path != "" {
		r := newFileRefresh(path, os.Environ())
		opts.Watch, opts.Refresh = 5*time.Millisecond, r.refresh
	}
	if g := os.Getenv("KEYEXEC_HELPER_GRACE"); g != "" {
		opts.RestartGrace, _ = time.ParseDuration(g)
	}
	code, err := Supervise(context.Background(), os.Args[1:], os.Environ(), opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper:", err)
		return 1
	}
	return code
}

// fileRefresh stands in for cmd/keyexec's re-resolve: KEY comes from a
// file; a value starting with "revoked" fails its probe; a missing file is
// a source that is down. Errors carry a fingerprint, never the value.
type fileRefresh struct {
	path  string
	base  []string // the environment without KEY
	last  string
	calls atomic.Int64
}

func newFileRefresh(path string, env []string) *fileRefresh {
	r := &fileRefresh{path: path}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "KEY="); ok {
			r.last = v
			continue
		}
		r.base = append(r.base, kv)
	}
	return r
}

func (r *fileRefresh) refresh(ctx context.Context) ([]string, bool, error) {
	defer r.calls.Add(1)
	b, err := os.ReadFile(r.path)
	if err != nil {
		return nil, false, fmt.Errorf("resolve KEY: source down: %w", err)
	}
	v := strings.TrimSpace(string(b))
	switch {
	case v == r.last:
		return nil, false, nil
	case strings.HasPrefix(v, "revoked"):
		return nil, false, fmt.Errorf("probe KEY (%s): key rejected (401)", fingerprint(v))
	}
	r.last = v
	return append(append([]string(nil), r.base...), "KEY="+v), true, nil
}

func fingerprint(v string) string { return fmt.Sprintf("len%d…%s", len(v), v[len(v)-2:]) }

// writeFile replaces path atomically, so a Refresh never reads half a value.
func writeFile(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// lines reads a file the child appends to; missing is empty.
func lines(path string) []string {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return strings.Fields(string(b))
}

// waitFor polls cond. The deadline only guards against a hang; nothing is
// asserted about speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a test reading it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// helper prepares the test binary as a supervisor of argv, in a process
// group of its own so that group signals in tests never reach go test.
func helper(t *testing.T, env []string, argv ...string) (*osexec.Cmd, *syncBuffer) {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := osexec.Command(self, argv...)
	cmd.Env = append(append(os.Environ(), "KEYEXEC_SUPERVISE_HELPER=1"), env...)
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd, stderr
}

// exitStatus is the code a finished command exited with.
func exitStatus(t *testing.T, err error) int {
	t.Helper()
	var ee *osexec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("wait: %v", err)
	}
	if ee != nil {
		return ee.ExitCode()
	}
	return 0
}

func TestSuperviseExitCode(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		script string
		want   int
	}{
		{"success", "exit 0", 0},
		{"exit code passed on", "exit 3", 3},
		{"killed by SIGKILL", "kill -KILL $$", 128 + 9},
		{"killed by SIGTERM", "kill -TERM $$", 128 + 15},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, err := Supervise(context.Background(), []string{"sh", "-c", tt.script}, os.Environ(), SuperviseOptions{Logger: discard()})
			if err != nil {
				t.Fatalf("Supervise: %v", err)
			}
			if code != tt.want {
				t.Errorf("code = %d, want %d", code, tt.want)
			}
		})
	}
}

func TestSuperviseStartErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	noExec := filepath.Join(dir, "noexec")
	badInterp := filepath.Join(dir, "badinterp")
	if err := os.WriteFile(noExec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(badInterp, []byte("#!/nonexistent/interpreter\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		argv []string
		opts SuperviseOptions
		want error // nil: any error
	}{
		{"not in PATH", []string{"keyexec-no-such-command"}, SuperviseOptions{}, ErrNotFound},
		{"no command", nil, SuperviseOptions{}, ErrNotFound},
		{"no execute bit", []string{noExec}, SuperviseOptions{}, ErrNotExecutable},
		{"missing interpreter", []string{badInterp}, SuperviseOptions{}, ErrNotFound},
		{"unknown on_change", []string{"true"}, SuperviseOptions{OnChange: "reload"}, nil},
		{"watch without refresh", []string{"true"}, SuperviseOptions{Watch: time.Second}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.opts.Logger = discard()
			_, err := Supervise(context.Background(), tt.argv, os.Environ(), tt.opts)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }
