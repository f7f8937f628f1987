package resolve

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/keyexec/keyexec/sources"
)

// Resolve fetches every reference found in a string of the entries that
// passed the filter (top-level fields and nested ones, such as
// default_headers), through opts.Sources, one batch per scheme under
// opts.Timeout; then it sanitizes the entries as Resolve does variables:
// api_key and azure_ad_token with the key rules, base_url and
// azure_endpoint repaired like endpoint variables. Failures are recorded in
// each entry's Err; the returned error joins them.
func (l *ConfigList) Resolve(ctx context.Context, opts Options) error {
	type pending struct {
		le *ListEntry
		lf leaf
		e  *entry
	}
	var batch []*entry
	var ps []pending
	for _, le := range l.Entries {
		if le.Filtered {
			continue
		}
		for _, lf := range leaves(le.Fields) {
			e := &entry{name: le.label + ": " + lf.path, raw: lf.val, origin: lf.val}
			switch scheme, near := sources.LooksLikeRef(lf.val); {
			case sources.IsRef(lf.val):
				ref, err := sources.Parse(lf.val)
				if err != nil {
					e.err = fmt.Errorf("%s: %w", e.name, err)
				} else {
					e.ref = &ref
				}
			case near:
				e.err = fmt.Errorf("%s: unknown reference scheme %q: use one of %s:// (or fix the typo): %w",
					e.name, scheme, strings.Join(sources.Schemes, "://, "), sources.ErrInvalid)
			default:
				continue
			}
			batch = append(batch, e)
			ps = append(ps, pending{le: le, lf: lf, e: e})
		}
	}
	_ = fetch(ctx, batch, opts) // failures are in each entry's err
	failed := map[*ListEntry][]error{}
	for _, p := range ps {
		if p.e.err != nil {
			failed[p.le] = append(failed[p.le], p.e.err)
			continue
		}
		p.lf.set(p.e.value)
		p.le.Refs[p.lf.path] = p.e.ref.Raw
		if p.e.version != "" {
			p.le.Versions[p.lf.path] = p.e.version
		}
	}
	var errs []error
	for _, le := range l.Entries {
		if le.Filtered {
			continue
		}
		if errs := failed[le]; len(errs) > 0 {
			le.Err = errors.Join(errs...)
		} else {
			le.Err = l.sanitize(le, opts.Rules)
			l.relabel(le) // the model may have been a reference
		}
		if le.Err != nil {
			errs = append(errs, le.Err)
		}
	}
	return errors.Join(errs...)
}

// sanitize repairs one resolved entry in place and records the fixes.
func (l *ConfigList) sanitize(le *ListEntry, rules Rules) error {
	known := map[string]bool{}
	for _, f := range stringFields {
		known[f] = true
	}
	var errs []error
	for _, lf := range leaves(le.Fields) {
		_, fromRef := le.Refs[lf.path]
		isTop := lf.path == lf.top
		if !(isTop && known[lf.top]) && !fromRef {
			continue // other literals go to the child as written
		}
		last := lf.path[strings.LastIndexAny(lf.path, ".[")+1:]
		isKey := isKeyField(lf.path) || (!isTop && isKeyName(strings.ReplaceAll(last, "-", "_")))
		v, fixes, err := Sanitize(lf.val, isKey)
		if err == nil && isTop && (lf.top == "base_url" || lf.top == "azure_endpoint") {
			var more []string
			v, more = fixEndpoint(endpointVar(le, lf.top), v, rules)
			fixes = append(fixes, more...)
		}
		for _, f := range fixes {
			le.Fixes = append(le.Fixes, lf.path+": "+f)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", le.label, lf.path, err))
			continue
		}
		if v != lf.val {
			lf.set(v)
		}
	}
	return errors.Join(errs...)
}

// endpointVar is the variable whose URL rules apply to an entry's URL field:
// AutoGen hands base_url to AzureOpenAI as azure_endpoint for azure entries.
func endpointVar(le *ListEntry, field string) string {
	apiType := le.Str("api_type")
	switch {
	case field == "azure_endpoint" || strings.HasPrefix(apiType, "azure"):
		return AzureEndpoint
	case apiType == "anthropic":
		return AnthropicBaseURL
	}
	return OpenAIBaseURL
}

// leaf is one string inside an entry, wherever it sits, with a way to put
// the resolved value back.
type leaf struct {
	path string // "api_key", "default_headers.X-Key", "tags[0]"
	top  string // the entry field it is under
	val  string
	set  func(string)
}

// leaves walks an entry's fields in a stable order and returns every string.
func leaves(fields map[string]any) []leaf {
	var out []leaf
	var walk func(path, top string, v any, set func(any))
	walk = func(path, top string, v any, set func(any)) {
		switch x := v.(type) {
		case string:
			out = append(out, leaf{path: path, top: top, val: x, set: func(s string) { set(s) }})
		case map[string]any:
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(path+"."+k, top, x[k], func(nv any) { x[k] = nv })
			}
		case []any:
			for i := range x {
				walk(fmt.Sprintf("%s[%d]", path, i), top, x[i], func(nv any) { x[i] = nv })
			}
		}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		walk(k, k, fields[k], func(nv any) { fields[k] = nv })
	}
	return out
}
