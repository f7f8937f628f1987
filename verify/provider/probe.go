package provider

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Diagnosis classifies the outcome of a probe.
type Diagnosis string

// Diagnoses, each with its own hint and exit code (DESIGN.md, Live probe).
const (
	OK           Diagnosis = "ok"            // the credential was proven
	Retry        Diagnosis = "retry"         // transient (429, 5xx): the engine retries until the deadline
	Rejected     Diagnosis = "rejected"      // 401, an invalid key (77)
	Forbidden    Diagnosis = "forbidden"     // 403: region, IP, network rules, a missing permission (77)
	NoQuota      Diagnosis = "no_quota"      // key valid, no quota or credit (77)
	NotFound     Diagnosis = "not_found"     // 404: base URL, api-version, model or deployment (78)
	BadURL       Diagnosis = "bad_url"       // unknown host, TLS, refused scheme (78)
	Redirected   Diagnosis = "redirect"      // 3xx, never followed (78)
	Unreachable  Diagnosis = "unreachable"   // retries exhausted (69)
	Unexpected   Diagnosis = "unexpected"    // an answer this request should never get (78)
	NoCredential Diagnosis = "no_credential" // Entra ID: no credential of the chain worked (78)
	Stopped      Diagnosis = "stopped"       // the user stopped keyexec during the probe
)

// Call is one credential to prove, as the client that will use it sees it.
// It holds the credential in clear: only the probe engine builds one.
type Call struct {
	// BaseURL is where the client sends its requests: the native API's
	// base, or with Compat the provider's OpenAI-compatible base.
	BaseURL string
	// Compat: the client is the openai SDK speaking the provider's
	// OpenAI-compatible API (OPENAI_BASE_URL pointed at it).
	Compat     bool
	Key        string // the API key; "" for keyless providers or with Token
	Token      string // a bearer token sent instead of the key
	TokenName  string // what to call the token in hints: "AD token", "Entra ID token"
	Org        string // OpenAI-Organization
	Project    string // OpenAI-Project
	APIVersion string // Azure api-version
	Model      string // the model (Azure: deployment) to check, "" for none
	// Cred names the credential for hints, without its value: "key sk-…Wx3f
	// is OPENAI_API_KEY from vault://secret/llm#key".
	Cred string
	// Names of the settings hints tell the user to fix: the key's
	// variable or field, the URL's, the model's.
	KeyName, URLName, ModelName, VersionName string
	// Principal names the Entra ID identity the token is for, for hints.
	Principal string
}

// Credential is what the call sends: the token when there is one, else the key.
func (c *Call) Credential() string {
	if c.Token != "" {
		return c.Token
	}
	return c.Key
}

// credName is "key" or the token's name, for hints.
func (c *Call) credName() string {
	if c.Token != "" {
		if c.TokenName != "" {
			return c.TokenName
		}
		return "token"
	}
	return "key"
}

// Request is one HTTP request of a probe.
type Request struct {
	Method string
	URL    *url.URL
	Header http.Header
	Body   []byte
	// Proves says what a success shows, for the report: "the key was
	// accepted and model gpt-4o is available".
	Proves string
	// Step names the request for the unit's Next ("list", "model",
	// "scope"…); the engine does not read it.
	Step string
}

// Answer is what one request brought back (the engine reads at most 64
// KiB of the body; Cut says there was more).
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	Cut    bool
}

// Outcome is a unit's reading of an answer.
type Outcome struct {
	Diagnosis     Diagnosis
	Code, Message string // the provider's error code and message (the engine masks them)
	Hint          string // one line in plain words: what is wrong and how to fix it
	Note          string // a remark on a success ("the key lacks api.model.read")
}

// Prober is a unit's probe: its first request, and how to read each answer.
type Prober interface {
	// First returns the probe's first request, or an error when the call
	// cannot be probed as given (a name that would change the URL path).
	First(c *Call) (*Request, error)
	// Next reads the answer to r. A non-nil request is a follow-up the
	// answer calls for (a restricted key proven another way, Ollama's
	// model after its server); the outcome then only records this step.
	// Transport failures and redirects never reach Next.
	Next(c *Call, r *Request, a *Answer) (Outcome, *Request)
}

// newRequest builds a request to base joined with path (base's own path is
// kept) and query.
func newRequest(method, base, path string, query url.Values) (*Request, error) {
	u, err := url.Parse(strings.TrimRight(base, "/"))
	if err != nil {
		return nil, fmt.Errorf("the base URL does not parse: %w", unwrapURLError(err))
	}
	if u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("the base URL needs a scheme and a host, such as https://api.example.com/v1")
	}
	u = u.JoinPath(path)
	if len(query) > 0 {
		q := u.Query()
		for k, v := range query {
			q[k] = v
		}
		u.RawQuery = q.Encode()
	}
	h := http.Header{}
	h.Set("Accept", "application/json")
	return &Request{Method: method, URL: u, Header: h}, nil
}

