package resolve

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/keyexec/keyexec/sources"
)

// deadlineGrace is how long fetch still waits, after the deadline, for
// backends to return their own (more precise) errors.
const deadlineGrace = 500 * time.Millisecond

// fetch resolves every reference: grouped by scheme, each distinct reference
// asked once, all schemes at the same time, under opts.Timeout. Per-entry
// failures land in entry.err; the returned error joins them all.
func fetch(ctx context.Context, entries []*entry, opts Options) error {
	byScheme := map[string][]*entry{}
	for _, e := range entries {
		if e.ref != nil && e.err == nil {
			byScheme[e.ref.Scheme] = append(byScheme[e.ref.Scheme], e)
		}
	}
	if len(byScheme) > 0 && opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	// Each scheme fetches into its own copies; only this goroutine writes the
	// entries, so a backend that ignores its context (a blocking read) can
	// be abandoned at the deadline without a data race.
	type done struct {
		list   []*entry
		copies []entry
	}
	results := make(chan done, len(byScheme))
	for scheme, list := range byScheme {
		copies := make([]entry, len(list))
		for i, e := range list {
			copies[i] = *e
		}
		go func() {
			ptrs := make([]*entry, len(copies))
			for i := range copies {
				ptrs[i] = &copies[i]
			}
			fetchScheme(ctx, scheme, ptrs, opts)
			results <- done{list: list, copies: copies}
		}()
	}
	pending := map[*entry]bool{}
	for _, list := range byScheme {
		for _, e := range list {
			pending[e] = true
		}
	}
	apply := func(d done) {
		for i, e := range d.list {
			*e = d.copies[i]
			delete(pending, e)
		}
	}
	var expired <-chan time.Time // set at the deadline, plus a grace period
	for remaining := len(byScheme); remaining > 0; {
		select {
		case d := <-results:
			apply(d)
			remaining--
		case <-ctx.Done():
			// Give backends that honour the context a moment to say why.
			if expired == nil {
				expired = time.After(deadlineGrace)
			}
			select {
			case d := <-results:
				apply(d)
				remaining--
			case <-expired:
				for e := range pending {
					e.err = fmt.Errorf("%s: %s: no answer before the resolve deadline (raise --timeout or check the source): %w", e.name, e.origin, sources.ErrUnavailable)
				}
				remaining = 0
			}
		}
	}
	var errs []error
	for _, e := range entries {
		if e.err != nil {
			errs = append(errs, e.err)
		}
	}
	return errors.Join(errs...)
}

func fetchScheme(ctx context.Context, scheme string, list []*entry, opts Options) {
	fail := func(err error) {
		for _, e := range list {
			e.err = fmt.Errorf("%s: %w", e.name, err)
		}
	}
	open, ok := opts.Sources[scheme]
	if !ok {
		fail(fmt.Errorf("no source for %s:// in this build: %w", scheme, sources.ErrInvalid))
		return
	}
	src, err := open(ctx)
	if err != nil {
		fail(fmt.Errorf("%s source: %w", scheme, err))
		return
	}
	// One Ref per distinct reference; the backend dedupes locations itself.
	var refs []sources.Ref
	index := map[string]int{}
	for _, e := range list {
		if _, ok := index[e.ref.Raw]; !ok {
			index[e.ref.Raw] = len(refs)
			refs = append(refs, *e.ref)
		}
	}
	results, err := src.Fetch(ctx, refs)
	if err == nil && len(results) != len(refs) {
		err = fmt.Errorf("%s source returned %d results for %d references (a bug in keyexec): %w", scheme, len(results), len(refs), sources.ErrUnavailable)
	}
	if err != nil {
		fail(deadline(ctx, err))
		return
	}
	for _, e := range list {
		r := results[index[e.ref.Raw]]
		if r.Err != nil {
			e.err = fmt.Errorf("%s: %w", e.name, deadline(ctx, r.Err))
			continue
		}
		e.value, e.version = r.Value.Reveal(), r.Version
	}
}

// deadline makes a context expiry read as what it is for the user.
func deadline(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, sources.ErrUnavailable) &&
		(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return fmt.Errorf("%w (resolve deadline reached: raise --timeout or check the network): %w", err, sources.ErrUnavailable)
	}
	return err
}

// normalize moves aliases to canonical names, reports conflicts and repairs
// endpoint URLs. It returns the entries in their final form.
func normalize(entries []*entry, aliases map[string]string, opts Options) ([]*entry, error) {
	byName := map[string]*entry{}
	values := map[string]string{}
	for _, e := range entries {
		byName[e.name] = e
		if e.err == nil {
			values[e.name] = e.value
		}
	}
	var errs []error
	claimed := map[string]string{} // canonical → alias that moved there
	var out []*entry
	moved := map[string]bool{}
	for _, rn := range planRenames(values, aliases, opts.Rules) {
		src := byName[rn.from]
		if dst, ok := byName[rn.to]; ok && dst.err == nil {
			if dst.value != src.value {
				errs = append(errs, conflictError(rn.from, rn.to, rn.to, src.value, dst.value))
				continue
			}
			src.fixes = append(src.fixes, "same value as "+rn.to+", which is kept")
			moved[rn.from] = !opts.KeepAliases
			continue
		}
		if other, ok := claimed[rn.to]; ok {
			if byName[other].value != src.value {
				errs = append(errs, conflictError(other, rn.from, rn.to, byName[other].value, src.value))
			}
			moved[rn.from] = !opts.KeepAliases
			continue
		}
		claimed[rn.to] = rn.from
		ne := *src
		ne.name, ne.from, ne.touched = rn.to, rn.from, true
		ne.fixes = append([]string{"renamed from " + rn.from}, src.fixes...)
		out = append(out, &ne)
		moved[rn.from] = !opts.KeepAliases
	}
	for _, e := range entries {
		if moved[e.name] {
			continue
		}
		out = append(out, e)
	}
	for _, e := range out {
		if e.err == nil && isEndpointName(e.name) {
			v, fixes := fixEndpoint(e.name, e.value, opts.Rules)
			if len(fixes) > 0 {
				e.value, e.touched = v, true
				e.fixes = append(e.fixes, fixes...)
			}
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].name < out[j].name })
	if len(errs) > 0 {
		return out, errors.Join(errs...)
	}
	return out, nil
}

// ReportLine summarises a Result in one line for run's stderr.
func (r *Result) ReportLine() string {
	var fixed, refs int
	for _, v := range r.Vars {
		if len(v.Fixes) > 0 {
			fixed++
		}
		if strings.Contains(v.Source, "://") || strings.HasPrefix(v.Source, "arn:") {
			refs++
		}
	}
	return fmt.Sprintf("%d variables checked, %d resolved from references, %d repaired", len(r.Vars), refs, fixed)
}
