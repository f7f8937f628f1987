package main

import (
	"bytes"
	"os"
	osexec "os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/keyexec/keyexec/verify/providertest"
)

// syncBuffer is a bytes.Buffer safe for a writer process and a reading test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// waitFor polls cond until it holds; the limit only stops a broken test from
// hanging, it asserts nothing about speed.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(60 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("gave up waiting for %s", what)
}

// TestRotationEndToEnd runs keyexec --watch with a file:// key and the
// provider fake: unchanged values restart nothing, a revoked new key and a
// missing file keep the running child, a good new key restarts it once.
func TestRotationEndToEnd(t *testing.T) {
	t.Parallel()
	revoked := strings.Replace(openAIKey2, "ZZZZ", "RRRR", 1)
	srv := providertest.Start(t, providertest.OpenAI, providertest.Config{Keys: map[string]providertest.Key{openAIKey: {}, openAIKey2: {}}})
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "openai.key")
	starts := filepath.Join(dir, "starts.log")
	writeKey := func(k string) {
		tmp := keyFile + ".tmp"
		if err := os.WriteFile(tmp, []byte(k+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, keyFile); err != nil {
			t.Fatal(err)
		}
	}
	startsSeen := func() []string {
		data, _ := os.ReadFile(starts)
		return strings.Fields(string(data))
	}
	writeKey(openAIKey)

	cmd := osexec.Command(binPath, "run", "--watch", "200ms", "--restart-grace", "5s", "--probe-timeout", "3s", "--",
		"sh", "-c", `echo "$OPENAI_API_KEY" >> "$STARTS"; exec sleep 600`)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "STARTS=" + starts,
		"OPENAI_API_KEY=file://" + keyFile, "OPENAI_BASE_URL=" + srv.BaseURL()}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-done
	})

	waitFor(t, "the first start", func() bool { return len(startsSeen()) == 1 })
	// Unchanged values: several watch cycles (each probes again), no restart.
	base := srv.Requests()
	waitFor(t, "three watch cycles", func() bool { return srv.Requests() >= base+3 })
	if n := len(startsSeen()); n != 1 {
		t.Fatalf("unchanged values restarted the child: %d starts", n)
	}

	// A revoked new key: probed, rejected, the old child keeps running.
	writeKey(revoked)
	waitFor(t, "the revoked key to be probed twice", func() bool { return srv.KeyRequests(revoked) >= 2 })
	if n := len(startsSeen()); n != 1 {
		t.Fatalf("a revoked key restarted the child: %d starts", n)
	}
	if c := strings.Count(stderr.String(), "rotation check failed"); c != 1 {
		t.Errorf("the failed rotation was logged %d times, want once per new value:\n%s", c, stderr.String())
	}

	// The source goes down: the old child keeps running.
	os.Remove(keyFile)
	waitFor(t, "the missing file to be noticed", func() bool { return strings.Contains(stderr.String(), "no file") })
	if n := len(startsSeen()); n != 1 {
		t.Fatalf("a missing source restarted the child: %d starts", n)
	}

	// A good new key: exactly one restart, with the new value.
	writeKey(openAIKey2)
	waitFor(t, "the restart", func() bool { return len(startsSeen()) == 2 })
	if got := startsSeen(); got[1] != openAIKey2 {
		t.Fatalf("the restarted child did not get the new key")
	}
	base = srv.KeyRequests(openAIKey2)
	waitFor(t, "more watch cycles", func() bool { return srv.KeyRequests(openAIKey2) >= base+3 })
	if n := len(startsSeen()); n != 2 {
		t.Fatalf("%d starts after one rotation, want 2", n)
	}

	// docker stop: SIGTERM reaches the child, keyexec exits 128+15.
	cmd.Process.Signal(syscall.SIGTERM)
	<-done
	if code := cmd.ProcessState.ExitCode(); code != 143 {
		t.Errorf("exit %d after SIGTERM, want 143", code)
	}
	assertNoLeak(t, stderr.String())
}
