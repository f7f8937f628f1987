package awssmtest_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/keyexec/keyexec/sources/awssm/awssmtest"
)

// through returns a Secrets Manager client that talks to moto through the
// proxy, failing at once instead of retrying.
func through(moto *awssmtest.Moto) *secretsmanager.Client {
	return secretsmanager.New(secretsmanager.Options{
		Region:           awssmtest.Region,
		BaseEndpoint:     aws.String(moto.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("a", "b", ""),
		RetryMaxAttempts: 1,
	})
}

func TestProxyHolds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		hold  func(*awssmtest.Moto)
		calls int // made together
	}{
		{"latency, until the client gives up", func(m *awssmtest.Moto) { m.SetLatency(time.Hour) }, 1},
		{"an unfilled gate", func(m *awssmtest.Moto) { m.Gate(3) }, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			moto := awssmtest.Start(t)
			secret := moto.Name("s")
			moto.CreateSecret(t, secret, "value")
			tt.hold(moto)
			ctx, cancel := context.WithCancel(context.Background())
			errs := make(chan error, tt.calls)
			for range tt.calls {
				go func() {
					_, err := through(moto).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secret)})
					errs <- err
				}()
			}
			if err := moto.WaitCalls(context.Background(), "GetSecretValue", tt.calls); err != nil {
				t.Fatal(err)
			}
			cancel() // the held calls end with their clients
			for range tt.calls {
				if err := <-errs; !errors.Is(err, context.Canceled) {
					t.Errorf("held call: %v, want context.Canceled", err)
				}
			}
		})
	}
}

func TestProxyGateOpens(t *testing.T) {
	t.Parallel()
	moto := awssmtest.Start(t)
	secret := moto.Name("s")
	moto.CreateSecret(t, secret, "value")
	moto.Gate(2)
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := through(moto).GetSecretValue(context.Background(), &secretsmanager.GetSecretValueInput{SecretId: aws.String(secret)})
			errs <- err
		}()
	}
	for range 2 {
		if err := <-errs; err != nil {
			t.Errorf("gated call: %v", err)
		}
	}
	if got := moto.Requests(); len(got) != 2 || got[0] != "GetSecretValue" || got[1] != "GetSecretValue" {
		t.Errorf("Requests() = %q", got)
	}
}

// TestProxySTS: STS goes through the same proxy, counted by its Action, and
// its faults are XML as the STS client expects.
func TestProxySTS(t *testing.T) {
	t.Parallel()
	moto := awssmtest.Start(t)
	client := sts.New(sts.Options{
		Region:       awssmtest.Region,
		BaseEndpoint: aws.String(moto.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("a", "b", ""),
	})
	in := &sts.AssumeRoleInput{RoleArn: aws.String(awssmtest.RoleARN), RoleSessionName: aws.String("t")}
	if _, err := client.AssumeRole(context.Background(), in); err != nil {
		t.Fatalf("AssumeRole: %v", err)
	}
	moto.Fail("AssumeRole", &awssmtest.Fault{Status: 403, Code: "AccessDenied", Message: "not <you>"})
	_, err := client.AssumeRole(context.Background(), in)
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDenied" || apiErr.ErrorMessage() != "not <you>" {
		t.Fatalf("AssumeRole with a fault: %v, want AccessDenied", err)
	}
	if got := moto.Calls("AssumeRole"); got != 2 {
		t.Errorf("AssumeRole counted %d times, want 2", got)
	}
}

func TestEnv(t *testing.T) {
	t.Parallel()
	moto := awssmtest.Start(t)
	static, web := envMap(t, moto.Env()), envMap(t, moto.WebIdentityEnv(t))
	for name, want := range map[string]string{
		"AWS_ENDPOINT_URL": moto.URL, "AWS_ENDPOINT_URL_STS": moto.URL, "AWS_REGION": awssmtest.Region,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": awssmtest.AccessKeyID, "AWS_ROLE_ARN": "",
	} {
		if static[name] != want {
			t.Errorf("Env() %s=%q, want %q", name, static[name], want)
		}
	}
	for name, want := range map[string]string{
		"AWS_ENDPOINT_URL_STS": moto.URL, "AWS_EC2_METADATA_DISABLED": "true", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
		"AWS_ROLE_ARN": awssmtest.RoleARN,
	} {
		if web[name] != want {
			t.Errorf("WebIdentityEnv() %s=%q, want %q", name, web[name], want)
		}
	}
	if token, err := os.ReadFile(web["AWS_WEB_IDENTITY_TOKEN_FILE"]); err != nil || string(token) != awssmtest.WebIdentityToken {
		t.Errorf("token file: %q, %v", token, err)
	}
}

// envMap reads NAME=value pairs, failing on a name given twice (a child's
// environment would then depend on which one its runtime reads).
func envMap(t *testing.T, env []string) map[string]string {
	t.Helper()
	m := map[string]string{}
	for _, kv := range env {
		name, v, _ := strings.Cut(kv, "=")
		if _, dup := m[name]; dup {
			t.Errorf("%s given twice", name)
		}
		m[name] = v
	}
	return m
}
