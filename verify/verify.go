// Package verify checks resolved LLM credentials: offline shape checks (key
// formats, URLs, api-versions, provider detection) that turn the final
// environment into probe Targets, and the live probe that proves each Target
// against its provider. It sees resolved values only, never a backend.
package verify

import (
	"errors"
	"time"

	"github.com/keyexec/keyexec/sources"
)

// Sentinel errors; cmd/keyexec maps them to exit codes.
var (
	// ErrRejected: the provider refused the credential: 401, 403, or a 429
	// insufficient_quota (exit 77).
	ErrRejected = errors.New("credential rejected")
	// ErrMisconfigured: a missing, malformed or misplaced credential, URL,
	// api-version, model or deployment (exit 78).
	ErrMisconfigured = errors.New("misconfigured")
	// ErrUnreachable: the provider could not be reached before the probe
	// deadline (exit 69).
	ErrUnreachable = errors.New("provider unreachable")
)

// Provider names an API family.
type Provider string

// Providers keyexec checks.
const (
	OpenAI    Provider = "openai"
	Azure     Provider = "azure"
	Anthropic Provider = "anthropic"
)

// Target is one credential to prove, with everything the request needs.
type Target struct {
	Provider Provider
	// BaseURL: for OpenAI the API base including /v1 (default
	// https://api.openai.com/v1); for Azure the endpoint, scheme and host only;
	// for Anthropic the base without /v1 (default https://api.anthropic.com).
	BaseURL    string
	Key        sources.Secret // OpenAI Bearer key, Azure api-key, Anthropic x-api-key
	ADToken    sources.Secret // Azure AD token, sent as Authorization: Bearer
	Org        string         // OpenAI-Organization header, when set
	Project    string         // OpenAI-Project header, when set
	APIVersion string         // Azure api-version query parameter
	Model      string         // OpenAI model to check, or Azure deployment
	// Label says which use of the credential this is, for the report:
	// "environment" or "config list entry 0 (gpt-4o)".
	Label string
	// Origin says where the credential came from, for hints:
	// "OPENAI_API_KEY from vault://secret/llm/openai#api_key".
	Origin string
}

// Diagnosis classifies one probe's outcome.
type Diagnosis string

// Diagnoses, each with its own hint and exit code (see DESIGN.md, Live probe).
const (
	OK          Diagnosis = "ok"          // 2xx (or 400 on the Azure deployment check)
	Rejected    Diagnosis = "rejected"    // 401 (77)
	Forbidden   Diagnosis = "forbidden"   // 403 (77)
	NoQuota     Diagnosis = "no_quota"    // 429 insufficient_quota (77)
	NotFound    Diagnosis = "not_found"   // 404: base URL, api-version, model or deployment (78)
	BadURL      Diagnosis = "bad_url"     // unknown host, refused scheme (78)
	Redirected  Diagnosis = "redirect"    // 3xx, never followed (78)
	Unreachable Diagnosis = "unreachable" // retries exhausted: 429, 5xx, timeouts, refused (69)
	Unexpected  Diagnosis = "unexpected"  // any other status (78)
)

// Result is the outcome of one probe. It holds no secret: the URL carries no
// key and Message is masked.
type Result struct {
	Provider    Provider
	Label       string // the Target labels this probe served, joined by "; "
	Origin      string
	Method      string
	URL         string
	Status      int    // last HTTP status, 0 when no answer came
	Code        string // provider error code, such as invalid_api_key or DeploymentNotFound
	Message     string // provider error message with any copy of the key masked
	Location    string // redirect target, for Redirected
	Proxy       string // proxy used, scheme and host only; "" when direct
	Latency     time.Duration
	Attempts    int
	Diagnosis   Diagnosis
	Hint        string // one line in plain words
	Fingerprint string // of the credential probed
	Err         error  // nil when Diagnosis is OK; wraps one of the sentinels otherwise
}
