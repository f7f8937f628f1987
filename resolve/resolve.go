// Package resolve runs keyexec's pipeline up to the child's final
// environment: collect the variables (environment and config secrets, and
// the strings of AutoGen config lists and component configs), fetch every
// reference through its source in one round (deduplicated, concurrent,
// under one deadline), sanitize the values and normalize the names by the
// table of verify/provider. Every step is recorded in a report that never
// holds a value, only fingerprints.
package resolve

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// Opener builds a source on first use, so that no SDK client is constructed
// unless a reference needs it.
type Opener func(ctx context.Context) (sources.Source, error)

// Options is everything Resolve needs; cmd/keyexec builds it from Config.
type Options struct {
	Environ     []string          // keyexec's own environment, KEY=VALUE
	Secrets     map[string]string // config file secrets: name → reference or literal
	Aliases     map[string]string // extra aliases, added to the built-in table
	KeepAliases bool              // keep every alias variable in the child too
	// Scrub adds names to BuiltinScrub; PassThrough keeps built-in ones,
	// explicitly (each reported as a warning).
	Scrub, PassThrough []string
	Sources            map[string]Opener // scheme → source constructor
	Timeout            time.Duration     // deadline for fetching every reference
	// ConfigList and Components, loaded before Resolve, have their
	// references fetched in the same round as the environment's.
	ConfigList *ConfigList
	Components []*ComponentFile
	// Ready, when set, is called as soon as every variable a provider
	// reads is resolved (before the other sources answer), with those
	// variables sanitized and normalized, so that the pipeline can probe
	// it early. It runs on the resolving goroutine: it must not block.
	Ready func(p provider.Name, env map[string]string)
	// ReadyEntry, when set, is called once for each kept entry of
	// ConfigList as soon as its own references are resolved, with a copy
	// of it sanitized as the final pass will: an entry whose key is a
	// literal, or in a quick source, can be probed while other entries'
	// keys are still being read. Same rules as Ready.
	ReadyEntry func(e *ListEntry)
}

// Var is the report of one child variable. It never holds a secret value:
// secrets have a fingerprint, known non-secret settings (base URLs,
// api-versions, IDs, model and deployment names) their value in clear.
type Var struct {
	Name        string   `json:"name"`
	From        string   `json:"from,omitempty"` // alias it was copied from
	Source      string   `json:"source"`         // reference, or "environment" / "config"
	Version     string   `json:"version,omitempty"`
	Fingerprint string   `json:"fingerprint,omitempty"`
	Value       string   `json:"value,omitempty"` // non-secret settings only
	Fixes       []string `json:"fixes,omitempty"`
	Error       string   `json:"error,omitempty"`
}

// Result is the outcome of Resolve: the child's environment and the report.
type Result struct {
	// Environ is the child's final environment, KEY=VALUE, sorted by name.
	Environ []string `json:"-"`
	// Values holds the final values by name, for the checks.
	Values map[string]string `json:"-"`
	// Origins says where each variable's value came from, for hints.
	Origins  map[string]string `json:"-"`
	Vars     []Var             `json:"variables"`
	Notes    []string          `json:"notes,omitempty"`
	Warnings []string          `json:"warnings,omitempty"`
	Scrubbed []string          `json:"scrubbed,omitempty"`
	// Secrets are the secret values resolved, for the redactor. Never
	// printed.
	Secrets []string `json:"-"`
	// finishers are the sources with work left (token revocation);
	// ownCredentials the values of credentials the sources used.
	finishers      []sources.Finisher
	ownCredentials []string
}

// MaxEnvString is Linux's MAX_ARG_STRLEN: execve refuses any one
// "NAME=value" string of this size or more (E2BIG).
const MaxEnvString = 32 * 4096

// entry is a variable as it moves through the pipeline.
type entry struct {
	name    string
	raw     string // as written: a reference or a literal
	value   string
	origin  string // "environment", "config", or the reference
	ref     *sources.Ref
	version string
	fixes   []string
	from    string
	err     error
	touched bool // resolved or an LLM variable: sanitized and reported
	done    bool // fetched (or needs no fetch)
}

