package verify

import (
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
	"github.com/keyexec/keyexec/verify/providertest"
)

// probeTarget is a Target for key at srv, as the unit's own SDK calls it.
func probeTarget(u *provider.Unit, srv *providertest.Server, key string) Target {
	t := Target{API: u, BaseURL: srv.BaseURL(), Key: sources.NewSecret(key), Names: u.EnvNames(), Label: "environment",
		Origin: cmpOr(u.Var(provider.RoleKey), "OLLAMA_HOST") + " from vault://secret/llm#key"}
	if u.Name == provider.Azure {
		t.APIVersion = "2024-10-21"
	}
	return t
}

// TestProbeEveryUnit is generated from the units: for each, against its
// fake, a good key, an unknown key, no quota, an unknown model and a rate
// limit followed by success.
func TestProbeEveryUnit(t *testing.T) {
	t.Parallel()
	for _, u := range provider.All() {
		key := ownKey(u)
		if u.Keyless {
			key = ""
		}
		cases := []struct {
			name     string
			keys     map[string]providertest.Key
			model    string
			want     provider.Diagnosis
			attempts int
		}{
			{name: "good key", keys: map[string]providertest.Key{key: {}}, want: provider.OK, attempts: 1},
			{name: "rejected key", keys: map[string]providertest.Key{"other": {}}, want: provider.Rejected},
			{name: "no quota", keys: map[string]providertest.Key{key: {Mode: providertest.NoQuota}}, want: provider.NoQuota},
			{name: "unknown model", keys: map[string]providertest.Key{key: {}}, model: "no-such-model", want: provider.NotFound},
			{name: "rate limited, then fine", keys: map[string]providertest.Key{key: {Mode: providertest.RateLimited, Times: 1, RetryAfter: "0"}}, want: provider.OK, attempts: 2},
		}
		for _, c := range cases {
			if u.Keyless && c.name == "rejected key" {
				continue
			}
			want := c.want
			if c.name == "no quota" && !u.QuotaSeen {
				want = provider.OK
			}
			t.Run(string(u.Name)+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				srv := providertest.Start(t, providertest.Kind(u.Name), providertest.Config{Keys: c.keys, Deployments: []string{"gpt-4o-mini"}})
				tg := probeTarget(u, srv, key)
				if c.model != "" {
					tg.Model = c.model
				} else if u.Name == provider.Azure {
					tg.Model = "gpt-4o-mini"
				}
				r := probeOne(t, tg, ProbeOptions{Timeout: 5 * time.Second})
				if r.Diagnosis != want {
					t.Fatalf("got %s (%d %s: %s), want %s", r.Diagnosis, r.Status, r.Code, r.Hint, want)
				}
				if c.attempts != 0 && r.Attempts != c.attempts && u.Keyless == false {
					t.Errorf("attempts %d, want %d", r.Attempts, c.attempts)
				}
				if (want == provider.OK) != (r.Err == nil) || want != provider.OK && !errors.Is(r.Err, Sentinel(want)) {
					t.Errorf("err %v for %s", r.Err, want)
				}
				if r.Hint == "" {
					t.Error("no hint")
				}
				probeNoLeak(t, r, key)
			})
		}
	}
}

// TestProbeUnreachable: a provider that does not answer is retried until the
// probe deadline, then unreachable (69), for every unit.
func TestProbeUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	for _, u := range provider.All() {
		t.Run(string(u.Name), func(t *testing.T) {
			t.Parallel()
			tg := Target{API: u, BaseURL: "http://" + addr, Key: sources.NewSecret(ownKey(u)), Names: u.EnvNames(), APIVersion: "2024-10-21"}
			r := probeOne(t, tg, ProbeOptions{Timeout: 400 * time.Millisecond})
			if r.Diagnosis != provider.Unreachable || r.Attempts < 2 || !errors.Is(r.Err, ErrUnreachable) || !strings.Contains(r.Hint, "connection refused") {
				t.Fatalf("got %s after %d attempts: %s", r.Diagnosis, r.Attempts, r.Hint)
			}
		})
	}
}

