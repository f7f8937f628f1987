// Package exec starts the child: by default it replaces keyexec with the
// command (syscall.Exec keeps the PID, so signals, exit codes and systemd
// notification work untouched); as PID 1 or on request it supervises the
// child instead. It knows only an environment and a command.
package exec

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Sentinel errors; cmd/keyexec maps them to 127 and 126 as shells do.
var (
	ErrNotFound      = errors.New("command not found")
	ErrNotExecutable = errors.New("command not executable")
)

// LookPath finds file in the PATH of env (the child's environment, not
// keyexec's own), as execvp would. A name with a slash is used as is.
func LookPath(file string, env []string) (string, error) {
	if file == "" {
		return "", fmt.Errorf("empty command name: %w", ErrNotFound)
	}
	if strings.Contains(file, "/") {
		return file, checkExecutable(file)
	}
	path := "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	var denied error
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		cand := filepath.Join(dir, file)
		err := checkExecutable(cand)
		if err == nil {
			return cand, nil
		}
		if errors.Is(err, ErrNotExecutable) && denied == nil {
			denied = err
		}
	}
	if denied != nil {
		return "", denied
	}
	return "", fmt.Errorf("%s: not found in the child's PATH: %w", file, ErrNotFound)
}

func checkExecutable(path string) error {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%s: no such file: %w", path, ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("%s: %v: %w", path, err, ErrNotExecutable)
	}
	if fi.IsDir() {
		return fmt.Errorf("%s: is a directory: %w", path, ErrNotExecutable)
	}
	if fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("%s: permission denied (no execute bit): %w", path, ErrNotExecutable)
	}
	return nil
}

// Exec replaces the current process with argv and env. It returns only on
// failure, with an error wrapping ErrNotFound or ErrNotExecutable.
func Exec(argv []string, env []string) error {
	if len(argv) == 0 {
		return fmt.Errorf("no command given: %w", ErrNotFound)
	}
	path, err := LookPath(argv[0], env)
	if err != nil {
		return err
	}
	return execError(path, syscall.Exec(path, argv, env))
}

// execError classifies a failed execve, for Exec and the supervisor alike.
func execError(path string, err error) error {
	if errors.Is(err, syscall.ENOENT) {
		// The interpreter of a script (#!) is missing.
		return fmt.Errorf("%s: %v (check the #! line): %w", path, err, ErrNotFound)
	}
	return fmt.Errorf("%s: %v: %w", path, err, ErrNotExecutable)
}
