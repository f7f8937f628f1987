package awssm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"

	"github.com/keyexec/keyexec/sources"
)

func TestClassify(t *testing.T) {
	t.Parallel()
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	const user = "arn:aws:sts::111122223333:assumed-role/app/i-1"
	denied := "User: " + user + " is not authorized to perform: secretsmanager:GetSecretValue"
	tests := []struct {
		name     string
		ctx      context.Context
		err      error
		sentinel error
		says     []string
	}{
		{"not found", nil, &types.ResourceNotFoundException{Message: aws.String("can't find")}, sources.ErrNotFound, []string{`"prod/x"`, "eu-west-1"}},
		{"denied with caller", nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: denied}, sources.ErrPermission, []string{"for " + user, "secretsmanager:GetSecretValue"}},
		{"denied without caller", nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "nope"}, sources.ErrPermission, []string{"access denied"}},
		{"decryption failure", nil, &types.DecryptionFailure{Message: aws.String("can't decrypt")}, sources.ErrPermission, []string{"kms:Decrypt"}},
		{"KMS in the message", nil, &smithy.GenericAPIError{Code: "AccessDeniedException", Message: "Access to KMS is not allowed"}, sources.ErrPermission, []string{"kms:Decrypt"}},
		{"expired token", nil, &smithy.GenericAPIError{Code: "ExpiredTokenException"}, sources.ErrPermission, []string{"credentials"}},
		{"throttled", nil, &smithy.GenericAPIError{Code: "ThrottlingException"}, sources.ErrUnavailable, []string{"retries"}},
		{"server fault", nil, &types.InternalServiceError{Message: aws.String("x")}, sources.ErrUnavailable, nil},
		{"scheduled for deletion", nil, &types.InvalidRequestException{Message: aws.String("marked for deletion")}, sources.ErrNotFound, []string{"deletion"}},
		{"bad parameter", nil, &types.InvalidParameterException{Message: aws.String("bad")}, sources.ErrInvalid, nil},
		{"network", nil, fmt.Errorf("operation error: %w", errors.New("dial tcp: connection refused")), sources.ErrUnavailable, []string{"cannot reach"}},
		{"deadline", canceled, fmt.Errorf("operation error: %w", context.Canceled), sources.ErrUnavailable, []string{"deadline"}},
		{"no credentials", nil, &credentialsError{err: errors.New("no EC2 IMDS role found")}, sources.ErrInvalid, []string{"AWS_PROFILE", "IRSA", "ECS task role"}},
		{"assume role denied", nil, &credentialsError{role: "arn:aws:iam::1:role/r", err: &smithy.GenericAPIError{Code: "AccessDenied", Message: denied}}, sources.ErrPermission, []string{"arn:aws:iam::1:role/r", user}},
		{"credentials service down", nil, &credentialsError{err: &smithy.GenericAPIError{Code: "ServiceUnavailable", Fault: smithy.FaultServer}}, sources.ErrUnavailable, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			err := classify(ctx, "prod/x", "eu-west-1", tt.err)
			if !errors.Is(err, tt.sentinel) {
				t.Errorf("classify = %q, not %v", err, tt.sentinel)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("classify = %q does not wrap the cause", err)
			}
			for _, s := range append(tt.says, `"prod/x"`) {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("classify = %q, does not mention %q", err, s)
				}
			}
		})
	}
}

func TestVersionLabel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id     string
		stages []string
		want   string
	}{
		{"3f2a9c1e-0000-4000-8000-000000000000", []string{"AWSPREVIOUS"}, "version 3f2a9c1e… AWSPREVIOUS"},
		{"3f2a9c1e-0000-4000-8000-000000000000", []string{"AWSCURRENT", "blue"}, "version 3f2a9c1e… AWSCURRENT,blue"},
		{"short", nil, "version short"},
		{"", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()
			if got := versionLabel(tt.id, tt.stages); got != tt.want {
				t.Errorf("versionLabel = %q, want %q", got, tt.want)
			}
		})
	}
}
