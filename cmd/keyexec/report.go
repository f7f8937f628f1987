package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keyexec/keyexec/resolve"
	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify"
)

// Report is everything keyexec found, for `check` (table or --json) and for
// run's summary line. It holds no value: fingerprints, references, URLs and
// masked provider messages only.
type Report struct {
	Config       string          `json:"config,omitempty"`
	Provider     string          `json:"provider"`
	Resolve      *resolve.Result `json:"resolve,omitempty"`
	ConfigList   *configListRun  `json:"config_list,omitempty"` // configlist_report.go
	Targets      []TargetReport  `json:"targets,omitempty"`
	Probes       []verify.Result `json:"-"`
	ProbeSkipped string          `json:"probe_skipped,omitempty"`
	Warnings     []string        `json:"warnings,omitempty"`
	OK           bool            `json:"ok"`
	ExitCode     int             `json:"exit_code"`
	Errors       []string        `json:"errors,omitempty"`
}

// TargetReport is one credential the shape checks accepted.
type TargetReport struct {
	Provider    string `json:"provider"`
	Label       string `json:"label"`
	BaseURL     string `json:"base_url"`
	Model       string `json:"model,omitempty"`
	Origin      string `json:"origin,omitempty"`
	Fingerprint string `json:"fingerprint"`
}

// probeJSON is verify.Result as printed: durations in milliseconds, the
// error as text.
type probeJSON struct {
	Provider    string  `json:"provider"`
	Label       string  `json:"label"`
	Method      string  `json:"method"`
	URL         string  `json:"url"`
	Status      int     `json:"status"`
	Code        string  `json:"code,omitempty"`
	Message     string  `json:"message,omitempty"`
	Location    string  `json:"location,omitempty"`
	Proxy       string  `json:"proxy,omitempty"`
	LatencyMS   float64 `json:"latency_ms"`
	Attempts    int     `json:"attempts"`
	Diagnosis   string  `json:"diagnosis"`
	Hint        string  `json:"hint,omitempty"`
	Fingerprint string  `json:"fingerprint,omitempty"`
}

func (r *Report) addTargets(ts []verify.Target) {
	for _, t := range ts {
		fp := t.Key.Fingerprint()
		if t.Key.IsZero() && !t.ADToken.IsZero() {
			fp = t.ADToken.Fingerprint()
		}
		r.Targets = append(r.Targets, TargetReport{Provider: string(t.Provider), Label: t.Label, BaseURL: sources.DisplayURL(t.BaseURL), Model: t.Model, Origin: t.Origin, Fingerprint: fp})
	}
}

// finish records the outcome.
func (r *Report) finish(err error, code int) {
	r.OK, r.ExitCode = err == nil, code
	if err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			if line != "" {
				r.Errors = append(r.Errors, line)
			}
		}
	}
}

// summary is run's one line on stderr.
func (r *Report) summary() string {
	parts := []string{}
	if r.Resolve != nil {
		parts = append(parts, r.Resolve.ReportLine())
	}
	if cl := r.ConfigList.summary(); cl != "" {
		parts = append(parts, cl)
	}
	switch {
	case r.ProbeSkipped != "":
		parts = append(parts, "not probed")
	case len(r.Probes) > 0:
		ok := 0
		for _, p := range r.Probes {
			if p.Err == nil {
				ok++
			}
		}
		parts = append(parts, fmt.Sprintf("%d/%d probes ok", ok, len(r.Probes)))
	}
	return strings.Join(parts, "; ")
}

