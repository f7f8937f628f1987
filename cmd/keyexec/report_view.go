package main

import (
	"cmp"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/keyexec/keyexec/resolve"
	"github.com/keyexec/keyexec/verify"
)

// reportJSON is the report as `check --json` prints it.
type reportJSON struct {
	Config      string           `json:"config,omitempty"`
	Provider    string           `json:"provider"`
	Resolve     *resolve.Result  `json:"resolve,omitempty"`
	ConfigList  *listJSON        `json:"config_list,omitempty"`
	Components  []componentJSON  `json:"components,omitempty"`
	Credentials []credentialJSON `json:"credentials,omitempty"`
	Probes      []probeJSON      `json:"probes"`
	Skipped     string           `json:"probe_skipped,omitempty"`
	Notes       []string         `json:"notes,omitempty"`
	Warnings    []string         `json:"warnings,omitempty"`
	OK          bool             `json:"ok"`
	ExitCode    int              `json:"exit_code"`
	Errors      []string         `json:"errors,omitempty"`
}

// listJSON is the config list section.
type listJSON struct {
	Variable string      `json:"variable"`
	From     string      `json:"from"`
	Notes    []string    `json:"notes,omitempty"`
	Entries  []entryJSON `json:"entries"`
}

// entryJSON is one entry: no value, fingerprints only.
type entryJSON struct {
	Index      int               `json:"index"`
	References map[string]string `json:"references,omitempty"`
	Versions   map[string]string `json:"versions,omitempty"`
	Fixes      []string          `json:"fixes,omitempty"`
	credentialJSON
}

// componentJSON is one component file.
type componentJSON struct {
	File       string            `json:"file"`
	Env        string            `json:"env,omitempty"`
	References map[string]string `json:"references,omitempty"`
	Fixes      []string          `json:"fixes,omitempty"`
	Clients    []credentialJSON  `json:"clients"`
}

func (r *Report) view() reportJSON {
	v := reportJSON{Config: r.Config, Provider: r.Provider, Resolve: r.Resolve, Probes: []probeJSON{}, Skipped: r.Skipped,
		Notes: r.Notes, Warnings: r.Warnings, OK: r.OK, ExitCode: r.ExitCode, Errors: r.Errors}
	if r.Resolve != nil {
		v.Notes = append(append([]string{}, r.Resolve.Notes...), v.Notes...)
		v.Warnings = append(append([]string{}, r.Resolve.Warnings...), v.Warnings...)
	}
	for _, p := range r.Probes {
		v.Probes = append(v.Probes, probeView(p))
	}
	for i, c := range r.Candidates {
		if c.From == verify.FromEnv {
			v.Credentials = append(v.Credentials, r.credentialView(i))
		}
	}
	if l := r.List; l != nil {
		lj := &listJSON{Variable: l.Var, From: l.From, Notes: l.Notes, Entries: []entryJSON{}}
		for _, e := range l.Entries {
			lj.Entries = append(lj.Entries, r.entryView(e))
		}
		v.ConfigList = lj
	}
	for _, f := range r.Components {
		cj := componentJSON{File: f.Path, Env: f.Env, Fixes: f.Fixes, Clients: []credentialJSON{}}
		if len(f.Refs) > 0 {
			cj.References = trimKeys(f.Refs)
		}
		for _, c := range f.Clients {
			if i := r.candidateOf(verify.FromComponent, c.Label()); i >= 0 {
				cj.Clients = append(cj.Clients, r.credentialView(i))
			} else {
				cj.Clients = append(cj.Clients, credentialJSON{Label: c.Label(), Status: docStatus(f.Err, "resolved")})
			}
		}
		v.Components = append(v.Components, cj)
	}
	return v
}

// entryView is one config-list entry with its candidate's outcome.
func (r *Report) entryView(e *resolve.ListEntry) entryJSON {
	ej := entryJSON{Index: e.Index, Fixes: e.Fixes}
	if len(e.Refs) > 0 {
		ej.References, ej.Versions = e.Refs, e.Versions
	}
	if i := r.candidateOf(verify.FromEntry, e.Label()); i >= 0 {
		ej.credentialJSON = r.credentialView(i)
	} else {
		ej.Label = e.Label()
	}
	switch {
	case e.Filtered:
		ej.Status, ej.Reason = "filtered", "left out by config_list.filter: not checked, not passed to the app"
	case e.Dropped != "" && ej.Status != string(verify.StatusDropped):
		ej.Status, ej.Reason = "dropped", e.Dropped
	case ej.Status == "":
		ej.Status = docStatus(e.Err, "resolved")
		if e.Err != nil {
			ej.Reason = strings.ReplaceAll(e.Err.Error(), "\n", "; ")
		}
	}
	return ej
}

func docStatus(err error, ok string) string {
	if err != nil {
		return "failed"
	}
	return ok
}

func trimKeys(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[strings.TrimPrefix(k, ".")] = v
	}
	return out
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

func (c colors) status(s string) string {
	switch s {
	case "ok", "checked", "resolved":
		return c.ok + s + c.reset
	case "failed", "dropped":
		return c.bad + s + c.reset
	}
	return c.warn + s + c.reset
}

