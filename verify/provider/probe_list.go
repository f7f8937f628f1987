package provider

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// listProbe proves a key the way most OpenAI-style APIs allow: an
// authenticated GET of the model list (or of one model), with the key as
// Bearer. A provider with a cheaper or more telling read of the key itself
// (OpenRouter's /key, xAI's /api-key, DeepSeek's /user/balance) names it
// in keyPath, and the model is checked after it.
type listProbe struct {
	unit Name
	// native and compat are the model list's path under the native base
	// and under the OpenAI-compatible base.
	native, compat string
	// keyPath, when set, is read first (under the same base rules), and
	// keyInfo reads its 200 body.
	keyPath string
	keyInfo func(c *Call, body []byte) (Outcome, bool)
	// keyAtOrigin: keyPath is under the base URL's scheme and host, not
	// its path (DeepSeek's /user/balance, whatever version path the base has).
	keyAtOrigin bool
	// byID: GET {list}/{model} exists; otherwise the model is looked up
	// in the list. modelPath, when set, is the read of one model instead.
	byID      bool
	modelPath func(model string) string
	// special reads provider-specific answers before the common rules.
	special func(c *Call, r *Request, a *Answer, code, msg string) (Outcome, bool)
	// header sets the credential; nil means Authorization: Bearer.
	header func(h http.Header, c *Call)
}

func (p listProbe) path(c *Call, native string) string {
	if c.Compat && p.compat != "" {
		return p.compat
	}
	return native
}

func (p listProbe) request(c *Call, path, step, proves string) (*Request, error) {
	r, err := newRequest(http.MethodGet, c.BaseURL, path, nil)
	if err != nil {
		return nil, err
	}
	r.Step, r.Proves = step, proves
	if p.header != nil {
		p.header(r.Header, c)
	} else {
		r.Header.Set("Authorization", "Bearer "+c.Credential())
	}
	return r, nil
}

func (p listProbe) First(c *Call) (*Request, error) {
	if c.Model != "" {
		if err := checkSegment("model", c.Model); err != nil && p.byID {
			return nil, err
		}
	}
	if p.keyPath != "" {
		if p.keyAtOrigin {
			oc := *c
			if u, err := url.Parse(c.BaseURL); err == nil {
				oc.BaseURL = u.Scheme + "://" + u.Host
			}
			return p.request(&oc, p.keyPath, "key", "the key was accepted")
		}
		return p.request(c, p.keyPath, "key", "the key was accepted")
	}
	return p.modelRequest(c)
}

// modelRequest checks the model, or lists models when there is none.
func (p listProbe) modelRequest(c *Call) (*Request, error) {
	list := p.path(c, p.native)
	switch {
	case c.Model == "":
		return p.request(c, list, "list", "the key was accepted")
	case p.modelPath != nil:
		return p.request(c, p.modelPath(c.Model), "model", fmt.Sprintf("the key was accepted and model %s is available", c.Model))
	case p.byID:
		return p.request(c, list+"/"+url.PathEscape(c.Model), "model", fmt.Sprintf("the key was accepted and model %s is available", c.Model))
	}
	return p.request(c, list, "model-in-list", fmt.Sprintf("the key was accepted and model %s is available", c.Model))
}

func (p listProbe) Next(c *Call, r *Request, a *Answer) (Outcome, *Request) {
	u := ByName(string(p.unit))
	code, msg := ParseErrorBody(a.Body)
	if p.special != nil {
		if o, ok := p.special(c, r, a, code, msg); ok {
			return o, nil
		}
	}
	d := common(a, code, msg)
	if d != OK {
		return Outcome{Diagnosis: d, Code: code, Message: msg, Hint: listHint(u, c, r, a, d, code, msg)}, nil
	}
	switch r.Step {
	case "key":
		if p.keyInfo != nil {
			if o, bad := p.keyInfo(c, a.Body); bad {
				return o, nil
			}
		}
		if c.Model != "" {
			next, err := p.modelRequest(c)
			if err != nil {
				return Outcome{Diagnosis: Unexpected, Hint: err.Error()}, nil
			}
			return okOutcome(r), next
		}
	case "model-in-list":
		if found, sure := listHolds(a, c.Model); !found && sure {
			return Outcome{Diagnosis: NotFound, Code: "model_not_found",
				Hint: fmt.Sprintf("the key was accepted, but model %s is not in %s's model list: check %s", c.Model, u.Title, c.ModelName)}, nil
		} else if !found {
			return Outcome{Diagnosis: OK, Hint: "the key was accepted", Note: fmt.Sprintf("model %s was not checked: the model list is too long to read whole", c.Model)}, nil
		}
	}
	return okOutcome(r), nil
}

// listHolds looks for id in a model list: OpenAI's {"data":[{"id":…}]},
// Together's bare array, Ollama's {"models":[{"name":…}]}. sure is false
// when the list was cut before its end.
func listHolds(a *Answer, id string) (found, sure bool) {
	type item struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	var items []item
	var wrapped struct {
		Data   []item `json:"data"`
		Models []item `json:"models"`
	}
	if json.Unmarshal(a.Body, &items) != nil {
		if json.Unmarshal(a.Body, &wrapped) != nil {
			return false, !a.Cut
		}
		items = append(wrapped.Data, wrapped.Models...)
	}
	for _, it := range items {
		if it.ID == id || it.Name == id || strings.TrimPrefix(it.ID, "models/") == id {
			return true, true
		}
	}
	return false, !a.Cut
}

// listHint explains a refusal from an OpenAI-style provider.
func listHint(u *Unit, c *Call, r *Request, a *Answer, d Diagnosis, code, msg string) string {
	switch d {
	case Rejected:
		if c.Credential() == "" {
			return fmt.Sprintf("no key was sent: %s is empty", c.KeyName)
		}
		return fmt.Sprintf("%s rejected the key: it may be revoked, rotated or mistyped%s (%s)", u.Title, withCred(c), u.KeyHelp)
	case NotFound:
		if r.Step == "model" {
			return fmt.Sprintf("model %s does not exist at %s or this key has no access to it: check %s%s", c.Model, u.Title, c.ModelName, Quoted(code, msg))
		}
	}
	return fallbackHint(u, c, r, a, d, code, msg)
}
