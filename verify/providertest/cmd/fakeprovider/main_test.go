package main

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/keyexec/keyexec/verify/providertest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// syncBuffer is a stderr the server goroutines and the test share.
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

func TestServeUntilStdinCloses(t *testing.T) {
	t.Parallel()
	stdinR, stdinW := io.Pipe()
	stdoutR, stdoutW := io.Pipe()
	stderr := &syncBuffer{}
	code := make(chan int, 1)
	args := []string{"-kind", "openai,gemini", "-kind", "entra", "-key", "sk-good", "-key", "openai:sk-poor=no_quota",
		"-reply", "from the command", "-client", "app=secret", "-v"}
	go func() {
		code <- run(context.Background(), args, stdinR, stdoutW, stderr)
		stdoutW.Close()
	}()
	vars := map[string]string{}
	sc := bufio.NewScanner(stdoutR)
	for sc.Scan() && sc.Text() != "READY" {
		k, val, _ := strings.Cut(sc.Text(), "=")
		vars[k] = val
	}
	for _, k := range []string{"OPENAI_URL", "GEMINI_URL", "OPENAI_COMPAT_GEMINI_URL", "ENTRA_URL", "ENTRA_CA_FILE"} {
		if vars[k] == "" {
			t.Errorf("no %s in %v", k, vars)
		}
	}
	chat := func(key string) (int, string) {
		req, _ := http.NewRequest("POST", vars["OPENAI_URL"]+"/chat/completions", strings.NewReader(`{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}`))
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if status, body := chat("sk-good"); status != 200 || !strings.Contains(body, "from the command") {
		t.Errorf("good key: %d %s", status, body)
	}
	if status, _ := chat("sk-poor"); status != 429 {
		t.Errorf("no-quota key: %d", status)
	}
	stdinW.Close()
	if c := <-code; c != 0 {
		t.Errorf("exit %d, stderr %s", c, stderr.String())
	}
	_, _ = io.Copy(io.Discard, stdoutR)
	if log := stderr.String(); !strings.Contains(log, "openai POST /v1/chat/completions sha256:") || strings.Contains(log, "sk-good") {
		t.Errorf("log shows no fingerprint, or a key: %s", log)
	}
}

func TestFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"no kind", nil, 64},
		{"unknown kind", []string{"-kind", "cohere"}, 64},
		{"not loopback", []string{"-kind", "openai", "-listen", "0.0.0.0:0"}, 69},
		{"stray argument", []string{"-kind", "openai", "extra"}, 64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if c := run(context.Background(), tc.args, strings.NewReader(""), io.Discard, io.Discard); c != tc.code {
				t.Errorf("exit %d, want %d", c, tc.code)
			}
		})
	}
}

func TestCredentialSyntax(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		kind providertest.Kind
		key  string
		mode providertest.Mode
	}{
		{"sk-1", "", "sk-1", providertest.OK},
		{"openai:sk-1=no_quota", providertest.OpenAI, "sk-1", providertest.NoQuota},
		{"abc==", "", "abc==", providertest.OK},         // base64 padding is not a mode
		{"user:pass", "", "user:pass", providertest.OK}, // not a kind
	}
	for _, tc := range tests {
		k, key, mode := credential(tc.in)
		if k != tc.kind || key != tc.key || mode != tc.mode {
			t.Errorf("%q: %q %q %q", tc.in, k, key, mode)
		}
	}
}
