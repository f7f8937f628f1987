package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// gemini is Google's Gemini API, as google-genai reads it (GOOGLE_API_KEY
// wins over GEMINI_API_KEY; src: googleapis/python-genai _api_client.py),
// and its OpenAI-compatible API under /v1beta/openai.
func gemini() *Unit {
	return &Unit{
		Name: Gemini, Title: "Gemini", SDK: "google-genai",
		Vars: []Var{
			{Name: "GOOGLE_API_KEY", Role: RoleKey, ReadBy: readBy("google-genai")},
			{Name: "GEMINI_API_KEY", Role: RoleKey, ReadBy: readBy("google-genai", ByAutoGen, ByLiteLLM)},
			{Name: "GOOGLE_GEMINI_BASE_URL", Role: RoleBaseURL, ReadBy: readBy("google-genai")},
		},
		Aliases: []Alias{
			// AG2's google api_type reads its own name (src: ag2 autogen/oai/gemini.py).
			{Name: "GOOGLE_GEMINI_API_KEY", To: "GEMINI_API_KEY", ReadBy: readBy(ByAG2)},
			{Name: "GEMINI_API_BASE", To: "GOOGLE_GEMINI_BASE_URL", ReadBy: readBy(ByLiteLLM)},
		},
		// GOOGLE_API_KEY alone is any Google Cloud key (Maps, YouTube…): it
		// does not say the app calls Gemini. --provider gemini checks it.
		Detect:        []string{"GEMINI_API_KEY"},
		DefaultBase:   "https://generativelanguage.googleapis.com",
		CompatBase:    "https://generativelanguage.googleapis.com/v1beta/openai",
		Hosts:         []string{"generativelanguage.googleapis.com"},
		Shapes:        geminiShapes(),
		StrictShape:   true,
		KeyHelp:       "Google API keys start with AIza (https://aistudio.google.com/apikey)",
		ModelPrefixes: []string{"gemini-", "models/gemini-"},
		AG2:           AG2{Types: []string{"google"}, KeyEnv: "GOOGLE_GEMINI_API_KEY"},
		ProbeDoc:      "GET {base}/v1beta/models, or /v1beta/models/{model}, with x-goog-api-key; through the OpenAI-compatible base GET {base}/models with Bearer",
		QuotaSeen:     false,
		probe:         geminiProbe{},
	}
}

func geminiShapes() []Shape {
	return []Shape{{Kind: "google", Desc: "a Google API key", order: 21, match: func(v string) bool { return prefixed(v, "AIza", 30, IsWordDash) }}}
}

// geminiProbe proves a key with GET {base}/v1beta/models (x-goog-api-key,
// as google-genai sends it), or GET {base}/v1beta/models/{model}; through
// the OpenAI-compatible base, GET {base}/models with Bearer.
type geminiProbe struct{}

func (geminiProbe) First(c *Call) (*Request, error) {
	path := "v1beta/models"
	if c.Compat {
		path = "models"
	}
	step, proves := "list", "the key was accepted"
	if c.Model != "" {
		m := strings.TrimPrefix(c.Model, "models/")
		if err := checkSegment("model", m); err != nil {
			return nil, err
		}
		path += "/" + url.PathEscape(m)
		step, proves = "model", fmt.Sprintf("the key was accepted and model %s is available", m)
	}
	r, err := newRequest(http.MethodGet, c.BaseURL, path, nil)
	if err != nil {
		return nil, err
	}
	r.Step, r.Proves = step, proves
	if c.Compat {
		r.Header.Set("Authorization", "Bearer "+c.Key)
	} else {
		r.Header.Set("x-goog-api-key", c.Key)
	}
	return r, nil
}

// googleError is Google's error body, {"error":{code,message,status,
// details:[{reason}]}}; the OpenAI-compatible API wraps it in a list.
type googleError struct {
	Error struct {
		Message string `json:"message"`
		Status  string `json:"status"`
		Details []struct {
			Reason string `json:"reason"`
		} `json:"details"`
	} `json:"error"`
}

func parseGoogleError(body []byte) (status, reason, msg string) {
	var ge googleError
	if json.Unmarshal(body, &ge) != nil {
		var list []googleError
		if json.Unmarshal(body, &list) != nil || len(list) == 0 {
			return "", "", ""
		}
		ge = list[0]
	}
	for _, d := range ge.Error.Details {
		if d.Reason != "" {
			reason = d.Reason
			break
		}
	}
	return ge.Error.Status, reason, oneLineMessage(ge.Error.Message)
}

func (geminiProbe) Next(c *Call, r *Request, a *Answer) (Outcome, *Request) {
	status, reason, msg := parseGoogleError(a.Body)
	code := status
	if reason != "" {
		code = reason
	}
	low := strings.ToLower(msg)
	u := ByName(string(Gemini))
	cred := withCred(c)
	o := Outcome{Code: code, Message: msg}
	switch {
	case a.Status == http.StatusBadRequest && (reason == "API_KEY_INVALID" || strings.Contains(low, "api key not valid") || strings.Contains(low, "api key not found")):
		o.Diagnosis, o.Hint = Rejected, "Google rejected the key as invalid: it may be deleted, mistyped or from another project"+cred
	case a.Status == http.StatusForbidden && strings.Contains(low, "unregistered callers"):
		o.Diagnosis, o.Hint = Rejected, fmt.Sprintf("no key was sent: %s is empty", c.KeyName)
	case a.Status == http.StatusForbidden:
		o.Diagnosis, o.Hint = Forbidden, "Google refused the key (403): the Generative Language API may not be enabled for its project, or the key's API or referrer restrictions exclude it"+Quoted(code, msg)+cred
	case a.Status == http.StatusBadRequest && status == "FAILED_PRECONDITION" && strings.Contains(low, "billing"):
		o.Diagnosis, o.Hint = NoQuota, "the key is valid but its project needs billing for this API here: enable billing in Google AI Studio"+cred
	case a.Status == http.StatusBadRequest && status == "FAILED_PRECONDITION" && strings.Contains(low, "location"):
		o.Diagnosis, o.Hint = Forbidden, "Google does not serve the Gemini API from this location: run from a supported region"+cred
	case a.Status == http.StatusTooManyRequests && (strings.Contains(low, "per day") || strings.Contains(string(a.Body), "PerDay")):
		o.Diagnosis, o.Hint = NoQuota, "the key is valid but its daily quota is used up: wait for the reset or raise the project's quota"+cred
	case a.Status == http.StatusTooManyRequests:
		// Google words a per-minute limit as "exceeded your current quota"
		// too: it passes, so it is retried.
		o.Diagnosis = Retry
	case a.Status == http.StatusNotFound && r.Step == "model":
		o.Diagnosis, o.Hint = NotFound, fmt.Sprintf("model %s does not exist at Gemini (or not for this API version): check %s, e.g. gemini-2.0-flash", c.Model, c.ModelName)
	default:
		o.Diagnosis = common(a, code, msg)
		if o.Diagnosis == OK {
			return okOutcome(r), nil
		}
		o.Hint = fallbackHint(u, c, r, a, o.Diagnosis, code, msg)
	}
	return o, nil
}
