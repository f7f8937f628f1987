package file

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/keyexec/keyexec/sources"
)

const secret = "sk-file-test-secret-value-0001"

func fetch(t *testing.T, cfg Config, raws ...string) []sources.Result {
	t.Helper()
	return fetchCtx(t, context.Background(), cfg, raws...)
}

func fetchCtx(t *testing.T, ctx context.Context, cfg Config, raws ...string) []sources.Result {
	t.Helper()
	src, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var refs []sources.Ref
	for _, raw := range raws {
		ref, err := sources.Parse(raw)
		if err != nil {
			t.Fatalf("parse %q: %v", raw, err)
		}
		refs = append(refs, ref)
	}
	res, err := src.Fetch(ctx, refs)
	if err != nil || len(res) != len(refs) {
		t.Fatalf("Fetch: %v (%d results)", err, len(res))
	}
	return res
}

func TestFileSource(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("plain", secret+"\n", 0o600)
	js := write("llm.json", `{"openai":"`+secret+`","nested":{"k":"`+secret+`"},"n":1}`, 0o600)
	big := write("big", strings.Repeat("x", MaxSize+1), 0o600)
	os.Mkdir(filepath.Join(dir, "adir"), 0o700)
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	tests := []struct {
		name, ref string
		want      string
		err       error
		msg       string
	}{
		{name: "whole file, untrimmed (sanitize trims later)", ref: "file://" + plain, want: secret + "\n"},
		{name: "json key", ref: "file://" + js + "#openai", want: secret},
		{name: "json pointer", ref: "file://" + js + "#/nested/k", want: secret},
		{name: "relative to Dir", ref: "file://llm.json#openai", want: secret},
		{name: "missing file", ref: "file://" + filepath.Join(dir, "nope"), err: sources.ErrNotFound, msg: "no file"},
		{name: "missing key", ref: "file://" + js + "#anthropic", err: sources.ErrNotFound, msg: `"openai"`},
		{name: "number", ref: "file://" + js + "#n", err: sources.ErrInvalid, msg: "number"},
		{name: "not json", ref: "file://" + plain + "#k", err: sources.ErrInvalid, msg: "not JSON"},
		{name: "too large", ref: "file://" + big, err: sources.ErrInvalid, msg: "too large"},
		{name: "directory", ref: "file://" + filepath.Join(dir, "adir"), err: sources.ErrInvalid, msg: "directory"},
		{name: "device /dev/null", ref: "file:///dev/null", err: sources.ErrInvalid, msg: "a device"},
		{name: "device /dev/zero", ref: "file:///dev/zero", err: sources.ErrInvalid, msg: "a device"},
		{name: "socket", ref: "file://" + sock, err: sources.ErrInvalid, msg: "a socket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := fetch(t, Config{Dir: dir}, tt.ref)[0]
			if tt.err != nil {
				if !errors.Is(r.Err, tt.err) || !strings.Contains(r.Err.Error(), tt.msg) {
					t.Fatalf("err = %v, want %v with %q", r.Err, tt.err, tt.msg)
				}
				if strings.Contains(r.Err.Error(), secret) {
					t.Fatalf("error leaks the value")
				}
				return
			}
			if r.Err != nil || r.Value.Reveal() != tt.want {
				t.Fatalf("got err %v, value match %v", r.Err, r.Value.Reveal() == tt.want)
			}
		})
	}
}

func TestCredSource(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "openai"), []byte(secret), 0o600)
	res := fetch(t, Config{Dir: dir, Cred: true}, "cred://openai", "cred://missing")
	if res[0].Err != nil || res[0].Value.Reveal() != secret {
		t.Errorf("cred://openai: %v", res[0].Err)
	}
	if !errors.Is(res[1].Err, sources.ErrNotFound) {
		t.Errorf("cred://missing: %v", res[1].Err)
	}
	none := fetch(t, Config{Cred: true}, "cred://openai")
	if !errors.Is(none[0].Err, sources.ErrNotFound) || !strings.Contains(none[0].Err.Error(), "LoadCredential=openai") {
		t.Errorf("without CREDENTIALS_DIRECTORY: %v", none[0].Err)
	}
}

// writeLater opens the FIFO at path for writing after a moment (so that the
// reader first finds no writer), writes content, and closes it. It gives up
// once ctx ends, so that a reader that returned early does not leave it
// blocked. The returned channel yields the writer's error.
func writeLater(ctx context.Context, path string, content []byte) <-chan error {
	done := make(chan error, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		// O_NONBLOCK: fail with ENXIO instead of blocking while no reader
		// has the FIFO open.
		w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		for errors.Is(err, syscall.ENXIO) && ctx.Err() == nil {
			time.Sleep(5 * time.Millisecond)
			w, err = os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		}
		if err != nil {
			done <- err
			return
		}
		time.Sleep(20 * time.Millisecond) // the reader now waits for data
		_, err = w.Write(content)
		w.Close()
		done <- err
	}()
	return done
}

