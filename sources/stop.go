package sources

import (
	"context"
	"errors"
	"fmt"
	"syscall"
)

// StopSignals are the signals that stop keyexec before the child starts.
var StopSignals = [...]syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// StopError is how a run ends when the user stopped it with a signal before
// the child started: keyexec exits as that signal would be reported
// (128 + the signal's number), whatever a lenient policy says.
type StopError struct{ Signal syscall.Signal }

// Error says which signal stopped the run.
func (e *StopError) Error() string {
	return fmt.Sprintf("stopped by %s before the command started: it was not started", SignalName(e.Signal))
}

// ExitCode is 128 + the signal's number, as a shell reports a process the
// signal killed (130 for SIGINT, 143 for SIGTERM).
func (e *StopError) ExitCode() int { return 128 + int(e.Signal) }

// Stopped is the one place that decides whether the user stopped keyexec:
// it returns the *StopError when ctx ended because of a stop signal, and nil
// otherwise (ctx still running, or ended by a deadline). Every stage asks it
// before it reports a cancelled call as unreachable, timed out or dropped.
func Stopped(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	var se *StopError
	if errors.As(context.Cause(ctx), &se) {
		return se
	}
	return nil
}

// SignalName is "SIGTERM" for syscall.SIGTERM, "signal 42" for others.
func SignalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "SIGINT"
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGQUIT:
		return "SIGQUIT"
	}
	return fmt.Sprintf("signal %d", int(s))
}
