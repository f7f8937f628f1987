package verify

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/providertest"
)

// Test credentials: long enough for "sk-…" style masked tails.
const (
	probeKeyGood  = "sk-proj-goodGOODgood1234567890T3BlbkFJabcdefghijklmnopWx3f"
	probeKeyOther = "sk-proj-otherOTHER0987654321T3BlbkFJzyxwvutsrqponmlkjQ9z1"
	probeKeyBad   = "sk-proj-revokedREVOKED1357924680T3BlbkFJmnbvcxzlkjhgAb7c"
	probeAzureKey = "0123456789abcdef0123456789abcdef"
	probeADToken  = "eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJjb2duaXRpdmUifQ.c2lnbmF0dXJlc2lnbmF0dXJl"
	probeAntKey   = "sk-ant-api03-abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-AA"
	probeOrigin   = "OPENAI_API_KEY from vault://secret/llm/openai#api_key"
)

// probeKind maps a Provider to the fake that plays it.
func probeKind(p Provider) providertest.Kind {
	switch p {
	case Azure:
		return providertest.Azure
	case Anthropic:
		return providertest.Anthropic
	}
	return providertest.OpenAI
}

// probeTarget is a Target for key against srv.
func probeTarget(p Provider, srv *providertest.Server, key string) Target {
	t := Target{Provider: p, BaseURL: srv.BaseURL(), Key: sources.NewSecret(key), Label: "environment", Origin: probeOrigin}
	if p == Azure {
		t.APIVersion = "2024-10-21"
	}
	return t
}

