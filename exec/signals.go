package exec

import (
	"errors"
	"os"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Which signals the supervisor catches and which it passes on.
//
// Caught: every signal but SIGKILL/SIGSTOP (uncatchable), SIGURG (the Go
// runtime preempts goroutines with it, hundreds a second under load),
// SIGTTIN/SIGTTOU, and any signal that was ignored when keyexec started
// (nohup's SIGHUP stays ignored for the child, as with exec).
//
// SIGTTIN and SIGTTOU keep their default action: the kernel sends them to
// keyexec's own process group when keyexec touches the terminal from the
// background (a log line with `stty tostop` while the child owns the
// terminal). Catching them would make that write retry forever; forwarding
// them would stop a child that did nothing wrong.
//
// Passed on to the child: everything caught except SIGCHLD (the supervisor's
// own business) and SIGPIPE (the kernel raises it for keyexec's own write to
// a closed pipe, such as a vanished stderr; it says nothing about the child).
// Catching SIGPIPE also keeps keyexec alive when its stderr goes away.
//
// Signals go to the child's PID, not its process group: the child is the
// leader of its own group (see forkExec), so a terminal's ^C reaches it
// directly and keyexec, outside that group, never sees it twice.
func caughtSignals() []os.Signal {
	var sigs []os.Signal
	for n := syscall.Signal(1); n < 65; n++ {
		switch n {
		case syscall.SIGKILL, syscall.SIGSTOP, syscall.SIGURG, syscall.SIGTTIN, syscall.SIGTTOU:
			continue
		}
		if signal.Ignored(n) {
			continue
		}
		sigs = append(sigs, n)
	}
	return sigs
}

// forwarded reports whether a caught signal is passed on to the child.
func forwarded(sig syscall.Signal) bool {
	return sig != syscall.SIGCHLD && sig != syscall.SIGPIPE
}

// stopsChild reports whether a signal asks the child to end. Once one is
// passed on, no rotation applies any more, and one arriving during a restart
// cancels it: the old child's exit ends Supervise instead of starting a new
// child (docker stop in the middle of a rotation stops the container). SIGHUP
// and SIGQUIT are left out: apps use them for reloads and thread dumps.
func stopsChild(sig syscall.Signal) bool {
	switch sig {
	case syscall.SIGTERM, syscall.SIGINT:
		return true
	}
	return false
}

// signalName gives SIGTERM rather than Go's "terminated", for logs.
func signalName(sig syscall.Signal) string {
	if name := unix.SignalName(sig); name != "" {
		return name
	}
	return sig.String()
}

// onSignal passes a caught signal on to the child. A stop signal ends the
// watch for good: a rotation arriving while the child shuts down must not
// start a new one.
func (s *supervisor) onSignal(sig os.Signal) {
	n, ok := sig.(syscall.Signal)
	if !ok || !forwarded(n) {
		return
	}
	if stopsChild(n) && s.state != stopping {
		if s.state == restarting {
			s.log.Info("stop signal during a restart: the child will not be started again", "signal", signalName(n))
		}
		s.state = stopping
	}
	s.signal(n)
}

// drain handles the signals already queued, without waiting.
func (s *supervisor) drain(sigs <-chan os.Signal) {
	for {
		select {
		case sig := <-sigs:
			s.onSignal(sig)
		default:
			return
		}
	}
}

// signal sends sig to the current child. A child that already exited but
// is not reaped yet is a zombie, which kill accepts, so ESRCH is not
// expected; it is ignored all the same.
func (s *supervisor) signal(sig syscall.Signal) {
	s.log.Debug("passing signal to the child", "signal", signalName(sig), "pid", s.pid)
	if err := syscall.Kill(s.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		s.log.Warn("cannot signal the child", "signal", signalName(sig), "pid", s.pid, "error", err)
	}
}

// stop ends supervision on request (ctx done): the child gets the restart
// signal unless a stop signal was already passed on, then SIGKILL after the
// grace period.
func (s *supervisor) stop() {
	if s.state == running {
		s.log.Info("stopping the child", "signal", signalName(s.restartSig), "pid", s.pid)
		s.signal(s.restartSig)
	}
	s.state = stopping
	if s.grace == nil {
		s.startGrace()
	}
}

// kill ends a child that outlived its grace period, with its process group:
// helpers it started in its group go too.
func (s *supervisor) kill() {
	s.log.Warn("child still running after the grace period, sending SIGKILL", "pid", s.pid, "grace", s.opts.RestartGrace)
	if err := syscall.Kill(-s.pid, syscall.SIGKILL); err != nil {
		_ = syscall.Kill(s.pid, syscall.SIGKILL)
	}
}

func (s *supervisor) startGrace() { s.grace = time.NewTimer(s.opts.RestartGrace) }

func (s *supervisor) stopGrace() {
	if s.grace != nil {
		s.grace.Stop()
		s.grace = nil
	}
}

// graceC is the grace timer's channel, or nil (never ready) without one.
func (s *supervisor) graceC() <-chan time.Time {
	if s.grace == nil {
		return nil
	}
	return s.grace.C
}
