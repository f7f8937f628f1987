package main

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	"github.com/keyexec/keyexec/resolve"
	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify"
)

// check runs the shape checks of every kept entry and returns the Targets
// to probe: the environment's, then one per checked entry, so that one
// verify.Probe call dedupes them all. envErr is verify.Check's error; its
// "no LLM credentials found" is no error when the list provides them.
// Failing entries fail the run, or are dropped under on_entry_failure: drop.
func (c *configListRun) check(env, origins map[string]string, envTargets []verify.Target, envErr error) ([]verify.Target, error) {
	if c == nil {
		return envTargets, envErr
	}
	if se, ok := envErr.(*verify.ShapeError); ok && se.Var == "" && c.provides(c.provider) {
		envErr = nil // no credentials in the environment: the list has them
	}
	errs := []error{envErr}
	var targets []verify.Target
	for _, e := range c.list.Kept() {
		in := c.info[e]
		t, err := c.checkEntry(env, origins, e)
		switch {
		case errors.Is(err, verify.ErrEntryUnsupported):
			in.status, in.reason = "not checked", fmt.Sprintf("api_type %q is not one keyexec checks (openai, azure, anthropic): passed on resolved but unproven", e.Str("api_type"))
		case err != nil && c.policy == "drop":
			c.drop(e, err)
		case err != nil:
			in.status, in.reason = "failed", oneLine(err.Error(), e.Label())
			errs = append(errs, err)
		default:
			in.status = "checked"
			c.byLabel[t.Label] = e
			targets = append(targets, t)
		}
	}
	if c.policy == "drop" {
		errs = append(errs, c.noneLeft())
	}
	return append(envTargets, targets...), errors.Join(errs...)
}

// checkEntry checks one entry as the SDK client AutoGen builds from it will
// see it: fields the entry leaves out are read from the environment, as
// openai-python and anthropic do (key, base URL, api-version, organization).
func (c *configListRun) checkEntry(env, origins map[string]string, e *resolve.ListEntry) (verify.Target, error) {
	in := c.info[e]
	p, ok := verify.EntryProvider(e.Str("api_type"))
	ve := verify.Entry{
		APIType:      e.Str("api_type"),
		Model:        e.Str("model"),
		Deployment:   e.Str("azure_deployment"),
		APIKey:       sources.NewSecret(e.Str("api_key")),
		ADToken:      sources.NewSecret(e.Str("azure_ad_token")),
		BaseURL:      e.Str("base_url"),
		APIVersion:   e.Str("api_version"),
		Organization: e.Str("organization"),
		Label:        e.Label(),
		Origin:       e.Refs["api_key"],
	}
	in.keyFrom = cmp.Or(e.Refs["api_key"], e.Refs["azure_ad_token"])
	if !ok {
		return verify.CheckEntry(ve, verify.CheckOptions{})
	}
	if e.Has("api_key") && e.Str("api_key") == "" {
		return verify.Target{}, &verify.ShapeError{Var: "api_key", Msg: e.Label() + `: "api_key" is empty: the SDK sends it as it is and the provider answers 401 (it reads ` +
			verify.KeyVariable(p) + ` only when api_key is missing or null); set the key, or a reference such as "vault://secret/llm#api_key"`}
	}
	fromEnv := func(field, name string) string {
		v := env[name]
		if v != "" {
			in.notes = append(in.notes, field+" from "+name+fromWhere(origins[name]))
		}
		return v
	}
	if p == verify.Azure {
		ve.BaseURL = cmp.Or(e.Str("azure_endpoint"), ve.BaseURL)
	}
	if ve.BaseURL == "" {
		switch p {
		case verify.OpenAI:
			ve.BaseURL = fromEnv("base_url", verify.VarOpenAIBaseURL)
		case verify.Azure:
			ve.BaseURL = fromEnv("base_url", verify.VarAzureEndpoint)
		case verify.Anthropic:
			ve.BaseURL = fromEnv("base_url", verify.VarAnthropicURL)
		}
	}
	if p == verify.OpenAI && !e.Has("organization") {
		ve.Organization = fromEnv("organization", verify.VarOpenAIOrg)
	}
	if p == verify.Azure {
		if !e.Has("api_version") {
			ve.APIVersion = fromEnv("api_version", verify.VarAPIVersion)
		}
		// AutoGen removes the dots from the deployment it calls (gpt-3.5-turbo
		// → gpt-35-turbo): probe the name it will use.
		if d := cmp.Or(ve.Deployment, ve.Model); strings.Contains(d, ".") {
			ve.Deployment = strings.ReplaceAll(d, ".", "")
			in.notes = append(in.notes, fmt.Sprintf("AutoGen calls deployment %q (it removes dots)", ve.Deployment))
		}
	}
	keyVar := verify.KeyVariable(p)
	if !e.Has("api_key") && ve.ADToken.IsZero() {
		if v := fromEnv("api_key", keyVar); v != "" {
			ve.APIKey, ve.Origin, in.keyFrom = sources.NewSecret(v), keyVar+fromWhere(origins[keyVar]), keyVar
		} else if p == verify.Azure {
			if v := fromEnv("azure_ad_token", verify.VarAzureADToken); v != "" {
				ve.ADToken, in.keyFrom = sources.NewSecret(v), verify.VarAzureADToken
			}
		}
	}
	t, err := verify.CheckEntry(ve, verify.CheckOptions{AllowHTTP: c.allowHTTP})
	if errors.Is(err, verify.ErrEntryNoKey) {
		return verify.Target{}, &verify.ShapeError{Var: "api_key", Msg: fmt.Sprintf("%s: no \"api_key\", and %s is not set either: the SDK would fail when AutoGen builds the client; set api_key (a reference such as \"vault://secret/llm#api_key\") or %s",
			e.Label(), keyVar, keyVar)}
	}
	if err == nil {
		in.baseURL = t.BaseURL
		in.fingerprint = t.Key.Fingerprint()
		if t.Key.IsZero() {
			in.fingerprint = t.ADToken.Fingerprint()
		}
	}
	return t, err
}

