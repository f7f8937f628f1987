package main

import (
	"strings"
	"testing"
	"time"

	"github.com/keyexec/keyexec/verify/providertest"
)

// probeCase is one end-to-end probe scenario against the provider fake.
type probeCase struct {
	name    string
	kind    providertest.Kind
	key     providertest.Key // behaviour of the key the child would get
	unknown bool             // send a key the fake does not know (401)
	flags   []string
	extra   map[string]string
	code    int
	hint    string // in keyexec's output
	started bool
}

func startProvider(t *testing.T, kind providertest.Kind, key string, k providertest.Key, unknown bool) *providertest.Server {
	t.Helper()
	keys := map[string]providertest.Key{}
	if !unknown {
		keys[key] = k
	}
	return providertest.Start(t, kind, providertest.Config{Keys: keys})
}

func providerEnv(kind providertest.Kind, base string) map[string]string {
	switch kind {
	case providertest.Azure:
		return map[string]string{"AZURE_OPENAI_API_KEY": azureKey, "AZURE_OPENAI_ENDPOINT": base, "OPENAI_API_VERSION": "2024-10-21"}
	case providertest.Anthropic:
		return map[string]string{"ANTHROPIC_API_KEY": anthropicKey, "ANTHROPIC_BASE_URL": base}
	}
	return map[string]string{"OPENAI_API_KEY": openAIKey, "OPENAI_BASE_URL": base}
}

func keyOf(kind providertest.Kind) string {
	switch kind {
	case providertest.Azure:
		return azureKey
	case providertest.Anthropic:
		return anthropicKey
	}
	return openAIKey
}

// TestProbeDiagnoses runs the binary against the fake for every diagnosis:
// exit code, child started or not, hint and URL in the output, no leak.
func TestProbeDiagnoses(t *testing.T) {
	t.Parallel()
	cases := []probeCase{
		{name: "openai ok", kind: providertest.OpenAI, code: 0, started: true},
		{name: "openai revoked key", kind: providertest.OpenAI, unknown: true, code: 77, hint: "rejected"},
		{name: "openai wrong organization", kind: providertest.OpenAI, key: providertest.Key{Org: "org-right"}, extra: map[string]string{"OPENAI_ORG_ID": "org-wrong"}, code: 77, hint: "organization"},
		{name: "openai no organization", kind: providertest.OpenAI, key: providertest.Key{Mode: providertest.NoOrganization}, code: 77, hint: "organization"},
		{name: "openai no quota", kind: providertest.OpenAI, key: providertest.Key{Mode: providertest.NoQuota}, code: 77, hint: "quota"},
		{name: "openai forbidden", kind: providertest.OpenAI, key: providertest.Key{Mode: providertest.Forbidden}, code: 77, hint: "403"},
		{name: "openai unknown model", kind: providertest.OpenAI, flags: []string{"--model", "gpt-9-nope"}, code: 78, hint: "gpt-9-nope"},
		{name: "openai model ok", kind: providertest.OpenAI, flags: []string{"--model", "gpt-4o-mini"}, code: 0, started: true},
		{name: "openai 5xx then ok", kind: providertest.OpenAI, key: providertest.Key{Mode: providertest.ServerError, Times: 2}, code: 0, started: true},
		{name: "openai 5xx forever", kind: providertest.OpenAI, key: providertest.Key{Mode: providertest.ServerError}, flags: []string{"--probe-timeout", "2s"}, code: 69, hint: "no usable answer"},
		{name: "openai rate limited forever", kind: providertest.OpenAI, key: providertest.Key{Mode: providertest.RateLimited, RetryAfter: "1"}, flags: []string{"--probe-timeout", "2s"}, code: 69, hint: "429"},
		{name: "openai unreachable warn starts", kind: providertest.OpenAI, key: providertest.Key{Mode: providertest.ServerError, Status: 503}, flags: []string{"--probe-timeout", "1s"}, extra: map[string]string{"KEYEXEC_CONFIG": "warn.yaml"}, code: 0, started: true, hint: "starting anyway"},
		{name: "openai slow beyond deadline", kind: providertest.OpenAI, key: providertest.Key{Mode: providertest.Slow, Delay: time.Minute}, flags: []string{"--probe-timeout", "1s"}, code: 69},
		{name: "openai huge body", kind: providertest.OpenAI, key: providertest.Key{Mode: providertest.HugeBody}, code: 0, started: true},
		{name: "openai html page", kind: providertest.OpenAI, key: providertest.Key{Mode: providertest.NotJSON}, code: 78, hint: "not with JSON"},
		{name: "openai key echoed", kind: providertest.OpenAI, key: providertest.Key{Mode: providertest.EchoKey}, code: 77},
		{name: "azure ok", kind: providertest.Azure, code: 0, started: true},
		{name: "azure deployment ok", kind: providertest.Azure, flags: []string{"--model", "gpt-4o-mini"}, code: 0, started: true},
		{name: "azure deployment missing", kind: providertest.Azure, flags: []string{"--model", "gpt-4o-prod"}, code: 78, hint: "gpt-4o-prod"},
		{name: "azure bad api-version", kind: providertest.Azure, extra: map[string]string{"OPENAI_API_VERSION": "2023-01-01"}, code: 78, hint: "api-version"},
		{name: "azure bad key", kind: providertest.Azure, unknown: true, code: 77, hint: "rejected"},
		{name: "anthropic ok", kind: providertest.Anthropic, code: 0, started: true},
		{name: "anthropic bad key", kind: providertest.Anthropic, unknown: true, code: 77, hint: "rejected"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := startProvider(t, tc.kind, keyOf(tc.kind), tc.key, tc.unknown)
			env := providerEnv(tc.kind, srv.BaseURL())
			for k, v := range tc.extra {
				env[k] = v
			}
			dir := t.TempDir()
			writeTestFile(t, dir, "warn.yaml", "probe: {on_unreachable: warn}\n")
			out, _, started := runChild(t, dir, env, tc.flags...)
			if out.code != tc.code || started != tc.started {
				t.Fatalf("exit %d (child started: %v), want %d (%v):\n%s", out.code, started, tc.code, tc.started, out.stderr)
			}
			if tc.hint != "" && !strings.Contains(out.stderr, tc.hint) {
				t.Errorf("stderr lacks %q:\n%s", tc.hint, out.stderr)
			}
			if !tc.started && !strings.Contains(out.stderr, srv.BaseURL()[len("http://"):]) {
				t.Errorf("stderr does not name the URL probed:\n%s", out.stderr)
			}
			chk := keyexecCmd(t, dir, env, append([]string{"check"}, tc.flags...)...)
			if chk.code != tc.code {
				t.Errorf("check exit %d, run exit %d", chk.code, tc.code)
			}
			if !started {
				assertNoLeak(t, out.stdout) // stdout belongs to the child once it runs
			}
			assertNoLeak(t, out.stderr, chk.stdout, chk.stderr)
		})
	}
}

