package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// app carries what one invocation of keyexec works with.
type app struct {
	environ []string          // keyexec's own environment
	env     map[string]string // the same, by name (first occurrence wins)
	out     *output           // stdout and stderr, through the redactor
	rep     *Report           // the last pipeline's report, for JSON errors
	started bool              // a command's RunE began: errors before it are usage errors
	// release hands the stop signals back to their default action just
	// before exec (set by main), so that no signal can be swallowed
	// between the last check and the child.
	release func()
}

// run is keyexec: it parses args, runs the command and returns the exit code.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	return runWith(ctx, args, environ, stdout, stderr, nil)
}

func runWith(ctx context.Context, args, environ []string, stdout, stderr io.Writer, release func()) (code int) {
	a := &app{environ: environ, env: envMap(environ), out: newOutput(stdout, stderr), release: release}
	a.out.guess(args, a.env)
	defer a.out.flush()
	defer func() {
		if p := recover(); p != nil {
			a.out.fail(fmt.Errorf("internal error (a bug in keyexec, please report it): %v\n%s", p, debug.Stack()), exitSoftware, nil)
			code = exitSoftware
		}
	}()
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(a.out.stdout)
	root.SetErr(a.out.stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && !a.started {
		err = &usageError{err}
	}
	var ce childExit
	if errors.As(err, &ce) {
		return ce.code
	}
	var quiet quietError
	if err != nil && !errors.As(err, &quiet) {
		a.out.fail(err, exitCode(err), a.rep)
	}
	return exitCode(err)
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:               "keyexec",
		Short:             "Resolve, repair and prove LLM credentials, then exec your AI app",
		Long:              rootHelp(),
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return &usageError{err} })
	root.AddCommand(a.runCmd(), a.checkCmd(), a.versionCmd(), a.installCmd())
	return root
}

// addFlags declares the flags run and check share; each is also a
// KEYEXEC_<NAME> variable and a config file key.
func addFlags(fs *pflag.FlagSet) {
	fs.String("config", "", "config file (default $KEYEXEC_CONFIG, else ./keyexec.yaml if present)")
	fs.String("provider", "auto", "providers to check: auto, none, or NAME[,NAME…] of "+strings.Join(provider.List(), ", "))
	fs.Duration("timeout", 30*time.Second, "deadline for resolving every source")
	fs.Bool("no-probe", false, "skip the live probe (offline checks only)")
	fs.Duration("probe-timeout", 10*time.Second, "deadline for the live probe, retries included")
	fs.String("model", "", "OpenAI model to check, or Azure deployment")
	fs.String("log-level", "info", "debug|info|warn|error")
	fs.String("log-format", "text", "text|json (json: every stderr line is one JSON object)")
	fs.StringArray("component", nil, "AutoGen component file to check, FILE or FILE=ENV (ENV gets it resolved); repeatable")
}

func (a *app) runCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run [flags] -- COMMAND [ARG...]",
		Short: "Resolve and verify the credentials, then exec COMMAND",
		Long: `Resolve every reference, repair and check the credentials, probe them
against the provider, then replace keyexec with COMMAND (same PID). As PID 1,
or with --supervise, keyexec stays as a small init instead: it forwards
signals, reaps zombies and, with --watch, restarts COMMAND when a secret
rotates and the new value passes the probe.

keyexec never writes to stdout in run: stdout belongs to COMMAND. A one-line
summary goes to stderr.`,
		Example: `  keyexec run -- python app.py
  OPENAI_API_KEY=vault://secret/llm/openai#api_key keyexec run -- python app.py
  keyexec run --provider azure --model gpt-4o-prod -- python -m myagents`,
		Args: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() < 0 {
				return errors.New("run needs the command after --: keyexec run [flags] -- COMMAND [ARG...]")
			}
			if cmd.ArgsLenAtDash() > 0 {
				return fmt.Errorf("unexpected %s before --: flags go before --, the command after it", sources.ShowValue(args[0]))
			}
			if len(args) == 0 {
				return errors.New("no command after --: keyexec run [flags] -- COMMAND [ARG...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			a.started = true
			return a.run(cmd.Context(), cmd.Flags(), args)
		},
	}
	fs := cmd.Flags()
	addFlags(fs)
	fs.Bool("supervise", false, "stay as a small init: forward signals, reap zombies (default when PID 1)")
	fs.Bool("no-supervise", false, "exec even as PID 1")
	fs.Duration("watch", 0, "re-resolve every DURATION and restart COMMAND when a secret changed and passes the probe (implies --supervise)")
	fs.String("restart-signal", "SIGTERM", "signal that stops COMMAND before a restart")
	fs.Duration("restart-grace", 10*time.Second, "wait this long after the restart signal before SIGKILL")
	fs.String("on-change", "restart", "on a rotated secret: restart COMMAND, or signal it (SIGHUP)")
	return cmd
}

func (a *app) checkCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "check [flags] [--json]",
		Short: "Resolve, repair, check and probe; print the report; exit as run would",
		Long: `Everything run does except the exec: prints the report (variables with their
source, fingerprint and repairs; probes with URL, status, latency and
diagnosis) and exits with the code run would have used. Values are never
printed, only fingerprints (sha256:1a2b3c4d…Wx3f).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.started = true
			asJSON, _ := cmd.Flags().GetBool("json")
			return a.check(cmd.Context(), cmd.Flags(), asJSON)
		},
	}
	addFlags(cmd.Flags())
	cmd.Flags().Bool("json", false, "print the report as JSON")
	return cmd
}

func (a *app) versionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print keyexec's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			a.started = true
			fmt.Fprintln(a.out.stdout, "keyexec "+version)
			return nil
		},
	}
}

func envMap(environ []string) map[string]string {
	m := make(map[string]string, len(environ))
	for _, kv := range environ {
		k, v, ok := strings.Cut(kv, "=")
		if _, seen := m[k]; ok && !seen {
			m[k] = v
		}
	}
	return m
}

// rootHelp is the root command's help: what keyexec does, its exit codes,
// and every KEYEXEC_ variable (from the settings table).
func rootHelp() string {
	vars := extraEnv()
	for _, s := range settings() {
		vars = append(vars, envName(s.flag))
	}
	sort.Strings(vars)
	return `keyexec stands in front of an AI app (AutoGen, AG2, openai-python, anthropic):
it resolves the credentials from Vault, AWS Secrets Manager, files or the
environment, repairs whitespace and variable names, proves them with a live
request to the provider, and only then execs the app.

Exit codes: 64 usage, 69 a source or provider unreachable, 77 a credential
rejected, 78 configuration or secret missing or malformed, 126 command not
executable, 127 command not found, 128+N stopped by signal N before the app
started; otherwise the app's own exit code.

Every flag is also a KEYEXEC_ variable and a config file key:
  ` + strings.Join(vars, "\n  ") + `
KEYEXEC_* variables are never passed to the app.`
}
