package awssm

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/keyexec/keyexec/sources"
)

// classify maps the failure of a call that read secret (in region) to a
// sources sentinel. AWS messages name secrets, actions and identities, never
// secret values, so they are kept for the reader.
func classify(ctx context.Context, secret, region string, err error) error {
	where := fmt.Sprintf("secret %q in %s", secret, region)
	if ce, ok := isCredentialsError(err); ok {
		return credentialsFailure(ctx, where, ce)
	}
	if e := classifyNetwork(where, err); e != nil {
		return e
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500 {
		// Whatever the code says, a 5xx after the SDK's retries is the
		// service failing, not the request being wrong.
		return fmt.Errorf("%s: Secrets Manager kept failing after retries (HTTP %d): %w: %w", where, respErr.HTTPStatusCode(), sources.ErrUnavailable, err)
	}
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 300 && respErr.HTTPStatusCode() < 400 {
		return fmt.Errorf("%s: the endpoint answered with a redirect (HTTP %d%s): check aws.endpoint and AWS_ENDPOINT_URL: %w: %w",
			where, respErr.HTTPStatusCode(), redirectTarget(respErr), sources.ErrInvalid, err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return classifyAPI(where, apiErr)
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: Secrets Manager did not answer before the resolve deadline (--timeout): %w: %w", where, sources.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: cannot reach Secrets Manager (check the network, aws.endpoint and AWS_ENDPOINT_URL): %w: %w", where, sources.ErrUnavailable, err)
}

// classifyNetwork maps the failures that say the configuration points to
// the wrong place, as the Vault source and the provider probe do: a host
// that does not resolve, a certificate that does not verify, an answer too
// large to be Secrets Manager's. It returns nil for anything else.
func classifyNetwork(where string, err error) error {
	var tooLarge *tooLargeError
	if errors.As(err, &tooLarge) {
		return fmt.Errorf("%s: the answer from %s is larger than %d MiB: check aws.endpoint and AWS_ENDPOINT_URL (a proxy or a wrong endpoint?): %w: %w",
			where, tooLarge.Host, maxAnswer>>20, sources.ErrInvalid, err)
	}
	if dns, ok := unknownHost(err); ok {
		return fmt.Errorf("%s: host %s does not resolve: check aws.endpoint / AWS_ENDPOINT_URL / the region: %w: %w", where, dns.Name, sources.ErrInvalid, err)
	}
	if tlsProblem(err) {
		return fmt.Errorf("%s: the endpoint's TLS certificate does not verify: check aws.endpoint / AWS_ENDPOINT_URL, "+
			"or, behind a TLS-intercepting proxy, set AWS_CA_BUNDLE to its CA: %w: %w", where, sources.ErrInvalid, err)
	}
	return nil
}

// redirectTarget names where a redirect points, without its query.
func redirectTarget(respErr *smithyhttp.ResponseError) string {
	if respErr.Response == nil {
		return ""
	}
	u, err := url.Parse(respErr.Response.Header.Get("Location"))
	if err != nil || u.String() == "" {
		return ""
	}
	u.User, u.RawQuery, u.Fragment = nil, "", ""
	return " to " + u.String()
}

// classifyAPI maps an error code of Secrets Manager, from a failed call or
// from an Errors entry of BatchGetSecretValue.
func classifyAPI(where string, apiErr smithy.APIError) error {
	code, msg := apiErr.ErrorCode(), apiErr.ErrorMessage()
	switch {
	case code == "ResourceNotFoundException":
		return fmt.Errorf("%s not found: check the name, the region, the account and any version-stage or version-id: %w: %w", where, sources.ErrNotFound, apiErr)
	case code == "DecryptionFailure" || strings.Contains(strings.ToUpper(code+" "+msg), "KMS"):
		return fmt.Errorf("%s: cannot decrypt it%s: grant kms:Decrypt on the secret's KMS key: %w: %w", where, caller(msg), sources.ErrPermission, apiErr)
	case isDenied(code):
		return fmt.Errorf("%s: access denied%s: grant secretsmanager:GetSecretValue on the secret: %w: %w", where, caller(msg), sources.ErrPermission, apiErr)
	case isCredentialCode(code):
		return fmt.Errorf("%s: AWS rejected the credentials: check the access key, session token and clock: %w: %w", where, sources.ErrPermission, apiErr)
	case isTransient(code) || apiErr.ErrorFault() == smithy.FaultServer:
		return fmt.Errorf("%s: Secrets Manager kept failing after retries: %w: %w", where, sources.ErrUnavailable, apiErr)
	case code == "InvalidRequestException":
		return fmt.Errorf("%s cannot be read now (scheduled for deletion, or a version-stage/version-id mismatch): %w: %w", where, sources.ErrNotFound, apiErr)
	default:
		return fmt.Errorf("%s: Secrets Manager refused the request: %w: %w", where, sources.ErrInvalid, apiErr)
	}
}

// credentialsFailure reports that no usable credentials could be obtained.
func credentialsFailure(ctx context.Context, where string, ce *credentialsError) error {
	var apiErr smithy.APIError
	switch {
	case errors.As(ce, &apiErr) && (isDenied(apiErr.ErrorCode()) || isCredentialCode(apiErr.ErrorCode())):
		return fmt.Errorf("%s: cannot get AWS credentials%s: %w: %w", where, caller(apiErr.ErrorMessage()), sources.ErrPermission, ce)
	case ctx.Err() != nil || errors.Is(ce, context.DeadlineExceeded):
		return fmt.Errorf("%s: no AWS credentials before the resolve deadline: %w: %w", where, sources.ErrUnavailable, ce)
	case errors.As(ce, &apiErr):
		return fmt.Errorf("%s: cannot get AWS credentials: %w: %w", where, sources.ErrUnavailable, ce)
	default:
		return fmt.Errorf("%s: no AWS credentials found: set AWS_PROFILE or aws.profile, AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run with a role (EKS IRSA or Pod Identity, ECS task role, EC2 instance profile): %w: %w", where, sources.ErrInvalid, ce)
	}
}

// caller names the identity an AWS denial message mentions, if any.
func caller(msg string) string {
	// AWS says "User: arn:aws:sts::1:assumed-role/x is not authorized…".
	_, rest, ok := strings.Cut(msg, "User: arn:")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, " \t\n"); i >= 0 {
		rest = rest[:i]
	}
	return " for arn:" + rest
}

func isDenied(code string) bool {
	switch code {
	case "AccessDeniedException", "AccessDenied", "UnauthorizedOperation", "AuthorizationError":
		return true
	}
	return false
}

func isCredentialCode(code string) bool {
	switch code {
	case "UnrecognizedClientException", "InvalidClientTokenId", "ExpiredTokenException", "ExpiredToken",
		"InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature", "MissingAuthenticationToken":
		return true
	}
	return false
}

func isTransient(code string) bool {
	switch code {
	case "ThrottlingException", "Throttling", "TooManyRequestsException", "RequestLimitExceeded",
		"InternalServiceError", "InternalFailure", "ServiceUnavailable", "ServiceUnavailableException", "RequestTimeout":
		return true
	}
	return false
}

// batchEntryError turns an Errors entry of BatchGetSecretValue into the
// error a GetSecretValue call would have given.
func batchEntryError(code, message string) smithy.APIError {
	fault := smithy.FaultClient
	if isTransient(code) {
		fault = smithy.FaultServer
	}
	return &smithy.GenericAPIError{Code: code, Message: message, Fault: fault}
}
