package vault

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/vault/vaulttest"
)

// arrivals reports every request the fake receives, in order.
func arrivals(h *harness) <-chan vaulttest.Request {
	ch := make(chan vaulttest.Request, 1024)
	h.fake.OnRequest(func(r vaulttest.Request) {
		select {
		case ch <- r:
		default: // a test that wants more than 1024 reads them as they come
		}
	})
	return ch
}

// await returns the next n arrivals. The bound only keeps a broken test
// from hanging; nothing is measured.
func await(t *testing.T, ch <-chan vaulttest.Request, n int) []string {
	t.Helper()
	var paths []string
	for len(paths) < n {
		select {
		case r := <-ch:
			p := r.Path
			if r.Query != "" {
				p += "?" + r.Query
			}
			paths = append(paths, p)
		case <-time.After(30 * time.Second):
			t.Fatalf("only %d of %d requests arrived: %v", len(paths), n, paths)
		}
	}
	sort.Strings(paths)
	return paths
}

// TestFakeFaults: what no real server does on demand: answer too slowly,
// or fail every time with 503 (a standby) or 429.
func TestFakeFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		setup   func(f *vaulttest.Server)
		mention []string
	}{
		{name: "slow", setup: func(f *vaulttest.Server) { f.SetDelay(time.Minute) }, mention: []string{"did not answer before the deadline", "--timeout"}},
		{name: "standby 503", setup: func(f *vaulttest.Server) { f.FailNext(1000, 503) }, mention: []string{"503", "retried until the deadline"}},
		{name: "rate limited", setup: func(f *vaulttest.Server) { f.FailNext(1000, 429) }, mention: []string{"429"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := fakeVault(t)
			tc.setup(h.fake)
			ref := "vault://secret/llm/openai#api_key"
			ctx, cancel := context.WithTimeout(context.Background(), 400*time.Millisecond)
			defer cancel()
			res, err := fetchCtx(t, ctx, h.source(t, Config{}), ref)
			if err != nil {
				t.Fatalf("token auth needs no network before the reads, got a batch error: %v", err)
			}
			wantErr(t, res[0].Err, sources.ErrUnavailable, append(tc.mention, ref)...)
		})
	}
}

func TestRetriesTransientFailures(t *testing.T) {
	t.Parallel()
	h := fakeVault(t)
	h.admin.PutKV2(t, "secret", h.path("k"), map[string]any{"v": "sk-retry"})
	h.fake.ResetCounts()
	h.fake.FailNext(3, http.StatusBadGateway)
	v, _, err := fetchOne(t, h.source(t, Config{}), "vault://secret/"+h.path("k")+"#v")
	wantValue(t, v, err, "sk-retry")
	if n := h.fake.Requests(); n != 5 { // 3 failures, the lookup, the read
		t.Errorf("%d requests, want 5", n)
	}
}

// TestLookupOverlapsRead: the mount lookup and the speculative KV v2 read
// are both in flight before either is answered (the fake holds both), and
// on a KV v2 mount they are the only requests.
func TestLookupOverlapsRead(t *testing.T) {
	t.Parallel()
	h := fakeVault(t)
	p := h.path("llm/openai")
	h.admin.PutKV2(t, "secret", p, map[string]any{"api_key": "sk-fast"})
	h.fake.ResetCounts()
	arrived := arrivals(h)
	release := h.fake.Hold("*")
	type out struct {
		v   string
		err error
	}
	done := make(chan out, 1)
	src := h.source(t, Config{})
	go func() { v, _, err := fetchOne(t, src, "vault://secret/"+p+"#api_key"); done <- out{v, err} }()

	got := await(t, arrived, 2)
	if want := []string{"secret/data/" + p, "sys/internal/ui/mounts/secret/" + p}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("in flight together: %v, want %v", got, want)
	}
	release()
	o := <-done
	wantValue(t, o.v, o.err, "sk-fast")
	if n := h.fake.Requests(); n != 2 {
		t.Errorf("%d requests, want 2 (the speculative answer is used)", n)
	}
}

