package provider

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// ollama is a local Ollama server: no key, OLLAMA_HOST for ollama-python
// (host:port or a URL; default 127.0.0.1:11434), /v1 for the openai SDK.
// Its probe proves the server (GET /api/version) and then the model (POST
// /api/show), which must have been pulled.
func ollama() *Unit {
	return &Unit{
		Name: Ollama, Title: "Ollama", SDK: "ollama-python",
		Vars: []Var{
			{Name: "OLLAMA_HOST", Role: RoleBaseURL, ReadBy: readBy("ollama-python", "ollama")},
		},
		DefaultBase: "http://127.0.0.1:11434",
		CompatBase:  "http://127.0.0.1:11434/v1",
		Hosts:       []string{"localhost:11434", "127.0.0.1:11434", "[::1]:11434"},
		Keyless:     true,
		KeyHelp:     "Ollama takes no key",
		AG2:         AG2{Types: []string{"ollama"}},
		ProbeDoc:    "GET /api/version (the server), then POST /api/show {\"model\": M} (the model is pulled); no key",
		QuotaSeen:   false,
		probe:       ollamaProbe{},
	}
}

// OllamaBase turns an OLLAMA_HOST value (host, host:port or a URL) into
// the server's base URL, as ollama-python reads it.
func OllamaBase(host string) string {
	h := strings.TrimRight(strings.TrimSpace(host), "/")
	if h == "" {
		return "http://127.0.0.1:11434"
	}
	if !strings.Contains(h, "://") {
		h = "http://" + h
	}
	u, err := url.Parse(h)
	if err != nil {
		return h
	}
	if u.Port() == "" {
		u.Host += ":11434"
	}
	return u.String()
}

type ollamaProbe struct{}

// origin is the server's root, whatever API path the base has (/v1).
func (ollamaProbe) origin(c *Call) string {
	u, err := url.Parse(c.BaseURL)
	if err != nil || u.Host == "" {
		return c.BaseURL
	}
	return u.Scheme + "://" + u.Host
}

func (p ollamaProbe) First(c *Call) (*Request, error) {
	r, err := newRequest(http.MethodGet, p.origin(c), "api/version", nil)
	if err != nil {
		return nil, err
	}
	r.Step, r.Proves = "server", "the Ollama server answered"
	return r, nil
}

func (p ollamaProbe) Next(c *Call, r *Request, a *Answer) (Outcome, *Request) {
	code, msg := ParseErrorBody(a.Body)
	if r.Step == "show" && a.Status == http.StatusNotFound {
		return Outcome{Diagnosis: NotFound, Code: "model_not_found", Message: msg,
			Hint: fmt.Sprintf("the Ollama server has no model %s: run `ollama pull %s` on it, or fix %s", c.Model, c.Model, c.ModelName)}, nil
	}
	d := common(a, code, msg)
	if d != OK {
		hint := fallbackHint(ByName(string(Ollama)), c, r, a, d, code, msg)
		if d == NotFound {
			hint = fmt.Sprintf("%s answers, but not as an Ollama server (404 on %s): check %s", r.URL.Host, r.URL.Path, c.URLName)
		}
		return Outcome{Diagnosis: d, Code: code, Message: msg, Hint: hint}, nil
	}
	if r.Step == "server" && c.Model != "" {
		show, err := newRequest(http.MethodPost, p.origin(c), "api/show", nil)
		if err != nil {
			return Outcome{Diagnosis: Unexpected, Hint: err.Error()}, nil
		}
		show.withJSON(map[string]string{"model": c.Model})
		show.Step, show.Proves = "show", fmt.Sprintf("the Ollama server answered and has model %s", c.Model)
		return okOutcome(r), show
	}
	return okOutcome(r), nil
}
