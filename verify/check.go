package verify

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// CheckError is one problem the checks found. Msg names the setting and
// shows fingerprints only; Kind is ErrMisconfigured (78) or, for a credential
// known to fail such as an expired token, ErrRejected (77).
type CheckError struct {
	Var  string // the variable or field at fault; "" when no one setting is
	Msg  string
	Kind error
}

// Error returns the message.
func (e *CheckError) Error() string { return e.Msg }

// Unwrap returns the sentinel.
func (e *CheckError) Unwrap() error { return e.Kind }

func checkError(name, format string, args ...any) error {
	return &CheckError{Var: name, Msg: fmt.Sprintf(format, args...), Kind: ErrMisconfigured}
}

// Check runs the offline checks of one candidate and returns the Target
// that proves it, with warnings for the report. Every problem is reported
// (errors.Join of *CheckError, each prefixed with the label for entries and
// components); no Target comes with an error. A candidate NotProven yields
// no Target and no error.
func Check(c Candidate, opts CheckOptions) (Target, []string, error) {
	if c.NotProven != "" {
		return Target{}, nil, nil
	}
	k := checker{c: c, opts: opts}
	k.errs = append(k.errs, c.Problems...)
	t := k.run()
	for i, err := range k.errs {
		var ce *CheckError
		if c.From != FromEnv && errors.As(err, &ce) && !strings.HasPrefix(ce.Msg, c.Label) {
			k.errs[i] = &CheckError{Var: ce.Var, Msg: c.Label + ": " + ce.Msg, Kind: ce.Kind}
		}
	}
	if len(k.errs) > 0 {
		return Target{}, k.warnings, errors.Join(k.errs...)
	}
	return t, k.warnings, nil
}

// checker collects the problems of one Check.
type checker struct {
	c        Candidate
	opts     CheckOptions
	errs     []error
	warnings []string
}

func (k *checker) add(name, format string, args ...any) {
	k.errs = append(k.errs, checkError(name, format, args...))
}

func (k *checker) run() Target {
	c, n := k.c, k.c.Names
	base := cmp.Or(c.BaseURL, c.Client.DefaultBase)
	u := k.baseURL(n.URL, base)
	var host *provider.Unit
	if u != nil {
		host = provider.ForHost(base)
	}
	api, compat := c.Client, false
	if c.Client.Name == provider.OpenAI && host != nil && host.Name != provider.OpenAI && host.Name != provider.Azure {
		api, compat = host, true
	}
	k.key(api, host, c.BaseURL != "")
	s := &provider.Settings{
		Names: n, URL: u, URLSet: c.BaseURL != "", Host: host, Client: c.Client,
		Key: c.Key.Reveal(), Token: c.Token.Reveal(), Org: c.Org, Project: c.Project,
		APIVersion: c.APIVersion, Model: c.Model, Deployment: deployment(c), Entra: c.Entra != nil,
		Origin: c.Origin, Now: cmp.Or(k.opts.Now, time.Now()), MinTokenTTL: k.opts.MinTokenTTL,
	}
	for _, p := range append(c.Client.Validate(s), k.apiProblems(api, s)...) {
		switch p.Kind {
		case provider.Warning:
			k.warnings = append(k.warnings, p.Msg)
		case provider.Refused:
			k.errs = append(k.errs, &CheckError{Var: p.Name, Msg: p.Msg, Kind: ErrRejected})
		default:
			k.add(p.Name, "%s", p.Msg)
		}
	}
	k.modelName(n.Model, c.Model)
	return Target{
		API: api, Compat: compat, BaseURL: strings.TrimRight(base, "/"),
		Key: c.Key, Token: c.Token, TokenName: c.TokenName, Entra: c.Entra,
		Org: c.Org, Project: c.Project, APIVersion: c.APIVersion, Model: c.Model,
		Names: n, Label: c.Label, Origin: c.Origin,
	}
}

