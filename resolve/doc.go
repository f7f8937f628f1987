package resolve

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/keyexec/keyexec/sources"
)

// Doc is a JSON document whose strings may hold references: one entry of an
// AutoGen config list, or the config of a component. Resolving it puts the
// values in place; it then holds secrets: print its report, never its fields.
type Doc struct {
	// Fields are the parsed JSON; strings are resolved and sanitized by
	// Resolve.
	Fields map[string]any
	// Refs maps each string resolved from a reference to the reference, as
	// "api_key" → "vault://secret/llm#key" (nested as "a.b", "a[0]").
	Refs     map[string]string
	Versions map[string]string // field → version read, when the backend has one
	Fixes    []string          // sanitize repairs, "api_key: removed trailing \n"
	Err      error             // resolving or sanitizing failed

	label    string
	skip     bool             // not resolved (filtered out)
	sanitize func(*Doc) error // the owner's repairs once the values are in
	relabel  func()           // the owner's label may use a resolved field
}

func newDoc(fields map[string]any) Doc {
	return Doc{Fields: fields, Refs: map[string]string{}, Versions: map[string]string{}}
}

// Label names the document for reports and errors without any value:
// "config list entry 0 (gpt-4o)".
func (d *Doc) Label() string { return d.label }

// Str returns a string field, "" when it is absent, null or not a string.
func (d *Doc) Str(field string) string {
	s, _ := d.Fields[field].(string)
	return s
}

// Has reports whether field is present and not null.
func (d *Doc) Has(field string) bool { return d.Fields[field] != nil }

// docLeaf is one string of a document that is a reference to fetch (or a
// reference written wrongly).
type docLeaf struct {
	doc *Doc
	lf  leaf
	e   *entry
}

// docSet is every reference of the documents resolved in one round.
type docSet struct {
	docs   []*Doc
	leaves []docLeaf
}

// collectDocs finds the references in the strings of docs.
func collectDocs(docs []*Doc) docSet {
	var s docSet
	for _, d := range docs {
		if d.skip {
			continue
		}
		s.docs = append(s.docs, d)
		for _, lf := range leaves(d.Fields) {
			e := &entry{name: d.label + ": " + lf.path, raw: lf.val, origin: lf.val}
			parseRef(e, e.name)
			if e.done {
				continue // a literal
			}
			s.leaves = append(s.leaves, docLeaf{doc: d, lf: lf, e: e})
		}
	}
	return s
}

func (s docSet) entries() []*entry {
	out := make([]*entry, len(s.leaves))
	for i, l := range s.leaves {
		out[i] = l.e
	}
	return out
}

// apply puts the fetched values in their documents, then sanitizes each
// document that resolved whole, and gives res the secrets now in them.
func (s docSet) apply(res *Result) {
	failed := map[*Doc][]error{}
	for _, l := range s.leaves {
		if l.e.err != nil {
			failed[l.doc] = append(failed[l.doc], l.e.err)
			continue
		}
		l.lf.set(l.e.value)
		l.doc.Refs[l.lf.path] = l.e.ref.Raw
		if l.e.version != "" {
			l.doc.Versions[l.lf.path] = l.e.version
		}
	}
	for _, d := range s.docs {
		if errs := failed[d]; len(errs) > 0 {
			d.Err = errors.Join(errs...)
			continue
		}
		if d.sanitize != nil {
			d.Err = d.sanitize(d)
		}
		if d.relabel != nil {
			d.relabel()
		}
		res.Secrets = append(res.Secrets, d.secrets()...)
	}
}

// secrets are the secret values a resolved document holds: its key and
// token fields, and whatever was resolved from a reference but the known
// non-secret fields (URLs, versions, model names).
func (d *Doc) secrets() []string {
	var out []string
	for _, lf := range leaves(d.Fields) {
		last := lf.path[strings.LastIndexAny(lf.path, ".[")+1:]
		_, fromRef := d.Refs[lf.path]
		if last == "api_key" || last == "azure_ad_token" || isKeyName(last) || fromRef && !nonSecretField(last) {
			out = append(out, lf.val)
		}
	}
	return out
}

// nonSecretField names the fields that are settings, not credentials.
func nonSecretField(name string) bool {
	switch name {
	case "model", "base_url", "azure_endpoint", "api_version", "api_type", "azure_deployment", "organization", "host", "client_host", "provider", "component_type":
		return true
	}
	return false
}

// docs gathers the documents of the config list and the components.
func (o Options) docEntries() docSet {
	var docs []*Doc
	if o.ConfigList != nil {
		for _, e := range o.ConfigList.Entries {
			docs = append(docs, &e.Doc)
		}
	}
	for _, c := range o.Components {
		docs = append(docs, c.docs()...)
	}
	return collectDocs(docs)
}

// ResolveDocs resolves documents loaded after the environment (a config
// list whose variable was itself a reference): a second fetch round
// through the same sources, whose work left (Finish) and credentials are
// added to res. The error joins the documents' failures.
func ResolveDocs(ctx context.Context, opts Options, docs []*Doc, res *Result) error {
	set := collectDocs(docs)
	_ = fetch(ctx, set.entries(), opts, res, nil)
	res.Secrets = append(res.Secrets, res.ownCredentials...)
	set.apply(res)
	if err := sources.Stopped(ctx); err != nil {
		return err
	}
	var errs []error
	for _, d := range set.docs {
		if d.Err != nil {
			errs = append(errs, d.Err)
		}
	}
	return errors.Join(errs...)
}

// leaf is one string inside a document, wherever it sits, with a way to put
// the resolved value back.
type leaf struct {
	path string // "api_key", "default_headers.X-Key", "tags[0]"
	top  string // the field it is under
	val  string
	set  func(string)
}

// leaves walks a document's fields in a stable order and returns every
// string.
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

// isKeyName reports whether a field's name (a header in default_headers, a
// nested key) says it holds an API key or token, which turns on the key
// rules of Sanitize: such a value goes into an HTTP header.
func isKeyName(name string) bool {
	n := strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
	return strings.HasSuffix(n, "_KEY") || strings.HasSuffix(n, "APIKEY") || n == "API_KEY" ||
		strings.HasSuffix(n, "_TOKEN") || strings.HasSuffix(n, "_SECRET_KEY")
}

// replaceVar is env with NAME set to value (any earlier NAME removed).
func replaceVar(env []string, name, value string) []string {
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if n, _, _ := strings.Cut(kv, "="); n != name {
			out = append(out, kv)
		}
	}
	return append(out, name+"="+value)
}
