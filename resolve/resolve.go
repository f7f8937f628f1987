// Package resolve runs keyexec's pipeline up to the child's final
// environment: collect the variables (environment and config secrets), fetch
// every reference through its source (deduplicated, concurrent, under one
// deadline), sanitize the values and normalize the names. Every step is
// recorded in a report that never holds a value, only fingerprints.
package resolve

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/keyexec/keyexec/sources"
)

// Opener builds a source on first use, so that no SDK client is constructed
// unless a reference needs it.
type Opener func(ctx context.Context) (sources.Source, error)

// Options is everything Resolve needs; cmd/keyexec builds it from Config.
type Options struct {
	Environ     []string          // keyexec's own environment, KEY=VALUE
	Secrets     map[string]string // config file secrets: name → reference or literal
	Aliases     map[string]string // extra aliases, added to BuiltinAliases
	KeepAliases bool              // keep alias variables in the child too
	Scrub       []string          // variables removed from the child; KEYEXEC_* always are
	Sources     map[string]Opener // scheme → source constructor
	Timeout     time.Duration     // deadline for fetching every reference
	Rules       Rules
}

// Var is the report of one child variable. It never holds the value.
type Var struct {
	Name        string   `json:"name"`
	From        string   `json:"from,omitempty"` // alias it was renamed from
	Source      string   `json:"source"`         // reference, or "environment" / "config"
	Version     string   `json:"version,omitempty"`
	Fingerprint string   `json:"fingerprint,omitempty"`
	Fixes       []string `json:"fixes,omitempty"`
	Error       string   `json:"error,omitempty"`
}

// Result is the outcome of Resolve: the child's environment and the report.
type Result struct {
	// Environ is the child's final environment, KEY=VALUE, sorted by name.
	Environ []string `json:"-"`
	// Values holds the final values by name, for the shape checks.
	Values map[string]string `json:"-"`
	// Origins says where each variable's value came from, for hints.
	Origins  map[string]string `json:"-"`
	Vars     []Var             `json:"variables"`
	Notes    []string          `json:"notes,omitempty"`
	Scrubbed []string          `json:"scrubbed,omitempty"`
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
}

// Resolve runs collect, fetch, sanitize and normalize. It always returns a
// Result, with the report filled as far as the pipeline got; the error joins
// every problem found, each wrapping a sources sentinel.
func Resolve(ctx context.Context, opts Options) (*Result, error) {
	res := &Result{Values: map[string]string{}, Origins: map[string]string{}}
	entries, notes := collect(opts)
	res.Notes = append(res.Notes, notes...)

	if err := fetch(ctx, entries, opts); err != nil {
		res.fill(entries)
		return res, err
	}
	aliases := BuiltinAliases()
	for k, v := range opts.Aliases {
		aliases[k] = v
	}
	llm := map[string]bool{}
	for _, n := range canonicalNames {
		llm[n] = true
	}
	for _, n := range otherProviderKeys {
		llm[n] = true
	}
	for a, c := range aliases {
		llm[a], llm[c] = true, true
	}
	keys := keyVars(aliases)
	for _, e := range entries {
		if e.err != nil || (e.ref == nil && !llm[e.name]) {
			continue
		}
		e.touched = true
		v, fixes, err := Sanitize(e.value, keys[e.name])
		e.value, e.fixes = v, append(e.fixes, fixes...)
		if err != nil {
			e.err = fmt.Errorf("%s (from %s): %w", e.name, e.origin, err)
		}
	}
	entries, err := normalize(entries, aliases, opts)
	var errs []error
	if err != nil {
		errs = append(errs, err)
	}
	for _, e := range entries {
		if e.err != nil {
			errs = append(errs, e.err)
		}
	}
	res.fill(entries)
	if len(errs) > 0 {
		return res, errors.Join(errs...)
	}
	scrub := map[string]bool{}
	for _, s := range opts.Scrub {
		scrub[s] = true
	}
	for _, e := range entries {
		if len(e.name)+1+len(e.value) >= MaxEnvString && (e.ref != nil || e.touched) {
			errs = append(errs, fmt.Errorf("%s (from %s) is %d bytes: Linux refuses to start a program with a variable of 128 KiB or more; check that the reference points at the right secret: %w",
				e.name, e.origin, len(e.value), sources.ErrInvalid))
		}
	}
	if len(errs) > 0 {
		return res, errors.Join(errs...)
	}
	for _, e := range entries {
		if scrub[e.name] || strings.HasPrefix(e.name, "KEYEXEC_") {
			res.Scrubbed = append(res.Scrubbed, e.name)
			continue
		}
		res.Environ = append(res.Environ, e.name+"="+e.value)
		res.Values[e.name] = e.value
		res.Origins[e.name] = e.origin
	}
	return res, nil
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
	names := make([]string, 0, len(opts.Secrets))
	for n := range opts.Secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
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
		if sources.IsRef(e.raw) {
			ref, err := sources.Parse(e.raw)
			if err != nil {
				e.err = fmt.Errorf("%s: %w", e.name, err)
				continue
			}
			e.ref, e.origin, e.value = &ref, ref.Raw, ""
		} else if scheme, ok := sources.LooksLikeRef(e.raw); ok {
			e.err = fmt.Errorf("%s: unknown reference scheme %q: use one of %s:// (or fix the typo): %w",
				e.name, scheme, strings.Join(sources.Schemes, "://, "), sources.ErrInvalid)
		}
	}
	return entries, notes
}

func (r *Result) fill(entries []*entry) {
	r.Vars = r.Vars[:0]
	for _, e := range entries {
		if !e.touched && e.ref == nil && e.err == nil && e.from == "" {
			continue // a plain variable passed through untouched: not part of the report
		}
		v := Var{Name: e.name, From: e.from, Source: e.origin, Version: e.version, Fixes: e.fixes}
		if e.err != nil {
			v.Error = e.err.Error()
		} else {
			v.Fingerprint = sources.Fingerprint(e.value)
		}
		r.Vars = append(r.Vars, v)
	}
	sort.SliceStable(r.Vars, func(i, j int) bool { return r.Vars[i].Name < r.Vars[j].Name })
}
