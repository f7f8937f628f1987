package resolve

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyexec/keyexec/sources"
)

// deadlineGrace is how long fetch still waits, after the deadline, for
// backends to return their own (more precise) errors.
const deadlineGrace = 500 * time.Millisecond

// fetched is what one scheme's fetch brought back: copies of its entries,
// and what the source left to do or used.
type fetched struct {
	list        []*entry
	copies      []entry
	finisher    sources.Finisher
	credentials []string
}

// fetch resolves every reference: grouped by scheme, each distinct reference
// asked once, all schemes at the same time, under opts.Timeout. Per-entry
// failures land in entry.err; the returned error joins them all. progress is
// called after each scheme's answers are applied (and once before waiting),
// on this goroutine.
func fetch(ctx context.Context, entries []*entry, opts Options, res *Result, progress func()) error {
	byScheme := map[string][]*entry{}
	for _, e := range entries {
		if e.ref != nil && e.err == nil {
			byScheme[e.ref.Scheme] = append(byScheme[e.ref.Scheme], e)
		}
	}
	if progress != nil {
		progress()
	}
	if len(byScheme) > 0 && opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	results, pending := launchFetches(ctx, byScheme, opts)
	apply := func(f fetched) {
		for i, e := range f.list {
			*e = f.copies[i]
			e.done = true
			delete(pending, e)
		}
		if f.finisher != nil {
			res.finishers = append(res.finishers, f.finisher)
		}
		res.ownCredentials = append(res.ownCredentials, f.credentials...)
		if progress != nil {
			progress()
		}
	}
	awaitFetches(ctx, len(byScheme), results, apply)
	var errs []error
	for e := range pending {
		e.err = fmt.Errorf("%s: %s: %w", e.name, e.origin, noAnswer(ctx))
		e.done = true
	}
	for _, e := range entries {
		if e.err != nil {
			errs = append(errs, e.err)
		}
	}
	return errors.Join(errs...)
}

// launchFetches starts one fetch per scheme. Each fetches into its own
// copies of the entries; only fetch's goroutine writes the entries, so a
// backend that ignores its context (a blocking read) can be abandoned at the
// deadline without a data race. pending holds every entry not yet applied.
func launchFetches(ctx context.Context, byScheme map[string][]*entry, opts Options) (chan fetched, map[*entry]bool) {
	results := make(chan fetched, len(byScheme))
	pending := map[*entry]bool{}
	for scheme, list := range byScheme {
		copies := make([]entry, len(list))
		for i, e := range list {
			copies[i] = *e
			pending[e] = true
		}
		go func() {
			ptrs := make([]*entry, len(copies))
			for i := range copies {
				ptrs[i] = &copies[i]
			}
			f := fetchScheme(ctx, scheme, ptrs, opts)
			f.list, f.copies = list, copies
			results <- f
		}()
	}
	return results, pending
}

// awaitFetches applies n results as they come, until ctx ends; then it
// gives backends that honour the context a moment to say why, and abandons
// the rest.
func awaitFetches(ctx context.Context, n int, results <-chan fetched, apply func(fetched)) {
	var expired <-chan time.Time // set at the deadline, plus a grace period
	for ; n > 0; n-- {
		select {
		case f := <-results:
			apply(f)
			continue
		case <-ctx.Done():
		}
		if expired == nil {
			expired = time.After(deadlineGrace)
		}
		select {
		case f := <-results:
			apply(f)
		case <-expired:
			return
		}
	}
}

// noAnswer is the error of a reference whose source did not answer in time:
// the stop when the user stopped keyexec, else the deadline.
func noAnswer(ctx context.Context) error {
	if err := sources.Stopped(ctx); err != nil {
		return err
	}
	return fmt.Errorf("no answer before the resolve deadline (raise --timeout or check the source): %w", sources.ErrUnavailable)
}

func fetchScheme(ctx context.Context, scheme string, list []*entry, opts Options) fetched {
	var f fetched
	fail := func(err error) {
		for _, e := range list {
			e.err = fmt.Errorf("%s: %w", e.name, err)
		}
	}
	open, ok := opts.Sources[scheme]
	if !ok {
		fail(fmt.Errorf("no source for %s:// in this build: %w", scheme, sources.ErrInvalid))
		return f
	}
	src, err := open(ctx)
	if err != nil {
		fail(fmt.Errorf("%s source: %w", scheme, stopped(ctx, err)))
		return f
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
	if fin, ok := src.(sources.Finisher); ok {
		f.finisher = fin
	}
	if cu, ok := src.(sources.CredentialUser); ok {
		f.credentials = cu.Credentials()
	}
	if err == nil && len(results) != len(refs) {
		err = fmt.Errorf("%s source returned %d results for %d references (a bug in keyexec): %w", scheme, len(results), len(refs), sources.ErrUnavailable)
	}
	if err != nil {
		fail(stopped(ctx, deadline(ctx, err)))
		return f
	}
	for _, e := range list {
		r := results[index[e.ref.Raw]]
		if r.Err != nil {
			e.err = fmt.Errorf("%s: %w", e.name, stopped(ctx, deadline(ctx, r.Err)))
			continue
		}
		e.value, e.version = r.Value.Reveal(), r.Version
	}
	return f
}

// stopped makes a failure during a user's stop read as the stop, whatever
// the backend called it.
func stopped(ctx context.Context, err error) error {
	if stop := sources.Stopped(ctx); stop != nil {
		var se *sources.StopError
		if !errors.As(err, &se) {
			return stop
		}
	}
	return err
}

// deadline makes a context expiry read as what it is for the user.
func deadline(ctx context.Context, err error) error {
	if ctx.Err() != nil && !errors.Is(err, sources.ErrUnavailable) &&
		(errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)) {
		return fmt.Errorf("%w (resolve deadline reached: raise --timeout or check the network): %w", err, sources.ErrUnavailable)
	}
	return err
}
