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

// update fires every provider whose variables are all resolved.
func (e *early) update() {
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
