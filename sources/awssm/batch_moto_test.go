package awssm_test

import (
	"context"
	"fmt"
	"maps"
	"net"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/awssm"
	"github.com/keyexec/keyexec/sources/awssm/awssmtest"
)

// createMany creates n JSON secrets holding keys k and j, and returns
// references to them: one #k per secret, then #j for the first extra ones.
func createMany(t *testing.T, moto *awssmtest.Moto, n, extra int) (refs, want []string) {
	t.Helper()
	for i := range n {
		secret := moto.Name(fmt.Sprintf("s%02d", i))
		moto.CreateSecret(t, secret, fmt.Sprintf(`{"k":"k-value-%d","j":"j-value-%d"}`, i, i))
		refs = append(refs, "awssm://"+secret+"#k")
		want = append(want, fmt.Sprintf("k-value-%d", i))
	}
	for i := range extra {
		refs = append(refs, "awssm://"+moto.Name(fmt.Sprintf("s%02d", i))+"#j")
		want = append(want, fmt.Sprintf("j-value-%d", i))
	}
	return refs, want
}

func TestMotoBatch(t *testing.T) {
	t.Parallel()
	moto := awssmtest.Start(t)
	refs, want := createMany(t, moto, 21, 4)
	src := newSource(t, moto, awssm.Config{Region: awssmtest.Region})
	res := fetch(t, src, refs...)
	for i := range res {
		wantValue(t, res[i], want[i])
		if res[i].Version == "" {
			t.Errorf("%s: no Version", res[i].Ref)
		}
	}
	if b, g := moto.Calls("BatchGetSecretValue"), moto.Calls("GetSecretValue"); b != 2 || g != 0 {
		t.Errorf("25 refs across 21 secrets: %d BatchGetSecretValue and %d GetSecretValue calls, want 2 and 0", b, g)
	}
}

// TestMotoOneRoundTrip counts the requests a fetch makes and holds them at
// the proxy until all have arrived: a call made after another (a versioned
// read waiting for the batch) never arrives, and the fetch fails at its
// deadline. So passing proves one round trip, without timing anything.
func TestMotoOneRoundTrip(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name             string
		current, extra   int // current secrets (#k each), then #j refs to the first ones
		previous, byID   int // AWSPREVIOUS and version-id refs to the first secrets
		batches, singles int
	}{
		{"20 secrets, 25 refs", 20, 5, 0, 0, 1, 0},
		{"20 secrets and 2 versioned refs", 20, 0, 1, 1, 1, 2},
		{"2 secrets and their previous versions", 2, 0, 2, 0, 1, 2},
		{"10 secrets and their previous versions", 10, 0, 10, 0, 1, 10},
		{"1 secret and its previous version", 1, 0, 1, 0, 0, 2},
		{"1 secret", 1, 1, 0, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			moto := awssmtest.Start(t)
			refs, want := createMany(t, moto, tt.current, tt.extra)
			ids := make([]string, max(tt.previous, tt.byID))
			for i := range ids {
				ids[i] = rotate(t, moto, moto.Name(fmt.Sprintf("s%02d", i)), i)
			}
			for i := range tt.previous {
				refs = append(refs, "awssm://"+moto.Name(fmt.Sprintf("s%02d", i))+"?version-stage=AWSPREVIOUS#k")
				want = append(want, fmt.Sprintf("k-value-%d", i))
			}
			for i := range tt.byID {
				refs = append(refs, "awssm://"+moto.Name(fmt.Sprintf("s%02d", i))+"?version-id="+ids[i]+"#k")
				want = append(want, fmt.Sprintf("k-value-%d", i))
			}
			moto.Gate(tt.batches + tt.singles)
			res := fetch(t, newSource(t, moto, awssm.Config{Region: awssmtest.Region}), refs...)
			for i := range res {
				wantValue(t, res[i], want[i])
			}
			wantCounts := map[string]int{}
			if tt.batches > 0 {
				wantCounts["BatchGetSecretValue"] = tt.batches
			}
			if tt.singles > 0 {
				wantCounts["GetSecretValue"] = tt.singles
			}
			if got := moto.Counts(); !maps.Equal(got, wantCounts) {
				t.Errorf("%d refs: requests %v, want %v", len(refs), got, wantCounts)
			}
		})
	}
}

