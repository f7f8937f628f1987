package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/verify/providertest"
)

// revokedKey has an OpenAI shape but the fake answers it with a 401.
const revokedKey = "sk-proj-E2eRevokedKeyQQQQrrrrSSSSttttUUUUvvvvWWWWxxxxYYYYzzzzT3BlbkFJaaaaBBBBccccDDDDeeeeFFFFggggHHHHiiiiJJJJkkkkLL"

// threeEntries is a list as users write it: the first entry's key was
// revoked; the other two share one key and model (AutoGen falls back in
// order), with references for every key.
func threeEntries(base string) string {
	return `[
  {"model": "gpt-4o", "api_key": "env://REVOKED_OPENAI_KEY", "base_url": "` + base + `", "tags": ["gpt-4o", "main"]},
  {"model": "gpt-4o-mini", "api_key": "env://TEAM_OPENAI_KEY", "base_url": "` + base + `/", "tags": ["mini"]},
  {"model": "gpt-4o-mini", "api_key": "env://TEAM_OPENAI_KEY", "base_url": "` + base + `", "tags": ["mini", "fallback"], "temperature": 0}
]`
}

func openAIFake(t *testing.T) *providertest.Server {
	return providertest.Start(t, providertest.OpenAI, providertest.Config{Keys: map[string]providertest.Key{
		openAIKey:  {},
		revokedKey: {Mode: providertest.InvalidKey},
	}})
}

func writeListFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// childList parses the list the child received.
func childList(t *testing.T, child childReport) []map[string]any {
	t.Helper()
	var list []map[string]any
	if err := json.Unmarshal([]byte(child.Env["OAI_CONFIG_LIST"]), &list); err != nil {
		t.Fatalf("the child's OAI_CONFIG_LIST is not a JSON list: %v", err)
	}
	return list
}

func TestConfigListRevokedFirstEntryFails(t *testing.T) {
	t.Parallel()
	srv := openAIFake(t)
	env := map[string]string{
		"OAI_CONFIG_LIST":    threeEntries(srv.BaseURL()),
		"REVOKED_OPENAI_KEY": revokedKey,
		"TEAM_OPENAI_KEY":    openAIKey,
	}
	out, _, ran := runChild(t, "", env)
	if ran {
		t.Fatal("the child ran although entry 0 has a revoked key")
	}
	if out.code != 77 {
		t.Fatalf("exit %d, want 77; stderr:\n%s", out.code, out.stderr)
	}
	if !strings.Contains(out.stderr, "config list entry 0 (gpt-4o)") {
		t.Errorf("stderr does not name entry 0 and its model:\n%s", out.stderr)
	}
	if strings.Contains(out.stderr, "entry 1") || strings.Contains(out.stderr, "entry 2") {
		t.Errorf("stderr blames a good entry:\n%s", out.stderr)
	}
	assertNoListLeak(t, out.stdout, out.stderr)
	// Entries 1 and 2 send the same request: one probe serves both.
	if got := srv.Requests(); got != 2 {
		t.Errorf("the fake got %d requests, want 2 (entries 1 and 2 deduplicated)", got)
	}
}

// assertNoListLeak is assertNoLeak plus the revoked key of these tests.
func assertNoListLeak(t *testing.T, texts ...string) {
	t.Helper()
	assertNoLeak(t, texts...)
	for _, text := range texts {
		if strings.Contains(text, revokedKey[10:40]) {
			t.Fatalf("the revoked key appears in keyexec's output:\n%s", text)
		}
	}
}

