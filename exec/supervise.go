package exec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// On-change actions for SuperviseOptions.OnChange.
const (
	OnChangeRestart = "restart" // stop the child and start it again with the new environment
	OnChangeSignal  = "signal"  // send ChangeSignal; the app reloads by itself
)

// SuperviseOptions configures Supervise. The zero value supervises without
// watching, with the process's own stdio.
type SuperviseOptions struct {
	// Stdin, Stdout and Stderr default to os.Stdin, os.Stdout and os.Stderr.
	// An *os.File is handed to the child as is (a terminal stays a terminal);
	// anything else goes through a pipe and a copying goroutine, and Stdout
	// and Stderr are then written concurrently.
	Stdin          io.Reader
	Stdout, Stderr io.Writer

	// Logger receives the supervisor's own lines (never a secret: errors
	// from Refresh must hold fingerprints only). Default slog.Default().
	Logger *slog.Logger

	// Watch is the period between Refresh calls; 0 turns watching off.
	Watch time.Duration
	// Jitter spreads each period: 0.1 is ±10%. 0 means the default 0.1,
	// a negative value none.
	Jitter float64
	// Refresh re-resolves, re-checks and re-probes. It returns the new
	// environment and changed=true when a value changed and the new values
	// passed; an error when the rotation failed or a source was down (the
	// running child is kept). It is never called concurrently with itself
	// and must honour ctx and apply its own deadline.
	Refresh func(ctx context.Context) (env []string, changed bool, err error)

	// OnChange is OnChangeRestart (default) or OnChangeSignal.
	OnChange string
	// RestartSignal stops the child before a restart (default SIGTERM);
	// after RestartGrace (default 10s) its process group gets SIGKILL.
	RestartSignal os.Signal
	RestartGrace  time.Duration
	// ChangeSignal is sent with OnChangeSignal (default SIGHUP).
	ChangeSignal os.Signal

	// Subreaper makes this process a child subreaper (for the rest of its
	// life), so orphans of the child are re-parented to it and reaped even
	// when it is not PID 1.
	Subreaper bool
}

// IsPID1 reports whether keyexec is the init of its PID namespace (a
// container started without --init), where it must supervise, not exec.
func IsPID1() bool { return os.Getpid() == 1 }

// state is where the supervisor is in the life of the current child.
type state int

const (
	running    state = iota
	restarting       // restart signal sent; the next child starts when this one exits
	stopping         // a stop was asked for; this child's exit ends Supervise
)

type supervisor struct {
	opts       SuperviseOptions // defaults applied
	restartSig syscall.Signal
	changeSig  syscall.Signal
	argv       []string
	log        *slog.Logger
	stdio      *stdio
	tty        int  // keyexec's controlling terminal among the stdio, or -1
	reapAll    bool // PID 1 or subreaper: orphans are ours to reap

	pid         int
	state       state
	next        []string // environment of the child a restart starts
	grace       *time.Timer
	lastFailure string // last Refresh error logged, to log each failure once
}

// Supervise runs argv with env as a child and stays beside it as a small
// init: it passes signals on (see caughtSignals), reaps zombies, and with
// opts.Watch restarts or signals the child when Refresh reports new values.
// It returns when the child exits on its own or by a passed-on signal, with
// the code keyexec must exit with: the child's exit code, or 128+signal.
// A restart never ends it.
//
// The error is non-nil only when no child runs: the command cannot be
// started (wrapping ErrNotFound or ErrNotExecutable, as Exec does; also
// when a restart cannot start the new child) or the options are invalid.
//
// When ctx is done the child is stopped as for a restart (RestartSignal,
// RestartGrace, SIGKILL) and its code returned. Supervise handles SIGINT and
// SIGTERM itself: ctx must not also be cancelled by them
// (signal.NotifyContext), or the child may get the signal twice.
//
// As PID 1 or a subreaper it reaps every child of this process, so nothing
// running beside it (Refresh included) may start processes with os/exec:
// their Wait would find them already reaped. Otherwise it waits for its own
// child only.
func Supervise(ctx context.Context, argv []string, env []string, opts SuperviseOptions) (int, error) {
	if len(argv) == 0 {
		return 0, fmt.Errorf("no command given: %w", ErrNotFound)
	}
	s, err := newSupervisor(argv, opts)
	if err != nil {
		return 0, err
	}
	// Catch signals before the fork: no SIGCHLD may be missed.
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs, caughtSignals()...)
	defer signal.Stop(sigs)

	if s.stdio, err = openStdio(s.opts.Stdin, s.opts.Stdout, s.opts.Stderr); err != nil {
		return 0, err
	}
	defer s.stdio.close()
	s.tty = foregroundTTY(s.stdio.files)
	if s.opts.Subreaper {
		if err := setSubreaper(); err != nil {
			s.log.Warn("cannot become a child subreaper; orphans of the child are not reaped here", "error", err)
		}
	}
	s.reapAll = IsPID1() || isSubreaper()
	if err := s.start(env); err != nil {
		return 0, err
	}
	defer restoreForeground(s.tty)
	return s.loop(ctx, sigs)
}

