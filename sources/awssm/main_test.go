package awssm_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/keyexec/keyexec/internal/testenv"
	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/awssm"
	"github.com/keyexec/keyexec/sources/awssm/awssmtest"
)

func TestMain(m *testing.M) {
	if err := awssmtest.IsolateEnv(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := testenv.Main(m)
	awssmtest.Stop()
	os.Exit(code)
}

// newSource returns a Source that reads from moto through the test's proxy.
func newSource(t *testing.T, moto *awssmtest.Moto, cfg awssm.Config) *awssm.Source {
	t.Helper()
	if cfg.Endpoint == "" {
		cfg.Endpoint = moto.URL
	}
	src, err := awssm.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return src
}

// fetch parses raws and fetches them with a deadline, failing the test on a
// whole-batch error.
func fetch(t *testing.T, src *awssm.Source, raws ...string) []sources.Result {
	t.Helper()
	refs := make([]sources.Ref, len(raws))
	for i, raw := range raws {
		ref, err := sources.Parse(raw)
		if err != nil {
			t.Fatalf("Parse(%q): %v", raw, err)
		}
		refs[i] = ref
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := src.Fetch(ctx, refs)
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	if len(res) != len(refs) {
		t.Fatalf("Fetch returned %d results for %d refs", len(res), len(refs))
	}
	for i := range res {
		if res[i].Ref.Raw != refs[i].Raw {
			t.Fatalf("result %d is for %q, want %q", i, res[i].Ref.Raw, refs[i].Raw)
		}
	}
	return res
}

// wantValue checks that a result holds want.
func wantValue(t *testing.T, r sources.Result, want string) {
	t.Helper()
	if r.Err != nil {
		t.Fatalf("%s: unexpected error: %v", r.Ref, r.Err)
	}
	if got := r.Value.Reveal(); got != want {
		t.Fatalf("%s: got %s, want %s", r.Ref, sources.Fingerprint(got), sources.Fingerprint(want))
	}
}

// wantErr checks a result's error: its sentinel, that it mentions every
// string in says, and that it holds none of the secret values in never.
func wantErr(t *testing.T, r sources.Result, sentinel error, says []string, never ...string) {
	t.Helper()
	if r.Err == nil {
		t.Fatalf("%s: got a value (%s), want an error", r.Ref, r.Value)
	}
	t.Logf("%s: %v", r.Ref, r.Err)
	if !errors.Is(r.Err, sentinel) {
		t.Errorf("%s: error %q is not %v", r.Ref, r.Err, sentinel)
	}
	for _, s := range says {
		if !strings.Contains(r.Err.Error(), s) {
			t.Errorf("%s: error %q does not mention %q", r.Ref, r.Err, s)
		}
	}
	for _, v := range never {
		if strings.Contains(r.Err.Error(), v) {
			t.Errorf("%s: error leaks a secret value: %q", r.Ref, r.Err)
		}
	}
}
