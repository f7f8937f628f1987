package awssm_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/awssm"
	"github.com/keyexec/keyexec/sources/awssm/awssmtest"
)

// Integration tests against moto_server: each creates its own secrets
// through the SDK and reads them through the Source, as keyexec does.

func TestMotoReads(t *testing.T) {
	t.Parallel()
	moto := awssmtest.Start(t)
	ctx := context.Background()
	plain := moto.Name("plain")
	moto.CreateSecret(t, plain, "sk-plain-0123456789abcdef")
	flat := moto.Name("flat")
	moto.CreateSecret(t, flat, `{"api_key":"sk-flat-0123456789abcdef","org":"org-flat"}`)
	nested := moto.Name("nested")
	moto.CreateSecret(t, nested, `{"llm":{"openai":{"key":"sk-nested-0123456789"}},"a/b":"slash"}`)
	single := moto.Name("single")
	moto.CreateSecret(t, single, ` {"api_key":"sk-single-0123456789abcdef"}`+"\n")
	brace := moto.Name("brace")
	moto.CreateSecret(t, brace, "{not json, a value that starts with a brace")
	west := moto.Name("west")
	if _, err := moto.Client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(west), SecretString: aws.String("west-value")},
		func(o *secretsmanager.Options) { o.Region = "us-west-2" }); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ref, want string
	}{
		{"plain text", "awssm://" + plain, "sk-plain-0123456789abcdef"},
		{"explicit AWSCURRENT", "awssm://" + plain + "?version-stage=AWSCURRENT", "sk-plain-0123456789abcdef"},
		{"JSON key", "awssm://" + flat + "#api_key", "sk-flat-0123456789abcdef"},
		{"other JSON key", "awssm://" + flat + "#org", "org-flat"},
		{"one-field JSON without a key is that field", "awssm://" + single, "sk-single-0123456789abcdef"},
		{"raw=true takes the whole JSON", "awssm://" + flat + "?raw=true", `{"api_key":"sk-flat-0123456789abcdef","org":"org-flat"}`},
		{"text starting with a brace", "awssm://" + brace, "{not json, a value that starts with a brace"},
		{"nested key", "awssm://" + nested + "#/llm/openai/key", "sk-nested-0123456789"},
		{"escaped pointer", "awssm://" + nested + "#/a~1b", "slash"},
		{"region option", "awssm://" + west + "?region=us-west-2", "west-value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := newSource(t, moto, awssm.Config{Region: awssmtest.Region})
			res := fetch(t, src, tt.ref)
			wantValue(t, res[0], tt.want)
			if !strings.HasPrefix(res[0].Version, "version ") || !strings.Contains(res[0].Version, "AWSCURRENT") {
				t.Errorf("Version = %q, want version <id> AWSCURRENT", res[0].Version)
			}
		})
	}
}

func TestMotoVersions(t *testing.T) {
	t.Parallel()
	moto := awssmtest.Start(t)
	ctx := context.Background()
	secret := moto.Name("rotated")
	created, err := moto.Client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(secret), SecretString: aws.String(`{"api_key":"sk-old-0123456789abcdef"}`)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := moto.Client.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{SecretId: aws.String(secret), SecretString: aws.String(`{"api_key":"sk-new-0123456789abcdef"}`)}); err != nil {
		t.Fatal(err)
	}
	oldID := aws.ToString(created.VersionId)
	src := newSource(t, moto, awssm.Config{Region: awssmtest.Region})
	res := fetch(t, src,
		"awssm://"+secret+"#api_key",
		"awssm://"+secret+"?version-stage=AWSPREVIOUS#api_key",
		"awssm://"+secret+"#api_key?version-id="+oldID,
	)
	wantValue(t, res[0], "sk-new-0123456789abcdef")
	wantValue(t, res[1], "sk-old-0123456789abcdef")
	wantValue(t, res[2], "sk-old-0123456789abcdef")
	if !strings.Contains(res[0].Version, "AWSCURRENT") {
		t.Errorf("current Version = %q", res[0].Version)
	}
	if want := "version " + oldID[:8] + "… AWSPREVIOUS"; res[1].Version != want || res[2].Version != want {
		t.Errorf("previous Version = %q and %q, want %q", res[1].Version, res[2].Version, want)
	}
}

