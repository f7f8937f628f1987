package main

import (
	"net"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/verify/provider"
	"github.com/keyexec/keyexec/verify/providertest"
)

// providerSetup points keyexec at a fake of unit u: the SDK's own base-URL
// variable where it has one, else base_urls in the config file.
func providerSetup(t *testing.T, u *provider.Unit, base, key string) (dir string, env map[string]string, args []string) {
	t.Helper()
	dir = t.TempDir()
	env = map[string]string{}
	args = []string{"check", "--provider", string(u.Name), "--probe-timeout", "3s"}
	for _, d := range u.Detect {
		if v, _ := provider.VarByName(d); v.Role == provider.RoleKey {
			env[d] = key
		}
	}
	if bv := u.Var(provider.RoleBaseURL); bv != "" {
		env[bv] = base
	} else {
		writeTestFile(t, dir, "keyexec.yaml", "base_urls: {"+string(u.Name)+": "+base+"}\n")
	}
	if u.Name == provider.Azure {
		env["AZURE_OPENAI_API_KEY"], env["OPENAI_API_VERSION"] = key, "2024-10-21"
	}
	if u.Name == provider.Ollama {
		env["OLLAMA_HOST"] = strings.TrimPrefix(base, "http://")
	}
	return dir, env, args
}

// TestEveryProviderEndToEnd is generated from the units: for each provider,
// the binary against its fake with a good key, a rejected key, no quota, an
// unknown model, a rate limit then success, and no server at all.
func TestEveryProviderEndToEnd(t *testing.T) {
	t.Parallel()
	examples := provider.ExampleKeys()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()
	for _, u := range provider.All() {
		key := "plainkey0123456789abcdefXYZ"
		for _, s := range u.Shapes {
			if !s.Admin {
				key = examples[s.Kind]
				break
			}
		}
		if u.Keyless {
			key = ""
		}
		model := "gpt-4o-mini"
		cases := []struct {
			name  string
			keys  map[string]providertest.Key
			model string
			down  bool
			code  int
		}{
			{name: "good key", keys: map[string]providertest.Key{key: {}}, code: 0},
			{name: "rejected key", keys: map[string]providertest.Key{"another-key": {}}, code: 77},
			{name: "no quota", keys: map[string]providertest.Key{key: {Mode: providertest.NoQuota}}, code: 77},
			{name: "unknown model", keys: map[string]providertest.Key{key: {}}, model: "no-such-model", code: 78},
			{name: "rate limited, then fine", keys: map[string]providertest.Key{key: {Mode: providertest.RateLimited, Times: 1, RetryAfter: "0"}}, code: 0},
			{name: "unreachable", keys: map[string]providertest.Key{key: {}}, down: true, code: 69},
		}
		for _, c := range cases {
			if u.Keyless && c.name == "rejected key" {
				continue
			}
			code := c.code
			if c.name == "no quota" && !u.QuotaSeen {
				code = 0 // the provider's key reads show no quota: the first generation call will
			}
			t.Run(string(u.Name)+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				srv := providertest.Start(t, providertest.Kind(u.Name), providertest.Config{Keys: c.keys, Deployments: []string{model}, Models: []string{model, "claude-sonnet-4-5", "gemini-2.0-flash"}})
				base := srv.BaseURL()
				if c.down {
					base = closed + strings.TrimPrefix(base, srv.URL)
				}
				dir, env, args := providerSetup(t, u, base, key)
				if c.model != "" {
					args = append(args, "--model", c.model)
				} else if u.Name == provider.Azure || u.Name == provider.Ollama {
					args = append(args, "--model", model)
				}
				out := keyexecCmd(t, dir, env, args...)
				if out.code != code {
					t.Fatalf("exit %d, want %d:\n%s%s", out.code, code, out.stdout, out.stderr)
				}
				if code == 0 && !c.down && srv.Requests() == 0 {
					t.Error("the fake got no request")
				}
				assertNoPieceOf(t, string(u.Name), []string{key}, out.stdout, out.stderr)
			})
		}
	}
}
