package vault

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources"
)

// hugeAnswer serves size bytes of JSON, announced with Content-Length or
// streamed without it, and counts the mount lookups among its requests.
func hugeAnswer(t *testing.T, size int, announce bool) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/sys/internal/ui/mounts/") {
			n.Add(1)
		}
		head, tail := `{"padding":"`, `"}`
		w.Header().Set("Content-Type", "application/json")
		if announce {
			w.Header().Set("Content-Length", fmt.Sprint(size))
		}
		_, _ = io.WriteString(w, head)
		chunk := strings.Repeat("a", 32<<10)
		for left := size - len(head) - len(tail); left > 0; left -= len(chunk) {
			if _, err := io.WriteString(w, chunk[:min(left, len(chunk))]); err != nil {
				return // the client hung up, as it should
			}
		}
		_, _ = io.WriteString(w, tail)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestHugeAnswer: an oversized answer fails the read at once, without
// retries, as a configuration pointing to the wrong place.
func TestHugeAnswer(t *testing.T) {
	t.Parallel()
	for _, announce := range []bool{true, false} {
		t.Run(fmt.Sprint("content-length ", announce), func(t *testing.T) {
			t.Parallel()
			srv, requests := hugeAnswer(t, 50<<20, announce)
			src, err := New(context.Background(), Config{Address: srv.URL, Env: map[string]string{"VAULT_TOKEN": "hvs.test"}})
			if err != nil {
				t.Fatal(err)
			}
			ref := "vault://secret/llm/openai#api_key"
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			res, err := fetchCtx(t, ctx, src, ref)
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, res[0].Err, sources.ErrInvalid, ref, "larger than 4 MiB", "vault.address")
			if errors.Is(res[0].Err, sources.ErrUnavailable) {
				t.Errorf("error %q is also ErrUnavailable", res[0].Err)
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("%d mount lookups, want 1 (no retry)", n)
			}
		})
	}
}

func TestCredentialFileErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		err      error
		sentinel error
		says     []string
	}{
		{"permission denied", &fs.PathError{Op: "open", Path: "/run/tok", Err: fs.ErrPermission}, sources.ErrPermission, []string{"/run/tok", fmt.Sprintf("uid %d", os.Getuid())}},
		{"missing", &fs.PathError{Op: "open", Path: "/run/tok", Err: fs.ErrNotExist}, sources.ErrInvalid, []string{"/run/tok"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := credentialFileError("/run/tok", "vault token", tc.err)
			wantErr(t, err, tc.sentinel, append(tc.says, "vault token")...)
			if !errors.Is(err, tc.err) {
				t.Errorf("error %q does not wrap its cause", err)
			}
		})
	}
	t.Run("unreadable file", func(t *testing.T) {
		t.Parallel()
		p := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(p, []byte("hvs.x"), 0o000); err != nil {
			t.Fatal(err)
		}
		if os.Geteuid() == 0 {
			// Root reads any file of mode 000, but not a write-only sysctl.
			p = "/proc/sys/vm/drop_caches"
		}
		_, err := readCredential(p, "vault token")
		wantErr(t, err, sources.ErrPermission, p, "uid")
	})
}

// TestRedirectLoop: after the one redirect the api client follows, another
// is a wrong address, not an unavailable Vault, and is not retried.
func TestRedirectLoop(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/v1/sys/internal/ui/mounts/") {
			requests.Add(1) // the speculative read may be cancelled before it redirects
		}
		http.Redirect(w, r, r.URL.Path+"?sig=x", http.StatusTemporaryRedirect)
	}))
	t.Cleanup(srv.Close)
	src, err := New(context.Background(), Config{Address: srv.URL, Env: map[string]string{"VAULT_TOKEN": "hvs.test"}})
	if err != nil {
		t.Fatal(err)
	}
	ref := "vault://secret/llm/openai#api_key"
	res, err := fetch(t, src, ref)
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, res[0].Err, sources.ErrInvalid, ref, "redirect (HTTP 307 to /v1/sys/internal/ui/mounts/secret/llm/openai)", "vault.address")
	if n := requests.Load(); n != 2 {
		t.Errorf("%d mount lookups, want 2 (one redirect followed, no retry)", n)
	}
}