// TestOneLookupPerMount: N paths of one mount cost one lookup and N reads,
// all sent before the lookup answers.
func TestOneLookupPerMount(t *testing.T) {
	t.Parallel()
	h := fakeVault(t)
	const n = 5
	var refs []string
	for i := range n {
		p := h.path(fmt.Sprintf("s%d", i))
		h.admin.PutKV2(t, "secret", p, map[string]any{"v": fmt.Sprintf("v%d", i)})
		refs = append(refs, "vault://secret/"+p+"#v")
	}
	h.fake.ResetCounts()
	arrived := arrivals(h)
	release := h.fake.Hold("sys/internal/ui/mounts/*")
	done := make(chan []sources.Result, 1)
	src := h.source(t, Config{})
	go func() { res, _ := fetch(t, src, refs...); done <- res }()

	got := await(t, arrived, n+1)
	lookups := 0
	for _, p := range got {
		if len(p) > 23 && p[:23] == "sys/internal/ui/mounts/" {
			lookups++
		}
	}
	if lookups != 1 {
		t.Fatalf("in flight before the lookup answered: %v, want one lookup and %d reads", got, n)
	}
	release()
	for i, r := range <-done {
		wantValue(t, r.Value.Reveal(), r.Err, fmt.Sprintf("v%d", i))
	}
	if total := h.fake.Requests(); total != n+1 {
		t.Errorf("%d requests for %d paths of one mount, want %d", total, n, n+1)
	}
}

// TestMountCosts: what each kind of mount costs in requests: KV v1 and a
// mount deeper than the first segment pay for the discarded speculative
// read; vault.kv_version and ?kv= skip the lookup.
func TestMountCosts(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		mount     string
		version   int
		cfg       Config
		query     string
		requests  int
		discarded string // the speculative read that was thrown away
	}{
		{name: "KV v2 at the first segment", mount: "secret", version: 2, requests: 2},
		{name: "KV v1", mount: "kv1", version: 1, requests: 3, discarded: "kv1/data/app/k"},
		{name: "KV v1 with ?kv=1", mount: "kv1", version: 1, query: "?kv=1", requests: 1},
		{name: "KV v1 with kv_version", mount: "kv1", version: 1, cfg: Config{KVVersion: map[string]int{"kv1": 1}}, requests: 1},
		{name: "KV v2 deeper", mount: "team/kv", version: 2, requests: 3, discarded: "team/data/kv/app/k"},
		{name: "KV v2 deeper with kv_version", mount: "team/kv", version: 2, cfg: Config{KVVersion: map[string]int{"team/kv": 2}}, requests: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := fakeVault(t)
			h.admin.EnableKV(t, tc.mount, tc.version)
			if tc.version == 1 {
				h.admin.PutKV1(t, tc.mount+"/app/k", map[string]any{"v": "sk-cost"})
			} else {
				h.admin.PutKV2(t, tc.mount, "app/k", map[string]any{"v": "sk-cost"})
			}
			h.fake.ResetCounts()
			src := h.source(t, tc.cfg)
			ref := "vault://" + tc.mount + "/app/k" + tc.query + "#v"
			if tc.requests == 1 {
				v, _, err := fetchOne(t, src, ref)
				wantValue(t, v, err, "sk-cost")
			} else {
				// Hold the lookup until the speculative read is sent too, as
				// a Vault farther than loopback would.
				arrived := arrivals(h)
				release := h.fake.Hold("sys/internal/ui/mounts/*")
				done := make(chan error, 1)
				go func() { v, _, err := fetchOne(t, src, ref); done <- errIfNot(v, err, "sk-cost") }()
				await(t, arrived, 2)
				release()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
			}
			if n := h.fake.Requests(); n != tc.requests {
				t.Errorf("%d requests, want %d", n, tc.requests)
			}
			if tc.discarded != "" && h.fake.Count(tc.discarded) != 1 {
				t.Errorf("the speculative read %s was not sent once", tc.discarded)
			}
		})
	}
}

// errIfNot is wantValue for a goroutine: an error instead of t.Fatal.
func errIfNot(got string, err error, want string) error {
	if err == nil && got != want {
		err = fmt.Errorf("got %s, want %s", sources.Fingerprint(got), sources.Fingerprint(want))
	}
	return err
}

