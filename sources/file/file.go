// Package file is the file:// and cred:// source: mounted secrets such as
// Docker and Kubernetes secret files, and systemd credentials
// (LoadCredential=NAME, read from $CREDENTIALS_DIRECTORY/NAME).
package file

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/keyexec/keyexec/sources"
	"golang.org/x/sys/unix"
)

// MaxSize bounds what a secret file may hold. API keys are a few hundred
// bytes; a larger file is a mistake (a wrong path), not a key.
const MaxSize = 1 << 20

// Config configures a file source.
type Config struct {
	// Dir is where relative paths are read from: the working directory for
	// file://, $CREDENTIALS_DIRECTORY for cred://.
	Dir string
	// Cred selects the cred:// scheme: paths are credential names in Dir.
	Cred bool
}

// Source reads secrets from files.
type Source struct{ cfg Config }

var _ sources.Source = (*Source)(nil)

// New returns a file source. For cred:// an empty Dir is accepted here and
// reported per reference, so that a unit without LoadCredential= gets a clear
// message only when it actually uses cred://.
func New(_ context.Context, cfg Config) (*Source, error) {
	return &Source{cfg: cfg}, nil
}

// Scheme returns "file" or "cred".
func (s *Source) Scheme() string {
	if s.cfg.Cred {
		return "cred"
	}
	return "file"
}

// Fetch reads each file once, however many fields are taken from it.
func (s *Source) Fetch(ctx context.Context, refs []sources.Ref) ([]sources.Result, error) {
	type read struct {
		data []byte
		obj  map[string]any
		err  error
	}
	cache := map[string]*read{}
	out := make([]sources.Result, len(refs))
	for i, ref := range refs {
		out[i].Ref = ref
		path, err := s.path(ref)
		if err != nil {
			out[i].Err = err
			continue
		}
		r, ok := cache[path]
		if !ok {
			r = &read{}
			r.data, r.err = readFile(ctx, path)
			cache[path] = r
		}
		if r.err != nil {
			out[i].Err = fmt.Errorf("%s: %w", ref, r.err)
			continue
		}
		if r.obj == nil && ref.Field != "" && ref.Query.Get("raw") != "true" {
			obj, err := sources.ParseJSONObject(r.data)
			if err != nil {
				out[i].Err = fmt.Errorf("%s: %w", ref, err)
				continue
			}
			r.obj = obj
		}
		v, err := pick(r.data, r.obj, ref)
		if err != nil {
			out[i].Err = fmt.Errorf("%s: %w", ref, err)
			continue
		}
		out[i].Value = sources.NewSecret(v)
	}
	return out, nil
}

// pick selects what ref names from a file's content: a field of its JSON
// object (parsed once per file), or the whole text as sources.PickText
// takes it (a JSON object without #field is never a key).
func pick(data []byte, obj map[string]any, ref sources.Ref) (string, error) {
	if ref.Field != "" && obj != nil {
		return sources.PickField(obj, ref.Field)
	}
	return sources.PickText(string(data), ref)
}

func (s *Source) path(ref sources.Ref) (string, error) {
	if !s.cfg.Cred {
		if filepath.IsAbs(ref.Path) || s.cfg.Dir == "" {
			return ref.Path, nil
		}
		return filepath.Join(s.cfg.Dir, ref.Path), nil
	}
	if s.cfg.Dir == "" {
		return "", fmt.Errorf("%s: CREDENTIALS_DIRECTORY is not set: run keyexec from a systemd unit with LoadCredential=%s:/path/to/secret (or SetCredentialEncrypted=): %w", ref, ref.Path, sources.ErrNotFound)
	}
	return filepath.Join(s.cfg.Dir, ref.Path), nil
}

