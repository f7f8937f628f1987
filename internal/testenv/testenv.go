// Package testenv is the one gate for tests that need a real part from the
// pinned Python environment (testenv/requirements.txt): OpenBao's bao, moto,
// and the Python SDKs the end-to-end tests run as the child.
//
// The environment is found through KEYEXEC_TESTENV (testenv/test sets it),
// else in .testenv at the repository's root, where testenv/setup builds it.
// A test that needs it calls Bin or Python. When the environment is missing,
// the test is skipped with a message that names the command that builds it,
// and Main prints a summary of every such test at the end of the package's
// run; under CI=true a missing environment fails the test instead, so CI
// never passes on skipped real parts.
package testenv

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

// SetupCommand is what builds the environment and runs the suite with it.
const SetupCommand = "testenv/test (or testenv/setup, then KEYEXEC_TESTENV=$(testenv/setup) go test ./...)"

var (
	mu      sync.Mutex
	missing = map[string][]string{} // what was missing → tests that could not run
)

// Strict reports whether a missing real part fails the test (in CI) rather
// than skipping it.
func Strict() bool {
	v := strings.ToLower(os.Getenv("CI"))
	return v != "" && v != "0" && v != "false"
}

// Dir returns the environment's folder, or an error saying why there is none.
func Dir() (string, error) {
	if d := os.Getenv("KEYEXEC_TESTENV"); d != "" {
		if _, err := os.Stat(filepath.Join(d, "bin", "python")); err != nil {
			return "", fmt.Errorf("KEYEXEC_TESTENV=%s holds no Python environment (bin/python)", d)
		}
		return d, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	d := filepath.Join(root, ".testenv")
	if _, err := os.Stat(filepath.Join(d, ".built-from")); err != nil {
		return "", errors.New("the pinned Python environment is not built (.testenv is missing or incomplete)")
	}
	return d, nil
}

// repoRoot walks up from the working directory to the folder of go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("not inside the keyexec repository")
		}
		dir = parent
	}
}

// Bin returns the path of program name in the environment's bin folder
// (bao, moto_server, python). Without it the test is skipped, or fails
// under CI.
func Bin(t testing.TB, name string) string {
	t.Helper()
	p, err := Lookup(name)
	if err != nil {
		need(t, name, err)
	}
	return p
}

// Lookup is Bin without the test: the path, or why there is none.
func Lookup(name string) (string, error) {
	d, err := Dir()
	if err != nil {
		return "", err
	}
	p := filepath.Join(d, "bin", name)
	if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("%s has no executable bin/%s", d, name)
	}
	return p, nil
}

// Python returns the environment's python3, in which the pinned SDKs are
// importable.
func Python(t testing.TB) string {
	t.Helper()
	return Bin(t, "python")
}

// need records that t could not run for lack of what, then skips it, or
// fails it under CI.
func need(t testing.TB, what string, why error) {
	t.Helper()
	msg := fmt.Sprintf("REAL PART MISSING: %s (%v): build the pinned environment with %s", what, why, SetupCommand)
	if Strict() {
		t.Fatal(msg + " [CI=true: a missing real part is a failure]")
	}
	mu.Lock()
	missing[what] = append(missing[what], t.Name())
	mu.Unlock()
	t.Skip(msg)
}

// Main runs the package's tests and then, loudly, names every test that
// could not run for lack of a real part. Use it as TestMain's last step:
//
//	func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }
func Main(m *testing.M) int {
	code := m.Run()
	Summary(os.Stderr)
	return code
}

// Summary writes the tests that could not run, if any, to w.
func Summary(w interface{ Write([]byte) (int, error) }) {
	mu.Lock()
	defer mu.Unlock()
	if len(missing) == 0 {
		return
	}
	whats := make([]string, 0, len(missing))
	n := 0
	for what, tests := range missing {
		whats = append(whats, what)
		n += len(tests)
	}
	sort.Strings(whats)
	var b strings.Builder
	fmt.Fprintf(&b, "\n!!! %d test(s) did NOT run: real parts missing from the pinned Python environment\n", n)
	for _, what := range whats {
		tests := missing[what]
		sort.Strings(tests)
		shown := tests
		if len(shown) > 6 {
			shown = append(shown[:6:6], fmt.Sprintf("and %d more", len(tests)-6))
		}
		fmt.Fprintf(&b, "!!!   %s: %s\n", what, strings.Join(shown, ", "))
	}
	fmt.Fprintf(&b, "!!! build it and run everything with: %s\n\n", SetupCommand)
	_, _ = w.Write([]byte(b.String()))
}
