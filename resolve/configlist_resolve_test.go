package resolve

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

// listSource serves values by Ref.Path and counts what it was asked.
type listSource struct {
	scheme string
	values map[string]string

	mu      sync.Mutex
	fetches int
	asked   map[string]int
}

func (s *listSource) Scheme() string { return s.scheme }

func (s *listSource) Fetch(_ context.Context, refs []sources.Ref) ([]sources.Result, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fetches++
	if s.asked == nil {
		s.asked = map[string]int{}
	}
	out := make([]sources.Result, len(refs))
	for i, r := range refs {
		s.asked[r.Raw]++
		out[i].Ref = r
		v, ok := s.values[r.Path]
		if !ok {
			out[i].Err = fmt.Errorf("%s: %w", r.Raw, sources.ErrNotFound)
			continue
		}
		out[i].Value = sources.NewSecret(v)
	}
	return out, nil
}

func (s *listSource) opener() Opener {
	return func(context.Context) (sources.Source, error) { return s, nil }
}

func loadResolve(t *testing.T, list string, srcs map[string]Opener) (*ConfigList, error) {
	t.Helper()
	l, err := LoadConfigList(map[string]string{"OAI_CONFIG_LIST": list}, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return l, l.Resolve(context.Background(), Options{Sources: srcs}, &Result{})
}

func TestConfigListResolveAndSanitize(t *testing.T) {
	t.Parallel()
	vault := &listSource{scheme: "vault", values: map[string]string{
		"secret/llm/openai": listKey + "\n",
		"secret/llm/azure":  "  0123456789abcdef0123456789abcdef  ",
		"secret/llm/model":  "gpt-4o-mini",
		"secret/llm/header": "Bearer hdr-secret",
	}}
	list := `[
	  {"model": "vault://secret/llm/model", "api_key": "vault://secret/llm/openai", "base_url": "https://api.openai.com/",
	   "default_headers": {"X-Api-Key": "vault://secret/llm/header", "Authorization": "Bearer literal"}, "tags": ["a"]},
	  {"model": "gpt-35-turbo", "api_type": "azure", "api_version": " 2024-10-21 ",
	   "api_key": "vault://secret/llm/azure", "base_url": "https://res.openai.azure.com/openai/deployments/x/"},
	  {"model": "gpt-4o", "api_key": "Bearer ` + listKey + `", "temperature": 0.2}
	]`
	l, err := loadResolve(t, list, map[string]Opener{"vault": vault.opener()})
	if err != nil {
		t.Fatal(err)
	}
	e0, e1, e2 := l.Entries[0], l.Entries[1], l.Entries[2]
	checks := []struct{ got, want string }{
		{e0.Label(), "config list entry 0 (gpt-4o-mini)"},
		{e0.Str("api_key"), listKey},
		{e0.Str("base_url"), "https://api.openai.com/v1"},
		{e0.Fields["default_headers"].(map[string]any)["X-Api-Key"].(string), "hdr-secret"},
		{e0.Fields["default_headers"].(map[string]any)["Authorization"].(string), "Bearer literal"},
		{e0.Refs["api_key"], "vault://secret/llm/openai"},
		{e0.Refs["default_headers.X-Api-Key"], "vault://secret/llm/header"},
		{e1.Str("api_key"), "0123456789abcdef0123456789abcdef"},
		{e1.Str("api_version"), "2024-10-21"},
		{e1.Str("base_url"), "https://res.openai.azure.com"},
		{e2.Str("api_key"), listKey},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	fixes := strings.Join(append(append(e0.Fixes, e1.Fixes...), e2.Fixes...), "\n")
	for _, w := range []string{"api_key: removed trailing \\n", "base_url: added the missing /v1", "api_version: removed leading space",
		"base_url: cut Azure endpoint back", `api_key: removed leading "Bearer "`} {
		if !strings.Contains(fixes, w) {
			t.Errorf("fixes %q lack %q", fixes, w)
		}
	}
	if strings.Contains(fixes, listKey[10:30]) {
		t.Errorf("fixes show the key")
	}
	out, err := l.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var back []map[string]any
	if err := json.Unmarshal([]byte(out), &back); err != nil || len(back) != 3 {
		t.Fatalf("JSON for the child does not parse back: %v\n%s", err, out)
	}
	if strings.Contains(out, "vault://") || !strings.Contains(out, `"temperature":0.2`) {
		t.Errorf("child JSON: references left or numbers changed:\n%s", out)
	}
	if vault.fetches != 1 {
		t.Errorf("%d fetches, want one batch", vault.fetches)
	}
}

func TestConfigListResolveErrors(t *testing.T) {
	t.Parallel()
	vault := &listSource{scheme: "vault", values: map[string]string{"secret/space": "sk-proj-abc def"}}
	tests := []struct {
		name, list string
		want       []string
		sentinel   error
	}{
		{"missing secret", `[{"model": "gpt-4o", "api_key": "vault://secret/nope#k"}]`,
			[]string{"config list entry 0 (gpt-4o): api_key: vault://secret/nope#k"}, sources.ErrNotFound},
		{"no source for scheme", `[{"model": "m", "api_key": "awssm://prod/llm#k"}]`,
			[]string{"config list entry 0 (m): api_key", "no source for awssm://"}, sources.ErrInvalid},
		{"typo in scheme", `[{"model": "m"}, {"model": "m2", "api_key": "vualt://secret/x"}]`,
			[]string{"config list entry 1 (m2): api_key: unknown reference scheme \"vualt\""}, sources.ErrInvalid},
		{"space inside key", `[{"model": "m", "api_key": "vault://secret/space"}]`,
			[]string{"config list entry 0 (m): api_key: whitespace inside the key at byte 11"}, sources.ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l, err := loadResolve(t, tc.list, map[string]Opener{"vault": vault.opener()})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
			if !errors.Is(err, tc.sentinel) {
				t.Errorf("error does not wrap %v: %v", tc.sentinel, err)
			}
			failed := 0
			for _, e := range l.Entries {
				if e.Err != nil {
					failed++
				}
			}
			if failed != 1 {
				t.Errorf("%d entries failed, want 1", failed)
			}
		})
	}
}

func TestShareSourcesFetchesEachReferenceOnce(t *testing.T) {
	t.Parallel()
	vault := &listSource{scheme: "vault", values: map[string]string{"secret/a": listKey, "secret/b": "0123456789abcdef0123456789abcdef"}}
	opened := 0
	srcs := ShareSources(map[string]Opener{"vault": func(context.Context) (sources.Source, error) {
		opened++
		return vault, nil
	}})
	res, err := Resolve(context.Background(), Options{
		Environ: []string{"OPENAI_API_KEY=vault://secret/a"},
		Sources: srcs,
	})
	if err != nil || res.Values["OPENAI_API_KEY"] != listKey {
		t.Fatalf("resolve: %v", err)
	}
	l, err := loadResolve(t, `[{"model": "m", "api_key": "vault://secret/a"}, {"model": "m", "api_type": "azure", "api_key": "vault://secret/b"}]`, srcs)
	if err != nil {
		t.Fatal(err)
	}
	if l.Entries[0].Str("api_key") != listKey || l.Entries[1].Str("api_key") == "" {
		t.Fatal("entries not resolved")
	}
	if opened != 1 || vault.asked["vault://secret/a"] != 1 || vault.asked["vault://secret/b"] != 1 {
		t.Errorf("opened %d times, asked %v: want one source and each reference once", opened, vault.asked)
	}
}

func TestFilteredEntriesAreNotResolved(t *testing.T) {
	t.Parallel()
	vault := &listSource{scheme: "vault", values: map[string]string{"secret/a": listKey}}
	l, err := LoadConfigList(map[string]string{"OAI_CONFIG_LIST": `[{"model": "gpt-4o", "api_key": "vault://secret/a", "tags": ["prod"]},
		{"model": "o1", "api_key": "vault://secret/missing", "tags": ["exp"]}]`},
		ListOptions{Filter: map[string]any{"tags": []any{"prod"}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Resolve(context.Background(), Options{Sources: map[string]Opener{"vault": vault.opener()}}, &Result{}); err != nil {
		t.Fatalf("the filtered entry was resolved: %v", err)
	}
	out, _ := l.JSON()
	if strings.Contains(out, "o1") || len(l.Kept()) != 1 {
		t.Errorf("filtered entry handed on: %s", out)
	}
}
