package main

import (
	"strings"
	"testing"
	"time"

	"github.com/keyexec/keyexec/verify/providertest"
)

// entraFakes are an Azure OpenAI resource and a managed identity endpoint
// (App Service style, on loopback) whose tokens the resource knows.
func entraFakes(t *testing.T, id providertest.Identity, azure providertest.Config) (az, mi *providertest.Server, env map[string]string) {
	t.Helper()
	if azure.Deployments == nil {
		azure.Deployments = []string{"gpt-4o"}
	}
	az = providertest.Start(t, providertest.Azure, azure)
	mi = providertest.Start(t, providertest.ManagedIdentity, providertest.Config{Identity: id, Azure: az})
	env = map[string]string{
		"AZURE_OPENAI_ENDPOINT": az.URL,
		"OPENAI_API_VERSION":    "2024-10-21",
		// The chain pinned to managed identity, which IDENTITY_ENDPOINT
		// sends to the fake: the instance metadata address is never asked.
		"AZURE_TOKEN_CREDENTIALS": "ManagedIdentityCredential",
	}
	for _, kv := range mi.IdentityEnv() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return az, mi, env
}

func TestEntraManagedIdentity(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		id     providertest.Identity
		azure  providertest.Config
		extra  map[string]string
		code   int
		stderr []string
	}{
		{name: "token accepted", code: 0},
		{name: "identity lacks the role", id: providertest.Identity{TokenMode: providertest.PermissionDenied}, code: 77,
			stderr: []string{"PermissionDenied", `lacks the "Cognitive Services OpenAI User" role`, providertest.DefaultMIObjectID}},
		{name: "token refused", id: providertest.Identity{TokenMode: providertest.ExpiredToken}, code: 77, stderr: []string{"Azure refused the Entra ID token"}},
		{name: "no identity", id: providertest.Identity{Key: providertest.Key{Mode: providertest.NoIdentity}}, code: 78,
			stderr: []string{"no Microsoft Entra ID credential worked", "ManagedIdentityCredential", "Unable to load the proper Managed Identity"}},
		{name: "no credential in the chain", extra: map[string]string{"AZURE_TOKEN_CREDENTIALS": "dev"}, code: 78,
			stderr: []string{"no Microsoft Entra ID credential worked", "AzureCLICredential", "AzureDeveloperCLICredential"}},
		{name: "a key where keys are refused", azure: providertest.Config{DisableLocalAuth: true}, extra: map[string]string{"AZURE_OPENAI_API_KEY": azureKey}, code: 77,
			stderr: []string{"refuses keys", "Entra ID"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			az, mi, env := entraFakes(t, c.id, c.azure)
			for k, v := range c.extra {
				env[k] = v
			}
			if c.name == "no credential in the chain" {
				env["PATH"] = t.TempDir() // no az, azd or pwsh to find
			}
			out, child, ran := runChild(t, "", env, "--model", "gpt-4o")
			if out.code != c.code || ran != (c.code == 0) {
				t.Fatalf("exit %d (child ran %v), want %d:\n%s", out.code, ran, c.code, out.stderr)
			}
			for _, s := range c.stderr {
				if !strings.Contains(out.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, out.stderr)
				}
			}
			if strings.Contains(out.stderr, "eyJ") {
				t.Errorf("a token is in keyexec's output:\n%s", out.stderr)
			}
			assertNoLeak(t, out.stderr)
			if c.code != 0 {
				return
			}
			if mi.Requests() == 0 || az.PathRequests("/openai/deployments/gpt-4o/chat/completions") != 1 {
				t.Errorf("identity %d requests, deployment %d", mi.Requests(), az.PathRequests("/openai/deployments/gpt-4o/chat/completions"))
			}
			if got := az.Log()[0].Header.Get("Authorization"); !strings.HasPrefix(got, "Bearer eyJ") {
				t.Errorf("the probe sent %q, want the Entra ID token", got[:min(len(got), 12)])
			}
			for k, v := range child.Env {
				if strings.HasPrefix(v, "eyJ") || k == "AZURE_OPENAI_AD_TOKEN" {
					t.Errorf("the child got a token in %s", k)
				}
			}
		})
	}
}