func readFile(ctx context.Context, path string) ([]byte, error) {
	// A device or socket is never a secret file (/dev/zero would stream
	// until MaxSize), and opening one can have side effects: refuse it
	// before open. Pipes are allowed, for process substitution
	// (file:///dev/fd/63).
	if fi, err := os.Stat(path); err == nil && special(fi.Mode()) {
		return nil, notAFile(path, fi.Mode())
	}
	// O_NONBLOCK: open(2) of a FIFO with no writer returns at once instead
	// of blocking the thread for good; readPipe then waits for the writer,
	// bounded by ctx. The flag has no effect on regular files.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("no file %s: check the path and the volume or secret mount: %w", path, sources.ErrNotFound)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("cannot read %s: permission denied for uid %d: %w", path, os.Getuid(), sources.ErrPermission)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", err, sources.ErrInvalid)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", err, sources.ErrInvalid)
	}
	var data []byte
	switch m := fi.Mode(); {
	case m.IsDir():
		return nil, fmt.Errorf("%s is a directory: name the file inside it: %w", path, sources.ErrInvalid)
	case special(m): // replaced since the Stat above
		return nil, notAFile(path, m)
	case m&fs.ModeNamedPipe != 0:
		data, err = readPipe(ctx, f)
	default:
		data, err = io.ReadAll(io.LimitReader(f, MaxSize+1))
	}
	switch {
	case errors.Is(err, sources.ErrUnavailable):
		return nil, err
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("cannot read %s: permission denied for uid %d: %w", path, os.Getuid(), sources.ErrPermission)
	case err != nil:
		return nil, fmt.Errorf("%w: %w", err, sources.ErrInvalid)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s is larger than %d bytes, too large for a credential: check the path: %w", path, MaxSize, sources.ErrInvalid)
	}
	return data, nil
}

// readPipe reads a FIFO or pipe opened with O_NONBLOCK until its writer
// closes it, MaxSize+1 bytes arrive, or ctx ends. The wait happens in Go's
// poller, so an abandoned read does not pin a thread, and ending ctx ends it.
//
// A non-blocking read of a FIFO that no writer has opened yet returns 0 bytes,
// like EOF. poll(2) tells the two apart: Linux reports POLLHUP only once a
// writer has opened the FIFO and closed it again.
func readPipe(ctx context.Context, f *os.File) ([]byte, error) {
	if d, ok := ctx.Deadline(); ok {
		f.SetReadDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { f.SetReadDeadline(time.Now()) })
	defer stop()
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var data []byte
	var rerr error
	writer := false // a writer was seen: data came or a read would block
	err = rc.Read(func(fd uintptr) bool {
		for len(data) <= MaxSize {
			data = slices.Grow(data, 4096)
			n, err := syscall.Read(int(fd), data[len(data):cap(data)])
			switch {
			case err == syscall.EINTR:
				continue
			case err == syscall.EAGAIN:
				writer = true
				return false // a writer is connected: wait for data
			case err != nil:
				rerr = &fs.PathError{Op: "read", Path: f.Name(), Err: err}
				return true
			case n == 0:
				return hungUp(fd) // no writer yet: wait for one
			}
			data = data[:len(data)+n]
			writer = true
		}
		return true
	})
	if errors.Is(err, os.ErrDeadlineExceeded) {
		// The poller's timer can fire just before ctx's own.
		cause := context.Cause(ctx)
		if cause == nil {
			cause = context.DeadlineExceeded
		}
		if !writer {
			return nil, fmt.Errorf("no writer on the pipe %s before the resolve deadline: start the process that writes it (or raise --timeout): %w: %w", f.Name(), sources.ErrUnavailable, cause)
		}
		return nil, fmt.Errorf("the writer of the pipe %s did not close it before the resolve deadline: %w: %w", f.Name(), sources.ErrUnavailable, cause)
	}
	if err != nil {
		return nil, err
	}
	return data, rerr
}

// hungUp reports whether the writer of the pipe fd has come and gone, as
// opposed to never having opened it.
func hungUp(fd uintptr) bool {
	pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		_, err := unix.Poll(pfd, 0)
		if err == unix.EINTR {
			continue
		}
		// On an error, take the 0 bytes as EOF, as a blocking read would.
		return err != nil || pfd[0].Revents&(unix.POLLHUP|unix.POLLIN) != 0
	}
}

func special(m fs.FileMode) bool {
	return m&(fs.ModeDevice|fs.ModeSocket|fs.ModeCharDevice|fs.ModeIrregular) != 0
}

func notAFile(path string, m fs.FileMode) error {
	return fmt.Errorf("%s is %s, not a regular file: point the reference at the secret file itself: %w", path, kindOf(m), sources.ErrInvalid)
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "a special file"
}
