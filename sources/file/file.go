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

	"github.com/keyexec/keyexec/sources"
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
func (s *Source) Fetch(_ context.Context, refs []sources.Ref) ([]sources.Result, error) {
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
			r.data, r.err = readFile(path)
			cache[path] = r
		}
		if r.err != nil {
			out[i].Err = fmt.Errorf("%s: %w", ref, r.err)
			continue
		}
		if ref.Field == "" {
			out[i].Value = sources.NewSecret(string(r.data))
			continue
		}
		if r.obj == nil {
			obj, err := sources.ParseJSONObject(r.data)
			if err != nil {
				out[i].Err = fmt.Errorf("%s: %w", ref, err)
				continue
			}
			r.obj = obj
		}
		v, err := sources.PickField(r.obj, ref.Field)
		if err != nil {
			out[i].Err = fmt.Errorf("%s: %w", ref, err)
			continue
		}
		out[i].Value = sources.NewSecret(v)
	}
	return out, nil
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

func readFile(path string) ([]byte, error) {
	// A device or socket is never a secret file (/dev/zero would stream
	// until MaxSize). Pipes are allowed, for process substitution
	// (file:///dev/fd/63); one with no writer blocks, and resolve stops
	// waiting for it at the deadline.
	if fi, err := os.Stat(path); err == nil && fi.Mode()&(fs.ModeDevice|fs.ModeSocket|fs.ModeCharDevice|fs.ModeIrregular) != 0 {
		return nil, fmt.Errorf("%s is %s, not a regular file: point the reference at the secret file itself: %w", path, kindOf(fi.Mode()), sources.ErrInvalid)
	}
	f, err := os.Open(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("no file %s: check the path and the volume or secret mount: %w", path, sources.ErrNotFound)
	case errors.Is(err, fs.ErrPermission):
		return nil, fmt.Errorf("cannot read %s: permission denied for uid %d: %w", path, os.Getuid(), sources.ErrPermission)
	case err != nil:
		return nil, fmt.Errorf("open %s: %v: %w", path, err, sources.ErrInvalid)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory: name the file inside it: %w", path, sources.ErrInvalid)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %v: %w", path, err, sources.ErrInvalid)
	}
	if len(data) > MaxSize {
		return nil, fmt.Errorf("%s is larger than %d bytes, too large for a credential: check the path: %w", path, MaxSize, sources.ErrInvalid)
	}
	return data, nil
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
