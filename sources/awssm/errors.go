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
// secret values, so they are kept for the reader; endpoints are shown with
// sources.DisplayURL.
func classify(ctx context.Context, secret, region string, err error) error {
	where := fmt.Sprintf("secret %q in %s", secret, region)
	if stop := sources.Stopped(ctx); stop != nil {
		// The user stopped keyexec: this is no failure of AWS, whatever
		// the SDK made of the cancelled call.
		return fmt.Errorf("%s: %w", where, stop)
	}
	if ce, ok := isCredentialsError(err); ok {
		return credentialsFailure(ctx, where, ce)
	}
	if e := wrongAddress(where, smHint, err); e != nil {
		return e
	}
	var respErr *smithyhttp.ResponseError
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500 {
		// Whatever the code says, a 5xx after the SDK's retries is the
		// service failing, not the request being wrong.
		return fmt.Errorf("%s: Secrets Manager kept failing after retries (HTTP %d): %w: %w", where, respErr.HTTPStatusCode(), sources.ErrUnavailable, err)
	}
	if errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 300 && respErr.HTTPStatusCode() < 400 {
		return fmt.Errorf("%s: the endpoint answered with a redirect (HTTP %d%s): check %s: %w: %w",
			where, respErr.HTTPStatusCode(), redirectTarget(respErr), smHint, sources.ErrInvalid, err)
	}
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		return classifyAPI(where, apiErr)
	}
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: Secrets Manager%s did not answer before the resolve deadline (--timeout): %w: %w", where, at(err), sources.ErrUnavailable, err)
	}
	if sources.ClassifyNet(err) == sources.NetNone {
		return fmt.Errorf("%s: the call to Secrets Manager%s failed: %w: %w", where, at(err), sources.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: cannot reach Secrets Manager%s (%s) after retries: check the network and %s: %w: %w",
		where, at(err), sources.NetReason(err), smHint, sources.ErrUnavailable, err)
}

// Where to look when an address is wrong, for Secrets Manager and for STS.
const (
	smHint  = "aws.endpoint, AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_SECRETS_MANAGER and the region"
	stsHint = "AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_STS and the region"
)

// wrongAddress maps the failures that say the configuration points to the
// wrong place, final at the first attempt (sources.ClassifyNet, as for
// Vault and the provider probe), and an answer too large to be AWS's. It
// returns nil for anything else.
func wrongAddress(where, hint string, err error) error {
	var tooLarge *tooLargeError
	if errors.As(err, &tooLarge) {
		return fmt.Errorf("%s: the answer from %s is larger than %d MiB: check %s (a proxy or a wrong endpoint?): %w: %w",
			where, tooLarge.Host, maxAnswer>>20, hint, sources.ErrInvalid, err)
	}
	switch sources.ClassifyNet(err) {
	case sources.NetNoHost:
		return fmt.Errorf("%s: %s: check %s: %w: %w", where, sources.NetReason(err), hint, sources.ErrInvalid, err)
	case sources.NetTLS:
		return fmt.Errorf("%s: the TLS certificate of %s does not verify: check %s, or, behind a TLS-intercepting proxy, set AWS_CA_BUNDLE to its CA: %w: %w",
			where, orEndpoint(err), hint, sources.ErrInvalid, err)
	case sources.NetProtocol:
		return fmt.Errorf("%s: %s speaks plain HTTP, not HTTPS: write http:// if that is meant, or check %s: %w: %w",
			where, orEndpoint(err), hint, sources.ErrInvalid, err)
	}
	return nil
}

// at is " at URL" for the endpoint a transport failure names, or "".
func at(err error) string {
	if u := endpoint(err); u != "" {
		return " at " + u
	}
	return ""
}

// orEndpoint is the endpoint a transport failure names, or "the endpoint".
func orEndpoint(err error) string {
	if u := endpoint(err); u != "" {
		return u
	}
	return "the endpoint"
}

// endpoint is the URL of the request a transport failure names, as reports
// may show it (no userinfo, no query).
func endpoint(err error) string {
	var ue *url.Error
	if !errors.As(err, &ue) || ue.URL == "" {
		return ""
	}
	return sources.DisplayURL(ue.URL)
}

// redirectTarget names where a redirect points, as reports may show it.
func redirectTarget(respErr *smithyhttp.ResponseError) string {
	if respErr.Response == nil {
		return ""
	}
	loc := respErr.Response.Header.Get("Location")
	if loc == "" {
		return ""
	}
	return " to " + strings.TrimSuffix(sources.DisplayURL(loc), "?…")
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

// credentialsFailure reports that no usable credentials could be obtained:
// STS refused them (77), the STS address is wrong (78), STS did not answer
// (69), or nothing in the chain holds any (78).
func credentialsFailure(ctx context.Context, where string, ce *credentialsError) error {
	var apiErr smithy.APIError
	isAPI := errors.As(ce, &apiErr)
	if isAPI && (isDenied(apiErr.ErrorCode()) || isCredentialCode(apiErr.ErrorCode())) {
		return fmt.Errorf("%s: cannot get AWS credentials%s: %w: %w", where, caller(apiErr.ErrorMessage()), sources.ErrPermission, ce)
	}
	var op *smithy.OperationError
	fromSTS := errors.As(ce, &op) && op.Service() == "STS"
	what, hint := "cannot get AWS credentials", "AWS_CONTAINER_CREDENTIALS_FULL_URI and AWS_EC2_METADATA_SERVICE_ENDPOINT"
	if fromSTS {
		what, hint = "cannot get AWS credentials from STS", stsHint
	}
	if e := wrongAddress(where+": "+what, hint, ce); e != nil {
		return e
	}
	switch {
	case ctx.Err() != nil || errors.Is(ce, context.DeadlineExceeded):
		return fmt.Errorf("%s: no AWS credentials before the resolve deadline (--timeout): %w: %w", where, sources.ErrUnavailable, ce)
	case fromSTS && sources.ClassifyNet(ce) != sources.NetNone:
		return fmt.Errorf("%s: cannot reach STS%s (%s) for AWS credentials after retries: check the network and %s: %w: %w",
			where, at(ce), sources.NetReason(ce), stsHint, sources.ErrUnavailable, ce)
	case isAPI || fromSTS:
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
		"InvalidSignatureException", "SignatureDoesNotMatch", "IncompleteSignature", "MissingAuthenticationToken",
		"InvalidIdentityToken", "IDPRejectedClaim": // STS refusing a web identity token

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

// shownEndpoint shows a configured endpoint in an error: as a URL when it
// parses as one (without userinfo or query), else as ShowValue shows a typo.
func shownEndpoint(raw string) string {
	if u, err := url.Parse(raw); err == nil && u.Host != "" {
		return sources.DisplayURL(raw)
	}
	return sources.ShowValue(raw)
}