// Resolve runs collect, fetch, sanitize and normalize. It always returns a
// Result, with the report filled as far as the pipeline got; the error joins
// every problem found, each wrapping a sources sentinel (or the stop).
func Resolve(ctx context.Context, opts Options) (*Result, error) {
	res := &Result{Values: map[string]string{}, Origins: map[string]string{}}
	n := newNames(opts.Aliases)
	entries, notes := collect(opts)
	res.Notes = append(res.Notes, notes...)
	docs := opts.docEntries()
	early := newEarly(entries, n, opts.Ready)
	early.entries(opts.ConfigList, docs, opts.ReadyEntry)
	fetchErr := fetch(ctx, append(entries, docs.entries()...), opts, res, early.update)
	docs.apply(res)
	if err := sources.Stopped(ctx); err != nil {
		res.fill(entries, n)
		return res, err
	}
	if fetchErr != nil {
		// The documents' failures are theirs: report the environment's.
		if err := envErrors(entries); err != nil {
			res.fill(entries, n)
			return res, err
		}
	}
	entries, err := finishEntries(entries, n, opts.KeepAliases)
	res.fill(entries, n)
	if err != nil {
		return res, err
	}
	res.scrub(entries, opts)
	return res, nil
}

// Finish ends the sources' work left after the fetch (revoking a token
// keyexec logged in with), all at once. The pipeline runs it beside the
// probe and waits for it before exec; errors are warnings.
func (r *Result) Finish(ctx context.Context) []error {
	if r == nil {
		return nil
	}
	errs := make([]error, len(r.finishers))
	done := make(chan struct{}, len(r.finishers))
	for i, f := range r.finishers {
		go func() {
			errs[i] = f.Finish(ctx)
			done <- struct{}{}
		}()
	}
	for range r.finishers {
		<-done
	}
	r.finishers = nil
	var out []error
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

// envErrors joins the errors of the environment's entries.
func envErrors(entries []*entry) error {
	var errs []error
	for _, e := range entries {
		if e.err != nil {
			errs = append(errs, e.err)
		}
	}
	return errors.Join(errs...)
}

// finishEntries sanitizes and normalizes the fetched entries, and checks
// that the child can be started with them.
func finishEntries(entries []*entry, n names, keepAll bool) ([]*entry, error) {
	sanitizeEntries(entries, n)
	entries, err := normalize(entries, n, keepAll)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, e := range entries {
		if e.err != nil {
			errs = append(errs, e.err)
		} else if len(e.name)+1+len(e.value) >= MaxEnvString && (e.ref != nil || e.touched) {
			errs = append(errs, fmt.Errorf("%s (from %s) is %d bytes: Linux refuses to start a program with a variable of 128 KiB or more; check that the reference points at the right secret: %w",
				e.name, e.origin, len(e.value), sources.ErrInvalid))
		}
	}
	return entries, errors.Join(errs...)
}

// sanitizeEntries repairs every resolved or LLM variable in place.
func sanitizeEntries(entries []*entry, n names) {
	for _, e := range entries {
		if e.err != nil || (e.ref == nil && !n.llm(e.name)) {
			continue
		}
		e.touched = true
		v, fixes, err := Sanitize(e.value, n.isKey(e.name))
		e.value, e.fixes = v, append(e.fixes, fixes...)
		if err != nil {
			e.err = fmt.Errorf("%s (from %s): %w", e.name, e.origin, err)
		}
	}
}

// collect gathers the variables: keyexec's environment, then the config
// file's secrets for names the environment does not set (the environment
// wins, as everywhere in keyexec's configuration).
func collect(opts Options) ([]*entry, []string) {
	var entries []*entry
	var notes []string
	seen := map[string]*entry{}
	for _, kv := range opts.Environ {
		name, val, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			continue
		}
		if _, dup := seen[name]; dup {
			continue // the first wins, as with getenv
		}
		e := &entry{name: name, raw: val, value: val, origin: "environment"}
		seen[name] = e
		entries = append(entries, e)
	}
	keys := make([]string, 0, len(opts.Secrets))
	for k := range opts.Secrets {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, name := range keys {
		if _, ok := seen[name]; ok {
			notes = append(notes, fmt.Sprintf("%s is set in the environment, which overrides secrets.%s in the config file", name, name))
			continue
		}
		v := opts.Secrets[name]
		e := &entry{name: name, raw: v, value: v, origin: "config"}
		seen[name] = e
		entries = append(entries, e)
	}
	for _, e := range entries {
		parseRef(e, e.name)
	}
	return entries, notes
}

// parseRef marks e as a reference to fetch, or as an error when its value
// is a malformed reference, a near miss of a scheme, or a scheme written
// without "//": none of them reaches the child as a literal.
func parseRef(e *entry, what string) {
	switch fixed, missing := sources.MissingSlashes(e.raw); {
	case sources.IsRef(e.raw):
		ref, err := sources.Parse(e.raw)
		if err != nil {
			e.err = fmt.Errorf("%s: %w", what, err)
			return
		}
		e.ref, e.origin, e.value = &ref, ref.Raw, ""
	case missing:
		e.err = fmt.Errorf("%s: %s is a reference written without \"//\": write %s: %w", what, sources.RedactText(e.raw), sources.RedactText(fixed), sources.ErrInvalid)
	default:
		if scheme, ok := sources.LooksLikeRef(e.raw); ok {
			e.err = fmt.Errorf("%s: unknown reference scheme %q: use one of %s:// (or fix the typo): %w",
				what, sources.RedactText(scheme), strings.Join(sources.Schemes, "://, "), sources.ErrInvalid)
		}
	}
	if e.ref == nil && e.err == nil {
		e.done = true
	}
}

func (r *Result) fill(entries []*entry, n names) {
	r.Vars = r.Vars[:0]
	for _, e := range entries {
		if !e.touched && e.ref == nil && e.err == nil && e.from == "" {
			continue // a plain variable passed through untouched: not part of the report
		}
		v := Var{Name: e.name, From: e.from, Source: e.origin, Version: e.version, Fixes: e.fixes}
		switch {
		case e.err != nil:
			v.Error = e.err.Error()
		case shownInClear(e.name, n):
			v.Value = shownValue(e.name, e.value)
		default:
			v.Fingerprint = sources.Fingerprint(e.value)
		}
		r.Vars = append(r.Vars, v)
	}
	sort.SliceStable(r.Vars, func(i, j int) bool { return r.Vars[i].Name < r.Vars[j].Name })
}

// shownInClear reports whether a variable is a known non-secret setting:
// a base URL, an api-version, an organization or project ID, a deployment.
func shownInClear(name string, n names) bool {
	r, ok := n.role(name)
	return ok && !r.Secret()
}

// shownValue is a non-secret setting as the report shows it: URLs without
// userinfo or query, and anything key-shaped fingerprinted all the same.
func shownValue(name, v string) string {
	if r, _ := provider.RoleOf(name); r == provider.RoleBaseURL && strings.Contains(v, "://") {
		return sources.DisplayURL(v)
	}
	if provider.LooksLikeKey(v) || len(v) > 200 {
		return "(" + sources.Fingerprint(v) + ")"
	}
	return sources.RedactText(v)
}

// ReportLine summarises a Result in one line for run's stderr.
func (r *Result) ReportLine() string {
	var fixed, refs int
	for _, v := range r.Vars {
		if len(v.Fixes) > 0 {
			fixed++
		}
		if strings.Contains(v.Source, "://") || strings.HasPrefix(v.Source, "arn:") {
			refs++
		}
	}
	return fmt.Sprintf("%d variables checked, %d resolved from references, %d repaired", len(r.Vars), refs, fixed)
}