func TestProbeDiagnoses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		provider Provider
		cfg      providertest.Config
		key      string
		edit     func(*Target)
		want     Diagnosis
		status   int
		code     string
		sentinel error
		hint     []string // substrings of the hint
		attempts int      // 0: don't check
	}{
		{name: "openai ok", provider: OpenAI, key: probeKeyGood, want: OK, status: 200, attempts: 1,
			hint: []string{"accepted"}},
		{name: "openai model ok", provider: OpenAI, key: probeKeyGood, edit: func(t *Target) { t.Model = "gpt-4o" }, want: OK, status: 200,
			hint: []string{"model gpt-4o is available"}},
		{name: "openai invalid key", provider: OpenAI, key: probeKeyBad, want: Rejected, status: 401, code: "invalid_api_key",
			sentinel: ErrRejected, attempts: 1,
			hint: []string{"rejected", "revoked", "sk-…Ab7c", "vault://secret/llm/openai#api_key"}},
		{name: "openai empty key", provider: OpenAI, key: "", want: Rejected, status: 401, sentinel: ErrRejected,
			hint: []string{"no API key was sent"}},
		{name: "openai wrong organization", provider: OpenAI, key: probeKeyGood,
			cfg:  providertest.Config{Keys: map[string]providertest.Key{probeKeyGood: {Org: "org-right"}}},
			edit: func(t *Target) { t.Org = "org-wrong" }, want: Rejected, status: 401, code: "mismatched_organization",
			sentinel: ErrRejected, hint: []string{`organization "org-wrong"`, "OPENAI_ORG_ID"}},
		{name: "openai right organization", provider: OpenAI, key: probeKeyGood,
			cfg:  providertest.Config{Keys: map[string]providertest.Key{probeKeyGood: {Org: "org-right"}}},
			edit: func(t *Target) { t.Org = "org-right"; t.Project = "proj_1" }, want: OK, status: 200},
		{name: "openai no organization", provider: OpenAI, key: probeKeyGood,
			cfg:  providertest.Config{Keys: map[string]providertest.Key{probeKeyGood: {Mode: providertest.NoOrganization}}},
			want: Rejected, status: 401, code: "no_organization", sentinel: ErrRejected, hint: []string{"not a member of any organization"}},
		{name: "openai insufficient quota is not retried", provider: OpenAI, key: probeKeyGood,
			cfg:  providertest.Config{Keys: map[string]providertest.Key{probeKeyGood: {Mode: providertest.NoQuota}}},
			want: NoQuota, status: 429, code: "insufficient_quota", sentinel: ErrRejected, attempts: 1,
			hint: []string{"no quota left", "sk-…Wx3f"}},
		{name: "openai model not found", provider: OpenAI, key: probeKeyGood, edit: func(t *Target) { t.Model = "gpt-9" },
			want: NotFound, status: 404, code: "model_not_found", sentinel: ErrMisconfigured, attempts: 1,
			hint: []string{"model gpt-9 does not exist"}},
		{name: "openai base without /v1", provider: OpenAI, key: probeKeyGood,
			edit: func(t *Target) { t.BaseURL = strings.TrimSuffix(t.BaseURL, "/v1") }, want: NotFound, status: 404,
			sentinel: ErrMisconfigured, hint: []string{"base URL is wrong", "/v1"}},
		{name: "openai region", provider: OpenAI, key: probeKeyGood,
			cfg:  providertest.Config{Keys: map[string]providertest.Key{probeKeyGood: {Mode: providertest.Forbidden}}},
			want: Forbidden, status: 403, code: "unsupported_country_region_territory", sentinel: ErrRejected, attempts: 1,
			hint: []string{"country or region"}},
		{name: "openai not json", provider: OpenAI, key: probeKeyGood,
			cfg:  providertest.Config{Keys: map[string]providertest.Key{probeKeyGood: {Mode: providertest.NotJSON}}},
			want: Unexpected, status: 200, sentinel: ErrMisconfigured, hint: []string{"not with JSON"}},
		{name: "azure ok", provider: Azure, key: probeAzureKey, want: OK, status: 200},
		{name: "azure deployment ok on 400", provider: Azure, key: probeAzureKey, edit: func(t *Target) { t.Model = "gpt-4o-mini" },
			want: OK, status: 400, hint: []string{"deployment gpt-4o-mini exists"}},
		{name: "azure v1 deployment ok", provider: Azure, key: probeAzureKey,
			edit: func(t *Target) { t.Model = "gpt-4o-mini"; t.APIVersion = "v1" }, want: OK, status: 400},
		{name: "azure deployment not found", provider: Azure, key: probeAzureKey, edit: func(t *Target) { t.Model = "gpt-5-prod" },
			want: NotFound, status: 404, code: "DeploymentNotFound", sentinel: ErrMisconfigured, attempts: 1,
			hint: []string{"deployment gpt-5-prod does not exist"}},
		{name: "azure unknown api-version", provider: Azure, key: probeAzureKey, edit: func(t *Target) { t.APIVersion = "2019-01-01" },
			want: NotFound, status: 404, code: "404", sentinel: ErrMisconfigured,
			hint: []string{"Resource not found", `api-version "2019-01-01"`, "OPENAI_API_VERSION"}},
		{name: "azure bad key", provider: Azure, key: probeKeyBad, want: Rejected, status: 401, code: "401", sentinel: ErrRejected,
			hint: []string{"Azure rejected the key", "sk-…Ab7c"}},
		{name: "azure ad token ok", provider: Azure, cfg: providertest.Config{Tokens: map[string]providertest.Key{probeADToken: {}}},
			edit: func(t *Target) { t.Key = sources.Secret{}; t.ADToken = sources.NewSecret(probeADToken) }, want: OK, status: 200},
		{name: "azure ad token rejected", provider: Azure, key: probeAzureKey,
			edit: func(t *Target) { t.ADToken = sources.NewSecret(probeADToken) }, want: Rejected, status: 401,
			sentinel: ErrRejected, hint: []string{"AD token", "audience"}},
		{name: "azure network rules", provider: Azure, key: probeAzureKey,
			cfg:  providertest.Config{Keys: map[string]providertest.Key{probeAzureKey: {Mode: providertest.Forbidden}}},
			want: Forbidden, status: 403, code: "403", sentinel: ErrRejected, hint: []string{"network rules"}},
		{name: "azure quota", provider: Azure, key: probeAzureKey,
			cfg:  providertest.Config{Keys: map[string]providertest.Key{probeAzureKey: {Mode: providertest.NoQuota}}},
			want: NoQuota, status: 429, code: "InsufficientQuota", sentinel: ErrRejected, attempts: 1},
		{name: "anthropic ok", provider: Anthropic, key: probeAntKey, want: OK, status: 200},
		{name: "anthropic bad key", provider: Anthropic, key: probeKeyBad, want: Rejected, status: 401,
			code: "authentication_error", sentinel: ErrRejected, hint: []string{"Anthropic rejected the key"}},
		{name: "anthropic region", provider: Anthropic, key: probeAntKey,
			cfg:  providertest.Config{Keys: map[string]providertest.Key{probeAntKey: {Mode: providertest.Forbidden}}},
			want: Forbidden, status: 403, code: "forbidden", sentinel: ErrRejected, hint: []string{"country or region"}},
		{name: "anthropic credit", provider: Anthropic, key: probeAntKey,
			cfg:  providertest.Config{Keys: map[string]providertest.Key{probeAntKey: {Mode: providertest.NoQuota}}},
			want: NoQuota, status: 400, code: "invalid_request_error", sentinel: ErrRejected, hint: []string{"credit balance"}},
		{name: "anthropic base with /v1", provider: Anthropic, key: probeAntKey,
			edit: func(t *Target) { t.BaseURL += "/v1" }, want: NotFound, status: 404, code: "not_found_error", sentinel: ErrMisconfigured,
			hint: []string{"ANTHROPIC_BASE_URL"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := tc.cfg
			if cfg.Keys == nil {
				cfg.Keys = map[string]providertest.Key{probeKeyGood: {}, probeAzureKey: {}, probeAntKey: {}}
			}
			srv := providertest.Start(t, probeKind(tc.provider), cfg)
			tg := probeTarget(tc.provider, srv, tc.key)
			if tc.edit != nil {
				tc.edit(&tg)
			}
			res := Probe(context.Background(), []Target{tg}, ProbeOptions{Timeout: 5 * time.Second})
			if len(res) != 1 {
				t.Fatalf("got %d results, want 1", len(res))
			}
			r := res[0]
			if r.Diagnosis != tc.want || r.Status != tc.status || r.Code != tc.code {
				t.Fatalf("got %s %d %q (%s), want %s %d %q", r.Diagnosis, r.Status, r.Code, r.Hint, tc.want, tc.status, tc.code)
			}
			if tc.sentinel == nil && r.Err != nil || tc.sentinel != nil && !errors.Is(r.Err, tc.sentinel) {
				t.Errorf("Err = %v, want %v", r.Err, tc.sentinel)
			}
			for _, h := range tc.hint {
				if !strings.Contains(r.Hint, h) {
					t.Errorf("hint %q lacks %q", r.Hint, h)
				}
			}
			if tc.attempts != 0 && r.Attempts != tc.attempts {
				t.Errorf("Attempts = %d, want %d", r.Attempts, tc.attempts)
			}
			if !strings.HasPrefix(r.URL, srv.URL) || r.Latency <= 0 || r.Fingerprint != sources.Fingerprint(probeCredential(tg)) {
				t.Errorf("URL %q, latency %v, fingerprint %q", r.URL, r.Latency, r.Fingerprint)
			}
			probeNoLeak(t, r, tc.key, probeADToken)
		})
	}
}

