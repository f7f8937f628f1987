// Package awssmtest runs moto's Secrets Manager server (moto_server) for
// tests, behind a small proxy that counts requests per operation and can
// inject AWS errors.
//
// One moto_server serves a whole test binary: Start launches it on first use
// on a free loopback port, and every test gets its own proxy, counters and
// faults, so tests can run in parallel as long as they use distinct secret
// names. Typical TestMain:
//
//	func TestMain(m *testing.M) {
//		if err := awssmtest.IsolateEnv(); err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		code := m.Run()
//		awssmtest.Stop()
//		os.Exit(code)
//	}
//
// When moto_server is missing, Start skips the test, or fails it when CI=true.
package awssmtest

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
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

// Moto is one test's view of the shared moto_server.
type Moto struct {
	// URL is the counting proxy in front of moto: give it as aws.endpoint or
	// AWS_ENDPOINT_URL to the code under test.
	URL string
	// ServerURL is moto itself; requests to it are not counted.
	ServerURL string
	// Client talks to moto directly (not counted), in Region with the test
	// credentials: use it to create and rotate the test's secrets.
	Client *secretsmanager.Client

	proxy  *proxy
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
	url, err := server()
	switch {
	case err == errMissing && os.Getenv("CI") == "true":
		t.Fatalf("awssmtest: %v (CI=true: a missing moto_server fails instead of skipping)", err)
	case err == errMissing:
		t.Skipf("awssmtest: %v", err)
	case err != nil:
		t.Fatalf("awssmtest: %v", err)
	}
	p := newProxy(url)
	ts := httptest.NewServer(p)
	t.Cleanup(ts.Close)
	client := secretsmanager.New(secretsmanager.Options{
		Region:       Region,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
	})
	prefix := fmt.Sprintf("awssmtest/%s-%d/", strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()), started.Add(1))
	return &Moto{URL: ts.URL, ServerURL: url, Client: client, proxy: p, prefix: prefix}
}

// Name returns a secret name unique to this Moto: moto_server is shared by
// every test of the binary, and by every run of go test -count=N.
func (m *Moto) Name(suffix string) string { return m.prefix + suffix }

// Calls returns how many requests for op ("GetSecretValue",
// "BatchGetSecretValue", …) went through the proxy, including retries and
// injected failures.
func (m *Moto) Calls(op string) int { return m.proxy.calls(op) }

// ResetCalls sets every counter back to zero.
func (m *Moto) ResetCalls() { m.proxy.reset() }

// DenyBatch makes the proxy answer BatchGetSecretValue with an
// AccessDeniedException (as AWS does when the policy lacks
// secretsmanager:BatchGetSecretValue), or stops doing so.
func (m *Moto) DenyBatch(deny bool) {
	if !deny {
		m.proxy.setFault("BatchGetSecretValue", nil)
		return
	}
	m.proxy.setFault("BatchGetSecretValue", &Fault{
		Status:  400,
		Code:    "AccessDeniedException",
		Message: "User: arn:aws:iam::" + AccountID + ":user/awssmtest is not authorized to perform: secretsmanager:BatchGetSecretValue because no identity-based policy allows the secretsmanager:BatchGetSecretValue action",
	})
}

// Fault is an AWS JSON error the proxy answers instead of forwarding.
type Fault struct {
	Status  int    // HTTP status, such as 400 or 503
	Code    string // the __type, such as "ThrottlingException"
	Message string
}

// Fail makes the proxy answer every op request with f; a nil f forwards
// them to moto again.
func (m *Moto) Fail(op string, f *Fault) { m.proxy.setFault(op, f) }

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

// Env is the environment for a child process (such as the keyexec binary)
// that must read from this moto and nothing else: endpoint, region, test
// credentials, no instance metadata, no shared config. Append it to the
// child's environment; in os/exec the last value of a name wins.
func (m *Moto) Env() []string {
	env := []string{
		"AWS_ENDPOINT_URL=" + m.URL,
		"AWS_REGION=" + Region,
	}
	for _, kv := range isolation() {
		env = append(env, kv[0]+"="+kv[1])
	}
	return env
}

// IsolateEnv sets this process's environment so that the AWS SDK uses the
// test credentials, never instance metadata, and no shared config, profile,
// region or endpoint of the machine. Call it from TestMain: t.Setenv cannot
// be used by parallel tests.
func IsolateEnv() error {
	for _, kv := range isolation() {
		var err error
		if kv[1] == "" {
			err = os.Unsetenv(kv[0])
		} else {
			err = os.Setenv(kv[0], kv[1])
		}
		if err != nil {
			return err
		}
	}
	for _, name := range []string{"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER"} {
		if err := os.Unsetenv(name); err != nil {
			return err
		}
	}
	return nil
}

// isolation lists the variables that keep the SDK on test credentials and
// off the network; an empty value means unset.
func isolation() [][2]string {
	nowhere := filepath.Join(os.TempDir(), "awssmtest-absent-"+strconv.Itoa(os.Getpid()))
	return [][2]string{
		{"AWS_ACCESS_KEY_ID", AccessKeyID},
		{"AWS_SECRET_ACCESS_KEY", SecretAccessKey},
		{"AWS_EC2_METADATA_DISABLED", "true"},
		{"AWS_CONFIG_FILE", filepath.Join(nowhere, "config")},
		{"AWS_SHARED_CREDENTIALS_FILE", filepath.Join(nowhere, "credentials")},
		{"AWS_SESSION_TOKEN", ""},
		{"AWS_PROFILE", ""},
		{"AWS_DEFAULT_PROFILE", ""},
		{"AWS_ROLE_ARN", ""},
		{"AWS_WEB_IDENTITY_TOKEN_FILE", ""},
		{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", ""},
		{"AWS_CONTAINER_CREDENTIALS_FULL_URI", ""},
		{"AWS_ENDPOINT_URL_STS", ""},
		{"AWS_MAX_ATTEMPTS", ""},
		{"AWS_RETRY_MODE", ""},
	}
}
