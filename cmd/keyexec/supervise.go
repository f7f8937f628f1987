package main

import (
	"context"
	"errors"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/keyexec/keyexec/exec"
	"github.com/keyexec/keyexec/sources"
)

// supervise decides between exec (the default) and staying as a small init:
// on request, with --watch, or automatically as PID 1.
func (a *app) supervise(cfg *Config) bool {
	switch strings.ToLower(cfg.Supervise.Enabled) {
	case "true":
		return true
	case "false":
		return false
	}
	return cfg.Supervise.Watch > 0 || exec.IsPID1()
}

// runSupervised starts the child under the supervisor. With --watch, the
// supervisor calls refresh on every period: the whole pipeline runs again
// (resolve, checks, probe) and the child restarts only when a value changed
// and the new values passed.
func (a *app) runSupervised(ctx context.Context, cfg *Config, argv, environ []string) error {
	restartSig, err := parseSignal(cfg.Supervise.RestartSignal)
	if err != nil {
		return configError("supervise.restart_signal: %v", err)
	}
	changeSig, err := parseSignal(cfg.Supervise.ChangeSignal)
	if err != nil {
		return configError("supervise.change_signal: %v", err)
	}
	current := fingerprints(environ)
	refresh := func(ctx context.Context) ([]string, bool, error) {
		_, next, err := a.prepare(ctx, cfg)
		if err != nil {
			return nil, false, err
		}
		fp := fingerprints(next)
		if fp == current {
			return nil, false, nil
		}
		current = fp
		return next, true, nil
	}
	opts := exec.SuperviseOptions{
		Logger:        a.out.log,
		Watch:         cfg.Supervise.Watch,
		OnChange:      cfg.Supervise.OnChange,
		RestartSignal: restartSig,
		RestartGrace:  cfg.Supervise.RestartGrace,
		ChangeSignal:  changeSig,
	}
	if cfg.Supervise.Watch > 0 {
		opts.Refresh = refresh
	}
	// The supervisor handles SIGINT and SIGTERM itself (it forwards them to
	// the child and waits for it); main's signal context must not also stop
	// it, or a slow-to-exit app would be killed after the grace period.
	code, err := exec.Supervise(context.WithoutCancel(ctx), argv, environ, opts)
	if err != nil {
		return err
	}
	return childExit{code: code}
}

// fingerprints summarises an environment without holding its values, so the
// watch loop can tell whether anything changed.
func fingerprints(environ []string) string {
	var b strings.Builder
	for _, kv := range environ {
		name, val, _ := strings.Cut(kv, "=")
		b.WriteString(name + "=" + sources.Fingerprint(val) + "\n")
	}
	return b.String()
}

// parseSignal accepts SIGTERM, TERM, term or a number.
func parseSignal(name string) (os.Signal, error) {
	n := "SIG" + strings.TrimPrefix(strings.ToUpper(strings.TrimSpace(name)), "SIG")
	for sig, s := range signalNames {
		if s == n {
			return sig, nil
		}
	}
	if num, err := strconv.Atoi(name); err == nil && num > 0 && num < 65 {
		return syscall.Signal(num), nil
	}
	return nil, errors.New("unknown signal " + sources.ShowValue(name) + ": use a name such as SIGTERM or SIGHUP")
}

var signalNames = map[syscall.Signal]string{
	syscall.SIGHUP: "SIGHUP", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT", syscall.SIGKILL: "SIGKILL",
	syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2", syscall.SIGTERM: "SIGTERM", syscall.SIGWINCH: "SIGWINCH",
	syscall.SIGCONT: "SIGCONT", syscall.SIGSTOP: "SIGSTOP", syscall.SIGTSTP: "SIGTSTP", syscall.SIGALRM: "SIGALRM",
	syscall.SIGPIPE: "SIGPIPE",
}