// probeCredential is the value a Target sends, for fingerprint checks.
func probeCredential(t Target) string {
	if t.Provider == Azure && !t.ADToken.IsZero() {
		return t.ADToken.Reveal()
	}
	return t.Key.Reveal()
}

// probeNoLeak fails when any printable part of r holds a secret or an
// 8-character piece of one.
func probeNoLeak(t *testing.T, r Result, secrets ...string) {
	t.Helper()
	text := strings.Join([]string{r.Label, r.Origin, r.URL, r.Code, r.Message, r.Location, r.Proxy, r.Hint, r.Fingerprint}, "\n")
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

func TestProbeRequests(t *testing.T) {
	t.Parallel()
	key := sources.NewSecret(probeKeyGood)
	tests := []struct {
		name         string
		target       Target
		method, url  string
		header, body string
	}{
		{name: "openai default", target: Target{Provider: OpenAI, Key: key, Org: "org-1", Project: "proj_1"},
			method: "GET", url: "https://api.openai.com/v1/models", header: "Openai-Organization: org-1|Openai-Project: proj_1"},
		{name: "openai model", target: Target{Provider: OpenAI, BaseURL: "https://api.groq.com/openai/v1/", Key: key, Model: "ft:gpt-4o:acme:x/y"},
			method: "GET", url: "https://api.groq.com/openai/v1/models/ft:gpt-4o:acme:x%2Fy"},
		{name: "openrouter", target: Target{Provider: OpenAI, BaseURL: "https://openrouter.ai/api/v1", Key: key, Model: "x"},
			method: "GET", url: "https://openrouter.ai/api/v1/key"},
		{name: "azure key", target: Target{Provider: Azure, BaseURL: "https://r.openai.azure.com", Key: key, APIVersion: "2024-10-21"},
			method: "GET", url: "https://r.openai.azure.com/openai/models?api-version=2024-10-21", header: "Api-Key: " + probeKeyGood},
		{name: "azure token wins", target: Target{Provider: Azure, BaseURL: "https://r.openai.azure.com", Key: key, ADToken: sources.NewSecret(probeADToken), APIVersion: "2024-10-21", Model: "d1"},
			method: "POST", url: "https://r.openai.azure.com/openai/deployments/d1/chat/completions?api-version=2024-10-21",
			header: "Authorization: Bearer " + probeADToken, body: "{}"},
		{name: "azure v1 preview", target: Target{Provider: Azure, BaseURL: "https://r.openai.azure.com", Key: key, APIVersion: "preview", Model: "d1"},
			method: "POST", url: "https://r.openai.azure.com/openai/v1/chat/completions?api-version=preview", body: `{"model":"d1"}`},
		{name: "anthropic", target: Target{Provider: Anthropic, Key: key},
			method: "GET", url: "https://api.anthropic.com/v1/models", header: "Anthropic-Version: 2023-06-01|X-Api-Key: " + probeKeyGood},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			r := buildRequest(tc.target, false)
			if r.refused != nil || r.method != tc.method || r.url.String() != tc.url || string(r.body) != tc.body {
				t.Fatalf("got %v %s %s %q, want %s %s %q", r.refused, r.method, r.url, r.body, tc.method, tc.url, tc.body)
			}
			if r.header.Get("User-Agent") != userAgent {
				t.Errorf("User-Agent %q", r.header.Get("User-Agent"))
			}
			for _, h := range strings.Split(tc.header, "|") {
				name, value, _ := strings.Cut(h, ": ")
				if h != "" && r.header.Get(name) != value {
					t.Errorf("header %s = %q, want %q", name, r.header.Get(name), value)
				}
			}
		})
	}
}
