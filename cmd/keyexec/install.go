package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/keyexec/keyexec/sources"
)

// installName is the file name install writes into DIR.
const installName = "keyexec"

func (a *app) installCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "install DIR",
		Short: "Copy this keyexec binary into DIR (for Kubernetes init containers)",
		Long: `Copy the running keyexec binary to DIR/keyexec with mode 0755, creating DIR
if needed. The copy is written to a temporary file in DIR and renamed into
place, so a reader never sees half a binary.

The keyexec image is minimal and has no cp: an init container runs
'keyexec install /keyexec-bin' into a shared emptyDir volume, and the app's
own, unchanged image then starts '/keyexec-bin/keyexec run -- python app.py'.`,
		Example: `  keyexec install /keyexec-bin
  # Kubernetes init container:
  #   image: ghcr.io/keyexec/keyexec
  #   args: ["install", "/keyexec-bin"]
  #   volumeMounts: [{name: keyexec-bin, mountPath: /keyexec-bin}]`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 || args[0] == "" {
				return errors.New("install needs exactly one directory: keyexec install DIR")
			}
			return nil
		},
		RunE: func(_ *cobra.Command, args []string) error {
			a.started = true
			self, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the running keyexec binary to copy: %w: %w", err, sources.ErrInvalid)
			}
			dst, err := installBinary(self, args[0])
			if err != nil {
				return err
			}
			a.out.info("installed " + dst)
			return nil
		},
	}
}

// installBinary copies src to dir/keyexec (mode 0755) through a temporary
// file and a rename, and returns the destination path. Failures are
// configuration errors (exit 78): the directory or the volume is wrong.
func installBinary(src, dir string) (string, error) {
	fail := func(format string, args ...any) (string, error) {
		return "", configError(format, args...)
	}
	if fi, err := os.Stat(dir); err == nil && !fi.IsDir() {
		return fail("install: %s exists and is not a directory: give the directory of a shared volume (an emptyDir), such as /keyexec-bin", dir)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail("install: create %s: %v: check that the volume is mounted and writable by this user", dir, err)
	}
	dst := filepath.Join(dir, installName)
	if same(src, dst) {
		return dst, nil // already there: copying a file onto itself would truncate it
	}
	in, err := os.Open(src)
	if err != nil {
		return fail("install: open the running binary %s: %v", src, err)
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dir, ".keyexec-install-*")
	if err != nil {
		return fail("install: write into %s: %v: check that the volume is mounted and writable by this user", dir, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := io.Copy(tmp, in); err != nil {
		return fail("install: copy to %s: %v: check the free space on the volume", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o755); err != nil {
		return fail("install: make %s executable: %v", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fail("install: flush %s: %v", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fail("install: close %s: %v", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return fail("install: move the copy to %s: %v", dst, err)
	}
	done = true
	return dst, nil
}

// same reports whether a and b are the same existing file.
func same(a, b string) bool {
	fa, err := os.Stat(a)
	if err != nil {
		return false
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false
	}
	return os.SameFile(fa, fb)
}
