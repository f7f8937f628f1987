package main

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/keyexec/keyexec/resolve"
	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify"
)

// Report is everything keyexec found, for `check` (table or --json) and for
// run's summary line. Printed, it holds no secret: fingerprints,
// references, URLs and masked provider messages only (and everything passes
// the redactor on its way out).
type Report struct {
	Config     string
	Provider   string
	Resolve    *resolve.Result
	List       *resolve.ConfigList
	Components []*resolve.ComponentFile
	Candidates []verify.Candidate
	Targets    []verify.Target
	Probes     []verify.Result
	Verdict    verify.Verdict
	Skipped    string // why there was no probe
	Notes      []string
	Warnings   []string
	OK         bool
	ExitCode   int
	Errors     []string
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

// status is the verdict of candidate i, "" before the checks ran.
func (r *Report) status(i int) verify.Settled {
	if i < 0 || i >= len(r.Verdict.Candidates) {
		return verify.Settled{}
	}
	return r.Verdict.Candidates[i]
}

// candidateOf finds the candidate of a config-list entry or component.
func (r *Report) candidateOf(from verify.From, label string) int {
	for i, c := range r.Candidates {
		if c.From == from && c.Label == label {
			return i
		}
	}
	return -1
}

// summary is run's one line on stderr.
func (r *Report) summary() string {
	var parts []string
	if r.Resolve != nil {
		parts = append(parts, r.Resolve.ReportLine())
	}
	if r.List != nil {
		var docs []*resolve.Doc
		for _, e := range r.List.Entries {
			docs = append(docs, &e.Doc)
		}
		parts = append(parts, fmt.Sprintf("%s: %d of %d entries kept%s", r.List.Var, len(r.List.Kept()), len(r.List.Entries), docWork(docs)))
	}
	if n := len(r.Components); n > 0 {
		var docs []*resolve.Doc
		for _, f := range r.Components {
			docs = append(docs, &f.Doc)
		}
		parts = append(parts, fmt.Sprintf("%d component file(s)%s", n, docWork(docs)))
	}
	switch {
	case r.Skipped != "":
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
	if n := r.notProven(); n > 0 {
		parts = append(parts, fmt.Sprintf("%d not proven", n))
	}
	return strings.Join(parts, "; ")
}

// docWork counts the fields of config-list entries or component files
// resolved from references and repaired: ", 2 from references, 1 repaired".
func docWork(docs []*resolve.Doc) string {
	refs, fixed := 0, 0
	for _, d := range docs {
		refs += len(d.Refs)
		fixed += len(d.Fixes)
	}
	return fmt.Sprintf(", %d field(s) from references, %d repaired", refs, fixed)
}

func (r *Report) notProven() int {
	n := 0
	for _, s := range r.Verdict.Candidates {
		if s.Status == verify.StatusNotProven {
			n++
		}
	}
	return n
}

// problems are the report's failures as JSON log records, with the fields
// of the report: variable, source, fingerprint; provider, url, code, hint.
func (r *Report) problems() []problem {
	if r == nil {
		return nil
	}
	var out []problem
	if r.Resolve != nil {
		for _, v := range r.Resolve.Vars {
			if v.Error != "" {
				out = append(out, problem{msg: v.Error, attrs: []any{"variable", v.Name, "source", v.Source}})
			}
		}
	}
	for _, p := range r.Probes {
		if p.Err != nil {
			out = append(out, problem{msg: p.Err.Error(), attrs: []any{"provider", string(p.API), "for", p.Label, "url", p.URL, "status", p.Status,
				"code", p.Code, "diagnosis", string(p.Diagnosis), "hint", p.Hint, "fingerprint", p.Fingerprint}})
		}
	}
	for i, s := range r.Verdict.Candidates {
		if s.Status == verify.StatusFailed && !isProbeFailure(s.Err) {
			c := r.Candidates[i]
			out = append(out, problem{msg: s.Err.Error(), attrs: []any{"for", c.Label, "variable", cmp.Or(failedVar(s.Err), c.Names.Key)}})
		}
	}
	return out
}

// isProbeFailure reports whether err came from a probe (reported with it).
func isProbeFailure(err error) bool {
	var ce *verify.CheckError
	return err != nil && !errors.As(err, &ce)
}

// failedVar is the setting a check error names.
func failedVar(err error) string {
	var ce *verify.CheckError
	if errors.As(err, &ce) {
		return ce.Var
	}
	return ""
}

// writeJSON prints the report for `check --json`.
func (r *Report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r.view())
}

// ProbeJSON is verify.Result as printed: durations in milliseconds, the
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
	Requests    int     `json:"requests"`
	Diagnosis   string  `json:"diagnosis"`
	Hint        string  `json:"hint,omitempty"`
	Note        string  `json:"note,omitempty"`
	Fingerprint string  `json:"fingerprint,omitempty"`
}

func probeView(p verify.Result) probeJSON {
	return probeJSON{
		Provider: string(p.API), Label: p.Label, Method: p.Method, URL: p.URL, Status: p.Status,
		Code: p.Code, Message: p.Message, Location: p.Location, Proxy: p.Proxy,
		LatencyMS: float64(p.Latency.Microseconds()) / 1000, Attempts: p.Attempts, Requests: p.Requests,
		Diagnosis: string(p.Diagnosis), Hint: p.Hint, Note: p.Note, Fingerprint: p.Fingerprint,
	}
}

// credentialJSON is one candidate as printed: where its credential came
// from and how it ended, never its value.
type credentialJSON struct {
	Provider    string   `json:"provider,omitempty"`
	Label       string   `json:"label"`
	BaseURL     string   `json:"base_url,omitempty"`
	Model       string   `json:"model,omitempty"`
	KeyFrom     string   `json:"key_from,omitempty"`
	Fingerprint string   `json:"fingerprint,omitempty"`
	Status      string   `json:"status,omitempty"`
	Reason      string   `json:"reason,omitempty"`
	Notes       []string `json:"notes,omitempty"`
}

func (r *Report) credentialView(i int) credentialJSON {
	c := r.Candidates[i]
	s := r.status(i)
	out := credentialJSON{Label: c.Label, Model: c.Model, KeyFrom: c.Origin, Status: string(s.Status), Reason: s.Reason, Notes: c.Notes}
	if c.Client != nil {
		out.Provider = string(c.Client.Name)
		out.BaseURL = sources.DisplayURL(cmp.Or(c.BaseURL, c.Client.DefaultBase))
	}
	switch {
	case !c.Token.IsZero():
		out.Fingerprint = c.Token.Fingerprint()
	case c.KeySet:
		out.Fingerprint = c.Key.Fingerprint()
	}
	if c.NotProven != "" {
		out.Reason = c.NotProven
	}
	return out
}
