// Package env is the env:// source: env://NAME reads another variable of
// keyexec's own environment, so a value can be copied or renamed before it
// reaches the child (OPENAI_API_KEY=env://LEGACY_KEY).
package env

import (
	"context"
	"fmt"

	"github.com/keyexec/keyexec/sources"
)

// Config configures the env source.
type Config struct {
	// Env is keyexec's own environment, as given to the process.
	Env map[string]string
}

// Source reads variables from Config.Env.
type Source struct{ env map[string]string }

var _ sources.Source = (*Source)(nil)

// New returns an env source over cfg.Env.
func New(_ context.Context, cfg Config) (*Source, error) {
	return &Source{env: cfg.Env}, nil
}

// Scheme returns "env".
func (s *Source) Scheme() string { return "env" }

// Fetch looks each variable up. A variable that is unset is ErrNotFound; one
// that is set but empty resolves to the empty string and is left to the
// checks that know whether empty is acceptable. A variable whose value is
// itself a reference is not followed (no chains, no loops).
func (s *Source) Fetch(_ context.Context, refs []sources.Ref) ([]sources.Result, error) {
	out := make([]sources.Result, len(refs))
	for i, ref := range refs {
		out[i].Ref = ref
		v, ok := s.env[ref.Path]
		switch {
		case !ok:
			out[i].Err = fmt.Errorf("%s: variable %s is not set in keyexec's environment: %w", ref, ref.Path, sources.ErrNotFound)
		case sources.IsRef(v):
			out[i].Err = fmt.Errorf("%s: variable %s holds another reference; references are not followed: point at the final value: %w", ref, ref.Path, sources.ErrInvalid)
		default:
			picked, err := sources.PickText(v, ref)
			if err != nil {
				out[i].Err = fmt.Errorf("%s: variable %s: %w", ref, ref.Path, err)
				continue
			}
			out[i].Value = sources.NewSecret(picked)
		}
	}
	return out, nil
}
