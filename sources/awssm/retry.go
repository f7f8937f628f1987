package awssm

import (
	"context"

	"github.com/aws/smithy-go/middleware"

	"github.com/keyexec/keyexec/sources"
)

// finalError is a transport failure no retry can fix (sources.NetKind.Final:
// a host that does not resolve, a certificate that does not verify, HTTPS to
// a plain-HTTP server). The SDK's retryer would retry the last two as
// connection errors; RetryableError tells it not to, so a wrong address
// fails at the first attempt instead of after every retry.
type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }
func (e *finalError) Unwrap() error { return e.err }

// RetryableError is what the SDK's retryer asks first: no retry.
func (e *finalError) RetryableError() bool { return false }

// finalNetErrors adds, at the end of the finalize step (inside the retry
// loop, so that the retryer sees what it returns), a middleware that marks
// final transport failures. It is in the APIOptions of the configuration,
// so every client built from it has it: Secrets Manager, the STS client of
// aws.assume_role_arn and the one of the web identity chain.
func finalNetErrors(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("keyexecFinalNetErrors",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleFinalize(ctx, in)
			if err != nil && sources.ClassifyNet(err).Final() {
				err = &finalError{err: err}
			}
			return out, md, err
		}), middleware.After)
}
