package exec

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// forkExec starts one child. It uses syscall.ForkExec rather than os/exec:
// the supervisor collects every exit status itself with wait4, and an
// os.Process would hold a pidfd and race that loop with its own Wait.
//
// The child leads a process group of its own (as tini's child does). With
// tty >= 0 (keyexec held the terminal's foreground) the child's group takes
// the foreground, from inside the child with signals still blocked, so ^C,
// ^\ and window resizes go to the child straight from the terminal and
// keyexec, now in a background group, never receives them: each reaches the
// child once. Signals sent to keyexec itself (docker stop, kill) are passed
// on by the supervisor; a kill of keyexec's process group reaches the child
// that way too, once. Job control (^Z) stops only the child: the shell keeps
// waiting for keyexec. Use exec (the default) for interactive work.
func forkExec(path string, argv, env []string, files [3]*os.File, tty int) (int, error) {
	attr := &syscall.ProcAttr{
		Env:   env,
		Files: []uintptr{files[0].Fd(), files[1].Fd(), files[2].Fd()},
		Sys:   &syscall.SysProcAttr{Setpgid: true},
	}
	if tty >= 0 {
		attr.Sys.Foreground = true
		attr.Sys.Ctty = tty
	}
	pid, err := syscall.ForkExec(path, argv, attr)
	if err != nil {
		return 0, execError(path, err)
	}
	return pid, nil
}

// foregroundTTY returns the descriptor, among the child's stdio, of
// keyexec's controlling terminal when keyexec's process group holds its
// foreground, or -1. It is decided once: after the first child took the
// foreground, keyexec no longer holds it but later children must.
func foregroundTTY(files [3]*os.File) int {
	pgrp := unix.Getpgrp()
	for _, f := range files {
		fd := int(f.Fd())
		fg, err := unix.IoctlGetUint32(fd, unix.TIOCGPGRP)
		if err == nil && int(fg) == pgrp {
			return fd
		}
	}
	return -1
}

// restoreForeground gives the terminal back to keyexec's process group once
// no child is left, so keyexec's own last lines are not met by SIGTTOU. Being
// in the background, it must ignore SIGTTOU for the call.
func restoreForeground(tty int) {
	if tty < 0 {
		return
	}
	signal.Ignore(syscall.SIGTTOU)
	defer signal.Reset(syscall.SIGTTOU)
	_ = unix.IoctlSetPointerInt(tty, unix.TIOCSPGRP, unix.Getpgrp())
}

// reap collects exited children without blocking and reports the main
// child's status once it has exited. As PID 1 or a subreaper it waits for
// any child, so orphans re-parented here do not stay zombies, and the main
// child's status comes out of that same loop. Otherwise it waits for the
// main child only and leaves any other child of this process to its owner.
func (s *supervisor) reap() (syscall.WaitStatus, bool, error) {
	target := s.pid
	if s.reapAll {
		target = -1
	}
	var main syscall.WaitStatus
	exited := false
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(target, &ws, syscall.WNOHANG, nil)
		switch {
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.ECHILD) && !exited:
			return main, false, fmt.Errorf("child %d was reaped by another part of this process; its exit status is lost", s.pid)
		case err != nil || pid <= 0:
			return main, exited, nil
		case pid == s.pid:
			main, exited = ws, true
			if !s.reapAll {
				return main, exited, nil
			}
		default:
			s.log.Debug("reaped an orphan", "pid", pid, "code", exitCode(ws))
		}
	}
}

// exitCode is a wait status as a shell reports it: the exit code, or
// 128+signal for a child killed by a signal.
func exitCode(ws syscall.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

func setSubreaper() error {
	return unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
}

func isSubreaper() bool {
	var v int32
	err := unix.Prctl(unix.PR_GET_CHILD_SUBREAPER, uintptr(unsafe.Pointer(&v)), 0, 0, 0)
	return err == nil && v != 0
}

// stdio holds what every generation of the child gets as fds 0, 1 and 2.
// Files are passed as they are; other readers and writers get a pipe that
// lives as long as Supervise, so restarted children share it.
type stdio struct {
	files  [3]*os.File
	ours   []*os.File     // the child's ends of our pipes, closed by close
	copies sync.WaitGroup // stdout and stderr copiers
}

func openStdio(in io.Reader, out, errOut io.Writer) (*stdio, error) {
	s := &stdio{}
	var err error
	if s.files[0], err = s.input(in); err == nil {
		if s.files[1], err = s.output(out); err == nil {
			s.files[2], err = s.output(errOut)
		}
	}
	if err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

// input feeds r to the child. The copier is not waited for: a Read that
// never returns (a terminal) would hold Supervise forever. It ends at r's
// EOF, or at its next write once the child's end is closed.
func (s *stdio) input(r io.Reader) (*os.File, error) {
	if f, ok := r.(*os.File); ok {
		return f, nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("stdin pipe for the child: %w", err)
	}
	s.ours = append(s.ours, pr)
	go func() {
		_, _ = io.Copy(pw, r)
		pw.Close()
	}()
	return pr, nil
}

// output copies what the child writes to w until every writer is gone: the
// child, its descendants, and our own end, closed when Supervise returns.
func (s *stdio) output(w io.Writer) (*os.File, error) {
	if f, ok := w.(*os.File); ok {
		return f, nil
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("output pipe for the child: %w", err)
	}
	s.ours = append(s.ours, pw)
	s.copies.Add(1)
	go func() {
		defer s.copies.Done()
		_, _ = io.Copy(w, pr)
		pr.Close()
	}()
	return pw, nil
}

// close releases the pipes and waits for the output copiers. A descendant
// that outlives the child and keeps the pipe open holds it up; with files
// (the normal case) there is nothing to wait for.
func (s *stdio) close() {
	for _, f := range s.ours {
		f.Close()
	}
	s.copies.Wait()
}
