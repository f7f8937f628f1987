package resolve

import (
	"context"
	"sync"

	"github.com/keyexec/keyexec/sources"
)

// ShareSources wraps openers so that several passes over one run (the
// environment, then the config list) build each source once and fetch each
// distinct reference once: a reference already read is answered from
// memory, and only new ones reach the backend. Build a fresh set per run, so
// that a --watch re-resolve reads the stores again.
func ShareSources(open map[string]Opener) map[string]Opener {
	out := make(map[string]Opener, len(open))
	for scheme, o := range open {
		s := &sharedSource{open: o}
		out[scheme] = s.get
	}
	return out
}

// sharedSource is one scheme's source, built on first use, with the results
// of every reference it has fetched.
type sharedSource struct {
	open Opener

	mu    sync.Mutex
	src   sources.Source
	cache map[string]sources.Result // by Ref.Raw
}

func (s *sharedSource) get(ctx context.Context) (sources.Source, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.src == nil {
		src, err := s.open(ctx)
		if err != nil {
			return nil, err // not remembered: a later pass tries again
		}
		s.src, s.cache = src, map[string]sources.Result{}
	}
	return s, nil
}

// Scheme is the wrapped source's.
func (s *sharedSource) Scheme() string { return s.src.Scheme() }

// Fetch answers known references from memory and asks the source for the
// others in one call. A batch failure is not remembered.
func (s *sharedSource) Fetch(ctx context.Context, refs []sources.Ref) ([]sources.Result, error) {
	out := make([]sources.Result, len(refs))
	var missing []sources.Ref
	var at []int
	s.mu.Lock()
	for i, r := range refs {
		if res, ok := s.cache[r.Raw]; ok {
			res.Ref = r
			out[i] = res
			continue
		}
		missing = append(missing, r)
		at = append(at, i)
	}
	s.mu.Unlock()
	if len(missing) == 0 {
		return out, nil
	}
	got, err := s.src.Fetch(ctx, missing)
	if err != nil {
		return nil, err
	}
	if len(got) != len(missing) {
		return got, nil // the caller reports the count mismatch
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for j, res := range got {
		out[at[j]] = res
		if res.Err == nil {
			s.cache[missing[j].Raw] = res
		}
	}
	return out, nil
}

// Finish passes on to the source's own Finish, when it has one.
func (s *sharedSource) Finish(ctx context.Context) error {
	if f, ok := s.src.(sources.Finisher); ok {
		return f.Finish(ctx)
	}
	return nil
}

// Credentials passes on the source's own credentials, when it used any.
func (s *sharedSource) Credentials() []string {
	if c, ok := s.src.(sources.CredentialUser); ok {
		return c.Credentials()
	}
	return nil
}
