package main

import (
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources/vault/vaulttest"
	"github.com/keyexec/keyexec/verify/providertest"
)

// The issue "component configs and Entra ID", item 2, with the real
// packages: AutoGen's AssistantAgent loaded from a component file and AG2's
// ConversableAgent on a config list (the apps of examples/autogen), keys
// from a real OpenBao, Entra ID tokens from azure-identity against the
// loopback managed-identity fake.

// autogenApps returns the absolute paths of examples/autogen's two apps.
func autogenApps(t *testing.T) (autogen, ag2 string) {
	t.Helper()
	a, err := filepath.Abs(filepath.Join(autogenExamples, "app_autogen.py"))
	if err != nil {
		t.Fatal(err)
	}
	return a, filepath.Join(filepath.Dir(a), "app_ag2.py")
}

// TestAppsComponentWithVaultKey: the AutoGen app's model client is a
// component file whose api_key is a vault:// reference to a key stored in
// OpenBao with a trailing newline. Through keyexec (--component FILE=ENV)
// the agent answers with the resolved, trimmed key (check names the
// repair), and the Vault token stays with keyexec; without keyexec the app reads the file itself and
// sends the reference as the key: the SDK's AuthenticationError.
func TestAppsComponentWithVaultKey(t *testing.T) {
	t.Parallel()
	py, env := appsPython(t)
	app, _ := autogenApps(t)
	bao := vaulttest.SharedOpenBao(t)
	path := "apps-" + appsRandomHex(t) + "/openai"
	bao.Admin().PutKV2(t, "secret", path, map[string]any{"api_key": openAIKey + "\n"})
	reply := "AutoGen answered with the key from OpenBao."
	fake := providertest.Start(t, providertest.OpenAI, providertest.Config{Keys: map[string]providertest.Key{openAIKey: {}}, Reply: reply})
	ref := "vault://secret/" + path + "#api_key"
	dir := t.TempDir()
	writeTestFile(t, dir, "model_config.yaml", `provider: autogen_ext.models.openai.OpenAIChatCompletionClient
component_type: model
config:
  model: gpt-4o-mini
  base_url: `+fake.BaseURL()+`
  api_key: `+ref+"\n")
	env["VAULT_ADDR"], env["VAULT_TOKEN"] = bao.URL, bao.RootToken

	check := keyexecCmd(t, dir, env, "check", "--component", "model_config.yaml=AUTOGEN_MODEL_CONFIG")
	for _, w := range []string{`config.api_key: removed trailing \n`, "handed to the app in AUTOGEN_MODEL_CONFIG", "not passed to the child: VAULT_TOKEN"} {
		if check.code != 0 || !strings.Contains(check.stdout, w) {
			t.Errorf("keyexec check: exit %d, want 0 with %q:\n%s", check.code, w, appsOut(check))
		}
	}
	out := keyexecCmd(t, dir, env, "run", "--component", "model_config.yaml=AUTOGEN_MODEL_CONFIG", "--", py, app)
	assertGuarded(t, out)
	if out.code != 0 || strings.TrimSpace(out.stdout) != reply {
		t.Fatalf("through keyexec: exit %d, stdout %q, want %q:\n%s", out.code, out.stdout, reply, out.stderr)
	}
	if n := fake.KeyRequests(openAIKey); n != 3 {
		t.Errorf("the fake saw the key %d times, want 3 (the probes of check and run, the agent's call)", n)
	}
	assertNoLeak(t, appsOut(check), out.stderr)
	assertNoPieceOf(t, "vault token", []string{bao.RootToken}, appsOut(check), out.stderr)

	bare := appsRun(t, dir, env, py, app)
	assertGuarded(t, bare)
	if bare.code != 1 || !strings.Contains(bare.stderr, "openai.AuthenticationError: Error code: 401") {
		t.Fatalf("without keyexec: exit %d, want 1 with the SDK's AuthenticationError:\n%s", bare.code, appsOut(bare))
	}
	if n := fake.KeyRequests(ref); n != 1 {
		t.Errorf("without keyexec the fake got the reference as the key %d times, want 1", n)
	}
}

// entraApp is one app authenticating to Azure OpenAI with Entra ID.
type entraApp struct {
	name  string
	app   func(autogen, ag2 string) string
	setup func(t *testing.T, dir string, env map[string]string, az *providertest.Server) []string // keyexec flags
}

