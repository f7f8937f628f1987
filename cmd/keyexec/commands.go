package main

import (
	"context"

	"github.com/spf13/pflag"

	"github.com/keyexec/keyexec/exec"
	"github.com/keyexec/keyexec/sources"
)

// load reads the configuration and applies its log settings.
func (a *app) load(flags *pflag.FlagSet) (*Config, error) {
	cfg, err := loadConfig(flags, a.env)
	if err != nil {
		return nil, err
	}
	a.out.configure(cfg.Log)
	for _, w := range cfg.warnings {
		a.out.warn(w)
	}
	return cfg, nil
}

// check is `keyexec check`: the pipeline and the report, no exec.
func (a *app) check(ctx context.Context, flags *pflag.FlagSet, asJSON bool) error {
	if v, ok := a.env["KEYEXEC_JSON"]; ok && !flags.Changed("json") {
		b, err := parseBool(v)
		if err != nil {
			return configError("KEYEXEC_JSON=%s: %v", sources.ShowValue(v), err)
		}
		asJSON = b
	}
	cfg, err := a.load(flags)
	if err != nil {
		if asJSON {
			// Scripts reading --json get the outcome even when the
			// configuration itself is wrong.
			rep := &Report{Provider: flags.Lookup("provider").Value.String()}
			rep.finish(err, exitCode(err))
			if perr := rep.writeJSON(a.out.stdout); perr != nil {
				return perr
			}
		}
		return err
	}
	rep, _, err := a.prepare(ctx, cfg)
	a.rep = rep
	rep.finish(err, exitCode(err))
	if asJSON {
		if perr := rep.writeJSON(a.out.stdout); perr != nil {
			return perr
		}
	} else {
		rep.writeTable(a.out.stdout, useColor(a.out.stdout, a.env))
	}
	if err != nil {
		return quietError{err}
	}
	return nil
}

// run is `keyexec run`: the pipeline, then exec (or supervise).
func (a *app) run(ctx context.Context, flags *pflag.FlagSet, argv []string) error {
	cfg, err := a.load(flags)
	if err != nil {
		return err
	}
	rep, environ, err := a.prepare(ctx, cfg)
	a.rep = rep
	if err != nil {
		return err
	}
	// From here a stop signal takes its default action (it ends keyexec,
	// and the child never starts); one that came before ends the run here.
	if a.release != nil {
		a.release()
	}
	if err := sources.Stopped(ctx); err != nil {
		return err
	}
	a.out.info(rep.summary()+"; starting "+argv[0], "summary", rep.summary(), "command", argv[0])
	a.out.flush()
	if a.supervise(cfg) {
		return a.runSupervised(ctx, cfg, argv, environ)
	}
	return exec.Exec(argv, environ)
}