// rotate gives secret a new current value and returns the id of the
// version it replaced (now AWSPREVIOUS), which keeps the value createMany
// gave it.
func rotate(t *testing.T, moto *awssmtest.Moto, secret string, i int) string {
	t.Helper()
	ctx := context.Background()
	old, err := moto.Client.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secret)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := moto.Client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(secret),
		SecretString: aws.String(fmt.Sprintf(`{"k":"k-value-%d","j":"j-value-%d","rotated":"yes"}`, i, i))}); err != nil {
		t.Fatal(err)
	}
	return aws.ToString(old.VersionId)
}

func TestMotoBatchPartialErrors(t *testing.T) {
	t.Parallel()
	moto := awssmtest.Start(t)
	refs, want := createMany(t, moto, 3, 0)
	missing := moto.Name("missing")
	src := newSource(t, moto, awssm.Config{Region: awssmtest.Region})
	res := fetch(t, src, append(refs, "awssm://"+missing)...)
	for i := range want {
		wantValue(t, res[i], want[i])
	}
	wantErr(t, res[3], sources.ErrNotFound, []string{missing})
	if b, g := moto.Calls("BatchGetSecretValue"), moto.Calls("GetSecretValue"); b != 1 || g != 0 {
		t.Errorf("%d BatchGetSecretValue and %d GetSecretValue calls, want 1 and 0", b, g)
	}
}

func TestMotoBatchDenied(t *testing.T) {
	t.Parallel()
	moto := awssmtest.Start(t)
	refs, want := createMany(t, moto, 21, 0)
	moto.DenyBatch(true)
	src := newSource(t, moto, awssm.Config{Region: awssmtest.Region})
	res := fetch(t, src, refs...)
	for i := range res {
		wantValue(t, res[i], want[i])
	}
	batches := moto.Calls("BatchGetSecretValue")
	if g := moto.Calls("GetSecretValue"); g != 21 || batches < 1 || batches > 2 {
		t.Errorf("batch denied: %d BatchGetSecretValue and %d GetSecretValue calls, want 1 or 2 and 21", batches, g)
	}
	// The refusal is remembered: the next fetch of the run does not ask again.
	fetch(t, src, refs[:2]...)
	if b, g := moto.Calls("BatchGetSecretValue"), moto.Calls("GetSecretValue"); b != batches || g != 23 {
		t.Errorf("second fetch: %d BatchGetSecretValue and %d GetSecretValue calls, want %d and 23", b, g, batches)
	}
}

func TestMotoUnreachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		endpoint string
		timeout  time.Duration
		says     string
	}{
		{"closed port: retries exhausted", closedPort(t), 60 * time.Second, "cannot reach"},
		{"silent server: deadline", silentServer(t), 200 * time.Millisecond, "deadline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src, err := awssm.New(context.Background(), awssm.Config{Region: awssmtest.Region, Endpoint: tt.endpoint})
			if err != nil {
				t.Fatal(err)
			}
			ref, _ := sources.Parse("awssm://prod/llm/openai#api_key")
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			res, err := src.Fetch(ctx, []sources.Ref{ref, ref})
			if err != nil {
				t.Fatalf("Fetch: %v", err)
			}
			for _, r := range res {
				wantErr(t, r, sources.ErrUnavailable, []string{"prod/llm/openai", tt.says})
			}
		})
	}
}

// TestMotoFirstFetchLatency logs what the brief asks to measure: the cost of
// loading the SDK configuration and of a first Fetch of 1 and 21 secrets.
// It asserts nothing about time (machines are noisy).
func TestMotoFirstFetchLatency(t *testing.T) {
	moto := awssmtest.Start(t)
	refs, _ := createMany(t, moto, 21, 0)
	start := time.Now()
	if _, err := config.LoadDefaultConfig(context.Background(), config.WithRegion(awssmtest.Region)); err != nil {
		t.Fatal(err)
	}
	t.Logf("config.LoadDefaultConfig: %v", time.Since(start))
	for _, n := range []int{1, 21} {
		src := newSource(t, moto, awssm.Config{Region: awssmtest.Region})
		start := time.Now()
		fetch(t, src, refs[:n]...)
		first := time.Since(start)
		start = time.Now()
		fetch(t, src, refs[:n]...)
		t.Logf("%d secrets: first Fetch %v (with SDK config), second %v", n, first, time.Since(start))
	}
}

// closedPort returns the URL of a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	return url
}

// silentServer returns the URL of a loopback server that accepts
// connections and never answers.
func silentServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
	})
	return "http://" + l.Addr().String()
}