// entraApps: an AutoGen component with an AzureTokenProvider (a file
// without references: keyexec checks it, the app reads it unchanged) and an
// AG2 config-list entry with "azure_ad_token_provider": "DEFAULT".
var entraApps = []entraApp{
	{name: "AutoGen component with AzureTokenProvider", app: func(a, _ string) string { return a },
		setup: func(t *testing.T, dir string, _ map[string]string, az *providertest.Server) []string {
			writeTestFile(t, dir, "model_config.yaml", `provider: autogen_ext.models.openai.AzureOpenAIChatCompletionClient
component_type: model
config:
  model: gpt-4o
  azure_endpoint: `+az.URL+`
  azure_deployment: gpt-4o
  api_version: "2024-10-21"
  azure_ad_token_provider:
    provider: autogen_ext.auth.azure.AzureTokenProvider
    component_type: token_provider
    config: {provider_kind: DefaultAzureCredential, scopes: ["https://cognitiveservices.azure.com/.default"]}
`)
			return []string{"--component", "model_config.yaml"}
		}},
	{name: "AG2 config list entry with azure_ad_token_provider DEFAULT", app: func(_, g string) string { return g },
		setup: func(_ *testing.T, _ string, env map[string]string, az *providertest.Server) []string {
			env["OAI_CONFIG_LIST"] = `[{"model": "gpt-4o", "api_type": "azure", "base_url": "` + az.URL +
				`", "api_version": "2024-10-21", "azure_ad_token_provider": "DEFAULT"}]`
			return nil
		}},
}

// TestAppsEntraID: each Entra ID app answers its task through keyexec,
// the token coming from Python's azure-identity (ManagedIdentityCredential,
// App Service style, on loopback); keyexec proved the same identity first
// and gave the child no token. When the identity lacks the role, keyexec
// stops with 77 naming "Cognitive Services OpenAI User" before Python
// starts, where the same app without keyexec starts and fails at its
// first call with the service's 401 PermissionDenied.
func TestAppsEntraID(t *testing.T) {
	t.Parallel()
	py, guard := appsPython(t)
	autogen, ag2 := autogenApps(t)
	for _, a := range entraApps {
		t.Run(a.name, func(t *testing.T) {
			t.Parallel()
			az, mi, env := entraFakes(t, providertest.Identity{}, providertest.Config{Reply: "Entra ID let " + a.name + " in."})
			// The app names its endpoint itself: keyexec checks the
			// component or the entry, not an environment candidate.
			delete(env, "AZURE_OPENAI_ENDPOINT")
			delete(env, "OPENAI_API_VERSION")
			for k, v := range guard {
				env[k] = v
			}
			dir := t.TempDir()
			flags := a.setup(t, dir, env, az)
			out := keyexecCmd(t, dir, env, append(append([]string{"run"}, flags...), "--", py, a.app(autogen, ag2))...)
			assertGuarded(t, out)
			if want := "Entra ID let " + a.name + " in."; out.code != 0 || strings.TrimSpace(out.stdout) != want {
				t.Fatalf("through keyexec: exit %d, stdout %q, want %q:\n%s", out.code, out.stdout, want, out.stderr)
			}
			chat := "/openai/deployments/gpt-4o/chat/completions"
			if n := az.PathRequests(chat); n != 2 || mi.Requests() < 2 {
				t.Errorf("%s asked %d times (want 2: keyexec's probe, the app's call); identity asked %d times (want one token each)", chat, n, mi.Requests())
			}
			for _, r := range az.Log() {
				if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer eyJ") {
					t.Errorf("a request to Azure carried no Entra ID token: %s %s", r.Method, r.Path)
				}
			}
			if strings.Contains(out.stderr, "eyJ") {
				t.Errorf("a token is in keyexec's output:\n%s", out.stderr)
			}
		})
		t.Run(a.name+", identity lacks the role", func(t *testing.T) {
			t.Parallel()
			az, _, env := entraFakes(t, providertest.Identity{TokenMode: providertest.PermissionDenied}, providertest.Config{})
			delete(env, "AZURE_OPENAI_ENDPOINT")
			delete(env, "OPENAI_API_VERSION")
			for k, v := range guard {
				env[k] = v
			}
			dir := t.TempDir()
			flags := a.setup(t, dir, env, az)
			app := a.app(autogen, ag2)
			out := keyexecCmd(t, dir, env, append(append([]string{"run"}, flags...), "--", py, app)...)
			if out.code != 77 || out.stdout != "" || !strings.Contains(out.stderr, `lacks the "Cognitive Services OpenAI User" role`) {
				t.Fatalf("through keyexec: exit %d, stdout %q, want 77 before the app, naming the role:\n%s", out.code, out.stdout, out.stderr)
			}
			bare := appsRun(t, dir, env, py, app)
			assertGuarded(t, bare)
			if bare.code != 1 || !strings.Contains(bare.stderr, "openai.AuthenticationError: Error code: 401") || !strings.Contains(bare.stderr, "PermissionDenied") {
				t.Fatalf("without keyexec: exit %d, want 1 with the SDK's 401 PermissionDenied:\n%s", bare.code, appsOut(bare))
			}
			t.Logf("keyexec: %s\nwithout keyexec: %s", strings.TrimSpace(out.stderr), strings.TrimSpace(bare.stderr))
		})
	}
}

func appsRandomHex(t *testing.T) string {
	t.Helper()
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