func TestConfigListDropStartsChildWithGoodEntries(t *testing.T) {
	t.Parallel()
	srv := openAIFake(t)
	dir := t.TempDir()
	writeListFile(t, dir, "keyexec.yaml", "config_list: {on_entry_failure: drop}\n")
	env := map[string]string{
		"OAI_CONFIG_LIST":    threeEntries(srv.BaseURL()),
		"REVOKED_OPENAI_KEY": revokedKey,
		"TEAM_OPENAI_KEY":    openAIKey,
	}
	out, child, ran := runChild(t, dir, env)
	if !ran || out.code != 0 {
		t.Fatalf("child did not run (exit %d):\n%s", out.code, out.stderr)
	}
	list := childList(t, child)
	if len(list) != 2 {
		t.Fatalf("child got %d entries, want 2", len(list))
	}
	for i, e := range list {
		if e["api_key"] != openAIKey || e["model"] != "gpt-4o-mini" || e["base_url"] != srv.BaseURL() {
			t.Errorf("entry %d not resolved and repaired: model %v, base_url %v", i, e["model"], e["base_url"])
		}
	}
	if !strings.Contains(out.stderr, "config list entry 0 (gpt-4o) dropped") || !strings.Contains(out.stderr, "rejected") {
		t.Errorf("stderr does not say entry 0 was dropped and why:\n%s", out.stderr)
	}
	if !strings.Contains(out.stderr, "keyexec: warning: config list entry 0 (gpt-4o) dropped") {
		t.Errorf("the drop is not a keyexec: warning: line:\n%s", out.stderr)
	}
	assertNoListLeak(t, out.stderr)

	// check shows the list entry by entry, the dropped one with its reason.
	res := keyexecCmd(t, dir, env, "check", "--json")
	if res.code != 0 {
		t.Fatalf("check exit %d:\n%s%s", res.code, res.stdout, res.stderr)
	}
	var rep struct {
		ConfigList listJSON `json:"config_list"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("check --json: %v\n%s", err, res.stdout)
	}
	got := rep.ConfigList.Entries
	if len(got) != 3 || got[0].Status != "dropped" || !strings.Contains(got[0].Reason, "rejected") ||
		got[1].Status != "ok" || got[2].Status != "ok" || got[1].Fingerprint == "" || !strings.Contains(got[1].KeyFrom, "env://TEAM_OPENAI_KEY") {
		t.Errorf("check --json entries: %+v", got)
	}
	table := keyexecCmd(t, dir, env, "check")
	for _, w := range []string{"ENTRY", "gpt-4o-mini", "dropped: ", "sha256:"} {
		if !strings.Contains(table.stdout, w) {
			t.Errorf("check table lacks %q:\n%s", w, table.stdout)
		}
	}
	assertNoListLeak(t, res.stdout, res.stderr, table.stdout, table.stderr)
}

func TestConfigListDropFailsWhenNoEntryLeft(t *testing.T) {
	t.Parallel()
	srv := openAIFake(t)
	dir := t.TempDir()
	writeListFile(t, dir, "keyexec.yaml", "config_list: {on_entry_failure: drop}\n")
	list := `[{"model": "gpt-4o", "api_key": "` + revokedKey + `", "base_url": "` + srv.BaseURL() + `"},
	          {"model": "gpt-4o-mini", "api_key": "", "base_url": "` + srv.BaseURL() + `"}]`
	out, _, ran := runChild(t, dir, map[string]string{"OAI_CONFIG_LIST": list})
	if ran || out.code != 77 {
		t.Fatalf("exit %d (child ran: %v), want 77 without the child:\n%s", out.code, ran, out.stderr)
	}
	if !strings.Contains(out.stderr, "every entry of the config list failed") {
		t.Errorf("stderr:\n%s", out.stderr)
	}
	assertNoListLeak(t, out.stderr)
}

func TestConfigListProbesDedupedWithEnvironment(t *testing.T) {
	t.Parallel()
	srv := openAIFake(t)
	// Entry 0 relies on the SDK's variables (no api_key, no base_url); entry 1
	// names the same key by reference; both use the model --model probes.
	list := `[{"model": "gpt-4o-mini"}, {"model": "gpt-4o-mini", "api_key": "env://OPENAI_API_KEY", "base_url": "` + srv.BaseURL() + `"}]`
	out, child, ran := runChild(t, "", map[string]string{
		"OAI_CONFIG_LIST": list,
		"OPENAI_API_KEY":  openAIKey,
		"OPENAI_BASE_URL": srv.BaseURL(),
	}, "--model", "gpt-4o-mini")
	if !ran {
		t.Fatalf("child did not run (exit %d):\n%s", out.code, out.stderr)
	}
	if got := srv.Requests(); got != 1 {
		t.Errorf("the fake got %d requests, want 1 for the environment and both entries", got)
	}
	got := childList(t, child)
	if _, has := got[0]["api_key"]; has || got[1]["api_key"] != openAIKey {
		t.Errorf("the child's list changed what the user wrote: entry 0 gained a key or entry 1 lost it")
	}
	assertNoLeak(t, out.stderr)
}

func TestConfigListAllProvidersFromFile(t *testing.T) {
	t.Parallel()
	oai := openAIFake(t)
	az := providertest.Start(t, providertest.Azure, providertest.Config{Keys: map[string]providertest.Key{azureKey: {}}, Deployments: []string{"gpt-3.5-turbo"}})
	ant := providertest.Start(t, providertest.Anthropic, providertest.Config{Keys: map[string]providertest.Key{anthropicKey: {}}})
	dir := t.TempDir()
	writeListFile(t, dir, "azure_key", azureKey+"\n")
	writeListFile(t, dir, "llm.json", `{"anthropic": "`+anthropicKey+`"}`)
	writeListFile(t, dir, "OAI_CONFIG_LIST.json", `[
  {"model": "gpt-4o", "api_key": "env://TEAM_OPENAI_KEY", "base_url": "`+oai.BaseURL()+`"},
  {"model": "gpt-3.5-turbo", "api_type": "azure", "api_version": "2024-10-21", "api_key": "file://azure_key", "base_url": "`+az.BaseURL()+`/"},
  {"model": "claude-sonnet-4-5", "api_type": "anthropic", "api_key": "file://llm.json#anthropic", "base_url": "`+ant.BaseURL()+`"},
  {"model": "gpt-4o", "api_key": "env://TEAM_OPENAI_KEY", "base_url": "`+oai.BaseURL()+`", "tags": ["skip"]}
]`)
	writeListFile(t, dir, "keyexec.yaml", "config_list:\n  file: OAI_CONFIG_LIST.json\n  filter: {tags: [null, main]}\n")
	out, child, ran := runChild(t, dir, map[string]string{"TEAM_OPENAI_KEY": openAIKey})
	if !ran {
		t.Fatalf("child did not run (exit %d):\n%s", out.code, out.stderr)
	}
	list := childList(t, child)
	if len(list) != 3 || list[1]["api_key"] != azureKey || list[1]["base_url"] != az.BaseURL() || list[2]["api_key"] != anthropicKey {
		t.Errorf("child list: %d entries, or references not resolved", len(list))
	}
	// AG2 calls the Azure deployment by the entry's model, dots kept
	// (AutoGen 0.2 removed them; AG2 no longer does).
	if n := az.PathRequests("/openai/deployments/gpt-3.5-turbo/chat/completions"); n != 1 {
		t.Errorf("Azure deployment probed %d times, want 1 (gpt-3.5-turbo)", n)
	}
	if oai.Requests() != 1 || ant.Requests() != 1 {
		t.Errorf("requests: openai %d, anthropic %d, want 1 each (entry 3 filtered out)", oai.Requests(), ant.Requests())
	}
	if !strings.Contains(out.stderr, "OAI_CONFIG_LIST: 3 of 4 entries kept, 3 field(s) from references, 2 repaired") {
		t.Errorf("run's summary does not count the list's references and repairs (the Azure key's newline, its base URL's slash):\n%s", out.stderr)
	}
	// check's table names the repair of the Azure key file's newline.
	report := keyexecCmd(t, dir, map[string]string{"TEAM_OPENAI_KEY": openAIKey}, "check", "--no-probe")
	if !strings.Contains(report.stdout, "repaired: config list entry 1 (gpt-3.5-turbo): api_key: removed trailing \\n") {
		t.Errorf("check does not show the entry's repair:\n%s", report.stdout)
	}
	assertNoLeak(t, out.stderr, report.stdout, report.stderr)
}

func TestConfigListMalformed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	big := writeListFile(t, dir, "big.json", `[{"model": "gpt-4o", "api_key": "`+openAIKey+`", "pad": "`+strings.Repeat("x", 10<<20)+`"}]`)
	tests := []struct {
		name, list string
		want       []string
	}{
		{"not JSON", `[{"model": "gpt-4o", "api_key": '` + openAIKey + `'}]`, []string{"not valid JSON", "line 1, column"}},
		{"not a list", `{"name": "gpt-4o", "key": "` + openAIKey + `"}`, []string{"JSON object, want a list", `an entry needs a "model"`}},
		{"entry not an object", `[{"model": "gpt-4o", "api_key": "` + openAIKey + `"}, "` + openAIKey + `"]`, []string{"entry 1 is a JSON string"}},
		{"non-string field", `[{"model": "gpt-4o", "api_key": "` + openAIKey + `"}, {"model": 4, "api_key": "` + openAIKey + `"}]`, []string{`entry 1: "model" is a JSON number, want a string`}},
		{"10 MiB list", big, []string{"over 1024 KiB"}},
		{"names no file", "./no/such/list.json", []string{`"./no/such/list.json") names no file`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, _, ran := runChild(t, dir, map[string]string{"OAI_CONFIG_LIST": tc.list, "OPENAI_API_KEY": openAIKey2}, "--no-probe")
			if ran || out.code != 78 {
				t.Fatalf("exit %d (child ran: %v), want 78:\n%s", out.code, ran, out.stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(out.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, out.stderr)
				}
			}
			assertNoLeak(t, out.stdout, out.stderr)
		})
	}
}

// OPENAI_API_KEY read only by config-list entries with their own base_url
// (AG2's fallback) is proven at that base URL and never sent to
// api.openai.com, not even by an early probe. A dead loopback proxy stands
// in the way, so a regression fails here without leaving the machine.
func TestConfigListEnvKeyProvenWhereEntriesSendIt(t *testing.T) {
	t.Parallel()
	oai := openAIFake(t)
	list := `[{"model": "gpt-4o-mini", "base_url": "` + oai.BaseURL() + `"}]`
	env := map[string]string{"OAI_CONFIG_LIST": list, "OPENAI_API_KEY": openAIKey, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
	out, child, ran := runChild(t, "", env)
	if !ran {
		t.Fatalf("child did not run (exit %d):\n%s", out.code, out.stderr)
	}
	if child.Env["OPENAI_API_KEY"] != openAIKey || oai.Requests() != 1 {
		t.Errorf("key not passed on, or the fake got %d requests, want 1", oai.Requests())
	}
	report := keyexecCmd(t, "", env, "check")
	if report.code != 0 || !strings.Contains(report.stdout, "OPENAI_API_KEY is used by config list entry 0 (gpt-4o-mini), which sends it to "+oai.BaseURL()) ||
		strings.Contains(report.stdout, "api.openai.com/v1/models") {
		t.Errorf("check (exit %d):\n%s%s", report.code, report.stdout, report.stderr)
	}
	// Asked for by name, the environment's key is proven at OpenAI too (here:
	// the dead proxy, so unreachable).
	named := keyexecCmd(t, "", env, "check", "--provider", "openai", "--probe-timeout", "1s")
	if named.code != 69 {
		t.Errorf("--provider openai: exit %d, want 69 (OpenAI probed through the dead proxy):\n%s", named.code, named.stdout)
	}
	assertNoLeak(t, out.stderr, report.stdout, report.stderr, named.stdout, named.stderr)
}
