package main

import (
	"errors"

	"github.com/keyexec/keyexec/exec"
	"github.com/keyexec/keyexec/sources"
)

// Exit codes (sysexits.h), decided here and nowhere else.
const (
	exitOK            = 0
	exitUsage         = 64  // EX_USAGE: bad flags, missing -- or command
	exitUnavailable   = 69  // EX_UNAVAILABLE: a source or provider unreachable
	exitNoPerm        = 77  // EX_NOPERM: a credential rejected
	exitConfig        = 78  // EX_CONFIG: configuration or secret missing, malformed, misplaced
	exitSoftware      = 70  // EX_SOFTWARE: an internal error (a bug)
	exitNotExecutable = 126 // as shells: found but cannot run
	exitNotFound      = 127 // as shells: command not found
)

// usageError marks command-line mistakes (exit 64).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

// exitCode maps an error to keyexec's exit code. A stop signal wins (128 +
// the signal, as a shell reports a killed process); when several problems
// were found at once the most specific class wins: a rejected credential,
// then an unreachable service, then configuration. verify's sentinels wrap
// the sources ones, so one mapping serves sources and providers alike.
func exitCode(err error) int {
	var ue *usageError
	var stop *sources.StopError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &stop):
		return stop.ExitCode()
	case errors.As(err, &ue):
		return exitUsage
	case errors.Is(err, exec.ErrNotFound):
		return exitNotFound
	case errors.Is(err, exec.ErrNotExecutable):
		return exitNotExecutable
	case errors.Is(err, sources.ErrPermission):
		return exitNoPerm
	case errors.Is(err, sources.ErrUnavailable):
		return exitUnavailable
	default:
		return exitConfig
	}
}
