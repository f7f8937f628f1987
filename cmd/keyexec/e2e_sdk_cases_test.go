package main

import (
	"encoding/json"
	"testing"

	"github.com/keyexec/keyexec/verify/provider"
	"github.com/keyexec/keyexec/verify/providertest"
)

// Keys of these tests besides the harness's: realistic shapes, never
// issued. The Anthropic key is not the harness's, whose filler spells
// "Anthropic" and so masks that word in keyexec's messages.
var (
	sdkAnthropicKey     = provider.ExampleKeys()["anthropic"]
	sdkAnthropicRevoked = "sk-ant-api03-" + reverse(sdkAnthropicKey[len("sk-ant-api03-"):len(sdkAnthropicKey)-2]) + "AA"
	sdkAzureRevoked     = provider.ExampleKeys()["azure"]
	sdkOpenAIRevoked    = openAIKey2
	// sdkIdentityHeader is the managed identity fake's X-IDENTITY-HEADER.
	sdkIdentityHeader = "Qm7xK2pV9wT4rZ8nL3cF6hJ1"
	sdkKeys           = []string{sdkAnthropicKey, sdkAnthropicRevoked, sdkAzureRevoked, sdkIdentityHeader}
)

func reverse(s string) string {
	b := []byte(s)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// sdkFamily is what a client's provider reads: its variables and keys.
type sdkFamily struct {
	kind                     providertest.Kind
	keyVar, aliasVar, urlVar string
	good, revoked            string
	other, otherName         string // another provider's key, and whose it is
	// errors the SDK raises
	authErr, connErr, missingErr, missingSays string
}

var (
	famOpenAI = sdkFamily{kind: providertest.OpenAI, keyVar: "OPENAI_API_KEY", aliasVar: "OPENAI_KEY", urlVar: "OPENAI_BASE_URL",
		good: openAIKey, revoked: sdkOpenAIRevoked, other: sdkAnthropicKey, otherName: "Anthropic",
		authErr: "openai.AuthenticationError", connErr: "openai.APIConnectionError", missingErr: "openai.OpenAIError", missingSays: "Missing credentials"}
	famAzure = sdkFamily{kind: providertest.Azure, keyVar: "AZURE_OPENAI_API_KEY", aliasVar: "AZURE_OPENAI_KEY", urlVar: "AZURE_OPENAI_ENDPOINT",
		good: azureKey, revoked: sdkAzureRevoked, other: openAIKey, otherName: "OpenAI",
		authErr: "openai.AuthenticationError", connErr: "openai.APIConnectionError", missingErr: "openai.OpenAIError", missingSays: "Missing credentials"}
	famAnthropic = sdkFamily{kind: providertest.Anthropic, keyVar: "ANTHROPIC_API_KEY", aliasVar: "CLAUDE_API_KEY", urlVar: "ANTHROPIC_BASE_URL",
		good: sdkAnthropicKey, revoked: sdkAnthropicRevoked, other: openAIKey, otherName: "OpenAI",
		authErr: "anthropic.AuthenticationError", connErr: "anthropic.APIConnectionError", missingErr: "TypeError", missingSays: "Could not resolve authentication method"}
)

// sdkClient is one way an app calls a model: sdkapp.py's name for it, the
// table's, and its provider.
type sdkClient struct {
	id, label string
	fam       *sdkFamily
}

var (
	clOpenAI        = &sdkClient{"openai", "`openai.OpenAI`", &famOpenAI}
	clAzure         = &sdkClient{"azure", "`openai.AzureOpenAI`", &famAzure}
	clAnthropic     = &sdkClient{"anthropic", "`anthropic.Anthropic`", &famAnthropic}
	clAutoGenOpenAI = &sdkClient{"autogen-openai", "AutoGen `AssistantAgent` + `OpenAIChatCompletionClient`", &famOpenAI}
	clAutoGenAzure  = &sdkClient{"autogen-azure", "AutoGen `AssistantAgent` + `AzureOpenAIChatCompletionClient`", &famAzure}
	clAG2           = &sdkClient{"ag2", "AG2 `ConversableAgent`, `OAI_CONFIG_LIST` with `vault://` / `awssm://`", &famOpenAI}
	sdkClients      = []*sdkClient{clOpenAI, clAzure, clAnthropic, clAutoGenOpenAI, clAutoGenAzure, clAG2}
	sdkEnvClients   = []*sdkClient{clOpenAI, clAzure, clAnthropic, clAutoGenOpenAI, clAutoGenAzure}
)

// sdkScenario is one cause, a row group of the table.
type sdkScenario struct{ id, label string }

var (
	scControl     = sdkScenario{"control", "control: everything right"}
	scMissing     = sdkScenario{"key-missing", "key missing"}
	scEmpty       = sdkScenario{"key-empty", "key empty"}
	scMisnamed    = sdkScenario{"key-misnamed", "key under a misnamed variable"}
	scNewline     = sdkScenario{"trailing-newline", "trailing newline"}
	scQuotes      = sdkScenario{"quotes", "surrounding quotes"}
	scBearer      = sdkScenario{"bearer", "`Bearer ` prefix"}
	scUnknownHost = sdkScenario{"unknown-host", "wrong base URL: unknown host"}
	scBadPath     = sdkScenario{"path-404", "wrong base URL: a path that 404s"}
	scNoEndpoint  = sdkScenario{"azure-no-endpoint", "Azure: endpoint missing"}
	scNoVersion   = sdkScenario{"azure-no-api-version", "Azure: api-version missing"}
	scOtherKey    = sdkScenario{"other-provider-key", "another provider's key"}
	scRevoked     = sdkScenario{"revoked-key", "revoked key"}
	scFirstFail   = sdkScenario{"first-entry-revoked-fail", "bad first config-list entry (revoked key), `on_entry_failure: fail`"}
	scFirstDrop   = sdkScenario{"first-entry-revoked-drop", "bad first config-list entry (revoked key), `on_entry_failure: drop`"}
	scNoKeyFail   = sdkScenario{"first-entry-nokey-fail", "bad first config-list entry (no key), `on_entry_failure: fail`"}
	scNoKeyDrop   = sdkScenario{"first-entry-nokey-drop", "bad first config-list entry (no key), `on_entry_failure: drop`"}
	sdkScenarios  = []sdkScenario{scControl, scMissing, scEmpty, scMisnamed, scNewline, scQuotes, scBearer, scUnknownHost,
		scBadPath, scNoEndpoint, scNoVersion, scOtherKey, scRevoked, scFirstFail, scFirstDrop, scNoKeyFail, scNoKeyDrop}
)

// sdkCase is one scenario for one client.
type sdkCase struct {
	scenario sdkScenario
	client   *sdkClient
	setup    string            // what is wrong, for the table
	env      map[string]string // the environment of both runs
	bare     map[string]string // the run without keyexec's, when it differs (AG2: stored values for references)
	files    map[string]string // in the working folder (keyexec.yaml)
	fake     *providertest.Server
	goodKey  string // the key the app's call must carry with keyexec
	without  sdkWithout
	with     sdkWith
	// afterBare checks the provider's log after the run without keyexec;
	// afterWith runs after the run with keyexec.
	afterBare func(t *testing.T, log []providertest.Request)
	afterWith func(t *testing.T)
	// bareNote explains a run without keyexec that succeeded, for the table.
	bareNote string
}

// sdkWithout is the SDK's own outcome: success, or an exception of errType
// (or a subclass) whose message or cause says says.
type sdkWithout struct {
	ok            bool
	errType, says string
	status        int
}

// sdkWith is keyexec's outcome: code 0 means Python started and the call
// succeeded (after fix, when set); otherwise keyexec stopped before
// Python with code and diag in its stderr.
type sdkWith struct {
	code      int
	diag, fix string
}

func (c *sdkCase) id() string { return c.client.id + "/" + c.scenario.id }

func (c *sdkCase) bareEnv() map[string]string {
	if c.bare != nil {
		return c.bare
	}
	return c.env
}

// sdkFake starts a provider that accepts its family's good key and
// refuses its revoked one; any other key gets the provider's 401.
func sdkFake(t *testing.T, kind providertest.Kind) *providertest.Server {
	f := map[providertest.Kind]*sdkFamily{providertest.OpenAI: &famOpenAI, providertest.Azure: &famAzure, providertest.Anthropic: &famAnthropic}[kind]
	return providertest.Start(t, kind, providertest.Config{Keys: map[string]providertest.Key{
		f.good: {}, f.revoked: {Mode: providertest.InvalidKey},
	}})
}

// goodEnv is the environment a client's provider needs, all of it right.
func goodEnv(f *sdkFamily, srv *providertest.Server) map[string]string {
	env := map[string]string{f.keyVar: f.good, f.urlVar: srv.BaseURL()}
	if f == &famAzure {
		env["OPENAI_API_VERSION"] = "2024-10-21"
	}
	return env
}

// cases builds every scenario: its fakes, secrets and environments.
func (w *sdkWorld) cases(t *testing.T) []*sdkCase {
	var out []*sdkCase
	for _, cl := range sdkEnvClients {
		out = append(out, w.envCases(t, cl)...)
	}
	return append(out, w.ag2Cases(t)...)
}

// envCases are the scenarios of the clients that read the environment.
func (w *sdkWorld) envCases(t *testing.T, cl *sdkClient) []*sdkCase {
	f := cl.fam
	var out []*sdkCase
	add := func(sc sdkScenario, setup string, without sdkWithout, with sdkWith, change func(env map[string]string, srv *providertest.Server)) *sdkCase {
		srv := sdkFake(t, f.kind)
		env := goodEnv(f, srv)
		if change != nil {
			change(env, srv)
		}
		c := &sdkCase{scenario: sc, client: cl, setup: setup, env: env, fake: srv, goodKey: f.good, without: without, with: with}
		out = append(out, c)
		return c
	}
	v := func(name string) string { return "`" + name + "`" }
	missing := sdkWithout{errType: f.missingErr, says: f.missingSays}
	auth := sdkWithout{errType: f.authErr, status: 401}

	control := "key and base URL right"
	if f == &famAzure {
		control = "key, endpoint and api-version right"
	}
	add(scControl, control, sdkWithout{ok: true}, sdkWith{}, nil)

	missingWith := sdkWith{code: 78, diag: "no LLM credentials found"}
	missingChange := func(env map[string]string, _ *providertest.Server) { delete(env, f.keyVar) }
	var mi *providertest.Server
	if f == &famAzure {
		// Without a key keyexec proves Entra ID; the chain is pinned to a
		// managed identity fake on loopback that has no identity, so that
		// nothing asks the instance metadata address.
		mi = providertest.Start(t, providertest.ManagedIdentity, providertest.Config{IdentityHeader: sdkIdentityHeader,
			Identity: providertest.Identity{Key: providertest.Key{Mode: providertest.NoIdentity}}})
		missingWith = sdkWith{code: 78, diag: "no Microsoft Entra ID credential worked"}
		missingChange = func(env map[string]string, _ *providertest.Server) {
			delete(env, f.keyVar)
			env["AZURE_TOKEN_CREDENTIALS"] = "prod"
			env["IDENTITY_ENDPOINT"] = mi.BaseURL()
			env["IDENTITY_HEADER"] = sdkIdentityHeader
		}
	}
	missingSetup := v(f.keyVar) + " not set"
	if f == &famAzure {
		missingSetup += " (Entra ID chain pinned to a loopback managed identity that has no identity)"
	}
	c := add(scMissing, missingSetup, missing, missingWith, missingChange)
	if mi != nil {
		c.afterWith = func(t *testing.T) {
			if mi.Requests() == 0 {
				t.Errorf("keyexec never asked the managed identity fake: the Entra ID chain was not the pinned one")
			}
		}
	}
	add(scEmpty, v(f.keyVar+`=""`), missing, sdkWith{code: 78, diag: f.keyVar + " is set but empty"},
		func(env map[string]string, _ *providertest.Server) { env[f.keyVar] = "" })
	add(scMisnamed, v(f.aliasVar)+" instead of "+v(f.keyVar), missing, sdkWith{fix: "copied from " + f.aliasVar},
		func(env map[string]string, _ *providertest.Server) {
			env[f.aliasVar] = env[f.keyVar]
			delete(env, f.keyVar)
		})
	add(scNewline, "the key ends in `\\n` (a secret file written with `echo`)",
		sdkWithout{errType: f.connErr, says: "Illegal header value"}, sdkWith{fix: `removed trailing \n`},
		func(env map[string]string, _ *providertest.Server) { env[f.keyVar] += "\n" })
	add(scQuotes, "the key wrapped in `\"…\"` (copied from a .env file)", auth, sdkWith{fix: "removed surrounding quotes"},
		func(env map[string]string, _ *providertest.Server) { env[f.keyVar] = `"` + env[f.keyVar] + `"` })
	add(scBearer, "the key given as `Bearer <key>`", auth, sdkWith{fix: `removed leading "Bearer "`},
		func(env map[string]string, _ *providertest.Server) { env[f.keyVar] = "Bearer " + env[f.keyVar] })
	badHost := "https://llm-gateway.keyexec-test.invalid"
	if f == &famOpenAI {
		badHost += "/v1"
	}
	// sdkapp.py's guard answers a name under .invalid as the resolver
	// does (RFC 6761), so the SDK sees its usual unknown-host error.
	add(scUnknownHost, v(f.urlVar+"="+badHost),
		sdkWithout{errType: f.connErr, says: "Name or service not known"}, sdkWith{code: 78, diag: "does not resolve"},
		func(env map[string]string, _ *providertest.Server) { env[f.urlVar] = badHost })
	switch f {
	case &famOpenAI:
		add(scBadPath, v(f.urlVar)+" without its `/v1`", sdkWithout{errType: "openai.NotFoundError", status: 404},
			sdkWith{code: 78, diag: "usually end in /v1"},
			func(env map[string]string, srv *providertest.Server) { env[f.urlVar] = srv.URL })
	case &famAzure:
		add(scBadPath, v(f.urlVar)+" pasted with the deployment's path (`…/openai/deployments/gpt-4o-mini`)",
			sdkWithout{errType: "openai.NotFoundError", status: 404, says: "deployment for this resource does not exist"},
			sdkWith{code: 78, diag: "scheme and host only"},
			func(env map[string]string, srv *providertest.Server) {
				env[f.urlVar] = srv.URL + "/openai/deployments/gpt-4o-mini"
			})
		add(scNoEndpoint, v(f.urlVar)+" not set", sdkWithout{errType: "ValueError", says: "azure_endpoint"},
			sdkWith{code: 78, diag: "AZURE_OPENAI_ENDPOINT is not set"},
			func(env map[string]string, _ *providertest.Server) { delete(env, f.urlVar) })
		add(scNoVersion, "`OPENAI_API_VERSION` not set", sdkWithout{errType: "ValueError", says: "api_version"},
			sdkWith{code: 78, diag: "OPENAI_API_VERSION is not set"},
			func(env map[string]string, _ *providertest.Server) { delete(env, "OPENAI_API_VERSION") })
	case &famAnthropic:
		add(scBadPath, v(f.urlVar)+" ending in `/v1`", sdkWithout{errType: "anthropic.NotFoundError", status: 404},
			sdkWith{code: 78, diag: "must not end in /v1"},
			func(env map[string]string, srv *providertest.Server) { env[f.urlVar] = srv.URL + "/v1" })
	}
	add(scOtherKey, "an "+f.otherName+" key in "+v(f.keyVar), auth,
		sdkWith{code: 78, diag: "looks like an " + f.otherName},
		func(env map[string]string, _ *providertest.Server) { env[f.keyVar] = f.other })
	add(scRevoked, "a key the provider rejects (revoked, rotated)", auth, sdkWith{code: 77, diag: "rejected"},
		func(env map[string]string, _ *providertest.Server) { env[f.keyVar] = f.revoked })
	return out
}

// ag2Entry is a config-list entry whose values may be sdkSecrets.
type ag2Entry map[string]any

// ag2Lists renders entries twice: with references (for keyexec) and with
// the stored values (an app that fetched the secrets itself).
func ag2Lists(entries ...ag2Entry) (refs, stored string) {
	render := func(stored bool) string {
		var list []map[string]any
		for _, e := range entries {
			m := map[string]any{}
			for k, v := range e {
				if s, ok := v.(sdkSecret); ok {
					v = s.ref
					if stored {
						v = s.stored
					}
				}
				m[k] = v
			}
			list = append(list, m)
		}
		b, _ := json.Marshal(list)
		return string(b)
	}
	return render(false), render(true)
}

// ag2Cases are the AG2 scenarios: a config list in OAI_CONFIG_LIST whose
// keys come from OpenBao and moto. Without keyexec the list holds the
// values stored (as if the app had fetched them itself), except in the
// control, where the app gets the references as they are.
func (w *sdkWorld) ag2Cases(t *testing.T) []*sdkCase {
	var out []*sdkCase
	drop := map[string]string{"keyexec.yaml": "config_list: {on_entry_failure: drop}\n"}
	add := func(sc sdkScenario, kind providertest.Kind, setup string, without sdkWithout, with sdkWith,
		build func(srv *providertest.Server, openai func(extra ag2Entry) ag2Entry) (entries []ag2Entry, env map[string]any)) *sdkCase {
		srv := sdkFake(t, kind)
		base := func(extra ag2Entry) ag2Entry {
			e := ag2Entry{"model": "gpt-4o-mini", "base_url": srv.BaseURL(), "max_retries": 0, "timeout": 10}
			for k, v := range extra {
				if v == nil {
					delete(e, k)
				} else {
					e[k] = v
				}
			}
			return e
		}
		entries, extra := build(srv, base)
		refs, stored := ag2Lists(entries...)
		env, bare := w.storeEnv(), w.storeEnv()
		env["OAI_CONFIG_LIST"], bare["OAI_CONFIG_LIST"] = refs, stored
		for k, v := range extra {
			switch v := v.(type) {
			case sdkSecret: // a variable holding a reference
				env[k], bare[k] = v.ref, v.stored
			case string:
				env[k], bare[k] = v, v
			}
		}
		c := &sdkCase{scenario: sc, client: clAG2, setup: setup, env: env, bare: bare, fake: srv, goodKey: openAIKey,
			without: without, with: with}
		out = append(out, c)
		return c
	}
	auth := sdkWithout{errType: "openai.AuthenticationError", status: 401}
	missing := sdkWithout{errType: "openai.OpenAIError", says: "Missing credentials"}
	one := func(e ag2Entry) []ag2Entry { return []ag2Entry{e} }

	c := add(scControl, providertest.OpenAI, "entry 0 `api_key: vault://…`, entry 1 `api_key: awssm://…`, both good keys; without keyexec the app gets the references as they are", auth, sdkWith{},
		func(_ *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return []ag2Entry{e(ag2Entry{"api_key": w.vault(t, "control", openAIKey)}), e(ag2Entry{"api_key": w.awssm(t, "control", openAIKey)})}, nil
		})
	c.bare = c.env
	add(scMissing, providertest.OpenAI, "an entry without `api_key`, and no `OPENAI_API_KEY`", missing,
		sdkWith{code: 78, diag: `no "api_key"`},
		func(_ *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return one(e(nil)), nil
		})
	add(scEmpty, providertest.OpenAI, "`api_key: vault://…` whose field is `\"\"`", missing, sdkWith{code: 78, diag: "empty"},
		func(_ *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return one(e(ag2Entry{"api_key": w.vault(t, "empty", "")})), nil
		})
	add(scMisnamed, providertest.OpenAI, "an entry without `api_key` or `base_url`; the key in `OPENAI_KEY=vault://…`, the base in `OPENAI_BASE_URL`",
		missing, sdkWith{fix: "copied from OPENAI_KEY"},
		func(srv *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return one(e(ag2Entry{"base_url": nil})), map[string]any{"OPENAI_KEY": w.vault(t, "misnamed", openAIKey), "OPENAI_BASE_URL": srv.BaseURL()}
		})
	add(scNewline, providertest.OpenAI, "`api_key: vault://…` stored with a trailing `\\n`",
		sdkWithout{errType: "openai.APIConnectionError", says: "Illegal header value"}, sdkWith{fix: `removed trailing \n`},
		func(_ *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return one(e(ag2Entry{"api_key": w.vault(t, "newline", openAIKey+"\n")})), nil
		})
	add(scQuotes, providertest.OpenAI, "`api_key: awssm://…` stored as `\"<key>\"`", auth, sdkWith{fix: "removed surrounding quotes"},
		func(_ *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return one(e(ag2Entry{"api_key": w.awssm(t, "quotes", `"`+openAIKey+`"`)})), nil
		})
	add(scBearer, providertest.OpenAI, "`api_key: awssm://…` stored as `Bearer <key>`", auth, sdkWith{fix: `removed leading "Bearer "`},
		func(_ *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return one(e(ag2Entry{"api_key": w.awssm(t, "bearer", "Bearer "+openAIKey)})), nil
		})
	add(scUnknownHost, providertest.OpenAI, "`base_url: https://llm-gateway.keyexec-test.invalid/v1`",
		sdkWithout{errType: "openai.APIConnectionError", says: "Name or service not known"}, sdkWith{code: 78, diag: "does not resolve"},
		func(_ *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return one(e(ag2Entry{"api_key": w.vault(t, "unknown-host", openAIKey), "base_url": "https://llm-gateway.keyexec-test.invalid/v1"})), nil
		})
	add(scBadPath, providertest.OpenAI, "`base_url` without its `/v1`", sdkWithout{errType: "openai.NotFoundError", status: 404},
		sdkWith{code: 78, diag: "the base URL is wrong"},
		func(srv *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return one(e(ag2Entry{"api_key": w.vault(t, "path-404", openAIKey), "base_url": srv.URL})), nil
		})
	add(scNoEndpoint, providertest.Azure, "`api_type: azure` entry without `base_url`", sdkWithout{errType: "ValueError", says: "azure_endpoint"},
		sdkWith{code: 78, diag: "base_url"},
		func(_ *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return one(e(ag2Entry{"api_type": "azure", "api_version": "2024-10-21", "api_key": w.awssm(t, "azure-no-endpoint", azureKey), "base_url": nil})), nil
		})
	add(scNoVersion, providertest.Azure, "`api_type: azure` entry without `api_version`", sdkWithout{errType: "ValueError", says: "api_version"},
		sdkWith{code: 78, diag: "api_version"},
		func(_ *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return one(e(ag2Entry{"api_type": "azure", "api_key": w.vault(t, "azure-no-version", azureKey)})), nil
		})
	add(scOtherKey, providertest.OpenAI, "`api_key: vault://…` holding an Anthropic key", auth, sdkWith{code: 78, diag: "looks like an Anthropic"},
		func(_ *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return one(e(ag2Entry{"api_key": w.vault(t, "other-key", sdkAnthropicKey)})), nil
		})
	add(scRevoked, providertest.OpenAI, "`api_key: vault://…` holding a key the provider rejects", auth, sdkWith{code: 77, diag: "rejected"},
		func(_ *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return one(e(ag2Entry{"api_key": w.vault(t, "revoked", sdkOpenAIRevoked)})), nil
		})
	revokedFirst := func(name string) func(*providertest.Server, func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
		return func(_ *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return []ag2Entry{e(ag2Entry{"api_key": w.vault(t, name, sdkOpenAIRevoked)}), e(ag2Entry{"api_key": w.awssm(t, name, openAIKey)})}, nil
		}
	}
	for _, sc := range []sdkScenario{scFirstFail, scFirstDrop} {
		with := sdkWith{code: 77, diag: "config list entry 0 (gpt-4o-mini)"}
		if sc == scFirstDrop {
			with = sdkWith{fix: "entry 0 dropped"}
		}
		c := add(sc, providertest.OpenAI, "entry 0 `vault://…` holds a revoked key, entry 1 `awssm://…` a good one",
			sdkWithout{ok: true}, with, revokedFirst(sc.id))
		c.bareNote = "AG2 falls back silently: entry 0's revoked key gets a 401 on every call first"
		c.afterBare = func(t *testing.T, log []providertest.Request) {
			var revoked, good int
			for _, call := range sdkCalls(log) {
				switch call.cred {
				case sdkOpenAIRevoked:
					revoked++
				case openAIKey:
					good++
				}
			}
			if revoked != 1 || good != 1 {
				t.Errorf("without keyexec the provider got %d calls with the revoked key and %d with the good one, want 1 and 1", revoked, good)
			}
		}
		if sc == scFirstDrop {
			c.files = drop
		}
	}
	noKeyFirst := func(name string) func(*providertest.Server, func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
		return func(_ *providertest.Server, e func(ag2Entry) ag2Entry) ([]ag2Entry, map[string]any) {
			return []ag2Entry{e(nil), e(ag2Entry{"api_key": w.awssm(t, name, openAIKey)})}, nil
		}
	}
	add(scNoKeyFail, providertest.OpenAI, "entry 0 has no `api_key` (and no `OPENAI_API_KEY`), entry 1 `awssm://…` a good key", missing,
		sdkWith{code: 78, diag: `config list entry 0 (gpt-4o-mini): no "api_key"`}, noKeyFirst(scNoKeyFail.id))
	c = add(scNoKeyDrop, providertest.OpenAI, "entry 0 has no `api_key` (and no `OPENAI_API_KEY`), entry 1 `awssm://…` a good key", missing,
		sdkWith{fix: "entry 0 dropped"}, noKeyFirst(scNoKeyDrop.id))
	c.files = drop
	return out
}
