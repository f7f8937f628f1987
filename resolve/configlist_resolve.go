package resolve

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/keyexec/keyexec/verify/provider"
)

// Resolve fetches every reference found in a string of the entries that
// passed the filter (top-level fields and nested ones, such as
// default_headers) as a round of its own, for a list loaded after the
// environment; a list loaded before goes in Options.ConfigList and is
// fetched with the environment. Failures are recorded in each entry's Err;
// the returned error joins them.
func (l *ConfigList) Resolve(ctx context.Context, opts Options, res *Result) error {
	docs := make([]*Doc, 0, len(l.Entries))
	for _, e := range l.Entries {
		docs = append(docs, &e.Doc)
	}
	return ResolveDocs(ctx, opts, docs, res)
}

// prepare sets up an entry for resolving: filtered entries are skipped,
// the others sanitized once their values are in.
func (l *ConfigList) prepare(e *ListEntry) {
	e.skip = e.Filtered
	e.sanitize = func(*Doc) error { return sanitizeEntry(e) }
	e.relabel = func() { relabel(e) }
}

// sanitizeEntry repairs one resolved entry in place and records the fixes:
// the fields AutoGen hands the SDK as strings, and anything resolved from a
// reference (keys with the key rules; base_url and azure_endpoint as the
// endpoint variables of the entry's provider).
func sanitizeEntry(e *ListEntry) error {
	known := map[string]bool{}
	for _, f := range stringFields {
		known[f] = true
	}
	var errs []error
	for _, lf := range leaves(e.Fields) {
		_, fromRef := e.Refs[lf.path]
		isTop := lf.path == lf.top
		if !(isTop && known[lf.top]) && !fromRef {
			continue // other literals go to the child as written
		}
		last := lf.path[strings.LastIndexAny(lf.path, ".[")+1:]
		isKey := isKeyField(lf.path) || (!isTop && isKeyName(last))
		v, fixes, err := Sanitize(lf.val, isKey)
		if err == nil && isTop && (lf.top == "base_url" || lf.top == "azure_endpoint") {
			if u := endpointUnit(e, lf.top); u != nil {
				var more []string
				v, more = u.RepairURL(v)
				fixes = append(fixes, more...)
			}
		}
		for _, f := range fixes {
			e.Fixes = append(e.Fixes, lf.path+": "+f)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", e.label, lf.path, err))
			continue
		}
		if v != lf.val {
			lf.set(v)
		}
	}
	return errors.Join(errs...)
}

// endpointUnit is the provider whose URL rules apply to an entry's URL
// field: AG2 hands base_url to AzureOpenAI as azure_endpoint for azure.
func endpointUnit(e *ListEntry, field string) *provider.Unit {
	if field == "azure_endpoint" {
		return provider.ByName(string(provider.Azure))
	}
	return provider.ForAPIType(e.Str("api_type"))
}
