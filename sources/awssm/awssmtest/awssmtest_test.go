package awssmtest_test

import (
	"context"
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/smithy-go"

	"github.com/keyexec/keyexec/internal/testenv"
	"github.com/keyexec/keyexec/sources/awssm/awssmtest"
)

func TestMain(m *testing.M) {
	code := testenv.Main(m)
	awssmtest.Stop()
	os.Exit(code)
}

func TestProxy(t *testing.T) {
	t.Parallel()
	moto := awssmtest.Start(t)
	secret := moto.Name("s")
	moto.CreateSecret(t, secret, "value")
	through := secretsmanager.New(secretsmanager.Options{
		Region:       awssmtest.Region,
		BaseEndpoint: aws.String(moto.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("a", "b", ""),
	})
	ctx := context.Background()
	out, err := through.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secret)})
	if err != nil || aws.ToString(out.SecretString) != "value" {
		t.Fatalf("GetSecretValue through the proxy: %v", err)
	}
	if _, err := through.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{secret}}); err != nil {
		t.Fatalf("BatchGetSecretValue: %v", err)
	}
	moto.DenyBatch(true)
	_, err = through.BatchGetSecretValue(ctx, &secretsmanager.BatchGetSecretValueInput{SecretIdList: []string{secret}})
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "AccessDeniedException" {
		t.Fatalf("denied batch: %v, want AccessDeniedException", err)
	}
	if g, b := moto.Calls("GetSecretValue"), moto.Calls("BatchGetSecretValue"); g != 1 || b != 2 {
		t.Errorf("counted %d GetSecretValue and %d BatchGetSecretValue, want 1 and 2", g, b)
	}
	moto.ResetCalls()
	if got := moto.Calls("GetSecretValue"); got != 0 {
		t.Errorf("after ResetCalls: %d", got)
	}
	if !slices.Contains(moto.Env(), "AWS_ENDPOINT_URL="+moto.URL) || !slices.Contains(moto.Env(), "AWS_EC2_METADATA_DISABLED=true") {
		t.Errorf("Env() = %q", moto.Env())
	}
}
