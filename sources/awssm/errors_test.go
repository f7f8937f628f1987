package awssm

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

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
		{"not a network failure", nil, fmt.Errorf("operation error: %w", errors.New("failed to decode response body")), sources.ErrUnavailable, []string{"the call to Secrets Manager failed"}},
		{"unknown host", nil, wrapSend(&net.DNSError{Err: "no such host", Name: "secretsmanager.invalid", IsNotFound: true}), sources.ErrInvalid, []string{"secretsmanager.invalid does not resolve", "AWS_ENDPOINT_URL", "region"}},
		{"dns server failure", nil, wrapSend(&net.DNSError{Err: "server misbehaving", Name: "secretsmanager.example", IsTemporary: true}), sources.ErrUnavailable, []string{"cannot reach"}},
		{"unknown authority", nil, wrapSend(&tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}), sources.ErrInvalid, []string{"does not verify", "AWS_CA_BUNDLE"}},
		{"bare unknown authority", nil, wrapSend(x509.UnknownAuthorityError{}), sources.ErrInvalid, []string{"AWS_CA_BUNDLE"}},
		{"hostname mismatch", nil, wrapSend(x509.HostnameError{Certificate: &x509.Certificate{}, Host: "secretsmanager.example"}), sources.ErrInvalid, []string{"aws.endpoint"}},
		{"expired certificate", nil, wrapSend(x509.CertificateInvalidError{Reason: x509.Expired}), sources.ErrInvalid, []string{"aws.endpoint"}},
		{"https to a plain-HTTP server", nil, wrapSend(errors.New("http: server gave HTTP response to HTTPS client")), sources.ErrInvalid,
			[]string{"https://secretsmanager.example/ speaks plain HTTP, not HTTPS", "aws.endpoint"}},
		{"connection refused", nil, wrapSend(refused), sources.ErrUnavailable, []string{"cannot reach Secrets Manager at https://secretsmanager.example/ (connection refused) after retries"}},
		{"answer too large", nil, wrapSend(&tooLargeError{Host: "127.0.0.1:9"}), sources.ErrInvalid, []string{"larger than 4 MiB", "127.0.0.1:9", "aws.endpoint"}},
		{"redirect", nil, httpError(307, "https://elsewhere.example/p?X-Amz-Signature=abc"), sources.ErrInvalid, []string{"redirect (HTTP 307 to https://elsewhere.example/p)", "aws.endpoint"}},
		{"redirect without location", nil, httpError(302, ""), sources.ErrInvalid, []string{"redirect (HTTP 302)"}},
		{"deadline", canceled, fmt.Errorf("operation error: %w", context.Canceled), sources.ErrUnavailable, []string{"deadline"}},
		{"no credentials", nil, &credentialsError{err: errors.New("no EC2 IMDS role found")}, sources.ErrInvalid, []string{"AWS_PROFILE", "IRSA", "ECS task role"}},
		{"assume role denied", nil, &credentialsError{role: "arn:aws:iam::1:role/r", err: &smithy.GenericAPIError{Code: "AccessDenied", Message: denied}}, sources.ErrPermission, []string{"arn:aws:iam::1:role/r", user}},
		{"credentials service down", nil, &credentialsError{err: &smithy.GenericAPIError{Code: "ServiceUnavailable", Fault: smithy.FaultServer}}, sources.ErrUnavailable, nil},
		{"web identity token refused", nil, &credentialsError{err: &smithy.GenericAPIError{Code: "InvalidIdentityToken"}}, sources.ErrPermission, []string{"cannot get AWS credentials"}},
		{"STS host does not resolve", nil, &credentialsError{err: stsSend(&net.DNSError{Err: "no such host", Name: "sts.invalid", IsNotFound: true})}, sources.ErrInvalid,
			[]string{"cannot get AWS credentials from STS", "sts.invalid does not resolve", "AWS_ENDPOINT_URL_STS"}},
		{"STS refuses connections", nil, &credentialsError{role: "arn:aws:iam::1:role/r", err: stsSend(refused)}, sources.ErrUnavailable,
			[]string{"cannot reach STS at https://sts.example/ (connection refused)", "arn:aws:iam::1:role/r"}},
		{"no instance metadata", nil, &credentialsError{err: &smithy.OperationError{ServiceID: "ec2imds", OperationName: "GetMetadata", Err: refused}}, sources.ErrInvalid,
			[]string{"no AWS credentials found"}},
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

// refused is a connection refused, as net.Dial reports it.
var refused = &net.OpError{Op: "dial", Net: "tcp", Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}

// stsSend wraps a transport failure as the STS client of a credentials
// provider reports it.
func stsSend(err error) error {
	return &smithy.OperationError{ServiceID: "STS", OperationName: "AssumeRole",
		Err: &smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "https://sts.example/", Err: err}}}
}

// TestClassifyStop: whatever the SDK made of a call cut short by a stop, it
// is the stop, and nothing a lenient policy could act on.
func TestClassifyStop(t *testing.T) {
	t.Parallel()
	stopped, stop := context.WithCancelCause(context.Background())
	stop(&sources.StopError{Signal: syscall.SIGINT})
	for _, tt := range []struct {
		name string
		err  error
	}{
		{"cancelled call", fmt.Errorf("operation error: %w", context.Canceled)},
		{"refused connection", wrapSend(refused)},
		{"throttled", &smithy.GenericAPIError{Code: "ThrottlingException"}},
		{"credentials", &credentialsError{role: "arn:aws:iam::1:role/r", err: context.Canceled}},
		{"no credentials", &credentialsError{err: errors.New("no EC2 IMDS role found")}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := classify(stopped, "prod/x", "eu-west-1", tt.err)
			var se *sources.StopError
			if !errors.As(err, &se) || se.Signal != syscall.SIGINT {
				t.Fatalf("classify = %v, want the SIGINT stop", err)
			}
			for _, sentinel := range []error{sources.ErrUnavailable, sources.ErrPermission, sources.ErrInvalid, sources.ErrNotFound} {
				if errors.Is(err, sentinel) {
					t.Errorf("classify = %q is also %v", err, sentinel)
				}
			}
			if !strings.Contains(err.Error(), `"prod/x" in eu-west-1`) {
				t.Errorf("classify = %q does not name the secret and region", err)
			}
		})
	}
}

// wrapSend wraps a transport failure as the SDK does.
func wrapSend(err error) error {
	return fmt.Errorf("operation error Secrets Manager: GetSecretValue: %w",
		&smithyhttp.RequestSendError{Err: &url.Error{Op: "Post", URL: "https://secretsmanager.example/", Err: err}})
}

// httpError is an answer of status with a Location, as the SDK reports it.
func httpError(status int, location string) error {
	resp := &http.Response{StatusCode: status, Header: http.Header{}}
	if location != "" {
		resp.Header.Set("Location", location)
	}
	return fmt.Errorf("operation error Secrets Manager: GetSecretValue: %w",
		&smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: &smithy.GenericAPIError{Code: "UnknownError"}})
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
