package awssm_test

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/awssm"
	"github.com/keyexec/keyexec/sources/awssm/awssmtest"
)

// endDuring fetches raws and cancels the fetch with cause (a
// *sources.StopError, as cmd/keyexec cancels its context on a signal, or
// context.DeadlineExceeded) once the proxy has seen n requests for op: the
// cancellation lands while that call is in flight, held by the proxy's
// latency, or between the SDK's retries.
func endDuring(t *testing.T, moto *awssmtest.Moto, src *awssm.Source, op string, n int, cause error, raws ...string) []sources.Result {
	t.Helper()
	refs := make([]sources.Ref, len(raws))
	for i, raw := range raws {
		ref, err := sources.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		refs[i] = ref
	}
	ctx, stop := context.WithCancelCause(context.Background())
	defer stop(nil)
	waitCtx, endWait := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		err := moto.WaitCalls(waitCtx, op, n)
		if err == nil {
			stop(cause)
		}
		waited <- err
	}()
	res, err := src.Fetch(ctx, refs)
	endWait()
	if werr := <-waited; werr != nil {
		t.Fatalf("Fetch ended before it was cancelled: %v (results %v, %v)", werr, res, err)
	}
	if err != nil {
		t.Fatalf("Fetch: %v", err)
	}
	return res
}

// wantStopped checks that every result failed with the stop and with no
// other diagnosis a lenient policy could act on.
func wantStopped(t *testing.T, res []sources.Result) {
	t.Helper()
	for _, r := range res {
		var se *sources.StopError
		if !errors.As(r.Err, &se) || se.Signal != syscall.SIGTERM {
			t.Errorf("%s: %v, want the SIGTERM stop", r.Ref, r.Err)
			continue
		}
		for _, sentinel := range []error{sources.ErrUnavailable, sources.ErrPermission, sources.ErrInvalid, sources.ErrNotFound} {
			if errors.Is(r.Err, sentinel) {
				t.Errorf("%s: the stop is also %v: %v", r.Ref, sentinel, r.Err)
			}
		}
		msg := strings.ReplaceAll(r.Err.Error(), r.Ref.Path, "NAME") // names hold the test's name
		for _, never := range []string{"unavailable", "deadline", "credentials", "cannot reach", "retries"} {
			if strings.Contains(msg, never) {
				t.Errorf("%s: the stop says %q: %v", r.Ref, never, r.Err)
			}
		}
	}
}

func TestMotoStop(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		refs    []string // suffixes of the test's secret names, with options
		op      string   // the call the stop cuts short
		n       int      // after that many of them
		latency bool     // hold every answer (else: a failing service)
	}{
		{"during GetSecretValue", []string{"a?version-stage=AWSCURRENT#k", "a"}, "GetSecretValue", 1, true},
		{"during BatchGetSecretValue", []string{"a#k", "b#k"}, "BatchGetSecretValue", 1, true},
		{"during a batch beside versioned reads", []string{"a#k", "b#k", "a?version-stage=AWSPREVIOUS#k"}, "BatchGetSecretValue", 1, true},
		{"between retries of a failing service", []string{"a#k"}, "GetSecretValue", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			moto := awssmtest.Start(t)
			raws := make([]string, len(tt.refs))
			for i, r := range tt.refs {
				raws[i] = "awssm://" + moto.Name(r)
			}
			moto.CreateSecret(t, moto.Name("a"), `{"k":"a-value-never-shown"}`)
			moto.CreateSecret(t, moto.Name("b"), `{"k":"b-value-never-shown"}`)
			if tt.latency {
				moto.SetLatency(time.Hour) // ended by the stop, or by the test's cleanup
			} else {
				moto.Fail(tt.op, &awssmtest.Fault{Status: 503, Code: "ServiceUnavailableException", Message: "try later"})
			}
			src := newSource(t, moto, awssm.Config{Region: awssmtest.Region})
			wantStopped(t, endDuring(t, moto, src, tt.op, tt.n, &sources.StopError{Signal: syscall.SIGTERM}, raws...))
		})
	}
}

func TestStoppedBeforeFetch(t *testing.T) {
	t.Parallel()
	moto := awssmtest.Start(t)
	src := newSource(t, moto, awssm.Config{Region: awssmtest.Region})
	ctx, stop := context.WithCancelCause(context.Background())
	stop(&sources.StopError{Signal: syscall.SIGTERM})
	ref, _ := sources.Parse("awssm://" + moto.Name("a"))
	res, err := src.Fetch(ctx, []sources.Ref{ref, ref})
	if err != nil {
		t.Fatal(err)
	}
	wantStopped(t, res)
	if got := moto.Requests(); len(got) != 0 {
		t.Errorf("requests after the stop: %q, want none", got)
	}
}
