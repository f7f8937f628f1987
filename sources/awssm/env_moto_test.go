package awssm_test

import (
	"context"
	"errors"
	"testing"

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