// TestProbeOneRequestPerCredential: three providers, each asked once, and
// the child starts.
func TestProbeOneRequestPerCredential(t *testing.T) {
	t.Parallel()
	oai := startProvider(t, providertest.OpenAI, openAIKey, providertest.Key{}, false)
	az := startProvider(t, providertest.Azure, azureKey, providertest.Key{}, false)
	ant := startProvider(t, providertest.Anthropic, anthropicKey, providertest.Key{}, false)
	env := providerEnv(providertest.OpenAI, oai.BaseURL())
	for _, m := range []map[string]string{providerEnv(providertest.Azure, az.BaseURL()), providerEnv(providertest.Anthropic, ant.BaseURL())} {
		for k, v := range m {
			env[k] = v
		}
	}
	out, child, ok := runChild(t, "", env)
	if !ok {
		t.Fatalf("child did not start (exit %d): %s", out.code, out.stderr)
	}
	if child.Env["OPENAI_API_KEY"] != openAIKey {
		t.Errorf("child lacks its key")
	}
	for name, srv := range map[string]*providertest.Server{"openai": oai, "azure": az, "anthropic": ant} {
		if n := srv.Requests(); n != 1 {
			t.Errorf("%s fake got %d requests, want 1", name, n)
		}
	}
	if !strings.Contains(out.stderr, "3/3 probes ok") {
		t.Errorf("summary does not count the probes: %s", out.stderr)
	}
}

// TestProbeRedirectNeverCarriesKey: a 3xx to another host is reported with
// its Location and the other host never sees the key.
func TestProbeRedirectNeverCarriesKey(t *testing.T) {
	t.Parallel()
	other := providertest.Start(t, providertest.OpenAI, providertest.Config{Keys: map[string]providertest.Key{openAIKey: {}}})
	srv := startProvider(t, providertest.OpenAI, openAIKey, providertest.Key{Mode: providertest.Redirect, Location: other.BaseURL() + "/models"}, false)
	out, _, started := runChild(t, "", providerEnv(providertest.OpenAI, srv.BaseURL()))
	if started || out.code != 78 {
		t.Fatalf("exit %d, started %v; want 78 and no child:\n%s", out.code, started, out.stderr)
	}
	if other.Requests() != 0 {
		t.Fatalf("the redirect target received %d requests", other.Requests())
	}
	if !strings.Contains(out.stderr, other.BaseURL()) {
		t.Errorf("the Location is not reported:\n%s", out.stderr)
	}
	assertNoLeak(t, out.stdout, out.stderr)
}

// TestProbeRefusesPlainHTTPRemote: http:// to a non-loopback host is refused
// before any request (the host is .invalid, so a request could not succeed
// anyway, and the offline check stops it first).
func TestProbeRefusesPlainHTTPRemote(t *testing.T) {
	t.Parallel()
	env := map[string]string{"OPENAI_API_KEY": openAIKey, "OPENAI_BASE_URL": "http://llm-gateway.invalid/v1"}
	out, _, started := runChild(t, "", env)
	if started || out.code != 78 || !strings.Contains(out.stderr, "http://") {
		t.Fatalf("exit %d started %v:\n%s", out.code, started, out.stderr)
	}
	// With allow_http the probe is attempted and the unknown host is a bad URL.
	dir := t.TempDir()
	writeTestFile(t, dir, "keyexec.yaml", "probe: {allow_http: true}\n")
	out, _, started = runChild(t, dir, env, "--probe-timeout", "3s")
	if started || out.code != 78 {
		t.Fatalf("allow_http with a .invalid host: exit %d started %v:\n%s", out.code, started, out.stderr)
	}
	assertNoLeak(t, out.stdout, out.stderr)
}

// TestNoProbeSaysSo: --no-probe never claims a probe passed.
func TestNoProbeSaysSo(t *testing.T) {
	t.Parallel()
	out := keyexecCmd(t, "", map[string]string{"OPENAI_API_KEY": openAIKey}, "check", "--no-probe")
	if out.code != 0 || !strings.Contains(out.stdout, "not proven") || strings.Contains(out.stdout, "probes ok") {
		t.Fatalf("check --no-probe:\n%s", out.stdout)
	}
}
