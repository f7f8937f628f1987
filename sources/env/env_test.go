package env

import (
	"context"
	"errors"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

func TestEnvSource(t *testing.T) {
	t.Parallel()
	src, _ := New(context.Background(), Config{Env: map[string]string{"A": "value", "EMPTY": "", "CHAIN": "env://A"}})
	var refs []sources.Ref
	for _, raw := range []string{"env://A", "env://EMPTY", "env://UNSET", "env://CHAIN"} {
		r, err := sources.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, r)
	}
	res, err := src.Fetch(context.Background(), refs)
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Err != nil || res[0].Value.Reveal() != "value" {
		t.Errorf("env://A = %v", res[0].Err)
	}
	if res[1].Err != nil || !res[1].Value.IsZero() {
		t.Errorf("env://EMPTY should resolve to empty, got %v", res[1].Err)
	}
	if !errors.Is(res[2].Err, sources.ErrNotFound) {
		t.Errorf("env://UNSET: %v", res[2].Err)
	}
	if !errors.Is(res[3].Err, sources.ErrInvalid) {
		t.Errorf("env://CHAIN must not be followed: %v", res[3].Err)
	}
}