// probeOne probes a single Target and returns its Result.
func probeOne(t *testing.T, tg Target, opts ProbeOptions) Result {
	t.Helper()
	res := Probe(context.Background(), []Target{tg}, opts)
	if len(res) != 1 {
		t.Fatalf("got %d results, want 1", len(res))
	}
	return res[0]
}

// probeNoLeak fails when any printable part of r holds a secret or an
// 8-character piece of one.
func probeNoLeak(t *testing.T, r Result, secrets ...string) {
	t.Helper()
	text := strings.Join([]string{r.Label, r.Origin, r.URL, r.Code, r.Message, r.Location, r.Proxy, r.Hint, r.Note, r.Fingerprint}, "\n")
	if r.Err != nil {
		text += "\n" + r.Err.Error()
	}
	for _, s := range secrets {
		for i := max(0, sources.PublicPrefix(s)-7); i+8 <= len(s); i++ {
			if strings.Contains(text, s[i:i+8]) {
				t.Fatalf("result shows %q, a piece of a secret:\n%s", s[i:i+8], text)
			}
		}
	}
}

func TestProbeRestrictedOpenAIKey(t *testing.T) {
	t.Parallel()
	u := provider.ByName("openai")
	key := keys["openai-project"]
	cases := []struct {
		name   string
		k      providertest.Key
		want   provider.Diagnosis
		reqs   int
		inHint string
	}{
		{name: "lacks api.model.read, may call models", k: providertest.Key{Scopes: []string{providertest.ScopeModelRequest}}, want: provider.OK, reqs: 3, inHint: "model.request"},
		{name: "lacks model.request too", k: providertest.Key{Scopes: []string{"api.responses.read"}}, want: provider.Rejected, reqs: 3, inHint: "lacks the model.request permission"},
		{name: "a false missing-scope answer, once", k: providertest.Key{SpuriousScopeErrors: 1}, want: provider.OK, reqs: 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			srv := providertest.Start(t, providertest.OpenAI, providertest.Config{Keys: map[string]providertest.Key{key: c.k}})
			r := probeOne(t, probeTarget(u, srv, key), ProbeOptions{})
			if r.Diagnosis != c.want || r.Requests != c.reqs || srv.Requests() != c.reqs || !strings.Contains(r.Hint+r.Note, c.inHint) {
				t.Fatalf("got %s after %d requests (fake: %d): %s / %s", r.Diagnosis, r.Requests, srv.Requests(), r.Hint, r.Note)
			}
			if errors.Is(r.Err, ErrMisconfigured) {
				t.Error("a restricted key is a genuine key, never misconfigured")
			}
		})
	}
}

func TestProbeDedupeAndEarlyStart(t *testing.T) {
	t.Parallel()
	u := provider.ByName("openai")
	k1, k2 := keys["openai-project"], keys["openai-svcacct"]
	srv := providertest.Start(t, providertest.OpenAI, providertest.Config{Keys: map[string]providertest.Key{k1: {}, k2: {}}})
	a := probeTarget(u, srv, k1)
	b := a
	b.Label, b.Origin = "config list entry 0 (gpt-4o)", "api_key from env://X"
	c := probeTarget(u, srv, k2)
	p := NewProber(context.Background(), ProbeOptions{})
	defer p.Close()
	p.Start(a) // as resolve's Ready would, before the others are known
	res := p.Probe([]Target{a, b, c, a})
	if len(res) != 2 || srv.Requests() != 2 || srv.KeyRequests(k1) != 1 {
		t.Fatalf("%d results, %d requests: want 2 and 2", len(res), srv.Requests())
	}
	if res[0].Label != "environment; config list entry 0 (gpt-4o)" || !slices.Equal(res[0].Targets, []int{0, 1, 3}) || !slices.Equal(res[1].Targets, []int{2}) {
		t.Errorf("labels %q, targets %v %v", res[0].Label, res[0].Targets, res[1].Targets)
	}
}

