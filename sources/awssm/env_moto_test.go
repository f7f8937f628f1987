package awssm_test

import (
	"context"
	"errors"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/awssm"
	"github.com/keyexec/keyexec/sources/awssm/awssmtest"
)

// TestMotoEnvironment checks what the SDK takes from the environment. It
// uses t.Setenv, so neither it nor its subtests are parallel (parallel tests
// wait until it is done).
func TestMotoEnvironment(t *testing.T) {
	moto := awssmtest.Start(t)
	secret := moto.Name("openai")
	moto.CreateSecret(t, secret, `{"api_key":"sk-env-0123456789abcdef"}`)
	tests := []struct {
		name        string
		env         map[string]string
		cfg         awssm.Config
		assumeRoles int
	}{
		{"AWS_ENDPOINT_URL and AWS_REGION", map[string]string{"AWS_ENDPOINT_URL": moto.URL, "AWS_REGION": awssmtest.Region}, awssm.Config{}, 0},
		{"AWS_ENDPOINT_URL_SECRETS_MANAGER", map[string]string{"AWS_ENDPOINT_URL_SECRETS_MANAGER": moto.URL}, awssm.Config{Region: awssmtest.Region}, 0},
		{"assume role through moto's STS", map[string]string{"AWS_ENDPOINT_URL": moto.URL},
			awssm.Config{Region: awssmtest.Region, AssumeRoleARN: "arn:aws:iam::" + awssmtest.AccountID + ":role/keyexec-test"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			moto.ResetCalls()
			src, err := awssm.New(context.Background(), tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			res := fetch(t, src, "awssm://"+secret+"#api_key")
			wantValue(t, res[0], "sk-env-0123456789abcdef")
			if got := moto.Calls("GetSecretValue"); got != 1 {
				t.Errorf("GetSecretValue calls through the proxy = %d, want 1", got)
			}
			if got := moto.Calls("AssumeRole"); got != tt.assumeRoles {
				t.Errorf("AssumeRole calls = %d, want %d", got, tt.assumeRoles)
			}
		})
	}
}

// setenv applies env (NAME=value pairs, an empty value meaning unset to the
// SDK) for the rest of t.
func setenv(t testing.TB, env []string) {
	t.Helper()
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
}

// TestMotoCredentialFlows counts what each way of getting credentials adds
// to a fetch of secrets in two regions: one STS call before the first
// Secrets Manager call, shared by both regions' clients and by the next
// fetch, and nothing else (instance metadata, were the SDK to ask it, would
// reach the proxy and be counted as "").
func TestMotoCredentialFlows(t *testing.T) {
	moto := awssmtest.Start(t)
	east1, east2, west := moto.Name("east1"), moto.Name("east2"), moto.Name("west")
	moto.CreateSecret(t, east1, `{"api_key":"sk-east1-0123456789abcdef"}`)
	moto.CreateSecret(t, east2, "sk-east2-0123456789abcdef")
	if _, err := moto.Client.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{Name: aws.String(west), SecretString: aws.String("sk-west-0123456789abcdef")},
		func(o *secretsmanager.Options) { o.Region = "us-west-2" }); err != nil {
		t.Fatal(err)
	}
	raws := []string{"awssm://" + east1 + "#api_key", "awssm://" + east2, "awssm://" + west + "?region=us-west-2"}
	want := []string{"sk-east1-0123456789abcdef", "sk-east2-0123456789abcdef", "sk-west-0123456789abcdef"}
	tests := []struct {
		name        string
		webIdentity bool
		role        string
		sts         []string // the STS calls, in order, before any Secrets Manager call
	}{
		{"static keys", false, "", nil},
		{"aws.assume_role_arn", false, awssmtest.RoleARN, []string{"AssumeRole"}},
		{"web identity (EKS IRSA)", true, "", []string{"AssumeRoleWithWebIdentity"}},
		{"web identity, then aws.assume_role_arn", true, awssmtest.RoleARN, []string{"AssumeRoleWithWebIdentity", "AssumeRole"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := moto.Env()
			if tt.webIdentity {
				env = moto.WebIdentityEnv(t)
			}
			setenv(t, append(env, "AWS_EC2_METADATA_SERVICE_ENDPOINT="+moto.URL))
			moto.ResetCalls()
			src, err := awssm.New(context.Background(), awssm.Config{AssumeRoleARN: tt.role})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				res := fetch(t, src, raws...)
				for i := range res {
					wantValue(t, res[i], want[i])
				}
			}
			got := moto.Requests()
			t.Logf("requests: %q", got)
			if len(got) < len(tt.sts) || !slices.Equal(got[:len(tt.sts)], tt.sts) {
				t.Fatalf("requests %q, want %q first", got, tt.sts)
			}
			wantCounts := map[string]int{"BatchGetSecretValue": 2, "GetSecretValue": 2} // per fetch: a batch for us-east-1, a read in us-west-2
			for _, op := range tt.sts {
				wantCounts[op]++
			}
			if counts := moto.Counts(); !maps.Equal(counts, wantCounts) {
				t.Errorf("two fetches: requests %v, want %v", counts, wantCounts)
			}
		})
	}
}

