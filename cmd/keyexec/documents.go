package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/keyexec/keyexec/resolve"
	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify"
)

// listOptions are config_list: as resolve reads it.
func listOptions(cfg *Config, dir string) resolve.ListOptions {
	return resolve.ListOptions{Var: cfg.ConfigList.Env, File: cfg.ConfigList.File, Filter: cfg.ConfigList.Filter, Dir: dir}
}

// loadList reads the AutoGen config list before the resolve, so that its
// references are fetched with the environment's. When the list's variable
// is itself a reference, the list can only be read once it is resolved:
// deferred is then true and the list nil.
func loadList(cfg *Config, env map[string]string, dir string) (l *resolve.ConfigList, deferred bool, err error) {
	name := cfg.ConfigList.Env
	if name == "" {
		name = resolve.DefaultConfigListVar
	}
	if v := env[name]; sources.IsRef(v) {
		return nil, true, nil
	}
	l, err = resolve.LoadConfigList(env, listOptions(cfg, dir))
	if l == nil || err != nil {
		return nil, false, err
	}
	return l, false, l.Check()
}

// loadDeferredList reads a list whose variable was a reference, from the
// resolved environment, and resolves its own references in a second round.
func loadDeferredList(ctx context.Context, cfg *Config, res *resolve.Result, opts resolve.Options, dir string) (*resolve.ConfigList, error) {
	l, err := resolve.LoadConfigList(res.Values, listOptions(cfg, dir))
	if l == nil || err != nil {
		return nil, err
	}
	if err := l.Check(); err != nil {
		return l, err
	}
	_ = l.Resolve(ctx, opts, res) // failures are in the entries
	return l, nil
}

// loadComponents reads every component file named by components: and
// --component.
func loadComponents(cfg *Config, dir string) ([]*resolve.ComponentFile, error) {
	var out []*resolve.ComponentFile
	var errs []error
	for _, c := range cfg.Components {
		f, err := resolve.LoadComponent(c.File, c.Env, dir)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, f)
	}
	return out, errors.Join(errs...)
}

// docErrors judges the documents' resolve failures: a component's stops the
// run; a config-list entry's too, or under on_entry_failure: drop removes
// the entry, and only no entry left stops the run.
func docErrors(l *resolve.ConfigList, comps []*resolve.ComponentFile, policy string) error {
	var errs []error
	for _, f := range comps {
		if f.Err != nil {
			errs = append(errs, f.Err)
		}
	}
	if l == nil {
		return errors.Join(errs...)
	}
	var dropped []error
	for _, e := range l.Kept() {
		switch {
		case e.Err == nil:
		case policy == "drop":
			l.Drop(e.Index, e.Err.Error())
			dropped = append(dropped, e.Err)
		default:
			errs = append(errs, e.Err)
		}
	}
	if len(l.Kept()) == 0 && len(dropped) > 0 {
		errs = append(errs, fmt.Errorf("every entry of the config list failed and was dropped (config_list.on_entry_failure: drop), so the app would have no model: fix at least one entry"))
		errs = append(errs, dropped...)
	}
	return errors.Join(errs...)
}

// componentView is a model-client component as the checks take it.
func componentView(c *resolve.Component) verify.Component {
	return verify.Component{Index: c.Index, Label: c.Label(), Provider: c.Provider, Config: c.Config, Ref: c.Ref}
}