func newSupervisor(argv []string, o SuperviseOptions) (*supervisor, error) {
	if o.Stdin == nil {
		o.Stdin = os.Stdin
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	if o.Stderr == nil {
		o.Stderr = os.Stderr
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Jitter == 0 {
		o.Jitter = 0.1
	}
	if o.RestartGrace <= 0 {
		o.RestartGrace = 10 * time.Second
	}
	switch {
	case o.OnChange == "":
		o.OnChange = OnChangeRestart
	case o.OnChange != OnChangeRestart && o.OnChange != OnChangeSignal:
		return nil, fmt.Errorf("on_change %q: use %s or %s", o.OnChange, OnChangeRestart, OnChangeSignal)
	}
	if o.Watch < 0 {
		return nil, fmt.Errorf("watch period %s: must be positive, or 0 for no watch", o.Watch)
	}
	if o.Watch > 0 && o.Refresh == nil {
		return nil, errors.New("watch period set without a Refresh function")
	}
	restartSig, err := unixSignal(o.RestartSignal, syscall.SIGTERM)
	if err != nil {
		return nil, fmt.Errorf("restart signal: %w", err)
	}
	changeSig, err := unixSignal(o.ChangeSignal, syscall.SIGHUP)
	if err != nil {
		return nil, fmt.Errorf("change signal: %w", err)
	}
	return &supervisor{opts: o, restartSig: restartSig, changeSig: changeSig, argv: argv, log: o.Logger, tty: -1}, nil
}

func unixSignal(sig os.Signal, def syscall.Signal) (syscall.Signal, error) {
	if sig == nil {
		return def, nil
	}
	s, ok := sig.(syscall.Signal)
	if !ok || s <= 0 {
		return 0, fmt.Errorf("%v is not a Unix signal", sig)
	}
	return s, nil
}

// loop is the supervisor's only goroutine touching its state: signals,
// timers and Refresh results arrive here one at a time, and after each of
// them the exited children are collected.
func (s *supervisor) loop(ctx context.Context, sigs <-chan os.Signal) (int, error) {
	w := newWatcher(ctx, s.opts.Watch, s.opts.Jitter, s.opts.Refresh)
	defer w.stop()
	defer s.stopGrace()
	w.arm()
	done := ctx.Done()
	for {
		select {
		case sig := <-sigs:
			s.onSignal(sig)
		case <-done:
			done = nil
			s.drain(sigs) // a SIGTERM that also cancelled ctx is passed on once, not twice
			w.stop()
			s.stop()
		case <-s.graceC():
			s.grace = nil
			s.kill()
		case <-w.C():
			w.begin()
		case r := <-w.results:
			w.finish()
			s.onRefresh(r)
			if s.state == running {
				w.arm()
			}
		}
		ws, exited, err := s.reap()
		if err != nil {
			return 0, err
		}
		if !exited {
			continue
		}
		code := exitCode(ws)
		if s.state != restarting {
			s.log.Debug("child exited", "pid", s.pid, "code", code)
			return code, nil
		}
		if err := s.restart(code); err != nil {
			return 0, err
		}
		w.arm()
	}
}

// start forks and execs one generation of the child. Its PATH lookup uses
// the child's own environment.
func (s *supervisor) start(env []string) error {
	path, err := LookPath(s.argv[0], env)
	if err != nil {
		return err
	}
	pid, err := forkExec(path, s.argv, env, s.stdio.files, s.tty)
	if err != nil {
		return err
	}
	s.pid = pid
	s.log.Debug("child started", "pid", pid, "command", path)
	return nil
}

// restart starts the next child once the old one has exited. Stragglers of
// the old child's process group are killed first: no process should keep
// the old credentials.
func (s *supervisor) restart(code int) error {
	s.stopGrace()
	_ = syscall.Kill(-s.pid, syscall.SIGKILL)
	old := s.pid
	s.state = running
	next := s.next
	s.next = nil
	if err := s.start(next); err != nil {
		return fmt.Errorf("restart with the new values: %w", err)
	}
	s.log.Info("child restarted with the new values", "old_pid", old, "old_code", code, "pid", s.pid)
	return nil
}
