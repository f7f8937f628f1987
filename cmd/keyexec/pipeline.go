package main

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/keyexec/keyexec/resolve"
	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/awssm"
	envsrc "github.com/keyexec/keyexec/sources/env"
	"github.com/keyexec/keyexec/sources/file"
	"github.com/keyexec/keyexec/sources/vault"
	"github.com/keyexec/keyexec/verify"
	"github.com/keyexec/keyexec/verify/provider"
)

// openers maps each scheme to its source constructor. Sources are built only
// when a reference of their scheme exists, so a run without vault:// builds
// no Vault client and a run without awssm:// loads no AWS configuration.
func (a *app) openers(cfg *Config) map[string]resolve.Opener {
	return map[string]resolve.Opener{
		"env": func(ctx context.Context) (sources.Source, error) {
			return envsrc.New(ctx, envsrc.Config{Env: a.env})
		},
		"file": func(ctx context.Context) (sources.Source, error) {
			dir, _ := os.Getwd()
			return file.New(ctx, file.Config{Dir: dir})
		},
		"cred": func(ctx context.Context) (sources.Source, error) {
			return file.New(ctx, file.Config{Dir: a.env["CREDENTIALS_DIRECTORY"], Cred: true})
		},
		"vault": func(ctx context.Context) (sources.Source, error) {
			vc := cfg.Vault
			vc.Env, vc.Logger = a.env, a.out.log
			return vault.New(ctx, vc)
		},
		"awssm": func(ctx context.Context) (sources.Source, error) {
			return awssm.New(ctx, cfg.AWS)
		},
	}
}

// checkOptions are the checks' settings from the configuration.
func (a *app) checkOptions(cfg *Config) verify.CheckOptions {
	return verify.CheckOptions{
		Providers: cfg.Providers, AllowHTTP: cfg.Probe.AllowHTTP, Model: cfg.Probe.Model, Deployment: cfg.Probe.Deployment,
		AzureAuth: cfg.Azure.Auth, EntraScopes: []string{cfg.Azure.Scope}, Env: a.env, BaseURLs: cfg.BaseURLs,
		Now: time.Now(), MinTokenTTL: max(cfg.Probe.MinTokenTTL, cfg.Supervise.Watch),
	}
}

// prepare runs the pipeline up to the exec: load the config list and the
// components, resolve everything in one round (probing each provider as
// soon as its credentials are in), check, probe, judge. The report is
// filled as far as the pipeline got, also on error; a stop signal ends it
// at once with the stop.
func (a *app) prepare(ctx context.Context, cfg *Config) (*Report, []string, error) {
	rep := &Report{Config: cfg.file, Provider: strings.Join(cfg.Providers, ",")}
	dir, _ := os.Getwd()
	srcs := resolve.ShareSources(a.openers(cfg)) // one source and one fetch per reference for every pass
	list, deferred, err := loadList(cfg, a.env, dir)
	rep.List = list
	if err != nil {
		return rep, nil, err
	}
	if rep.Components, err = loadComponents(cfg, dir); err != nil {
		return rep, nil, err
	}
	none := len(cfg.Providers) == 1 && cfg.Providers[0] == "none"
	probing := cfg.Probe.Enabled && !none
	opts := a.checkOptions(cfg)
	prober := verify.NewProber(ctx, verify.ProbeOptions{Timeout: cfg.Probe.Timeout, AllowHTTP: cfg.Probe.AllowHTTP, Env: a.env, Entra: verify.NewEntraSource(a.env)})
	defer prober.Close()
	ropts := resolve.Options{
		Environ: a.environ, Secrets: cfg.Secrets, Aliases: cfg.Aliases, KeepAliases: cfg.KeepAliases,
		Scrub: cfg.Scrub, PassThrough: cfg.PassThrough, Sources: srcs, Timeout: cfg.Timeout, Components: rep.Components,
	}
	if !deferred {
		ropts.ConfigList = list
	}
	// An early probe sends the environment's key before the config list
	// and components are checked; with them, auto detection may find the
	// key used only at an entry's own base URL (verify.EnvCandidates), so
	// the environment is probed once everything is known.
	docs := list != nil || deferred || len(rep.Components) > 0
	if probing && (!docs || !opts.Auto()) {
		ropts.Ready = func(p provider.Name, env map[string]string) { startEarly(prober, p, env, opts) }
	}
	if probing && !deferred {
		ropts.ReadyEntry = func(e *resolve.ListEntry) { startEntryEarly(prober, e, opts) }
	}
	res, err := resolve.Resolve(ctx, ropts)
	rep.Resolve = res
	a.out.secrets(res.Secrets...)
	// Revoking a token keyexec logged in with runs beside the probe, and
	// ends before prepare returns, whatever happens.
	finished := make(chan []error, 1)
	go func() { finished <- res.Finish(context.WithoutCancel(ctx)) }()
	defer func() {
		for _, e := range <-finished {
			a.out.warn(e.Error())
		}
	}()
	if err == nil && deferred {
		rep.List, err = loadDeferredList(ctx, cfg, res, ropts, dir)
		a.out.secrets(res.Secrets...)
	}
	if err == nil {
		err = docErrors(rep.List, rep.Components, cfg.ConfigList.OnEntryFailure)
	}
	if stop := sources.Stopped(ctx); stop != nil {
		return rep, nil, stop
	}
	if err != nil {
		return rep, nil, err
	}
	opts.Origins = res.Origins
	if none {
		rep.Skipped = "--provider none: LLM checks are off"
	} else if err := a.judge(rep, res.Values, opts, prober, probing, cfg); err != nil {
		return rep, nil, err
	}
	if stop := sources.Stopped(ctx); stop != nil {
		return rep, nil, stop
	}
	environ, err := childEnviron(res.Environ, rep)
	return rep, environ, err
}