// apiProblems runs the rules of the provider actually called, when it is not
// the client's own unit (the openai SDK pointed at Groq).
func (k *checker) apiProblems(api *provider.Unit, s *provider.Settings) []provider.Problem {
	if api == k.c.Client {
		return nil
	}
	return api.Validate(s)
}

func deployment(c Candidate) string {
	if c.Client.Name == provider.Azure {
		return c.Model
	}
	return ""
}

// baseURL parses the URL in setting name: it must be absolute http(s) with
// a host, carry no user name or password, and use plain http only for a
// loopback host unless probe.allow_http. A value that is not a URL at all
// is never shown (it may be a key put in the wrong variable).
func (k *checker) baseURL(name, raw string) *url.URL {
	if raw == "" {
		if k.c.Client.Name == provider.Azure {
			k.add(name, "%s is not set: set it to your resource's endpoint, like https://RESOURCE.openai.azure.com (Azure portal, Keys and Endpoint)", name)
			return nil
		}
		k.add(name, "%s is set but empty: set it to the API's URL, or unset it", name)
		return nil
	}
	u, err := parseBaseURL(name, raw, k.opts.AllowHTTP)
	if err != nil {
		k.errs = append(k.errs, err)
		return nil
	}
	return u
}

// parseBaseURL is baseURL's rules as a function, for CheckBaseURL.
func parseBaseURL(name, raw string, allowHTTP bool) (*url.URL, error) {
	if provider.LooksLikeKey(raw) {
		return nil, checkError(name, "%s holds what looks like %s (%s), not a URL: put the key in its key setting and the API base URL here", name, provider.ClassifyKey(raw).Desc, maskKey(raw))
	}
	if i := strings.IndexFunc(raw, func(r rune) bool { return r <= ' ' || r == 0x7f }); i >= 0 {
		return nil, checkError(name, "%s holds whitespace or a control character at byte %d (%s): a URL has none; check for a key or a second value pasted after it", name, i, sources.Fingerprint(raw))
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, checkError(name, "%s is not an absolute http(s) URL (%s): set it like https://api.example.com/v1", name, sources.Fingerprint(raw))
	}
	if u.User != nil {
		return nil, checkError(name, "%s holds a user name or password (%s): remove them from the URL; the key goes in its own setting", name, sources.DisplayURL(raw))
	}
	if u.Hostname() == "" {
		return nil, checkError(name, "%s has no host name (%s): set it like https://api.example.com/v1", name, sources.DisplayURL(raw))
	}
	if u.Scheme == "http" && !allowHTTP && !provider.IsLoopbackHost(u.Host) {
		return nil, checkError(name, "%s uses plain http:// for %s, which is not a loopback host: use https://, or set probe.allow_http: true if the key may cross that network in clear text", name, sources.DisplayURL(raw))
	}
	return u, nil
}

// CheckBaseURL checks a base URL as the engine does; the error wraps
// ErrMisconfigured and names the setting.
func CheckBaseURL(name, raw string, allowHTTP bool) error {
	_, err := parseBaseURL(name, raw, allowHTTP)
	return err
}

// modelName checks a model or deployment name: it goes into a URL path,
// so it must not be a key and must be a plain name.
func (k *checker) modelName(name, v string) {
	switch {
	case v == "":
	case provider.LooksLikeKey(v):
		k.add(name, "%s holds what looks like %s (%s), not a model or deployment name", name, provider.ClassifyKey(v).Desc, maskKey(v))
	case strings.ContainsAny(v, " \t\r\n?#"):
		k.add(name, "%s %s is not a model name: it holds spaces, '?' or '#'", name, provider.ShowName(v))
	}
}

// maskKey is how a key appears in messages: "sk-…Wx3f" for a known shape,
// whose prefix is public; the plain fingerprint otherwise, since the start
// of an arbitrary secret may be part of it.
func maskKey(v string) string {
	if sh := provider.ClassifyKey(v); sh.Unknown() || sh.Owner == provider.Azure {
		return sources.Fingerprint(v)
	}
	return sources.MaskedTail(v)
}