func TestMotoFailures(t *testing.T) {
	t.Parallel()
	moto := awssmtest.Start(t)
	ctx := context.Background()
	values := []string{"sk-json-0123456789abcdef", "org-json-secret", "plain-text-value-42", "binary-value-9", "424242"}
	jsonSecret := moto.Name("json")
	moto.CreateSecret(t, jsonSecret, `{"api_key":"sk-json-0123456789abcdef","org":"org-json-secret","nested":{"x":"424242"},"n":424242}`)
	plain := moto.Name("plain")
	moto.CreateSecret(t, plain, "plain-text-value-42")
	binary := moto.Name("binary")
	if _, err := moto.Client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(binary), SecretBinary: []byte("binary-value-9")}); err != nil {
		t.Fatal(err)
	}
	missing := moto.Name("missing")
	tests := []struct {
		name     string
		ref      string
		sentinel error
		says     []string
	}{
		{"binary secret", "awssm://" + binary, sources.ErrInvalid, []string{binary, "SecretBinary", "SecretString"}},
		{"JSON object without a key is no key", "awssm://" + jsonSecret, sources.ErrInvalid, []string{jsonSecret, "us-east-1", `"api_key", "n", "nested", "org"`, "#FIELD", "?raw=true"}},
		{"missing secret", "awssm://" + missing + "#api_key", sources.ErrNotFound, []string{missing, "us-east-1"}},
		{"missing key lists keys", "awssm://" + jsonSecret + "#apikey", sources.ErrNotFound, []string{jsonSecret, `"api_key", "n", "nested", "org"`}},
		{"missing nested key", "awssm://" + jsonSecret + "#/nested/y", sources.ErrNotFound, []string{`"x"`}},
		{"key of an object", "awssm://" + jsonSecret + "#nested", sources.ErrInvalid, []string{"object"}},
		{"key of a number", "awssm://" + jsonSecret + "#n", sources.ErrInvalid, []string{"number"}},
		{"key of plain text", "awssm://" + plain + "#api_key", sources.ErrInvalid, []string{plain, "not JSON"}},
		{"missing stage", "awssm://" + plain + "?version-stage=AWSPENDING", sources.ErrNotFound, []string{plain}},
		{"missing version id", "awssm://" + plain + "?version-id=00000000-0000-0000-0000-000000000000", sources.ErrNotFound, []string{plain}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			src := newSource(t, moto, awssm.Config{Region: awssmtest.Region})
			res := fetch(t, src, tt.ref)
			wantErr(t, res[0], tt.sentinel, tt.says, values...)
			if dump := fmt.Sprintf("%v %+v %#v", res, res, res); containsAny(dump, values) {
				t.Errorf("printing the results leaks a value: %s", dump)
			}
		})
	}
}

func TestMotoInjectedErrors(t *testing.T) {
	t.Parallel()
	const caller = "arn:aws:sts::123456789012:assumed-role/llm-app/i-0abc"
	tests := []struct {
		name     string
		fault    awssmtest.Fault
		sentinel error
		says     []string
		attempts int
	}{
		{"access denied names the caller", awssmtest.Fault{Status: 400, Code: "AccessDeniedException",
			Message: "User: " + caller + " is not authorized to perform: secretsmanager:GetSecretValue on resource: x because no identity-based policy allows the secretsmanager:GetSecretValue action"},
			sources.ErrPermission, []string{caller, "secretsmanager:GetSecretValue"}, 1},
		{"KMS decryption failure", awssmtest.Fault{Status: 400, Code: "DecryptionFailure", Message: "Secrets Manager can't decrypt the protected secret text using the provided KMS key."},
			sources.ErrPermission, []string{"kms:Decrypt"}, 1},
		{"KMS access denied", awssmtest.Fault{Status: 400, Code: "AccessDeniedException", Message: "Access to KMS is not allowed"},
			sources.ErrPermission, []string{"kms:Decrypt"}, 1},
		{"bad credentials", awssmtest.Fault{Status: 400, Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."},
			sources.ErrPermission, []string{"credentials"}, 1},
		{"throttled after retries", awssmtest.Fault{Status: 400, Code: "ThrottlingException", Message: "Rate exceeded"},
			sources.ErrUnavailable, []string{"retries"}, 3},
		{"server error after retries", awssmtest.Fault{Status: 500, Code: "InternalServiceError", Message: "oops"},
			sources.ErrUnavailable, []string{"retries"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			moto := awssmtest.Start(t)
			secret := moto.Name("s")
			moto.CreateSecret(t, secret, "never-shown-value")
			moto.Fail("GetSecretValue", &tt.fault)
			src := newSource(t, moto, awssm.Config{Region: awssmtest.Region})
			res := fetch(t, src, "awssm://"+secret)
			wantErr(t, res[0], tt.sentinel, append(tt.says, secret), "never-shown-value")
			if got := moto.Calls("GetSecretValue"); got != tt.attempts {
				t.Errorf("GetSecretValue calls = %d, want %d", got, tt.attempts)
			}
		})
	}
}

func TestMotoARN(t *testing.T) {
	t.Parallel()
	moto := awssmtest.Start(t)
	arn := moto.CreateSecret(t, moto.Name("openai"), `{"api_key":"sk-arn-0123456789abcdef"}`)
	other := moto.CreateSecret(t, moto.Name("other"), "other-value")
	if !strings.HasPrefix(arn, "arn:aws:secretsmanager:us-east-1:"+awssmtest.AccountID+":secret:") {
		t.Fatalf("unexpected ARN %q", arn)
	}
	// No region configured: every ARN carries its own.
	src := newSource(t, moto, awssm.Config{})
	res := fetch(t, src, arn+"#api_key", "awssm://"+arn+"#api_key", other)
	wantValue(t, res[0], "sk-arn-0123456789abcdef")
	wantValue(t, res[1], "sk-arn-0123456789abcdef")
	wantValue(t, res[2], "other-value")
	if got := moto.Calls("BatchGetSecretValue"); got != 1 {
		t.Errorf("BatchGetSecretValue calls = %d, want 1 (two distinct ARNs)", got)
	}
}

func TestMotoNoRegion(t *testing.T) {
	t.Parallel()
	moto := awssmtest.Start(t)
	src := newSource(t, moto, awssm.Config{})
	res := fetch(t, src, "awssm://prod/llm/openai#api_key")
	wantErr(t, res[0], sources.ErrInvalid, []string{"aws.region", "AWS_REGION", "?region=", "ARN"})
	if got := moto.Calls("GetSecretValue") + moto.Calls("BatchGetSecretValue"); got != 0 {
		t.Errorf("%d calls without a region, want 0", got)
	}
}

func containsAny(s string, values []string) bool {
	for _, v := range values {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}