// startEntryEarly probes a config-list entry whose references are
// resolved while other sources are still being read, when it stands alone
// (needs nothing from the environment); the final probe reuses it.
func startEntryEarly(p *verify.Prober, e *resolve.ListEntry, opts verify.CheckOptions) {
	entry := verify.Entry{Index: e.Index, Label: e.Label(), Fields: e.Fields, Refs: e.Refs}
	if !entry.StandsAlone() {
		return
	}
	c := verify.EntryCandidate(entry, map[string]string{}, opts)
	if t, _, err := verify.Check(c, opts); err == nil && c.NotProven == "" {
		p.Start(t)
	}
}

// startEarly probes a provider whose credentials are resolved while other
// sources are still being read; the final probe reuses it.
func startEarly(p *verify.Prober, name provider.Name, env map[string]string, opts verify.CheckOptions) {
	cands, err := verify.EnvCandidates(env, opts, nil)
	if err != nil {
		return
	}
	for _, c := range cands {
		if c.Client.Name != name {
			continue
		}
		if t, _, err := verify.Check(c, opts); err == nil && c.NotProven == "" {
			p.Start(t)
		}
	}
}

// judge builds every candidate (the environment's, each config-list entry,
// each component's model client), checks them, probes what passed, and
// settles them under the policies; entries dropped under drop leave the list.
func (a *app) judge(rep *Report, values map[string]string, opts verify.CheckOptions, prober *verify.Prober, probing bool, cfg *Config) error {
	var others []verify.Candidate
	if rep.List != nil {
		for _, e := range rep.List.Kept() {
			others = append(others, verify.EntryCandidate(verify.Entry{Index: e.Index, Label: e.Label(), Fields: e.Fields, Refs: e.Refs}, values, opts))
		}
	}
	for _, f := range rep.Components {
		for _, c := range f.Clients {
			others = append(others, verify.ComponentCandidate(componentView(c), values, opts))
		}
	}
	env, err := verify.EnvCandidates(values, opts, others)
	if err != nil {
		return err
	}
	rep.Candidates = append(env, others...)
	rep.Notes = verify.Notes(rep.Candidates)
	targets, checkErrs, warnings := verify.Plan(rep.Candidates, opts)
	rep.Targets = targets
	rep.Warnings = append(rep.Warnings, warnings...)
	if probing {
		rep.Probes = prober.Probe(targets)
	} else if cfg.Probe.Enabled {
		rep.Skipped = "no credential to probe"
	} else {
		rep.Skipped = "probe disabled (--no-probe): the credentials were checked offline only, not proven"
	}
	rep.Verdict = verify.Judge(rep.Candidates, checkErrs, targets, rep.Probes, verify.Policy{OnUnreachable: cfg.Probe.OnUnreachable, OnEntryFailure: cfg.ConfigList.OnEntryFailure})
	for _, w := range rep.Verdict.Warnings {
		rep.Warnings = append(rep.Warnings, w)
		a.out.warn(w)
	}
	for i, c := range rep.Candidates {
		if c.From == verify.FromEntry && rep.Verdict.Candidates[i].Status == verify.StatusDropped {
			rep.List.Drop(c.Index, rep.Verdict.Candidates[i].Reason)
		}
	}
	return rep.Verdict.Err
}

// childEnviron is the final environment with the resolved config list and
// component files in their variables.
func childEnviron(env []string, rep *Report) ([]string, error) {
	env, err := rep.List.Environ(env)
	if err != nil {
		return nil, err
	}
	for _, f := range rep.Components {
		if env, err = f.Environ(env); err != nil {
			return nil, err
		}
	}
	return env, nil
}
