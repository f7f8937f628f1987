package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// output is every byte keyexec writes: stdout and stderr both pass through
// one redactor, which knows every secret resolved in the run and every
// known key shape, so that no path — a flag, a config key, a reference
// path, a provider's answer, a panic — can print a secret.
type output struct {
	red    *sources.Redactor
	stdout *sources.RedactWriter
	stderr *sources.RedactWriter
	json   bool
	log    *slog.Logger
}

func newOutput(stdout, stderr io.Writer) *output {
	red := sources.NewRedactor(provider.Distinctive)
	o := &output{red: red, stdout: red.Writer(stdout), stderr: red.Writer(stderr)}
	o.configure(LogConfig{Level: "info", Format: "text"})
	return o
}

// guess picks the log format from the command line and KEYEXEC_LOG_FORMAT
// before the configuration is read, so that even a usage error comes out
// as JSON when JSON was asked for.
func (o *output) guess(args []string, env map[string]string) {
	format := env["KEYEXEC_LOG_FORMAT"]
	for i, a := range args {
		if a == "--" {
			break
		}
		if v, ok := strings.CutPrefix(a, "--log-format="); ok {
			format = v
		} else if a == "--log-format" && i+1 < len(args) {
			format = args[i+1]
		}
	}
	if format == "json" {
		o.configure(LogConfig{Level: "info", Format: "json"})
	}
}

// configure sets the log level and format.
func (o *output) configure(cfg LogConfig) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	o.json = cfg.Format == "json"
	if o.json {
		o.log = slog.New(slog.NewJSONHandler(o.stderr, opts))
	} else {
		o.log = slog.New(slog.NewTextHandler(o.stderr, opts))
	}
}

// secrets tells the redactor about more secret values.
func (o *output) secrets(values ...string) { o.red.Add(values...) }

// info writes one line on stderr: plain "keyexec: …" text, or a JSON object.
func (o *output) info(msg string, attrs ...any) {
	if o.json {
		o.log.Info("keyexec: "+msg, attrs...)
		return
	}
	fmt.Fprintln(o.stderr, "keyexec: "+msg)
}

// warn writes a warning on stderr: "keyexec: warning: …", or a JSON object.
func (o *output) warn(msg string, attrs ...any) {
	if o.json {
		o.log.Warn(msg, attrs...)
		return
	}
	fmt.Fprintln(o.stderr, "keyexec: warning: "+msg)
}

// fail writes a fatal error: in text, one message with its joined causes
// indented; in JSON, one object per problem, with the report's fields
// (variable, source, fingerprint, code, hint) where the report has them.
func (o *output) fail(err error, code int, rep *Report) {
	if !o.json {
		fmt.Fprintln(o.stderr, "keyexec: "+strings.ReplaceAll(err.Error(), "\n", "\n  "))
		if code == exitUsage {
			fmt.Fprintln(o.stderr, "Run 'keyexec --help' for usage.")
		}
		return
	}
	problems := rep.problems()
	if len(problems) == 0 {
		for _, line := range strings.Split(err.Error(), "\n") {
			if line = strings.TrimSpace(line); line != "" {
				problems = append(problems, problem{msg: line})
			}
		}
	}
	for _, p := range problems {
		attrs := append([]any{"exit_code", code}, p.attrs...)
		o.log.Error(p.msg, attrs...)
	}
}

// flush writes what is left of an unfinished line, before exit or exec.
func (o *output) flush() {
	_ = o.stdout.Flush()
	_ = o.stderr.Flush()
}

// problem is one failure as a JSON log record.
type problem struct {
	msg   string
	attrs []any
}
