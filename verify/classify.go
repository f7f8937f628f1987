package verify

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/keyexec/keyexec/sources"
)

// answer is what one attempt brought back.
type probeAnswer struct {
	status     int
	code       string // provider error code, masked
	message    string // provider error message, masked, one line
	location   string // Location of a 3xx, masked
	retryAfter string // Retry-After of a 429 or 503
	jsonLike   bool   // the body looks like JSON (2xx sanity check)
	err        error  // transport failure; status is 0
	errKind    netKind
}

// Sentinel returns the sentinel error of a diagnosis (ErrRejected,
// ErrMisconfigured or ErrUnreachable), nil for OK.
func (d Diagnosis) Sentinel() error {
	switch d {
	case OK:
		return nil
	case Rejected, Forbidden, NoQuota:
		return ErrRejected
	case Unreachable:
		return ErrUnreachable
	default:
		return ErrMisconfigured
	}
}

// diagnoseStatus maps an HTTP answer to a diagnosis. Unreachable here means
// "worth retrying"; the retry loop turns it final when the deadline is near.
func diagnoseStatus(kind checkKind, a *probeAnswer) Diagnosis {
	s := a.status
	switch {
	case s >= 200 && s < 300:
		if !a.jsonLike {
			return Unexpected
		}
		return OK
	case s == http.StatusBadRequest && kind == checkDeployment:
		// Azure checks key and deployment before the body; "{}" then fails
		// validation, which proves both without spending a token.
		return OK
	case s >= 300 && s < 400:
		return Redirected
	case s == http.StatusUnauthorized:
		return Rejected
	case s == http.StatusForbidden:
		return Forbidden
	case s == http.StatusNotFound:
		return NotFound
	case isQuota(a.code, a.message) && (s == http.StatusTooManyRequests || s == http.StatusBadRequest || s == http.StatusPaymentRequired):
		return NoQuota
	case s == http.StatusTooManyRequests || s == http.StatusRequestTimeout || s >= 500:
		return Unreachable
	default:
		return Unexpected
	}
}

// isQuota recognises an exhausted account: OpenAI's insufficient_quota (in
// code, or in type with a null code on older answers), Azure's
// InsufficientQuota and Anthropic's "credit balance is too low".
func isQuota(code, message string) bool {
	c := strings.ToLower(strings.ReplaceAll(code, "_", ""))
	return c == "insufficientquota" ||
		strings.Contains(strings.ToLower(message), "credit balance is too low")
}

// classifyResult fills a Result from the final answer of a request.
func classifyResult(res *Result, r *probeRequest, a *probeAnswer, d Diagnosis) {
	res.Status = a.status
	res.Location = a.location
	if d != OK { // Azure's 400 to "{}" is a success, not a message to show
		res.Code = a.code
		res.Message = a.message
	}
	var hint string
	switch d {
	case OK:
		hint = okHint(r)
	case BadURL:
		hint = badURLHint(r, a)
	case Redirected:
		hint = fmt.Sprintf("%s answered %d with a redirect to %s, which keyexec never follows (headers would reach the new host): set the base URL to the final address",
			r.url.Host, a.status, orUnknown(a.location))
	case Unreachable:
		hint = unreachableHint(r, res, a)
	case Unexpected:
		hint = unexpectedHint(r, a)
	default:
		switch r.target.Provider {
		case Azure:
			hint = azureHint(r, a, d)
		case Anthropic:
			hint = anthropicHint(r, a, d)
		default:
			hint = openAIHint(r, a, d)
		}
	}
	finishResult(res, d, hint, r)
}

// finishResult sets the diagnosis, the hint and the error of a Result.
func finishResult(res *Result, d Diagnosis, hint string, r *probeRequest) {
	res.Diagnosis = d
	res.Hint = sources.Mask(hint, r.secrets...)
	sentinel := d.Sentinel()
	if sentinel == nil {
		res.Err = nil
		return
	}
	what := string(d)
	if res.Status != 0 {
		what = strconv.Itoa(res.Status)
		if res.Code != "" {
			what += " " + res.Code
		}
	}
	res.Err = fmt.Errorf("%s probe %s %s: %s: %s: %w", res.Provider, res.Method, res.URL, what, res.Hint, sentinel)
}

// credPhrase says which credential was used and where it came from, for
// hints: "key sk-…Wx3f came from vault://secret/llm/openai#api_key".
func credPhrase(r *probeRequest) string {
	if r.secret == "" {
		return "the " + r.credName + " is empty"
	}
	s := r.credName + " " + sources.MaskedTail(r.secret)
	origin := strings.Join(r.origins, "; ")
	switch {
	case origin == "":
		return s
	case strings.Contains(origin, " from "):
		return s + " is " + origin
	default:
		return s + " came from " + origin
	}
}

func okHint(r *probeRequest) string {
	switch r.kind {
	case checkModel:
		return fmt.Sprintf("the %s was accepted and model %s is available", r.credName, r.target.Model)
	case checkDeployment:
		return fmt.Sprintf("the %s was accepted and deployment %s exists", r.credName, r.target.Model)
	}
	return "the " + r.credName + " was accepted"
}

func unexpectedHint(r *probeRequest, a *probeAnswer) string {
	if a.status/100 == 2 {
		return fmt.Sprintf("%s answered %d but not with JSON: the base URL may point to a web page or a proxy rather than the %s API",
			r.url.Host, a.status, r.target.Provider)
	}
	return fmt.Sprintf("%s answered %d%s, which this request should never get: check that the base URL points to the %s API%s",
		r.url.Host, a.status, quotedErr(a), r.target.Provider, withCred(r))
}

func unreachableHint(r *probeRequest, res *Result, a *probeAnswer) string {
	var last string
	switch {
	case a.err != nil:
		last = describeNetErr(r, a)
	case a.status == http.StatusTooManyRequests:
		last = "429 rate limited" + quotedErr(a)
	default:
		last = strconv.Itoa(a.status) + quotedErr(a)
	}
	via := ""
	if res.Proxy != "" {
		via = " via proxy " + res.Proxy
	}
	tries := "1 attempt"
	if res.Attempts != 1 {
		tries = strconv.Itoa(res.Attempts) + " attempts"
	}
	return fmt.Sprintf("no usable answer from %s%s after %s, the last %s: the provider or the network may be down; probe.on_unreachable: warn starts the child anyway",
		r.url.Host, via, tries, last)
}

// quotedErr formats the provider's code and message for a hint.
func quotedErr(a *probeAnswer) string {
	switch {
	case a.code != "" && a.message != "":
		return fmt.Sprintf(" (%s: %s)", a.code, a.message)
	case a.message != "":
		return " (" + a.message + ")"
	case a.code != "":
		return " (" + a.code + ")"
	}
	return ""
}

func withCred(r *probeRequest) string { return "; " + credPhrase(r) }

func orUnknown(s string) string {
	if s == "" {
		return "(no Location)"
	}
	return s
}