func TestProbeStoppedIsNeverUnreachable(t *testing.T) {
	t.Parallel()
	u := provider.ByName("openai")
	key := keys["openai-project"]
	arrived := make(chan struct{}, 1)
	srv := providertest.Start(t, providertest.OpenAI, providertest.Config{Keys: map[string]providertest.Key{key: {Mode: providertest.Slow, Delay: time.Minute}},
		OnRequest: func(providertest.Request) { arrived <- struct{}{} }})
	ctx, cancel := context.WithCancelCause(context.Background())
	go func() {
		<-arrived
		cancel(&sources.StopError{Signal: 15})
	}()
	r := Probe(ctx, []Target{probeTarget(u, srv, key)}, ProbeOptions{Timeout: time.Minute})[0]
	var stop *sources.StopError
	if r.Diagnosis != provider.Stopped || !errors.As(r.Err, &stop) || errors.Is(r.Err, ErrUnreachable) {
		t.Fatalf("got %s: %v", r.Diagnosis, r.Err)
	}
	v := Judge([]Candidate{{From: FromEnv}}, []error{nil}, []Target{{Candidate: 0}}, []Result{r}, Policy{OnUnreachable: "warn"})
	if !errors.As(v.Err, &stop) {
		t.Fatalf("Judge under warn: %v, want the stop", v.Err)
	}
}

func TestProbeRedirectNeverCarriesTheKey(t *testing.T) {
	t.Parallel()
	u := provider.ByName("anthropic")
	key := keys["anthropic"]
	other := providertest.Start(t, providertest.Anthropic, providertest.Config{Keys: map[string]providertest.Key{key: {}}})
	loc := other.BaseURL() + "/v1/models"
	srv := providertest.Start(t, providertest.Anthropic, providertest.Config{Keys: map[string]providertest.Key{key: {Mode: providertest.Redirect, Location: loc}}})
	r := probeOne(t, probeTarget(u, srv, key), ProbeOptions{})
	if r.Diagnosis != provider.Redirected || r.Location != loc || !errors.Is(r.Err, ErrMisconfigured) || other.Requests() != 0 {
		t.Fatalf("got %s location %q, %d requests reached the target", r.Diagnosis, r.Location, other.Requests())
	}
}

func TestProbeMasksEchoedKey(t *testing.T) {
	t.Parallel()
	u := provider.ByName("openai")
	key := keys["openai-project"]
	srv := providertest.Start(t, providertest.OpenAI, providertest.Config{Keys: map[string]providertest.Key{key: {Mode: providertest.EchoKey}}})
	r := probeOne(t, probeTarget(u, srv, key), ProbeOptions{})
	if r.Diagnosis != provider.Rejected || !strings.Contains(r.Message, "sk-proj-[masked]") {
		t.Fatalf("got %s, message %q", r.Diagnosis, r.Message)
	}
	probeNoLeak(t, r, key)
}

func TestProbeRefusesPlainHTTPRemote(t *testing.T) {
	t.Parallel()
	u := provider.ByName("openai")
	r := probeOne(t, Target{API: u, BaseURL: "http://api.example.invalid/v1", Key: sources.NewSecret(keys["openai-project"]), Names: u.EnvNames()}, ProbeOptions{})
	if r.Diagnosis != provider.BadURL || r.Attempts != 0 || !strings.Contains(r.Hint, "probe.allow_http") {
		t.Fatalf("got %s after %d attempts: %s", r.Diagnosis, r.Attempts, r.Hint)
	}
}

func TestProxyConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env               map[string]string
		https, http, none string
	}{
		{env: map[string]string{"HTTPS_PROXY": "a:1", "HTTP_PROXY": "b:2", "NO_PROXY": "x"}, https: "a:1", http: "b:2", none: "x"},
		{env: map[string]string{"HTTPS_PROXY": "a:1", "https_proxy": "c:3"}, https: "c:3"},
		{env: map[string]string{"HTTPS_PROXY": "a:1", "https_proxy": ""}, https: ""},
		{env: map[string]string{"ALL_PROXY": "socks5://d:4", "HTTP_PROXY": "b:2"}, https: "socks5://d:4", http: "b:2"},
	}
	for _, tc := range tests {
		c := proxyConfig(tc.env)
		if c.HTTPSProxy != tc.https || c.HTTPProxy != tc.http || c.NoProxy != tc.none {
			t.Errorf("%v: got %+v", tc.env, c)
		}
	}
}
