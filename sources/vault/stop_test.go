package vault

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

// TestStopWinsOverEveryFailure: a stop (a context cancelled with a
// *sources.StopError cause) while a request is in flight, a retry is
// waiting or a path waits for another's lookup, ends every reference (or
// the batch, at login) with an error that wraps the StopError, never one
// that says unavailable or timed out.
func TestStopWinsOverEveryFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		hold    string                 // requests the fake keeps unanswered
		sealed  bool                   // answer 503 sealed, to stop during retries
		trigger func(path string) bool // stop when this request arrives
		cfg     func(h *harness) Config
		refs    []string
		batch   bool // the stop ends the batch (at login)
	}{
		{name: "slow read", hold: "secret/data/*", trigger: hasPrefix("secret/data/"),
			refs: []string{"vault://secret/llm/openai?kv=2#api_key"}},
		{name: "slow mount lookup", hold: "sys/internal/ui/mounts/*", trigger: hasPrefix("sys/internal/ui/mounts/"),
			refs: []string{"vault://secret/llm/openai#api_key"}},
		{name: "waiting for another path's lookup", hold: "*", trigger: hasPrefix("sys/internal/ui/mounts/"),
			refs: []string{"vault://secret/llm/a#k", "vault://secret/llm/b#k", "vault://secret/llm/c#k"}},
		{name: "retrying a sealed vault", sealed: true, trigger: hasPrefix("sys/internal/ui/mounts/"),
			refs: []string{"vault://secret/llm/openai#api_key"}},
		{name: "slow login", hold: "auth/approle/login", trigger: hasPrefix("auth/approle/login"), batch: true,
			cfg: func(h *harness) Config {
				roleID, secretID := h.admin.CreateAppRole(t, "approle", "r", "default")
				return Config{Auth: "approle", RoleID: roleID, SecretID: secretID, Env: map[string]string{}}
			},
			refs: []string{"vault://secret/llm/openai#api_key"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := fakeVault(t)
			var cfg Config
			if tc.cfg != nil {
				cfg = tc.cfg(h)
			}
			src := h.source(t, cfg)
			ctx, cancel := context.WithCancelCause(context.Background())
			defer cancel(nil)
			stop := &sources.StopError{Signal: syscall.SIGTERM}
			arrived := arrivals(h)
			go func() {
				for r := range arrived {
					if tc.trigger(r.Path) {
						cancel(stop)
						return
					}
				}
			}()
			if tc.hold != "" {
				defer h.fake.Hold(tc.hold)()
			}
			if tc.sealed {
				h.fake.Seal()
			}
			res, err := fetchCtx(t, ctx, src, tc.refs...)
			if tc.batch {
				wantStopped(t, err)
				return
			}
			if err != nil {
				t.Fatalf("batch error: %v", err)
			}
			for _, r := range res {
				wantStopped(t, r.Err)
			}
		})
	}
}

func hasPrefix(p string) func(string) bool {
	return func(path string) bool { return strings.HasPrefix(path, p) }
}

// wantStopped checks that err is the stop and nothing that reads as a
// failure of Vault.
func wantStopped(t *testing.T, err error) {
	t.Helper()
	var se *sources.StopError
	if !errors.As(err, &se) || se.Signal != syscall.SIGTERM {
		t.Fatalf("error %v does not wrap the *sources.StopError", err)
	}
	t.Logf("error: %v", err)
	if errors.Is(err, sources.ErrUnavailable) || errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a stop reads as unavailable: %v", err)
	}
	for _, word := range []string{"unavailable", "timeout", "timed out", "deadline", "sealed"} {
		if strings.Contains(strings.ToLower(err.Error()), word) {
			t.Errorf("a stop says %q: %v", word, err)
		}
	}
}