// TestDeepMountOneLookup: two paths under a mount deeper than their first
// segment: the first path's lookup settles both.
func TestDeepMountOneLookup(t *testing.T) {
	t.Parallel()
	h := fakeVault(t)
	h.admin.EnableKV(t, "team/kv", 2)
	h.admin.PutKV2(t, "team/kv", "a", map[string]any{"v": "va"})
	h.admin.PutKV2(t, "team/kv", "b", map[string]any{"v": "vb"})
	h.fake.ResetCounts()
	res, err := fetch(t, h.source(t, Config{}), "vault://team/kv/a#v", "vault://team/kv/b#v")
	if err != nil {
		t.Fatal(err)
	}
	wantValue(t, res[0].Value.Reveal(), res[0].Err, "va")
	wantValue(t, res[1].Value.Reveal(), res[1].Err, "vb")
	if n := h.fake.Count("sys/internal/ui/mounts/team/kv/a") + h.fake.Count("sys/internal/ui/mounts/team/kv/b"); n != 1 {
		t.Errorf("%d lookups, want 1", n)
	}
}

func TestOneReadPerPath(t *testing.T) {
	t.Parallel()
	h := fakeVault(t)
	a, b := map[string]any{}, map[string]any{}
	var refs []string
	for i := range 5 {
		a[fmt.Sprintf("a%d", i)] = fmt.Sprintf("va%d", i)
		b[fmt.Sprintf("b%d", i)] = fmt.Sprintf("vb%d", i)
		refs = append(refs, fmt.Sprintf("vault://secret/%s#a%d", h.path("one"), i), fmt.Sprintf("vault://secret/%s#b%d", h.path("two"), i))
	}
	h.admin.PutKV2(t, "secret", h.path("one"), a)
	h.admin.PutKV2(t, "secret", h.path("two"), b)
	h.fake.ResetCounts()

	res, err := fetch(t, h.source(t, Config{Concurrency: 2}), refs...)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		wantValue(t, r.Value.Reveal(), r.Err, fmt.Sprintf("v%c%d", "ab"[i%2], i/2))
	}
	if n := h.fake.Reads(); n != 2 {
		t.Errorf("10 references from 2 paths cost %d reads, want 2", n)
	}
	if n := h.fake.Requests(); n != 3 {
		t.Errorf("%d requests, want 3: one lookup for the mount, one read per path", n)
	}
}

// TestMountLookupDenied: a token that may read the secret but not the
// mount lookup (real Vault answers it for any token that reaches the mount,
// so only the fake can refuse it) gets an error that says how to skip it.
func TestMountLookupDenied(t *testing.T) {
	t.Parallel()
	h := fakeVault(t)
	h.admin.PutKV2(t, "secret", h.path("k"), map[string]any{"v": "sk-fallback"})
	pol := "p-" + h.id
	h.admin.PutPolicy(t, pol, `path "secret/data/*" { capabilities = ["read"] }`)
	tok := h.admin.CreateToken(t, pol)
	h.fake.Deny(tok, "sys/internal/ui/mounts/*")
	ref := "vault://secret/" + h.path("k") + "#v"
	env := map[string]string{"VAULT_TOKEN": tok}

	_, _, err := fetchOne(t, h.source(t, Config{Env: env}), ref)
	wantErr(t, err, sources.ErrPermission, ref, "sys/internal/ui/mounts", "kv_version", "?kv=2")

	for name, tc := range map[string]struct {
		cfg Config
		ref string
	}{
		"kv_version": {Config{Env: env, KVVersion: map[string]int{"secret/": 2}}, ref},
		"?kv=2":      {Config{Env: env}, "vault://secret/" + h.path("k") + "?kv=2#v"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			v, ver, err := fetchOne(t, h.source(t, tc.cfg), tc.ref)
			if err != nil || v != "sk-fallback" || ver != "kv2 version 1" {
				t.Fatalf("got %s %q %v", sources.Fingerprint(v), ver, err)
			}
		})
	}
}
