package main

import (
	"bytes"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInstallCopiesTheRunningBinary: what an init container does with
// `keyexec install /keyexec-bin`, then what the app container runs.
func TestInstallCopiesTheRunningBinary(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "shared", "keyexec-bin") // does not exist yet
	out := keyexecCmd(t, "", nil, "install", dir)
	if out.code != 0 {
		t.Fatalf("install exit %d: %s", out.code, out.stderr)
	}
	if out.stdout != "" {
		t.Errorf("install wrote to stdout: %q", out.stdout)
	}
	dst := filepath.Join(dir, "keyexec")
	fi, err := os.Stat(dst)
	if err != nil {
		t.Fatalf("no binary installed: %v", err)
	}
	if fi.Mode().Perm() != 0o755 {
		t.Errorf("mode %v, want 0755", fi.Mode().Perm())
	}
	want, _ := os.ReadFile(binPath)
	got, _ := os.ReadFile(dst)
	if !bytes.Equal(got, want) {
		t.Errorf("the installed binary differs from the running one (%d vs %d bytes)", len(got), len(want))
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("install left other files behind: %v", entries)
	}
	v, err := osexec.Command(dst, "version").Output()
	if err != nil || !strings.HasPrefix(string(v), "keyexec ") {
		t.Fatalf("the installed copy does not run: %v %q", err, v)
	}
	// Installing again replaces the file; the installed copy can install
	// itself onto itself without truncating it.
	if out := keyexecCmd(t, "", nil, "install", dir); out.code != 0 {
		t.Fatalf("second install exit %d: %s", out.code, out.stderr)
	}
	self := osexec.Command(dst, "install", dir)
	if msg, err := self.CombinedOutput(); err != nil {
		t.Fatalf("install onto itself: %v %s", err, msg)
	}
	if got, _ := os.ReadFile(dst); !bytes.Equal(got, want) {
		t.Fatalf("installing onto itself changed the binary")
	}
}

func TestInstallErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	aFile := filepath.Join(dir, "file")
	os.WriteFile(aFile, []byte("x"), 0o600)
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{name: "no directory", args: []string{"install"}, code: 64, msg: "keyexec install DIR"},
		{name: "two directories", args: []string{"install", dir, dir}, code: 64, msg: "exactly one directory"},
		{name: "empty directory name", args: []string{"install", ""}, code: 64, msg: "exactly one directory"},
		{name: "a file, not a directory", args: []string{"install", aFile}, code: 78, msg: "not a directory"},
		{name: "below a file", args: []string{"install", filepath.Join(aFile, "sub")}, code: 78, msg: "mounted and writable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			out := keyexecCmd(t, "", nil, tt.args...)
			if out.code != tt.code || !strings.Contains(out.stderr, tt.msg) {
				t.Fatalf("exit %d, want %d; stderr %q should contain %q", out.code, tt.code, out.stderr, tt.msg)
			}
		})
	}
}