func (r *Report) writeJSON(w io.Writer) error {
	out := struct {
		*Report
		Probes []probeJSON `json:"probes"`
	}{Report: r, Probes: []probeJSON{}}
	for _, p := range r.Probes {
		out.Probes = append(out.Probes, probeJSON{
			Provider: string(p.Provider), Label: p.Label, Method: p.Method, URL: p.URL, Status: p.Status,
			Code: p.Code, Message: p.Message, Location: p.Location, Proxy: p.Proxy,
			LatencyMS: float64(p.Latency.Microseconds()) / 1000, Attempts: p.Attempts,
			Diagnosis: string(p.Diagnosis), Hint: p.Hint, Fingerprint: p.Fingerprint,
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// colors are ANSI codes, used only on a terminal without NO_COLOR.
type colors struct{ ok, bad, warn, dim, reset string }

func useColor(w io.Writer, env map[string]string) colors {
	f, isFile := w.(*os.File)
	if _, no := env["NO_COLOR"]; no || !isFile || env["TERM"] == "dumb" {
		return colors{}
	}
	if fi, err := f.Stat(); err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return colors{}
	}
	return colors{ok: "\x1b[32m", bad: "\x1b[31m", warn: "\x1b[33m", dim: "\x1b[2m", reset: "\x1b[0m"}
}

func (r *Report) writeTable(w io.Writer, c colors) {
	cfg := r.Config
	if cfg == "" {
		cfg = "(no config file)"
	}
	fmt.Fprintf(w, "keyexec %s — provider %s, config %s\n\n", version, r.Provider, cfg)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	if r.Resolve != nil && len(r.Resolve.Vars) > 0 {
		fmt.Fprintln(tw, "VARIABLE\tSOURCE\tFINGERPRINT\tNOTES")
		for _, v := range r.Resolve.Vars {
			notes := append([]string{}, v.Fixes...)
			if v.Version != "" {
				notes = append([]string{v.Version}, notes...)
			}
			fp := v.Fingerprint
			if v.Error != "" {
				fp = c.bad + "error" + c.reset
				notes = append(notes, v.Error)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.Name, v.Source, fp, strings.Join(notes, "; "))
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if r.Resolve != nil {
		for _, n := range r.Resolve.Notes {
			fmt.Fprintf(w, "%snote:%s %s\n", c.dim, c.reset, n)
		}
		if len(r.Resolve.Scrubbed) > 0 {
			fmt.Fprintf(w, "%snot passed to the child:%s %s\n", c.dim, c.reset, strings.Join(r.Resolve.Scrubbed, ", "))
		}
	}
	r.ConfigList.writeTable(w, c)
	if len(r.Probes) > 0 {
		fmt.Fprintln(tw, "PROBE\tFOR\tREQUEST\tSTATUS\tLATENCY\tRESULT")
		for _, p := range r.Probes {
			res := c.ok + string(p.Diagnosis) + c.reset
			if p.Err != nil {
				res = c.bad + string(p.Diagnosis) + c.reset + ": " + p.Hint
			}
			if p.Proxy != "" {
				res += " (via proxy " + p.Proxy + ")"
			}
			status := "-"
			if p.Status != 0 {
				status = fmt.Sprint(p.Status)
				if p.Code != "" {
					status += " " + p.Code
				}
			}
			fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%s\n", p.Provider, p.Label, p.Method, p.URL, status, p.Latency.Round(time.Millisecond), res)
		}
		tw.Flush()
		fmt.Fprintln(w)
	} else if len(r.Targets) > 0 {
		fmt.Fprintln(tw, "CREDENTIAL\tFOR\tBASE URL\tFINGERPRINT")
		for _, t := range r.Targets {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Provider, t.Label, t.BaseURL, t.Fingerprint)
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if r.ProbeSkipped != "" {
		fmt.Fprintf(w, "%sprobe: %s%s\n", c.warn, r.ProbeSkipped, c.reset)
	}
	for _, wmsg := range r.Warnings {
		fmt.Fprintf(w, "%swarning:%s %s\n", c.warn, c.reset, wmsg)
	}
	if r.OK {
		fmt.Fprintf(w, "%sok%s: run would start the command (exit 0)\n", c.ok, c.reset)
		return
	}
	fmt.Fprintf(w, "%sfailed%s (exit %d): run would not start the command\n", c.bad, c.reset, r.ExitCode)
	for _, e := range r.Errors {
		fmt.Fprintf(w, "  - %s\n", e)
	}
}
