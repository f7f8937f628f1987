package main

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/keyexec/keyexec/sources"
)

// configListJSON is the config list section of `check --json`.
type configListJSON struct {
	Variable       string      `json:"variable"`
	From           string      `json:"from"`
	OnEntryFailure string      `json:"on_entry_failure"`
	Notes          []string    `json:"notes,omitempty"`
	Entries        []entryJSON `json:"entries"`
}

// entryJSON is one entry of the report: no value, fingerprints only.
type entryJSON struct {
	Index       int               `json:"index"`
	Model       string            `json:"model"`
	Label       string            `json:"label"`
	APIType     string            `json:"api_type"`
	BaseURL     string            `json:"base_url,omitempty"`
	Fingerprint string            `json:"fingerprint,omitempty"`
	KeyFrom     string            `json:"key_from,omitempty"`
	References  map[string]string `json:"references,omitempty"`
	Versions    map[string]string `json:"versions,omitempty"`
	Fixes       []string          `json:"fixes,omitempty"`
	Notes       []string          `json:"notes,omitempty"`
	Status      string            `json:"status"`
	Reason      string            `json:"reason,omitempty"`
}

// MarshalJSON writes the report of the list, as far as the pipeline got.
func (c *configListRun) MarshalJSON() ([]byte, error) {
	return json.Marshal(c.report())
}

func (c *configListRun) report() configListJSON {
	out := configListJSON{Variable: c.list.Var, From: c.list.From, OnEntryFailure: c.policy, Notes: c.list.Notes, Entries: []entryJSON{}}
	for _, e := range c.list.Entries {
		in := c.info[e]
		j := entryJSON{
			Index: e.Index, Model: e.ShownModel(), Label: e.Label(), APIType: in.apiType,
			BaseURL:     displayURL(cmp.Or(in.baseURL, e.Str("base_url"), e.Str("azure_endpoint"))),
			Fingerprint: in.fingerprint, KeyFrom: in.keyFrom,
			Fixes: e.Fixes, Notes: in.notes, Status: in.status, Reason: in.reason,
		}
		if len(e.Refs) > 0 {
			j.References = e.Refs
		}
		if len(e.Versions) > 0 {
			j.Versions = e.Versions
		}
		if j.Fingerprint == "" && e.Err == nil && !e.Filtered {
			if k := cmp.Or(e.Str("api_key"), e.Str("azure_ad_token")); k != "" && !sources.IsRef(k) {
				j.Fingerprint = sources.Fingerprint(k)
			}
		}
		if j.KeyFrom == "" && j.Fingerprint != "" {
			j.KeyFrom = "literal in the list"
		}
		switch {
		case e.Filtered:
			j.Status, j.Reason = "filtered", "left out by config_list.filter: not checked, not passed to the app"
		case j.Status == "" && e.Err != nil:
			j.Status, j.Reason = "failed", oneLine(e.Err.Error(), e.Label())
		case j.Status == "":
			j.Status = "resolved"
		}
		// Fields of the list are shown as written; a key pasted into the
		// wrong field (api_type, a note's value) is shown as a fingerprint.
		j.APIType, j.Reason = sources.RedactText(j.APIType), sources.RedactText(j.Reason)
		for i, n := range j.Notes {
			j.Notes[i] = sources.RedactText(n)
		}
		out.Entries = append(out.Entries, j)
	}
	return out
}

// writeTable prints the list entry by entry for `check`.
func (c *configListRun) writeTable(w io.Writer, col colors) {
	if c == nil {
		return
	}
	r := c.report()
	head := "config list from " + r.From
	if !strings.HasPrefix(r.From, r.Variable+" ") {
		head += ", handed to the app in " + r.Variable
	}
	fmt.Fprintf(w, "%s (on_entry_failure: %s)\n", head, r.OnEntryFailure)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ENTRY\tMODEL\tAPI TYPE\tBASE URL\tKEY\tSTATUS\tNOTES")
	for _, e := range r.Entries {
		status := e.Status
		switch e.Status {
		case "ok", "checked":
			status = col.ok + status + col.reset
		case "failed", "dropped":
			status = col.bad + status + col.reset
		case "filtered", "not checked", "unreachable", "resolved":
			status = col.warn + status + col.reset
		}
		if e.Reason != "" {
			status += ": " + e.Reason
		}
		key := cmp.Or(e.Fingerprint, "-")
		if e.KeyFrom != "" {
			key += " (" + e.KeyFrom + ")"
		}
		var notes []string
		for _, f := range sortedKeys(e.References) {
			notes = append(notes, f+" ← "+e.References[f])
		}
		notes = append(notes, e.Notes...)
		notes = append(notes, e.Fixes...)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Index, e.Model, e.APIType, cmp.Or(e.BaseURL, "(SDK default)"), key, status, strings.Join(notes, "; "))
	}
	tw.Flush()
	for _, n := range r.Notes {
		fmt.Fprintf(w, "%snote:%s %s\n", col.dim, col.reset, n)
	}
	fmt.Fprintln(w)
}

// oneLine flattens a joined error for a table cell, without the entry's
// label that the row already shows.
func oneLine(msg, label string) string {
	return strings.ReplaceAll(strings.ReplaceAll(msg, label+": ", ""), "\n", "; ")
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// summary is the config list's part of run's one-line summary.
func (c *configListRun) summary() string {
	if c == nil || c.list == nil {
		return ""
	}
	kept := len(c.list.Kept())
	return fmt.Sprintf("%s: %d of %d entries kept", c.list.Var, kept, len(c.list.Entries))
}

// displayURL shows a base URL without anything that may carry a key; an
// empty one stays empty.
func displayURL(s string) string {
	if s == "" {
		return ""
	}
	return sources.DisplayURL(s)
}
