package resolve

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources"
)

func resolveEnv(t *testing.T, opts Options) (*Result, error) {
	t.Helper()
	return Resolve(context.Background(), opts)
}

func TestAliases(t *testing.T) {
	t.Parallel()
	const azureKey = "0123456789abcdef0123456789abcdef"
	const antKey = "sk-ant-api03-test"
	tests := []struct {
		name string
		env  []string
		want map[string]string // name → value in the child; "" value means must be absent
	}{
		{name: "OPENAI_KEY", env: []string{"OPENAI_KEY=" + testKey}, want: map[string]string{"OPENAI_API_KEY": testKey, "OPENAI_KEY": ""}},
		{name: "OPENAI_TOKEN", env: []string{"OPENAI_TOKEN=" + testKey}, want: map[string]string{"OPENAI_API_KEY": testKey}},
		{name: "OPENAI_APIKEY", env: []string{"OPENAI_APIKEY=" + testKey}, want: map[string]string{"OPENAI_API_KEY": testKey}},
		{name: "OPENAI_SECRET_KEY", env: []string{"OPENAI_SECRET_KEY=" + testKey}, want: map[string]string{"OPENAI_API_KEY": testKey}},
		{name: "API_KEY with OpenAI shape", env: []string{"API_KEY=" + testKey}, want: map[string]string{"OPENAI_API_KEY": testKey, "API_KEY": ""}},
		{name: "API_KEY of another shape stays", env: []string{"API_KEY=something-else"}, want: map[string]string{"API_KEY": "something-else", "OPENAI_API_KEY": ""}},
		{name: "OPENAI_API_BASE", env: []string{"OPENAI_API_BASE=http://127.0.0.1:4000/v1/"}, want: map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:4000/v1"}},
		{name: "OPENAI_BASE", env: []string{"OPENAI_BASE=https://gw.example/v1"}, want: map[string]string{"OPENAI_BASE_URL": "https://gw.example/v1"}},
		{name: "OPENAI_API_HOST", env: []string{"OPENAI_API_HOST=https://gw.example/v1"}, want: map[string]string{"OPENAI_BASE_URL": "https://gw.example/v1"}},
		{name: "OPENAI_API_BASE Azure host", env: []string{"OPENAI_API_BASE=https://x.openai.azure.com/"}, want: map[string]string{"AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com", "OPENAI_BASE_URL": ""}},
		{name: "OPENAI_ORGANIZATION", env: []string{"OPENAI_ORGANIZATION=org-1"}, want: map[string]string{"OPENAI_ORG_ID": "org-1"}},
		{name: "OPENAI_ORG", env: []string{"OPENAI_ORG=org-1"}, want: map[string]string{"OPENAI_ORG_ID": "org-1"}},
		{name: "OPENAI_PROJECT", env: []string{"OPENAI_PROJECT=proj_1"}, want: map[string]string{"OPENAI_PROJECT_ID": "proj_1"}},
		{name: "AZURE_OPENAI_KEY", env: []string{"AZURE_OPENAI_KEY=" + azureKey}, want: map[string]string{"AZURE_OPENAI_API_KEY": azureKey}},
		{name: "AZURE_API_KEY", env: []string{"AZURE_API_KEY=" + azureKey}, want: map[string]string{"AZURE_OPENAI_API_KEY": azureKey}},
		{name: "AZURE_OPENAI_TOKEN", env: []string{"AZURE_OPENAI_TOKEN=" + azureKey}, want: map[string]string{"AZURE_OPENAI_API_KEY": azureKey}},
		{name: "AZURE_OPENAI_API_BASE", env: []string{"AZURE_OPENAI_API_BASE=https://x.openai.azure.com/openai/"}, want: map[string]string{"AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com"}},
		{name: "AZURE_API_BASE", env: []string{"AZURE_API_BASE=https://x.openai.azure.com"}, want: map[string]string{"AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com"}},
		{name: "AZURE_OPENAI_BASE_URL", env: []string{"AZURE_OPENAI_BASE_URL=https://x.openai.azure.com/openai/deployments/gpt4"}, want: map[string]string{"AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com"}},
		{name: "AZURE_ENDPOINT", env: []string{"AZURE_ENDPOINT=https://x.openai.azure.com"}, want: map[string]string{"AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com"}},
		{name: "AZURE_OPENAI_API_VERSION", env: []string{"AZURE_OPENAI_API_VERSION=2024-10-21"}, want: map[string]string{"OPENAI_API_VERSION": "2024-10-21"}},
		{name: "AZURE_API_VERSION", env: []string{"AZURE_API_VERSION=2024-10-21"}, want: map[string]string{"OPENAI_API_VERSION": "2024-10-21"}},
		{name: "ANTHROPIC_KEY", env: []string{"ANTHROPIC_KEY=" + antKey}, want: map[string]string{"ANTHROPIC_API_KEY": antKey}},
		{name: "CLAUDE_API_KEY", env: []string{"CLAUDE_API_KEY=" + antKey}, want: map[string]string{"ANTHROPIC_API_KEY": antKey, "CLAUDE_API_KEY": ""}},
		{name: "same value in alias and canonical", env: []string{"OPENAI_KEY=" + testKey, "OPENAI_API_KEY=" + testKey}, want: map[string]string{"OPENAI_API_KEY": testKey, "OPENAI_KEY": ""}},
		{name: "api.openai.com gains /v1", env: []string{"OPENAI_BASE_URL=https://api.openai.com/"}, want: map[string]string{"OPENAI_BASE_URL": "https://api.openai.com/v1"}},
		{name: "custom Azure endpoint host kept whole", env: []string{"AZURE_OPENAI_ENDPOINT=https://apim.example.com/llm"}, want: map[string]string{"AZURE_OPENAI_ENDPOINT": "https://apim.example.com/llm"}},
		{name: "API Management gateway keeps its path", env: []string{"AZURE_OPENAI_ENDPOINT=https://corp.azure-api.net/team-a/"}, want: map[string]string{"AZURE_OPENAI_ENDPOINT": "https://corp.azure-api.net/team-a"}},
		{name: "unrelated variable untouched", env: []string{"GREETING=  hi  "}, want: map[string]string{"GREETING": "  hi  "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := resolveEnv(t, Options{Environ: tt.env})
			if err != nil {
				t.Fatalf("Resolve: %v", err)
			}
			for name, want := range tt.want {
				got, ok := res.Values[name]
				if want == "" {
					if ok {
						t.Errorf("%s still in the child", name)
					}
					continue
				}
				if got != want {
					t.Errorf("%s = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestKeepAliasesAndUserAliases(t *testing.T) {
	t.Parallel()
	res, err := resolveEnv(t, Options{
		Environ:     []string{"OPENAI_KEY=" + testKey, "MY_APP_OPENAI_BASE=https://gw.example/v1"},
		Aliases:     map[string]string{"MY_APP_OPENAI_BASE": "OPENAI_BASE_URL"},
		KeepAliases: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"OPENAI_KEY", "OPENAI_API_KEY", "MY_APP_OPENAI_BASE", "OPENAI_BASE_URL"} {
		if _, ok := res.Values[name]; !ok {
			t.Errorf("%s missing with keep_aliases", name)
		}
	}
}

func TestConflicts(t *testing.T) {
	t.Parallel()
	other := strings.Replace(testKey, "Abc", "Xyz", 1)
	tests := []struct {
		name string
		env  []string
		has  []string
	}{
		{name: "alias and canonical differ", env: []string{"OPENAI_KEY=" + testKey, "OPENAI_API_KEY=" + other}, has: []string{"OPENAI_KEY", "OPENAI_API_KEY", sources.Fingerprint(testKey), sources.Fingerprint(other)}},
		{name: "two aliases differ", env: []string{"AZURE_OPENAI_KEY=aaaa", "AZURE_API_KEY=bbbb"}, has: []string{"AZURE_OPENAI_KEY", "AZURE_API_KEY", "AZURE_OPENAI_API_KEY"}},
		{name: "differ only by whitespace is no conflict", env: []string{"OPENAI_KEY=" + testKey + "\n", "OPENAI_API_KEY=" + testKey}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := resolveEnv(t, Options{Environ: tt.env})
			if len(tt.has) == 0 {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !errors.Is(err, sources.ErrInvalid) {
				t.Fatalf("error = %v, want a conflict", err)
			}
			for _, h := range tt.has {
				if !strings.Contains(err.Error(), h) {
					t.Errorf("error %q does not name %q", err, h)
				}
			}
			if strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), other) {
				t.Errorf("error leaks a value")
			}
		})
	}
}

// fakeSource counts Fetch calls and serves values by path.
type fakeSource struct {
	scheme string
	values map[string]string
	calls  atomic.Int32
	refs   atomic.Int32
	delay  time.Duration
}

func (f *fakeSource) Scheme() string { return f.scheme }
func (f *fakeSource) Fetch(ctx context.Context, refs []sources.Ref) ([]sources.Result, error) {
	f.calls.Add(1)
	f.refs.Add(int32(len(refs)))
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	out := make([]sources.Result, len(refs))
	for i, r := range refs {
		out[i].Ref = r
		v, ok := f.values[r.Path]
		if !ok {
			out[i].Err = errors.New("no such secret: " + sources.ErrNotFound.Error())
			out[i].Err = errors.Join(out[i].Err, sources.ErrNotFound)
			continue
		}
		out[i].Value, out[i].Version = sources.NewSecret(v), "v1"
	}
	return out, nil
}

func opener(s sources.Source) Opener {
	return func(context.Context) (sources.Source, error) { return s, nil }
}

func TestResolveFetchesOnceAndSanitizes(t *testing.T) {
	t.Parallel()
	src := &fakeSource{scheme: "vault", values: map[string]string{"secret/llm": testKey + "\r\n"}}
	res, err := resolveEnv(t, Options{
		Environ: []string{"OPENAI_API_KEY=vault://secret/llm", "COPY=vault://secret/llm", "VAULT_TOKEN=hvs.x", "KEYEXEC_PROVIDER=openai"},
		Secrets: map[string]string{"OPENAI_API_KEY": "env://OTHER", "EXTRA": "vault://secret/llm"},
		Scrub:   []string{"VAULT_TOKEN"},
		Sources: map[string]Opener{"vault": opener(src)},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := src.calls.Load(); got != 1 {
		t.Errorf("Fetch called %d times, want 1 batched call", got)
	}
	if got := src.refs.Load(); got != 1 {
		t.Errorf("%d refs fetched, want 1 distinct", got)
	}
	for _, n := range []string{"OPENAI_API_KEY", "COPY", "EXTRA"} {
		if res.Values[n] != testKey {
			t.Errorf("%s not resolved and trimmed", n)
		}
	}
	for _, n := range []string{"VAULT_TOKEN", "KEYEXEC_PROVIDER"} {
		if _, ok := res.Values[n]; ok {
			t.Errorf("%s not scrubbed", n)
		}
	}
	if len(res.Notes) == 0 || !strings.Contains(res.Notes[0], "overrides secrets.OPENAI_API_KEY") {
		t.Errorf("notes = %q, want the override explained", res.Notes)
	}
}

func TestResolveFailsClosed(t *testing.T) {
	t.Parallel()
	src := &fakeSource{scheme: "vault", values: map[string]string{}}
	slow := &fakeSource{scheme: "awssm", delay: time.Minute}
	tests := []struct {
		name    string
		env     []string
		want    error
		message string
	}{
		{name: "missing secret", env: []string{"A=vault://secret/none#k"}, want: sources.ErrNotFound, message: "A:"},
		{name: "malformed ref", env: []string{"A=vault://secret/x?version=zz#k"}, want: sources.ErrInvalid, message: "positive integer"},
		{name: "unknown scheme", env: []string{"A=vualt://secret/x"}, want: sources.ErrInvalid, message: `unknown reference scheme "vualt"`},
		{name: "no source built", env: []string{"A=cred://x"}, want: sources.ErrInvalid, message: "no source for cred://"},
		{name: "deadline", env: []string{"A=awssm://x"}, want: sources.ErrUnavailable, message: "resolve deadline"},
		{name: "inner whitespace in a key", env: []string{"OPENAI_API_KEY=sk-a b"}, want: sources.ErrInvalid, message: "whitespace inside the key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res, err := resolveEnv(t, Options{
				Environ: tt.env,
				Sources: map[string]Opener{"vault": opener(src), "awssm": opener(slow)},
				Timeout: 50 * time.Millisecond,
			})
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.message) {
				t.Fatalf("error = %v, want %v containing %q", err, tt.want, tt.message)
			}
			if res == nil || len(res.Environ) != 0 {
				t.Fatalf("a failed resolve must hand over no environment")
			}
		})
	}
}

// blockingSource ignores its context, like a read from a FIFO with no writer.
type blockingSource struct{ release chan struct{} }

func (b *blockingSource) Scheme() string { return "file" }
func (b *blockingSource) Fetch(_ context.Context, refs []sources.Ref) ([]sources.Result, error) {
	<-b.release
	return make([]sources.Result, len(refs)), nil
}

func TestResolveStopsWaitingAtTheDeadline(t *testing.T) {
	t.Parallel()
	b := &blockingSource{release: make(chan struct{})}
	defer close(b.release)
	fast := &fakeSource{scheme: "vault", values: map[string]string{"secret/x": "v"}}
	res, err := resolveEnv(t, Options{
		Environ: []string{"A=file:///fifo", "B=vault://secret/x"},
		Sources: map[string]Opener{"file": opener(b), "vault": opener(fast)},
		Timeout: 50 * time.Millisecond,
	})
	if !errors.Is(err, sources.ErrUnavailable) || !strings.Contains(err.Error(), "A: file:///fifo: no answer before the resolve deadline") {
		t.Fatalf("error = %v", err)
	}
	for _, v := range res.Vars {
		if v.Name == "B" && v.Error != "" {
			t.Errorf("B resolved in time but reports %q", v.Error)
		}
	}
}

// TestKeyRulesOnlyForAPIKeys: a PEM private key from a reference keeps its
// inner line breaks; the key rules are for API keys the SDKs send in headers.
func TestKeyRulesOnlyForAPIKeys(t *testing.T) {
	t.Parallel()
	pem := "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----\n"
	src := &fakeSource{scheme: "file", values: map[string]string{"/k": pem, "/g": "gsk_a b"}}
	res, err := resolveEnv(t, Options{
		Environ: []string{"SSH_PRIVATE_KEY=file:///k"},
		Sources: map[string]Opener{"file": opener(src)},
	})
	if err != nil {
		t.Fatalf("a PEM key was refused: %v", err)
	}
	if got := res.Values["SSH_PRIVATE_KEY"]; got != strings.TrimSpace(pem) {
		t.Errorf("PEM changed beyond the edge trim: %q", got)
	}
	_, err = resolveEnv(t, Options{
		Environ: []string{"GROQ_API_KEY=file:///g", "MY_KEY=file:///g"},
		Aliases: map[string]string{"MY_KEY": "OPENAI_API_KEY"},
		Sources: map[string]Opener{"file": opener(src)},
	})
	if err == nil || !strings.Contains(err.Error(), "GROQ_API_KEY") || !strings.Contains(err.Error(), "MY_KEY") {
		t.Errorf("provider keys and aliases of keys must get the key rules: %v", err)
	}
}
