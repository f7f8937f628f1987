package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/keyexec/keyexec/resolve"
	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify"
)

// configListRun is the AutoGen config list of one run as it moves through
// the pipeline: loaded and resolved, each entry checked and probed, failing
// entries dropped under on_entry_failure: drop. A nil *configListRun means
// there is no list, and every method then leaves the pipeline as it was.
type configListRun struct {
	list      *resolve.ConfigList
	provider  string // --provider: auto, openai, azure, anthropic
	policy    string // fail | drop
	allowHTTP bool   // probe.allow_http
	log       *slog.Logger
	// byLabel finds the entry a probe Target came from.
	byLabel map[string]*resolve.ListEntry
	info    map[*resolve.ListEntry]*entryInfo
}

// entryInfo is what the checks and the probe found about one entry.
type entryInfo struct {
	apiType, baseURL, fingerprint, keyFrom string
	status, reason                         string
	cause                                  error // why it was dropped
	notes                                  []string
}

// loadConfigList reads the list named by config_list, resolves its
// references through srcs (shared with the environment's pass, so each
// reference is fetched once) and sanitizes it. With on_entry_failure: drop,
// entries whose references fail are dropped instead of failing the run.
func (a *app) loadConfigList(ctx context.Context, cfg *Config, log *slog.Logger, res *resolve.Result, srcs map[string]resolve.Opener) (*configListRun, error) {
	rules := normalizeRules
	dir, _ := os.Getwd()
	l, err := resolve.LoadConfigList(res.Values, resolve.ListOptions{
		Var:          cfg.ConfigList.Env,
		File:         cfg.ConfigList.File,
		Filter:       cfg.ConfigList.Filter,
		Dir:          dir,
		LooksLikeKey: verify.LooksLikeKey,
		Rules:        rules,
	})
	if l == nil || err != nil {
		return nil, err
	}
	c := &configListRun{list: l, provider: cfg.Provider, policy: cfg.ConfigList.OnEntryFailure, allowHTTP: cfg.Probe.AllowHTTP, log: log, byLabel: map[string]*resolve.ListEntry{}, info: map[*resolve.ListEntry]*entryInfo{}}
	for _, e := range l.Entries {
		c.info[e] = &entryInfo{apiType: cmp.Or(e.Str("api_type"), "openai"), baseURL: cmp.Or(e.Str("base_url"), e.Str("azure_endpoint"))}
	}
	if len(l.Entries) == 0 {
		return c, fmt.Errorf("config list from %s is empty: AutoGen would have no model to call; add an entry like {\"model\": \"gpt-4o\", \"api_key\": \"vault://…\"}: %w", l.From, sources.ErrInvalid)
	}
	if len(l.Kept()) == 0 {
		return c, fmt.Errorf("config_list.filter matches none of the %d entries of the config list from %s: fix the filter or the entries' model/tags: %w", len(l.Entries), l.From, sources.ErrInvalid)
	}
	if err := l.Resolve(ctx, resolve.Options{Sources: srcs, Timeout: cfg.Timeout, Rules: rules}); err != nil {
		if c.policy != "drop" {
			return c, err
		}
		for _, e := range l.Kept() {
			if e.Err != nil {
				c.drop(e, e.Err)
			}
		}
		if err := c.noneLeft(); err != nil {
			return c, err
		}
	}
	s, err := l.JSON()
	if err != nil {
		return c, fmt.Errorf("write the resolved %s: %w: %w", l.Var, err, sources.ErrInvalid)
	}
	if len(l.Var)+len(s)+1 >= resolve.MaxEnvString {
		return c, fmt.Errorf("the resolved config list is %d KiB, over Linux's %d KiB limit for one environment variable (%s): remove unused entries or use config_list.filter: %w",
			len(s)>>10, resolve.MaxEnvString>>10, l.Var, sources.ErrInvalid)
	}
	return c, nil
}

// drop removes an entry from the list handed to the child, saying why.
func (c *configListRun) drop(e *resolve.ListEntry, why error) {
	msg := oneLine(why.Error(), e.Label())
	e.Dropped = msg
	in := c.info[e]
	in.status, in.reason, in.cause = "dropped", msg, why
	c.log.Warn(fmt.Sprintf("%s dropped from %s (config_list.on_entry_failure: drop): %s", e.Label(), c.list.Var, msg))
}

// noneLeft is the error when drop has removed every entry: the causes,
// whose sentinels decide the exit code as they would without drop.
func (c *configListRun) noneLeft() error {
	if len(c.list.Kept()) > 0 {
		return nil
	}
	errs := []error{errors.New("every entry of the config list failed and was dropped (config_list.on_entry_failure: drop), so the app would have no model: fix at least one entry")}
	for _, e := range c.list.Entries {
		if cause := c.info[e].cause; cause != nil {
			if !strings.Contains(cause.Error(), e.Label()) {
				cause = fmt.Errorf("%s: %w", e.Label(), cause)
			}
			errs = append(errs, cause)
		}
	}
	return errors.Join(errs...)
}

// environ is the child's environment with the resolved list, as inline JSON,
// in the list's variable. Without a list it is env unchanged.
func (c *configListRun) environ(env []string) ([]string, error) {
	if c == nil {
		return env, nil
	}
	out := make([]string, 0, len(env)+1)
	for _, kv := range env {
		if name, _, _ := strings.Cut(kv, "="); name != c.list.Var {
			out = append(out, kv)
		}
	}
	s, err := c.list.JSON()
	if err != nil {
		return nil, fmt.Errorf("write the resolved %s: %w: %w", c.list.Var, err, sources.ErrInvalid)
	}
	return append(out, c.list.Var+"="+s), nil
}

// skip marks the kept entries as not checked, for --provider none.
func (c *configListRun) skip(why string) {
	if c == nil {
		return
	}
	for _, e := range c.list.Kept() {
		c.info[e].status, c.info[e].reason = "not checked", why
	}
}
