package verify

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// Plan checks every candidate with Check and returns the targets to probe,
// each linked to its candidate by index (Target.Candidate), the check error
// of each candidate (nil when it passed or is not proven), and the checks'
// warnings.
func Plan(cands []Candidate, opts CheckOptions) ([]Target, []error, []string) {
	var targets []Target
	errs := make([]error, len(cands))
	var warnings []string
	for i, c := range cands {
		t, w, err := Check(c, opts)
		warnings = append(warnings, w...)
		errs[i] = err
		if err == nil && c.NotProven == "" {
			t.Candidate = i
			targets = append(targets, t)
		}
	}
	return targets, errs, warnings
}

// Policy is what the configuration allows a failure to do instead of
// stopping the run.
type Policy struct {
	// OnUnreachable is probe.on_unreachable: fail, or warn (start anyway
	// when a provider did not answer; never for any other failure).
	OnUnreachable string
	// OnEntryFailure is config_list.on_entry_failure: fail, or drop
	// (remove a config-list entry that failed its own check or probe).
	OnEntryFailure string
}

// Status is where a candidate ended.
type Status string

// Statuses of a candidate.
const (
	StatusOK          Status = "ok"          // proven by the probe
	StatusChecked     Status = "checked"     // passed the offline checks, not probed
	StatusFailed      Status = "failed"      // stops the run
	StatusDropped     Status = "dropped"     // a config-list entry removed under drop
	StatusUnreachable Status = "unreachable" // kept under on_unreachable: warn
	StatusNotProven   Status = "not proven"  // passed on unchecked
)

// Settled is one candidate's outcome.
type Settled struct {
	Status Status
	Reason string // one line, for the report
	Err    error  // the failure, for failed and dropped candidates
}

// Verdict is the outcome of the checks and probes of a run.
type Verdict struct {
	Candidates []Settled // by candidate index
	Warnings   []string
	// Err stops the run: nil when the child may start.
	Err error
}

// Judge settles every candidate from its check error and the results of the
// probes (nil when the probe was skipped). A lenient policy never turns a
// stop, a failed check or an unproven credential into a start: warn covers
// only a provider that did not answer, and drop only a config-list entry
// that failed its own check or probe — and fails when no entry is left.
func Judge(cands []Candidate, checkErrs []error, targets []Target, results []Result, pol Policy) Verdict {
	v := Verdict{Candidates: make([]Settled, len(cands))}
	var errs []error
	fail := func(i int, err error) {
		if cands[i].From == FromEntry && pol.OnEntryFailure == "drop" {
			v.Candidates[i] = Settled{Status: StatusDropped, Reason: oneLine(err, cands[i].Label), Err: err}
			v.Warnings = append(v.Warnings, fmt.Sprintf("%s dropped (config_list.on_entry_failure: drop): %s", cands[i].Label, oneLine(err, cands[i].Label)))
			return
		}
		v.Candidates[i] = Settled{Status: StatusFailed, Reason: oneLine(err, cands[i].Label), Err: err}
		errs = append(errs, err)
	}
	for i, c := range cands {
		switch {
		case checkErrs[i] != nil:
			fail(i, checkErrs[i])
		case c.NotProven != "":
			v.Candidates[i] = Settled{Status: StatusNotProven, Reason: c.NotProven}
		default:
			v.Candidates[i] = Settled{Status: StatusChecked}
		}
	}
	for _, r := range results {
		if r.Diagnosis == provider.Stopped {
			v.Err = r.Err
			return v
		}
		for _, ti := range r.Targets {
			i := targets[ti].Candidate
			switch {
			case r.Err == nil:
				v.Candidates[i] = Settled{Status: StatusOK, Reason: r.Note}
			case errors.Is(r.Err, ErrUnreachable) && pol.OnUnreachable == "warn":
				v.Candidates[i] = Settled{Status: StatusUnreachable, Reason: "kept (probe.on_unreachable: warn): " + r.Hint}
				v.Warnings = appendNew(v.Warnings, fmt.Sprintf("%s probe %s unreachable, starting anyway (probe.on_unreachable: warn): %s", r.API, r.URL, r.Hint))
			default:
				fail(i, fmt.Errorf("%s: %w", r.Label, r.Err))
			}
		}
	}
	if err := noEntryLeft(cands, v.Candidates); err != nil {
		errs = append(errs, err)
	}
	v.Err = errors.Join(errs...)
	return v
}

// noEntryLeft is the error when drop removed every entry of the config
// list: the causes, whose sentinels decide the exit code as they would
// without drop.
func noEntryLeft(cands []Candidate, settled []Settled) error {
	entries, kept := 0, 0
	var causes []error
	for i, c := range cands {
		if c.From != FromEntry {
			continue
		}
		entries++
		if settled[i].Status == StatusDropped {
			causes = append(causes, settled[i].Err)
			continue
		}
		kept++
	}
	if entries == 0 || kept > 0 {
		return nil
	}
	return errors.Join(append([]error{errors.New("every entry of the config list failed and was dropped (config_list.on_entry_failure: drop), so the app would have no model: fix at least one entry")}, causes...)...)
}

// oneLine flattens an error for a table cell, without the label the row
// already shows.
func oneLine(err error, label string) string {
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, label+": ")
	}
	return strings.Join(lines, "; ")
}

// Stopped reports whether a result says the user stopped keyexec.
func Stopped(results []Result) error {
	for _, r := range results {
		if r.Diagnosis == provider.Stopped {
			if r.Err != nil {
				return r.Err
			}
			return &sources.StopError{}
		}
	}
	return nil
}
