package resolve

import "github.com/keyexec/keyexec/verify/provider"

// early tracks, for each provider, whether every variable it reads (and
// every alias of one) is resolved, and then calls Options.Ready once with
// those variables sanitized and normalized: the probe of a provider whose
// key is in the environment need not wait for another provider's key in
// Vault. The final pipeline repeats the same steps over every variable, so
// an early probe only starts sooner what would be sent anyway.
type early struct {
	n     names
	ready func(provider.Name, map[string]string)
	deps  map[provider.Name][]*entry
	order []provider.Name
	fired map[provider.Name]bool

	// Config-list entries, each with the references it waits for.
	readyEntry func(*ListEntry)
	list       []*ListEntry
	listDeps   map[*ListEntry][]docLeaf
	listFired  map[*ListEntry]bool
}

// entries makes e also watch the kept entries of list, whose references
// are among docs' leaves.
func (e *early) entries(list *ConfigList, docs docSet, ready func(*ListEntry)) {
	if list == nil || ready == nil {
		return
	}
	e.readyEntry, e.listDeps, e.listFired = ready, map[*ListEntry][]docLeaf{}, map[*ListEntry]bool{}
	for _, le := range list.Entries {
		if !le.Kept() {
			continue
		}
		e.list = append(e.list, le)
		for _, l := range docs.leaves {
			if l.doc == &le.Doc {
				e.listDeps[le] = append(e.listDeps[le], l)
			}
		}
	}
}

// updateEntries fires every watched entry whose references are all in: a
// copy with the values put in and sanitized, the original untouched (only
// the final pass writes it).
func (e *early) updateEntries() {
	for _, le := range e.list {
		if e.listFired[le] {
			continue
		}
		vals := map[string]string{}
		for _, l := range e.listDeps[le] {
			if !l.e.done || l.e.err != nil {
				vals = nil
				break
			}
			vals[l.lf.path] = l.e.value
		}
		if vals == nil {
			continue
		}
		e.listFired[le] = true
		cp := *le
		cp.Doc = newDoc(cloneJSON(le.Fields).(map[string]any))
		cp.label = le.label
		for _, lf := range leaves(cp.Fields) {
			if v, ok := vals[lf.path]; ok {
				lf.set(v)
			}
		}
		for _, l := range e.listDeps[le] {
			cp.Refs[l.lf.path] = l.e.ref.Raw
		}
		if sanitizeEntry(&cp) != nil {
			continue // the final pass reports it
		}
		relabel(&cp)
		e.readyEntry(&cp)
	}
}

// cloneJSON copies a parsed JSON value deeply.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, val := range x {
			m[k] = cloneJSON(val)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, val := range x {
			a[i] = cloneJSON(val)
		}
		return a
	}
	return v
}

func newEarly(entries []*entry, n names, ready func(provider.Name, map[string]string)) *early {
	e := &early{n: n, ready: ready, deps: map[provider.Name][]*entry{}, fired: map[provider.Name]bool{}}
	if ready == nil {
		return e
	}
	for _, u := range provider.All() {
		for _, en := range entries {
			if readsName(u, en.name, n) {
				e.deps[u.Name] = append(e.deps[u.Name], en)
			}
		}
		if len(e.deps[u.Name]) > 0 {
			e.order = append(e.order, u.Name)
		}
	}
	return e
}

// readsName reports whether variable name is one of u's or an alias that
// may be copied to one of u's (an OpenAI base-URL alias may go to Azure).
func readsName(u *provider.Unit, name string, n names) bool {
	owns := func(v string) bool { return provider.UnitOfVar(v) == u }
	if owns(name) {
		return true
	}
	a, ok := n.alias(name)
	if !ok {
		return false
	}
	for _, t := range a.Targets() {
		if owns(t) {
			return true
		}
	}
	return false
}

// update fires every provider whose variables are all resolved, and every
// config-list entry whose references are.
func (e *early) update() {
	e.updateEntries()
	for _, name := range e.order {
		if e.fired[name] || !allDone(e.deps[name]) {
			continue
		}
		e.fired[name] = true
		copies := make([]*entry, 0, len(e.deps[name]))
		for _, en := range e.deps[name] {
			c := *en
			c.fixes = append([]string(nil), en.fixes...)
			copies = append(copies, &c)
		}
		final, err := finishEntries(copies, e.n, false)
		if err != nil {
			continue // the final pass reports it
		}
		env := map[string]string{}
		for _, en := range final {
			env[en.name] = en.value
		}
		e.ready(name, env)
	}
}

func allDone(list []*entry) bool {
	for _, e := range list {
		if !e.done || e.err != nil {
			return false
		}
	}
	return true
}
