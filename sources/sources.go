// Package sources defines how keyexec reads secrets: the Source interface that
// every backend implements, the reference syntax (Ref), the Secret value type
// that never prints itself, and the sentinel errors that decide exit codes.
//
// Backends live in sub-packages (sources/env, sources/file, sources/vault,
// sources/awssm) and import nothing of the pipeline.
package sources

import (
	"context"
	"errors"
)

// Sentinel errors. Every backend translates its SDK's errors to one of these at
// its boundary; callers use errors.Is. cmd/keyexec maps them to exit codes.
var (
	// ErrNotFound: the secret, path, key or field does not exist (exit 78).
	ErrNotFound = errors.New("not found")
	// ErrPermission: the backend refused the caller (exit 77).
	ErrPermission = errors.New("permission denied")
	// ErrUnavailable: the backend could not be reached or could not serve (exit 69).
	ErrUnavailable = errors.New("unavailable")
	// ErrInvalid: a malformed reference, value or backend configuration (exit 78).
	ErrInvalid = errors.New("invalid")
)

// Source is a read-only, batched secret backend for one scheme.
//
// Fetch receives every reference of its scheme at once so that it can dedupe
// paths and batch requests. It returns exactly one Result per ref, in the same
// order. A non-nil error means the whole batch failed (for example a login
// failure); per-reference failures go in Result.Err.
type Source interface {
	Scheme() string
	Fetch(ctx context.Context, refs []Ref) ([]Result, error)
}

// Result is the outcome of fetching one reference.
type Result struct {
	Ref   Ref
	Value Secret
	// Version describes what was read when the backend versions secrets, for
	// the report (for example "kv2 version 3" or "version 1a2b… AWSCURRENT").
	// Never secret.
	Version string
	Err     error
}

// Finisher is a Source with work left after Fetch that must end before the
// child starts, such as revoking the token it logged in for. The pipeline
// runs Finish beside the probe, so it costs no round trip of its own, and
// waits for it before exec. An error is reported as a warning: the secrets
// were read, and the child may start.
type Finisher interface {
	Finish(ctx context.Context) error
}

// CredentialUser is a Source that used credentials of its own to read
// (a Vault token from a file, an AppRole secret ID, a service account JWT).
// The pipeline masks their values in everything keyexec writes and keeps
// any variable holding one out of the child's environment.
type CredentialUser interface {
	Credentials() []string
}
