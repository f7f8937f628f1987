package awssm

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// taggedCredentials marks failures to obtain credentials, which the SDK
// reports as plain wrapped errors, so that they are not blamed on a secret,
// and remembers whether credentials were ever obtained.
type taggedCredentials struct {
	inner aws.CredentialsProvider // a cache: every region's client shares it
	role  string
	ready atomic.Bool
}

// Retrieve asks inner, tagging its failure.
func (c *taggedCredentials) Retrieve(ctx context.Context) (aws.Credentials, error) {
	creds, err := c.inner.Retrieve(ctx)
	if err != nil {
		return creds, &credentialsError{role: c.role, err: err}
	}
	c.ready.Store(true)
	return creds, nil
}

// credentialsError is a failure of the credential chain or of AssumeRole.
type credentialsError struct {
	role string
	err  error
}

func (e *credentialsError) Error() string {
	if e.role != "" {
		return "assume role " + e.role + ": " + e.err.Error()
	}
	return e.err.Error()
}

func (e *credentialsError) Unwrap() error { return e.err }

// isCredentialsError reports whether err came from obtaining credentials.
func isCredentialsError(err error) (*credentialsError, bool) {
	var ce *credentialsError
	ok := errors.As(err, &ce)
	return ce, ok
}
