package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"github.com/spf13/pflag"

	"github.com/keyexec/keyexec/exec"
	"github.com/keyexec/keyexec/resolve"
	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/awssm"
	envsrc "github.com/keyexec/keyexec/sources/env"
	"github.com/keyexec/keyexec/sources/file"
	"github.com/keyexec/keyexec/sources/vault"
	"github.com/keyexec/keyexec/verify"
)

// normalizeRules are the provider facts resolve needs, from verify.
var normalizeRules = resolve.Rules{
	IsOpenAIKey:         verify.LooksLikeOpenAIKey,
	IsAzureHost:         verify.IsAzureHost,
	IsAzureResourceHost: verify.IsAzureResourceHost,
}

// openers maps each scheme to its source constructor. Sources are built only
// when a reference of their scheme exists, so a run without vault:// builds
// no Vault client and a run without awssm:// loads no AWS configuration.
func (a *app) openers(cfg *Config, log *slog.Logger) map[string]resolve.Opener {
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
			vc.Env, vc.Logger = a.env, log
			return vault.New(ctx, vc)
		},
		"awssm": func(ctx context.Context) (sources.Source, error) {
			return awssm.New(ctx, cfg.AWS)
		},
	}
}

// prepare runs the pipeline up to the exec: resolve, check shapes, probe.
// The report is filled as far as the pipeline got, also on error.
func (a *app) prepare(ctx context.Context, cfg *Config, log *slog.Logger) (*Report, []string, error) {
	rep := &Report{Config: cfg.file, Provider: cfg.Provider}
	srcs := resolve.ShareSources(a.openers(cfg, log)) // one source and one fetch per reference for env and config list
	res, err := resolve.Resolve(ctx, resolve.Options{
		Environ:     a.environ,
		Secrets:     cfg.Secrets,
		Aliases:     cfg.Aliases,
		KeepAliases: cfg.KeepAliases,
		Scrub:       cfg.Scrub,
		Sources:     srcs,
		Timeout:     cfg.Timeout,
		Rules:       normalizeRules,
	})
	rep.Resolve = res
	if err != nil {
		return rep, nil, err
	}
	cl, err := a.loadConfigList(ctx, cfg, log, res, srcs) // AutoGen config list (configlist.go); nil when none
	rep.ConfigList = cl
	if err != nil {
		return rep, nil, err
	}
	if cfg.Provider == "none" {
		rep.ProbeSkipped = "--provider none: LLM checks are off"
		cl.skip("--provider none")
		environ, err := cl.environ(res.Environ)
		return rep, environ, err
	}
	checkOpts := verify.CheckOptions{
		Provider:   cfg.Provider,
		AllowHTTP:  cfg.Probe.AllowHTTP,
		Model:      cfg.Probe.Model,
		Deployment: cfg.Probe.Deployment,
		Origins:    res.Origins,
	}
	res.Notes = append(res.Notes, verify.Notes(res.Values, checkOpts)...)
	targets, err := verify.Check(res.Values, checkOpts)
	targets, err = cl.check(res.Values, res.Origins, targets, err) // adds the list's entries
	rep.addTargets(targets)
	if err != nil {
		return rep, nil, err
	}
	if !cfg.Probe.Enabled {
		rep.ProbeSkipped = "probe disabled (--no-probe): the credentials were checked offline only, not proven"
		environ, err := cl.environ(res.Environ)
		return rep, environ, err
	}
	results := verify.Probe(ctx, targets, verify.ProbeOptions{
		Timeout:   cfg.Probe.Timeout,
		AllowHTTP: cfg.Probe.AllowHTTP,
		Env:       a.env,
	})
	rep.Probes = results
	results, errs := cl.settle(results, cfg.Probe.OnUnreachable) // drops failing list entries under drop
	for _, r := range results {
		if r.Err == nil {
			continue
		}
		if errors.Is(r.Err, verify.ErrUnreachable) && cfg.Probe.OnUnreachable == "warn" {
			msg := fmt.Sprintf("%s probe %s unreachable, starting anyway (probe.on_unreachable: warn): %s", r.Provider, r.URL, r.Hint)
			rep.Warnings = append(rep.Warnings, msg)
			log.Warn(msg)
			continue
		}
		errs = append(errs, fmt.Errorf("%s: %w", r.Label, r.Err))
	}
	if len(errs) > 0 {
		return rep, nil, errors.Join(errs...)
	}
	environ, err := cl.environ(res.Environ)
	return rep, environ, err
}

// check is `keyexec check`: the pipeline and the report, no exec.
func (a *app) check(ctx context.Context, flags *pflag.FlagSet, asJSON bool) error {
	if v, ok := a.env["KEYEXEC_JSON"]; ok && !flags.Changed("json") {
		b, err := parseBool(v)
		if err != nil {
			return configError("KEYEXEC_JSON=%q: %v", v, err)
		}
		asJSON = b
	}
	cfg, err := loadConfig(flags, a.env)
	if err != nil {
		if asJSON {
			// Scripts reading --json get the outcome even when the
			// configuration itself is wrong.
			rep := &Report{Provider: flags.Lookup("provider").Value.String()}
			rep.finish(err, exitCode(err))
			if perr := rep.writeJSON(a.stdout); perr != nil {
				return perr
			}
		}
		return err
	}
	log := cfg.logger(a.stderr)
	rep, _, err := a.prepare(ctx, cfg, log)
	rep.finish(err, exitCode(err))
	if asJSON {
		if perr := rep.writeJSON(a.stdout); perr != nil {
			return perr
		}
	} else {
		rep.writeTable(a.stdout, useColor(a.stdout, a.env))
	}
	if err != nil {
		return quietError{err}
	}
	return nil
}

// run is `keyexec run`: the pipeline, then exec (or supervise).
func (a *app) run(ctx context.Context, flags *pflag.FlagSet, argv []string) error {
	cfg, err := loadConfig(flags, a.env)
	if err != nil {
		return err
	}
	log := cfg.logger(a.stderr)
	rep, environ, err := a.prepare(ctx, cfg, log)
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stderr, "keyexec: "+rep.summary()+"; starting "+argv[0])
	if a.supervise(cfg) {
		return a.runSupervised(ctx, cfg, log, argv, environ)
	}
	return exec.Exec(argv, environ)
}
