package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

// app carries what one invocation of keyexec works with.
type app struct {
	environ []string          // keyexec's own environment
	env     map[string]string // the same, by name (first occurrence wins)
	stdout  io.Writer
	stderr  io.Writer
	started bool // a command's RunE began: errors before it are usage errors
}

// run is keyexec: it parses args, runs the command and returns the exit code.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	a := &app{environ: environ, env: envMap(environ), stdout: stdout, stderr: stderr}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
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
		fmt.Fprintln(stderr, "keyexec: "+indentJoined(err))
		if code := exitCode(err); code == exitUsage {
			fmt.Fprintln(stderr, "Run 'keyexec --help' for usage.")
		}
	}
	return exitCode(err)
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "keyexec",
		Short: "Resolve, repair and prove LLM credentials, then exec your AI app",
		Long: `keyexec stands in front of an AI app (AutoGen, openai-python, anthropic):
it resolves the credentials from Vault, AWS Secrets Manager, files or the
environment, repairs whitespace and variable names, proves them with a live
request to the provider, and only then execs the app.

Exit codes: 64 usage, 69 a source or provider unreachable, 77 a credential
rejected, 78 configuration or secret missing or malformed, 126 command not
executable, 127 command not found; otherwise the app's own exit code.`,
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
	fs.String("provider", "auto", "provider to check: auto|openai|azure|anthropic|none")
	fs.Duration("timeout", 30*time.Second, "deadline for resolving every source")
	fs.Bool("no-probe", false, "skip the live probe (offline checks only)")
	fs.Duration("probe-timeout", 10*time.Second, "deadline for the live probe, retries included")
	fs.String("model", "", "OpenAI model to check, or Azure deployment")
	fs.String("log-level", "info", "debug|info|warn|error")
	fs.String("log-format", "text", "text|json")
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
				return fmt.Errorf("unexpected %q before --: flags go before --, the command after it", args[0])
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
			fmt.Fprintln(a.stdout, "keyexec "+version)
			return nil
		},
	}
}

// logger builds the logger and reports the configuration's warnings.
func (c *Config) logger(w io.Writer) *slog.Logger {
	log := newLogger(w, c.Log)
	for _, msg := range c.warnings {
		log.Warn(msg)
	}
	return log
}

// newLogger builds the slog logger on stderr from the log settings.
func newLogger(w io.Writer, cfg LogConfig) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
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

// indentJoined prints errors.Join results one per line.
func indentJoined(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "\n  ")
}