// fromWhere is " (vault://…)" for a variable resolved from a reference.
func fromWhere(origin string) string {
	if origin == "" || origin == "environment" || origin == "config" {
		return ""
	}
	return " (" + origin + ")"
}

// settle maps the probe results back to the entries they served. Under
// drop, a failed probe that served config-list entries only drops them
// instead of failing the run (unless probe.on_unreachable: warn keeps them);
// the results returned are those the caller still has to judge.
func (c *configListRun) settle(results []verify.Result, onUnreachable string) ([]verify.Result, []error) {
	if c == nil {
		return results, nil
	}
	var keep []verify.Result
	for _, r := range results {
		var served []*resolve.ListEntry
		onlyEntries := true
		for _, l := range strings.Split(r.Label, "; ") {
			if e, ok := c.byLabel[l]; ok {
				served = append(served, e)
			} else {
				onlyEntries = false
			}
		}
		warn := errors.Is(r.Err, verify.ErrUnreachable) && onUnreachable == "warn"
		for _, e := range served {
			in := c.info[e]
			switch {
			case r.Err == nil:
				in.status, in.reason = "ok", ""
			case warn:
				in.status, in.reason = "unreachable", "kept (probe.on_unreachable: warn): "+r.Hint
			default:
				in.status, in.reason = "failed", fmt.Sprintf("probe %s: %s", r.Diagnosis, r.Hint)
			}
		}
		if r.Err != nil && !warn && c.policy == "drop" && onlyEntries && len(served) > 0 {
			for _, e := range served {
				c.drop(e, probeFailure{r})
			}
			continue
		}
		keep = append(keep, r)
	}
	if c.policy == "drop" {
		if err := c.noneLeft(); err != nil {
			return keep, []error{err}
		}
	}
	return keep, nil
}

// probeFailure is a failed probe as the reason an entry was dropped: the
// request and the hint once, with r.Err's sentinel for the exit code.
type probeFailure struct{ r verify.Result }

func (p probeFailure) Error() string {
	status := "no answer"
	if p.r.Status != 0 {
		status = strings.TrimSpace(fmt.Sprintf("%d %s", p.r.Status, p.r.Code))
	}
	return fmt.Sprintf("probe %s (%s %s: %s): %s", p.r.Diagnosis, p.r.Method, p.r.URL, status, p.r.Hint)
}

func (p probeFailure) Unwrap() error { return p.r.Err }

// provides reports whether a kept entry of the list is for the provider
// --provider asks for (any provider for auto), so that the environment's
// "no credentials found" is no error.
func (c *configListRun) provides(provider string) bool {
	for _, e := range c.list.Kept() {
		p, ok := verify.EntryProvider(e.Str("api_type"))
		if ok && (provider == "auto" || string(p) == provider) {
			return true
		}
	}
	return false
}