// writeTable prints the report for `check`.
func (r *Report) writeTable(w io.Writer, c colors) {
	v := r.view()
	fmt.Fprintf(w, "keyexec %s — provider %s, config %s\n\n", version, v.Provider, cmp.Or(v.Config, "(no config file)"))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	if v.Resolve != nil && len(v.Resolve.Vars) > 0 {
		fmt.Fprintln(tw, "VARIABLE\tSOURCE\tVALUE\tNOTES")
		for _, vr := range v.Resolve.Vars {
			notes := append([]string{}, vr.Fixes...)
			if vr.Version != "" {
				notes = append([]string{vr.Version}, notes...)
			}
			shown := cmp.Or(vr.Value, vr.Fingerprint)
			if vr.Error != "" {
				shown = c.bad + "error" + c.reset
				notes = append(notes, vr.Error)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", vr.Name, vr.Source, shown, strings.Join(notes, "; "))
		}
		tw.Flush()
		fmt.Fprintln(w)
	}
	if v.Resolve != nil && len(v.Resolve.Scrubbed) > 0 {
		fmt.Fprintf(w, "%snot passed to the child:%s %s\n", c.dim, c.reset, strings.Join(v.Resolve.Scrubbed, ", "))
	}
	writeCredentials(w, c, "CREDENTIAL", v.Credentials)
	if l := v.ConfigList; l != nil {
		fmt.Fprintf(w, "config list from %s, handed to the app in %s\n", l.From, l.Variable)
		var creds []credentialJSON
		for _, e := range l.Entries {
			creds = append(creds, e.credentialJSON)
		}
		writeCredentials(w, c, "ENTRY", creds)
		for _, e := range l.Entries {
			if len(e.Fixes) > 0 {
				fmt.Fprintf(w, "%srepaired:%s %s: %s\n", c.dim, c.reset, e.Label, strings.Join(e.Fixes, "; "))
			}
		}
		for _, n := range l.Notes {
			fmt.Fprintf(w, "%snote:%s %s\n", c.dim, c.reset, n)
		}
		if len(l.Notes) > 0 || slices.ContainsFunc(l.Entries, func(e entryJSON) bool { return len(e.Fixes) > 0 }) {
			fmt.Fprintln(w)
		}
	}
	for _, f := range v.Components {
		fmt.Fprintf(w, "component file %s%s\n", f.File, orNone(f.Env, ", handed to the app in "))
		writeCredentials(w, c, "CLIENT", f.Clients)
		if len(f.Fixes) > 0 {
			fmt.Fprintf(w, "%srepaired:%s %s\n\n", c.dim, c.reset, strings.Join(f.Fixes, "; "))
		}
	}
	r.writeProbes(w, c)
	for _, n := range v.Notes {
		fmt.Fprintf(w, "%snote:%s %s\n", c.dim, c.reset, n)
	}
	if v.Skipped != "" {
		fmt.Fprintf(w, "%sprobe: %s%s\n", c.warn, v.Skipped, c.reset)
	}
	for _, wm := range v.Warnings {
		fmt.Fprintf(w, "%swarning:%s %s\n", c.warn, c.reset, wm)
	}
	if v.OK {
		fmt.Fprintf(w, "%sok%s: run would start the command (exit 0)\n", c.ok, c.reset)
		return
	}
	fmt.Fprintf(w, "%sfailed%s (exit %d): run would not start the command\n", c.bad, c.reset, v.ExitCode)
	for _, e := range v.Errors {
		fmt.Fprintf(w, "  - %s\n", e)
	}
}

// writeCredentials prints candidates a row each.
func writeCredentials(w io.Writer, c colors, head string, rows []credentialJSON) {
	if len(rows) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s\tPROVIDER\tBASE URL\tMODEL\tKEY\tSTATUS\n", head)
	for _, r := range rows {
		status := c.status(cmp.Or(r.Status, "-"))
		if r.Reason != "" {
			status += ": " + r.Reason
		}
		key := cmp.Or(r.Fingerprint, "-")
		if r.KeyFrom != "" {
			key += " (" + r.KeyFrom + ")"
		}
		notes := ""
		if len(r.Notes) > 0 {
			notes = " [" + strings.Join(r.Notes, "; ") + "]"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s%s\n", r.Label, cmp.Or(r.Provider, "-"), cmp.Or(r.BaseURL, "-"), cmp.Or(r.Model, "-"), key, status, notes)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func (r *Report) writeProbes(w io.Writer, c colors) {
	if len(r.Probes) == 0 {
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "PROBE\tFOR\tREQUEST\tSTATUS\tLATENCY\tRESULT")
	for _, p := range r.Probes {
		res := c.ok + string(p.Diagnosis) + c.reset
		if p.Err != nil {
			res = c.bad + string(p.Diagnosis) + c.reset + ": " + p.Hint
		} else if p.Note != "" {
			res += " (" + p.Note + ")"
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
		fmt.Fprintf(tw, "%s\t%s\t%s %s\t%s\t%s\t%s\n", p.API, p.Label, p.Method, p.URL, status, showLatency(p.Latency), res)
	}
	tw.Flush()
	fmt.Fprintln(w)
}

func orNone(v, prefix string) string {
	if v == "" {
		return ""
	}
	return prefix + v
}

// showLatency rounds to milliseconds, and shows what is under one as "<1ms"
// rather than "0s".
func showLatency(d time.Duration) string {
	if d < time.Millisecond {
		return "<1ms"
	}
	return d.Round(time.Millisecond).String()
}
