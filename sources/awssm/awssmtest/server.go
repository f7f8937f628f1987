package awssmtest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// shared is the one moto_server of this test binary.
var shared struct {
	once sync.Once
	mu   sync.Mutex
	url  string
	err  error
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
	out  *tailBuffer
}

// server starts moto_server (the pinned environment's, at path) on first
// use and returns its URL.
func server(path string) (string, error) {
	shared.once.Do(func() {
		shared.mu.Lock()
		defer shared.mu.Unlock()
		// A port picked then released can be taken by someone else before
		// moto binds it; try a few.
		for range 3 {
			if shared.err = launch(path); shared.err == nil {
				return
			}
		}
	})
	shared.mu.Lock()
	defer shared.mu.Unlock()
	return shared.url, shared.err
}

// launch starts moto_server on a free loopback port and waits until it
// answers. Called with shared.mu held.
func launch(path string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	out := &tailBuffer{max: 4096}
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = out, out
	// Pdeathsig kills moto when the thread that started it ends, which is
	// when the test binary exits however it exits: the goroutine below keeps
	// that thread locked until moto is gone.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	started := make(chan error, 1)
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		defer close(done)
		if err := cmd.Start(); err != nil {
			started <- err
			return
		}
		started <- nil
		_ = cmd.Wait()
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("start %s: %w", path, err)
	}
	if err := waitReady(url, done); err != nil {
		kill(cmd, done)
		return fmt.Errorf("moto_server on %s: %w; its output: %s", url, err, out.String())
	}
	shared.url, shared.cmd, shared.done, shared.out = url, cmd, done, out
	return nil
}

// waitReady polls moto until it answers, it exits, or 60 s pass (a cold
// Python start on a loaded 2-core machine takes a few seconds).
func waitReady(url string, done <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return errors.New("exited before answering")
		default:
		}
		resp, err := client.Get(url + "/moto-api/")
		if err == nil {
			resp.Body.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return errors.New("no answer within 60s")
}

// Stop stops the shared moto_server, if one was started. Call it from
// TestMain after m.Run (and before goleak checks); without it the server
// still dies with the test binary.
func Stop() {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.cmd != nil {
		kill(shared.cmd, shared.done)
		shared.cmd = nil
		shared.err = errors.New("awssmtest: moto_server was stopped by Stop")
	}
}

func kill(cmd *exec.Cmd, done <-chan struct{}) {
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-done
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free loopback port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// tailBuffer keeps the last max bytes written, for error messages.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