// TestMotoCredentialFailures covers a slow or refusing STS: a stop during
// the STS call is the stop, never a credentials failure; a deadline during
// it names the credentials, not Secrets Manager; a refusal is a refused
// credential (77) naming the role and the caller.
func TestMotoCredentialFailures(t *testing.T) {
	moto := awssmtest.Start(t)
	secret := moto.Name("openai")
	moto.CreateSecret(t, secret, "sk-never-shown-0123456789")
	denied := &awssmtest.Fault{Status: 403, Code: "AccessDenied",
		Message: "User: arn:aws:iam::" + awssmtest.AccountID + ":user/ci is not authorized to perform: sts:AssumeRole on resource: " + awssmtest.RoleARN}
	badToken := &awssmtest.Fault{Status: 400, Code: "InvalidIdentityToken", Message: "Couldn't retrieve verification key from your identity provider"}
	tests := []struct {
		name        string
		webIdentity bool
		role        string
		op          string // the STS call
		cause       error  // ends the fetch during op; nil: op fails with fault
		fault       *awssmtest.Fault
		sentinel    error // nil: the stop
		says        []string
	}{
		{"stop during AssumeRole", false, awssmtest.RoleARN, "AssumeRole", &sources.StopError{Signal: syscall.SIGTERM}, nil, nil, nil},
		{"stop during AssumeRoleWithWebIdentity", true, "", "AssumeRoleWithWebIdentity", &sources.StopError{Signal: syscall.SIGTERM}, nil, nil, nil},
		{"deadline during AssumeRole", false, awssmtest.RoleARN, "AssumeRole", context.DeadlineExceeded, nil, sources.ErrUnavailable,
			[]string{"no AWS credentials before the resolve deadline"}},
		{"AssumeRole denied", false, awssmtest.RoleARN, "AssumeRole", nil, denied, sources.ErrPermission,
			[]string{"cannot get AWS credentials for arn:aws:iam::" + awssmtest.AccountID + ":user/ci", awssmtest.RoleARN}},
		{"web identity token refused", true, "", "AssumeRoleWithWebIdentity", nil, badToken, sources.ErrPermission,
			[]string{"cannot get AWS credentials", "InvalidIdentityToken"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := moto.Env()
			if tt.webIdentity {
				env = moto.WebIdentityEnv(t)
			}
			setenv(t, env)
			moto.ResetCalls()
			src, err := awssm.New(context.Background(), awssm.Config{AssumeRoleARN: tt.role})
			if err != nil {
				t.Fatal(err)
			}
			var res []sources.Result
			if tt.cause != nil {
				moto.SetLatency(time.Hour)
				t.Cleanup(func() { moto.SetLatency(0) })
				res = endDuring(t, moto, src, tt.op, 1, tt.cause, "awssm://"+secret)
			} else {
				moto.Fail(tt.op, tt.fault)
				t.Cleanup(func() { moto.Fail(tt.op, nil) })
				res = fetch(t, src, "awssm://"+secret)
			}
			if tt.sentinel == nil {
				wantStopped(t, res)
			} else {
				wantErr(t, res[0], tt.sentinel, append(tt.says, secret), "sk-never-shown-0123456789")
			}
			if n := moto.Calls("GetSecretValue"); n != 0 {
				t.Errorf("%d GetSecretValue calls without credentials, want 0", n)
			}
		})
	}
}

// TestSTSWrongAddress: an STS endpoint that points to the wrong place is a
// configuration error at the first attempt, on both STS paths (the SDK's
// retryer would try a protocol failure three times).
func TestSTSWrongAddress(t *testing.T) {
	moto := awssmtest.Start(t)
	var conns atomic.Int64
	plain := httptest.NewUnstartedServer(http.NotFoundHandler())
	plain.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	plain.Config.ErrorLog = log.New(io.Discard, "", 0)
	plain.Start()
	t.Cleanup(plain.Close)
	sts := "https://" + plain.Listener.Addr().String()
	for _, tt := range []struct {
		name        string
		webIdentity bool
		role        string
	}{
		{"aws.assume_role_arn", false, awssmtest.RoleARN},
		{"web identity", true, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			env := moto.Env()
			if tt.webIdentity {
				env = moto.WebIdentityEnv(t)
			}
			setenv(t, append(env, "AWS_ENDPOINT_URL_STS="+sts))
			conns.Store(0)
			src, err := awssm.New(context.Background(), awssm.Config{AssumeRoleARN: tt.role})
			if err != nil {
				t.Fatal(err)
			}
			res := fetch(t, src, "awssm://"+moto.Name("x"))
			wantErr(t, res[0], sources.ErrInvalid, []string{"cannot get AWS credentials from STS", sts + "/ speaks plain HTTP", "AWS_ENDPOINT_URL_STS"})
			if n := conns.Load(); n != 1 {
				t.Errorf("%d connections to STS, want 1 (no retry)", n)
			}
		})
	}
}

func TestMissingProfile(t *testing.T) {
	t.Parallel()
	src, err := awssm.New(context.Background(), awssm.Config{Region: awssmtest.Region, Profile: "no-such-profile"})
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := sources.Parse("awssm://prod/llm/openai")
	_, err = src.Fetch(context.Background(), []sources.Ref{ref})
	if !errors.Is(err, sources.ErrInvalid) {
		t.Fatalf("Fetch with a missing profile: %v, want %v", err, sources.ErrInvalid)
	}
	t.Log(err)
}
