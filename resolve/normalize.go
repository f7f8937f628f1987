package resolve

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// names is the table of names normalize works with: every provider's
// variables and built-in aliases (verify/provider), plus the configured ones.
type names struct {
	aliases []provider.Alias
}

// newNames builds the table with the user's aliases (config aliases:) added
// to the built-in ones; a user alias overrides a built-in of the same name.
func newNames(user map[string]string) names {
	n := names{}
	for _, a := range provider.Aliases() {
		if _, over := user[a.Name]; !over {
			n.aliases = append(n.aliases, a)
		}
	}
	keys := make([]string, 0, len(user))
	for k := range user {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		n.aliases = append(n.aliases, provider.Alias{Name: k, To: user[k]})
	}
	return n
}

// alias returns the alias called name.
func (n names) alias(name string) (provider.Alias, bool) {
	for _, a := range n.aliases {
		if a.Name == name {
			return a, true
		}
	}
	return provider.Alias{}, false
}

// role is the role of a variable: its own, or that of the canonical name
// it is an alias of; false for a variable no provider reads.
func (n names) role(name string) (provider.Role, bool) {
	if v, ok := provider.VarByName(name); ok {
		return v.Role, true
	}
	if a, ok := n.alias(name); ok {
		if v, ok := provider.VarByName(a.To); ok {
			return v.Role, true
		}
	}
	return 0, false
}

// llm reports whether name is a provider variable or an alias of one:
// such variables are sanitized and reported even when not from a reference.
func (n names) llm(name string) bool {
	if _, ok := n.role(name); ok {
		return true
	}
	_, ok := n.alias(name)
	return ok
}

// isKey reports whether name holds an API key or token, which turns on the
// key rules of Sanitize: such a value goes into an HTTP header.
func (n names) isKey(name string) bool {
	r, ok := n.role(name)
	return ok && r.Secret()
}

// rename is one alias copied to its canonical name.
type rename struct{ from, to string }

// planRenames decides, for the variables present, which aliases move where.
// Pure: the caller applies the plan and reports conflicts.
func (n names) planRenames(vars map[string]string) []rename {
	var plan []rename
	for _, name := range slices.Sorted(maps.Keys(vars)) {
		a, ok := n.alias(name)
		if !ok {
			continue
		}
		if to := a.Target(vars[name]); to != "" && to != name {
			plan = append(plan, rename{from: name, to: to})
		}
	}
	return plan
}

// keep reports whether alias stays in the child after being copied: a
// known consumer reads it under its own name (LiteLLM's AZURE_API_KEY).
func (n names) keep(alias string) (bool, string) {
	a, ok := n.alias(alias)
	if !ok || len(a.ReadBy) == 0 {
		return false, ""
	}
	return true, strings.Join(a.ReadBy, ", ")
}

// normalize copies aliases to canonical names, reports conflicts and repairs
// endpoint URLs. It returns the entries in their final form.
func normalize(entries []*entry, n names, keepAll bool) ([]*entry, error) {
	byName := map[string]*entry{}
	values := map[string]string{}
	for _, e := range entries {
		byName[e.name] = e
		if e.err == nil {
			values[e.name] = e.value
		}
	}
	var errs []error
	claimed := map[string]string{} // canonical → alias that moved there
	var out []*entry
	moved := map[string]bool{}
	drop := func(alias string) {
		keep, who := n.keep(alias)
		if keep && !keepAll {
			byName[alias].fixes = append(byName[alias].fixes, "kept under its own name too: "+who+" reads it")
		}
		moved[alias] = !keepAll && !keep
	}
	for _, rn := range n.planRenames(values) {
		src := byName[rn.from]
		if dst, ok := byName[rn.to]; ok && dst.err == nil {
			if dst.value != src.value {
				errs = append(errs, conflictError(rn.from, rn.to, rn.to, src.value, dst.value))
				continue
			}
			src.fixes = append(src.fixes, "same value as "+rn.to+", which is kept")
			drop(rn.from)
			continue
		}
		if other, ok := claimed[rn.to]; ok {
			if byName[other].value != src.value {
				errs = append(errs, conflictError(other, rn.from, rn.to, byName[other].value, src.value))
			}
			drop(rn.from)
			continue
		}
		claimed[rn.to] = rn.from
		ne := *src
		ne.name, ne.from, ne.touched = rn.to, rn.from, true
		ne.fixes = append([]string{"copied from " + rn.from}, src.fixes...)
		out = append(out, &ne)
		drop(rn.from)
	}
	for _, e := range entries {
		if !moved[e.name] {
			out = append(out, e)
		}
	}
	for _, e := range out {
		if e.err == nil && isBase(e.name) {
			if u := provider.UnitOfVar(e.name); u != nil {
				if v, fixes := u.RepairURL(e.value); len(fixes) > 0 {
					e.value, e.touched = v, true
					e.fixes = append(e.fixes, fixes...)
				}
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	if len(errs) > 0 {
		return out, errors.Join(errs...)
	}
	return out, nil
}

// isBase reports whether a canonical variable is a base URL.
func isBase(name string) bool {
	v, ok := provider.VarByName(name)
	return ok && v.Role == provider.RoleBaseURL
}

// conflictError names two variables that both set one canonical name.
func conflictError(a, b, canonical, va, vb string) error {
	return fmt.Errorf("%s (%s) and %s (%s) both set %s to different values: unset one of them: %w",
		a, sources.Fingerprint(va), b, sources.Fingerprint(vb), canonical, sources.ErrInvalid)
}
