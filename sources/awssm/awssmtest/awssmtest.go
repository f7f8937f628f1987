// Package awssmtest runs moto's Secrets Manager and STS server
// (moto_server, from the pinned test environment) for tests, behind a Proxy
// that counts requests per operation, can add latency or hold requests, and
// can inject AWS errors.
//
// One moto_server serves a whole test binary: Start launches it on first use
// on a free loopback port, and every test gets its own proxy, counters and
// faults, so tests can run in parallel as long as they use distinct secret
// names. moto_server is found only through internal/testenv: without the
// pinned environment Start skips the test, loudly, or fails it under CI=true.
// Typical TestMain:
//
//	func TestMain(m *testing.M) {
//		if err := awssmtest.IsolateEnv(); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		code := testenv.Main(m)
//		awssmtest.Stop()
//		os.Exit(code)
//	}
//
// StaticEnv, WebIdentityEnv, WriteToken and RoleARN give a benchmark, or
// the end-to-end tests, what they need to run keyexec against moto with
// static keys, with aws.assume_role_arn, or on the EKS web identity path.
package awssmtest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/keyexec/keyexec/internal/testenv"
)

// Test credentials and region. moto accepts any credentials; these only
// keep the SDK from looking for real ones.
const (
	Region          = "us-east-1"
	AccessKeyID     = "AKIAAWSSMTEST0000000"
	SecretAccessKey = "awssmtest-secret-access-key"
	// AccountID is moto's default account, as it appears in ARNs.
	AccountID = "123456789012"
)

// Moto is one test's view of the shared moto_server. Its Proxy's methods
// (Calls, Counts, SetLatency, Gate, WaitCalls, Fail, DenyBatch, …) act on
// this test's proxy only.
type Moto struct {
	// URL is the counting proxy in front of moto: give it as aws.endpoint or
	// AWS_ENDPOINT_URL to the code under test. It serves STS too.
	URL string
	// ServerURL is moto itself; requests to it are not counted.
	ServerURL string
	// Client talks to moto directly (not counted), in Region with the test
	// credentials: use it to create and rotate the test's secrets.
	Client *secretsmanager.Client

	*Proxy
	prefix string
}

// started numbers the Start calls of this binary, to keep secret names
// apart when tests run again against the same server (go test -count=N).
var started atomic.Int64

// Start returns a Moto for t, launching moto_server on first use in this
// test binary. The proxy is closed when t ends; the server lives until Stop
// or the end of the binary.
func Start(t testing.TB) *Moto {
	t.Helper()
	url, err := server(testenv.Bin(t, "moto_server"))
	if err != nil {
		t.Fatalf("awssmtest: %v", err)
	}
	p, err := NewProxy(url)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(p)
	t.Cleanup(ts.Close)
	t.Cleanup(p.Close) // before ts.Close, which waits for held requests
	client := secretsmanager.New(secretsmanager.Options{
		Region:       Region,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	})
	prefix := fmt.Sprintf("awssmtest/%s-%d/", strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()), started.Add(1))
	return &Moto{URL: ts.URL, ServerURL: url, Client: client, Proxy: p, prefix: prefix}
}

// Name returns a secret name unique to this Moto: moto_server is shared by
// every test of the binary, and by every run of go test -count=N.
func (m *Moto) Name(suffix string) string { return m.prefix + suffix }

// CreateSecret creates a secret with a SecretString and returns its ARN.
func (m *Moto) CreateSecret(t testing.TB, name, value string) string {
	t.Helper()
	out, err := m.Client.CreateSecret(context.Background(), &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(value),
	})
	if err != nil {
		t.Fatalf("awssmtest: create secret %q: %v", name, err)
	}
	return aws.ToString(out.ARN)
}

// Env is StaticEnv for this Moto's proxy: the environment for a child
// process (such as the keyexec binary) that must read from this moto with
// the static test credentials, and nothing else.
func (m *Moto) Env() []string { return StaticEnv(m.URL) }

// WebIdentityEnv is WebIdentityEnv for this Moto's proxy, with a token file
// in t's temporary folder. In-process tests apply it with t.Setenv.
func (m *Moto) WebIdentityEnv(t testing.TB) []string {
	t.Helper()
	token, err := WriteToken(t.TempDir())
	if err != nil {
		t.Fatalf("awssmtest: %v", err)
	}
	return WebIdentityEnv(m.URL, token)
}