func TestPipe(t *testing.T) {
	t.Parallel()
	big := []byte(strings.Repeat("x", MaxSize+1))
	tests := []struct {
		name    string
		content []byte // what the writer writes
		want    string
		err     error
		msg     string
	}{
		{name: "writer after a delay", content: []byte(secret + "\n"), want: secret + "\n"},
		{name: "writer closes without writing", content: nil, want: ""},
		{name: "too large", content: big, err: sources.ErrInvalid, msg: "too large"},
	}
	for _, tt := range tests {
		t.Run("fifo "+tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "fifo")
			if err := syscall.Mkfifo(path, 0o600); err != nil {
				t.Fatal(err)
			}
			// A safety net against a hang, not a timing assertion.
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			wrote := writeLater(ctx, path, tt.content)
			r := fetchCtx(t, ctx, Config{}, "file://"+path)[0]
			cancel()
			if err := <-wrote; err != nil && tt.err == nil {
				t.Fatalf("writer: %v", err)
			}
			if tt.err != nil {
				if !errors.Is(r.Err, tt.err) || !strings.Contains(r.Err.Error(), tt.msg) {
					t.Fatalf("err = %v, want %v with %q", r.Err, tt.err, tt.msg)
				}
				return
			}
			if r.Err != nil || r.Value.Reveal() != tt.want {
				t.Fatalf("got err %v, value match %v", r.Err, r.Value.Reveal() == tt.want)
			}
		})
	}
}

// TestAnonymousPipe reads an os.Pipe through /proc/self/fd/N, as process
// substitution (file:///dev/fd/63) does.
func TestAnonymousPipe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		closeBefore bool // the writer is done before keyexec opens the pipe
	}{
		{name: "writer still writing"},
		{name: "writer already done", closeBefore: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			path := fmt.Sprintf("/proc/self/fd/%d", r.Fd())
			write := func() {
				w.Write([]byte(secret))
				w.Close()
			}
			if tt.closeBefore {
				write()
			} else {
				go func() {
					time.Sleep(50 * time.Millisecond)
					write()
				}()
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			res := fetchCtx(t, ctx, Config{}, "file://"+path)[0]
			if res.Err != nil || res.Value.Reveal() != secret {
				t.Fatalf("got err %v, value match %v", res.Err, res.Value.Reveal() == secret)
			}
		})
	}
}

// TestPipeNoWriter is not parallel so that goleak sees only its own
// goroutines.
func TestPipeNoWriter(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	// An anonymous pipe whose writer stays open and silent.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	anon := fmt.Sprintf("/proc/self/fd/%d", r.Fd())
	tests := []struct {
		name, path, msg string
	}{
		{name: "fifo without a writer", path: fifo, msg: "no writer on the pipe"},
		{name: "pipe whose writer never closes", path: anon, msg: "did not close it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			done := make(chan sources.Result, 1)
			go func() { done <- fetchCtx(t, ctx, Config{}, "file://"+tt.path)[0] }()
			res := <-done // returns: the read does not outlive ctx
			if !errors.Is(res.Err, sources.ErrUnavailable) || !errors.Is(res.Err, context.DeadlineExceeded) || !strings.Contains(res.Err.Error(), tt.msg) {
				t.Fatalf("err = %v, want %v with %q", res.Err, sources.ErrUnavailable, tt.msg)
			}
		})
	}
	t.Run("context cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan sources.Result, 1)
		go func() { done <- fetchCtx(t, ctx, Config{}, "file://"+fifo)[0] }()
		time.Sleep(20 * time.Millisecond)
		cancel()
		if res := <-done; !errors.Is(res.Err, sources.ErrUnavailable) || !errors.Is(res.Err, context.Canceled) {
			t.Fatalf("err = %v, want %v", res.Err, sources.ErrUnavailable)
		}
	})
}

func TestReadPermission(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "locked")
	if err := os.WriteFile(path, []byte(secret), 0o000); err != nil {
		t.Fatal(err)
	}
	if os.Getuid() == 0 {
		// Root reads any file of mode 000, but not a write-only sysctl.
		path = "/proc/sys/vm/drop_caches"
	}
	r := fetch(t, Config{}, "file://"+path)[0]
	if !errors.Is(r.Err, sources.ErrPermission) {
		t.Fatalf("err = %v, want %v", r.Err, sources.ErrPermission)
	}
}
