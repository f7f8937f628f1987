// Command fakes serves the test fakes outside `go test` for bench/run.sh's
// time-to-ready benchmark. It starts two identical worlds, one whose fakes
// answer at once and one whose fakes add -latency to every request — a
// Vault fake (vaulttest.WithLatency: token, AppRole and Kubernetes auth),
// OpenAI and Anthropic fakes (providertest Config.Latency), and a counting
// proxy in front of a running moto_server for Secrets Manager and STS
// (awssmtest.Proxy.SetLatency) — so that the difference between the two
// worlds is the latency alone.
//
// For each world it writes, under -dir, one environment file per flow
// (DIR/0/NAME.env, DIR/L/NAME.env: NAME=VALUE lines, the whole environment
// keyexec gets) with the config files they point to, and DIR/flows, the
// table of flows: name, floor (the fewest sequential round trips the flow
// can take), title. For calibration it lists in DIR/bare the same requests
// sent by an ideal client, and writes curl configs for the ones curl sends
// (DIR/W/curl-*.curl, run with DIR/W/bare.env). It records every request the latency world's fakes
// receive, in arrival order with its time; GET CONTROL/trace returns that
// timeline and starts a new one (CONTROL is in DIR/control).
//
// It prints "READY" when everything is written, and serves until its
// standard input closes or it gets SIGTERM/SIGINT.
package main

import (
	"flag"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

func main() {
	motoURL := flag.String("moto", "", "moto_server URL (Secrets Manager and STS); required")
	latency := flag.Duration("latency", 50*time.Millisecond, "latency the slow world's fakes add to every request")
	dir := flag.String("dir", "", "folder for the flows' environment and config files; required")
	flag.Parse()
	if *motoURL == "" || *dir == "" {
		fmt.Fprintln(os.Stderr, "usage: fakes -moto URL -dir DIR [-latency 50ms]")
		os.Exit(64)
	}
	tb := &shim{}
	defer tb.cleanup()
	if err := serve(tb, *motoURL, *dir, *latency); err != nil {
		fmt.Fprintln(os.Stderr, "fakes:", err)
		tb.cleanup()
		os.Exit(1)
	}
	fmt.Println("READY")
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	eof := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(eof) }()
	select {
	case <-stop:
	case <-eof:
	}
}

func serve(tb *shim, motoURL, dir string, latency time.Duration) error {
	if err := seedMoto(motoURL); err != nil {
		return err
	}
	trace := &tracer{}
	control := httptest.NewServer(trace)
	tb.Cleanup(control.Close)
	for _, w := range []struct {
		name    string
		latency time.Duration
		trace   *tracer
	}{{"0", 0, nil}, {"L", latency, trace}} {
		wd := filepath.Join(dir, w.name)
		if err := os.MkdirAll(filepath.Join(wd, "home"), 0o700); err != nil {
			return err
		}
		world, err := startWorld(tb, motoURL, w.latency, w.trace)
		if err != nil {
			return fmt.Errorf("world %s: %w", w.name, err)
		}
		if err := world.write(wd); err != nil {
			return fmt.Errorf("world %s: %w", w.name, err)
		}
	}
	if err := writeFlowTable(dir); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "control"), []byte(control.URL+"\n"), 0o600)
}

// shim is the testing.TB the fakes' constructors want, outside a test:
// cleanups run at exit and a fatal error is remembered, not a Goexit.
type shim struct {
	testing.TB // never called: every method the fakes use is below
	cleanups   []func()
	failed     error
}

func (s *shim) Helper()             {}
func (s *shim) Name() string        { return "bench" }
func (s *shim) Cleanup(f func())    { s.cleanups = append(s.cleanups, f) }
func (s *shim) Logf(string, ...any) {}
func (s *shim) Fatalf(format string, args ...any) {
	if s.failed == nil {
		s.failed = fmt.Errorf(format, args...)
	}
}
func (s *shim) Fatal(args ...any)                 { s.Fatalf("%s", fmt.Sprint(args...)) }
func (s *shim) Errorf(format string, args ...any) { s.Fatalf(format, args...) }

func (s *shim) cleanup() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
	s.cleanups = nil
}