// TestEntraServicePrincipal: a service principal in AZURE_CLIENT_ID,
// AZURE_TENANT_ID and AZURE_CLIENT_SECRET, signing in at the authority in
// AZURE_AUTHORITY_HOST (the https fake on loopback, trusted through
// SSL_CERT_FILE). keyexec skips instance discovery for such an authority,
// so login.microsoftonline.com is never asked.
func TestEntraServicePrincipal(t *testing.T) {
	t.Parallel()
	const appID, secret = "00000000-0000-4000-8000-00000000a991", "sp-secret-E2eTestValue0123456789"
	cases := []struct {
		name   string
		secret string
		mode   providertest.Mode
		code   int
		stderr []string
	}{
		{name: "token accepted", secret: secret, code: 0},
		{name: "wrong client secret", secret: "sp-secret-E2eWrongValue9876543210", code: 78, stderr: []string{"no Microsoft Entra ID credential worked", "ClientSecretCredential", "AADSTS7000215"}},
		{name: "principal lacks the role", secret: secret, mode: providertest.PermissionDenied, code: 77,
			stderr: []string{"PermissionDenied", `lacks the "Cognitive Services OpenAI User" role`, appID}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			az := providertest.Start(t, providertest.Azure, providertest.Config{Deployments: []string{"gpt-4o"}})
			entra := providertest.Start(t, providertest.EntraID, providertest.Config{Azure: az, Clients: map[string]providertest.Client{
				appID: {Secret: secret, TokenMode: c.mode},
			}})
			kv, err := entra.ClientEnv(appID)
			if err != nil {
				t.Fatal(err)
			}
			env := map[string]string{"AZURE_OPENAI_ENDPOINT": az.URL, "OPENAI_API_VERSION": "2024-10-21", "AZURE_TOKEN_CREDENTIALS": "EnvironmentCredential"}
			for _, s := range kv {
				k, v, _ := strings.Cut(s, "=")
				env[k] = v
			}
			env["AZURE_CLIENT_SECRET"] = c.secret
			out, _, ran := runChild(t, "", env, "--model", "gpt-4o")
			if out.code != c.code || ran != (c.code == 0) {
				t.Fatalf("exit %d (child ran %v), want %d:\n%s", out.code, ran, c.code, out.stderr)
			}
			for _, s := range c.stderr {
				if !strings.Contains(out.stderr, s) {
					t.Errorf("stderr lacks %q:\n%s", s, out.stderr)
				}
			}
			if entra.Requests() == 0 {
				t.Error("the authority fake was never asked")
			}
			if strings.Contains(out.stderr, "eyJ") || strings.Contains(out.stderr, c.secret[10:22]) {
				t.Errorf("a token or the client secret is in keyexec's output:\n%s", out.stderr)
			}
			assertNoLeak(t, out.stderr)
		})
	}
}

func TestEntraFromConfigListAndComponent(t *testing.T) {
	t.Parallel()
	az, _, env := entraFakes(t, providertest.Identity{}, providertest.Config{})
	dir := t.TempDir()
	list := `[{"model": "gpt-4o", "api_type": "azure", "base_url": "` + az.URL + `", "api_version": "2024-10-21", "azure_ad_token_provider": "DEFAULT"}]`
	writeTestFile(t, dir, "model_config.yaml", `provider: autogen_ext.models.openai.AzureOpenAIChatCompletionClient
config:
  model: gpt-4o
  azure_endpoint: `+az.URL+`
  azure_deployment: gpt-4o
  api_version: "2024-06-01"
  azure_ad_token_provider:
    provider: autogen_ext.auth.azure.AzureTokenProvider
    component_type: token_provider
    config: {provider_kind: DefaultAzureCredential, scopes: ["https://cognitiveservices.azure.com/.default"]}
`)
	delete(env, "AZURE_OPENAI_ENDPOINT")
	env["OAI_CONFIG_LIST"] = list
	out := keyexecCmd(t, dir, env, "check", "--component", "model_config.yaml")
	if out.code != 0 {
		t.Fatalf("exit %d:\n%s%s", out.code, out.stdout, out.stderr)
	}
	for _, w := range []string{"config list entry 0 (gpt-4o)", "component model_config.yaml (gpt-4o)", "Microsoft Entra ID", "ok"} {
		if !strings.Contains(out.stdout, w) {
			t.Errorf("report lacks %q:\n%s", w, out.stdout)
		}
	}
	if n := az.PathRequests("/openai/deployments/gpt-4o/chat/completions"); n != 2 {
		t.Errorf("deployment probed %d times, want 2 (api-versions differ)", n)
	}
}

func TestStaticADTokenClaims(t *testing.T) {
	t.Parallel()
	now := time.Now()
	mint := func(aud string, exp time.Time) string {
		return providertest.MintToken(providertest.TokenSpec{Audience: aud, Expires: exp, IssuedAt: now.Add(-time.Hour)})
	}
	cases := []struct {
		name, token string
		code        int
		msg         string
	}{
		{"expired", mint("https://cognitiveservices.azure.com", now.Add(-time.Minute)), 77, "AZURE_OPENAI_AD_TOKEN expired at"},
		{"wrong audience", mint("https://management.azure.com", now.Add(time.Hour)), 78, `audience "https://management.azure.com"`},
		{"expiring soon", mint("https://cognitiveservices.azure.com", now.Add(3*time.Minute)), 0, "less than probe.min_token_ttl"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			out := keyexecCmd(t, "", map[string]string{"AZURE_OPENAI_ENDPOINT": "https://res.openai.azure.com", "OPENAI_API_VERSION": "2024-10-21", "AZURE_OPENAI_AD_TOKEN": c.token},
				"check", "--no-probe")
			if out.code != c.code || !strings.Contains(out.stdout+out.stderr, c.msg) {
				t.Fatalf("exit %d, want %d with %q:\n%s%s", out.code, c.code, c.msg, out.stdout, out.stderr)
			}
			if strings.Contains(out.stdout+out.stderr, c.token[:20]) {
				t.Error("the token is shown")
			}
		})
	}
}
