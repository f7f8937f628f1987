// Package verify checks resolved LLM credentials and proves them. One check
// engine runs over Candidates, whatever they came from (the environment, an
// AutoGen config-list entry, an AutoGen component config): offline shape
// checks (key formats, URLs, api-versions, tokens) that turn a Candidate into
// a Target, and the probe engine that proves each Target against its
// provider with the requests of its unit in verify/provider (retries,
// bounded bodies, no redirects, proxies as httpx reads them). Judge then
// settles each candidate under the configured policies.
//
// It sees resolved values only, never a backend; what it knows of each
// provider comes from verify/provider.
package verify

import (
	"fmt"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// Sentinel errors. Each wraps the sources sentinel of its exit code, so that
// one mapping in cmd/keyexec serves sources and providers alike.
var (
	// ErrRejected: the provider refused the credential (401, 403, no
	// quota), or it is known to fail (an expired token) (exit 77).
	ErrRejected = fmt.Errorf("credential rejected: %w", sources.ErrPermission)
	// ErrMisconfigured: a missing, malformed or misplaced credential, URL,
	// api-version, model or deployment (exit 78).
	ErrMisconfigured = fmt.Errorf("misconfigured: %w", sources.ErrInvalid)
	// ErrUnreachable: the provider could not be reached before the probe
	// deadline (exit 69).
	ErrUnreachable = fmt.Errorf("provider unreachable: %w", sources.ErrUnavailable)
)

// Target is one credential to prove, with everything its requests need.
type Target struct {
	// API is the provider whose API is called; Compat says the client is
	// the openai SDK speaking that provider's OpenAI-compatible API.
	API    *provider.Unit
	Compat bool
	// BaseURL is where the client sends requests (the SDK's default when
	// the user set none).
	BaseURL string
	Key     sources.Secret
	// Token is a bearer token sent instead of the key (a static Entra ID
	// token, ANTHROPIC_AUTH_TOKEN); with Entra the probe gets one itself.
	Token      sources.Secret
	TokenName  string
	Entra      *Entra
	Org        string
	Project    string
	APIVersion string
	Model      string // model to check, or the Azure deployment
	Names      provider.Names
	// Label says which use of the credential this is: "environment",
	// "config list entry 0 (gpt-4o)".
	Label string
	// Origin says where the credential came from, for hints:
	// "OPENAI_API_KEY from vault://secret/llm/openai#api_key".
	Origin string
	// Candidate is the index, in the list given to Plan, of the candidate
	// this target proves.
	Candidate int
}

// Entra asks the probe to authenticate with Microsoft Entra ID through
// DefaultAzureCredential, for the scopes the app will ask for.
type Entra struct {
	Scopes []string
}

// Result is the outcome of one probe request sequence. It holds no secret:
// the URL carries no key and Message is masked.
type Result struct {
	API         provider.Name
	Label       string // the labels of the targets it served, joined by "; "
	Origin      string
	Method      string
	URL         string
	Status      int    // last HTTP status, 0 when no answer came
	Code        string // provider error code, such as invalid_api_key
	Message     string // provider error message with any copy of the key masked
	Location    string // redirect target, for Redirected
	Proxy       string // proxy used, scheme and host only; "" when direct
	Latency     time.Duration
	Attempts    int
	Requests    int // HTTP requests sent, retries and follow-ups included
	Diagnosis   provider.Diagnosis
	Hint        string
	Note        string // a remark on a success
	Fingerprint string // of the credential probed
	// Targets are the indexes, in the list given to Probe, of the targets
	// this result served (one request sequence per distinct credential).
	Targets []int
	Err     error // nil when Diagnosis is OK; wraps one of the sentinels otherwise
}

// Sentinel returns the sentinel error of a diagnosis, nil for OK.
func Sentinel(d provider.Diagnosis) error {
	switch d {
	case provider.OK:
		return nil
	case provider.Rejected, provider.Forbidden, provider.NoQuota:
		return ErrRejected
	case provider.Unreachable, provider.Retry:
		return ErrUnreachable
	}
	return ErrMisconfigured
}