// unwrapURLError drops url.Error's copy of the URL, which may hold a password.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// withJSON sets a JSON body.
func (r *Request) withJSON(body any) *Request {
	b, _ := json.Marshal(body)
	r.Body = b
	r.Header.Set("Content-Type", "application/json")
	return r
}

// checkSegment refuses model and deployment names that would change the
// request path instead of naming something in it.
func checkSegment(what, name string) error {
	if name == "." || name == ".." || strings.ContainsAny(name, "/?#") {
		return fmt.Errorf("%s name %q is not a valid name", what, name)
	}
	return nil
}

// common maps an answer to a diagnosis as most providers use statuses:
// 2xx with JSON ok, 401 rejected, 403 forbidden, 404 not found, a quota
// code or message no quota, 429/408/5xx retry, anything else unexpected.
func common(a *Answer, code, msg string) Diagnosis {
	s := a.Status
	switch {
	case s >= 200 && s < 300:
		if !looksJSON(a) {
			return Unexpected
		}
		return OK
	case s == http.StatusUnauthorized:
		return Rejected
	case s == http.StatusForbidden:
		return Forbidden
	case s == http.StatusNotFound:
		return NotFound
	case isQuota(code, msg) && (s == http.StatusTooManyRequests || s == http.StatusBadRequest || s == http.StatusPaymentRequired || s == http.StatusForbidden):
		return NoQuota
	case s == http.StatusPaymentRequired:
		return NoQuota
	case s == http.StatusTooManyRequests || s == http.StatusRequestTimeout || s >= 500:
		return Retry
	}
	return Unexpected
}

// isQuota recognises an exhausted account in a provider's code or message:
// OpenAI's insufficient_quota, Azure's InsufficientQuota, Anthropic's
// "credit balance is too low", and the credit/balance wording of the
// OpenAI-compatible providers.
func isQuota(code, message string) bool {
	c := strings.ToLower(strings.ReplaceAll(code, "_", ""))
	m := strings.ToLower(message)
	return c == "insufficientquota" || strings.Contains(m, "credit balance is too low") ||
		strings.Contains(m, "insufficient balance") || strings.Contains(m, "insufficient credits") ||
		strings.Contains(m, "exceeded your current quota") || strings.Contains(m, "doesn't have any credits")
}

// looksJSON accepts a complete JSON document, or the start of one when the
// body was cut (some model lists run to megabytes).
func looksJSON(a *Answer) bool {
	if !a.Cut {
		return json.Valid(a.Body)
	}
	t := bytes.TrimLeft(a.Body, " \t\r\n")
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// Quoted formats a provider's error code and message for a hint:
// " (code: message)", " (message)", " (code)" or "".
func Quoted(code, msg string) string {
	switch {
	case code != "" && msg != "":
		return fmt.Sprintf(" (%s: %s)", code, msg)
	case msg != "":
		return " (" + msg + ")"
	case code != "":
		return " (" + code + ")"
	}
	return ""
}

// withCred appends where the credential came from to a hint.
func withCred(c *Call) string {
	if c.Cred == "" {
		return ""
	}
	return "; " + c.Cred
}

// okOutcome is the success of a request, saying what it proved.
func okOutcome(r *Request) Outcome { return Outcome{Diagnosis: OK, Hint: r.Proves} }

// fallbackHint explains diagnoses a unit has nothing special to say about.
func fallbackHint(u *Unit, c *Call, r *Request, a *Answer, d Diagnosis, code, msg string) string {
	cred := withCred(c)
	switch d {
	case Rejected:
		if c.Credential() == "" {
			return fmt.Sprintf("no %s was sent: %s is empty", c.credName(), c.KeyName)
		}
		return fmt.Sprintf("%s rejected the %s: it may be revoked, rotated or mistyped%s%s", u.Title, c.credName(), Quoted(code, msg), cred)
	case Forbidden:
		return fmt.Sprintf("%s refused access (403): the key's project, team or IP may not allow this request%s%s", u.Title, Quoted(code, msg), cred)
	case NoQuota:
		return fmt.Sprintf("the %s is valid but the %s account has no quota or credit left: check its plan and billing%s", c.credName(), u.Title, cred)
	case NotFound:
		if c.Model != "" && r.Step == "model" {
			return fmt.Sprintf("model %s was not found at %s%s: check %s, and %s", c.Model, u.Title, Quoted(code, msg), c.ModelName, c.URLName)
		}
		return fmt.Sprintf("nothing answers at %s: the base URL is wrong; check %s", r.URL.Redacted(), c.URLName)
	case Unexpected:
		if a.Status/100 == 2 {
			return fmt.Sprintf("%s answered %d but not with JSON: %s may point to a web page or a proxy rather than the %s API", r.URL.Host, a.Status, c.URLName, u.Title)
		}
		return fmt.Sprintf("%s answered %d%s, which this request should never get: check that %s points to the %s API%s", r.URL.Host, a.Status, Quoted(code, msg), c.URLName, u.Title, cred)
	}
	return fmt.Sprintf("%s answered %s%s", u.Title, d, Quoted(code, msg))
}
