package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources/vault/vaulttest"
)

// TestBadInputMatrix: malformed references, config files and config lists,
// oversized values, invalid UTF-8 and NUL bytes. Each stops keyexec before
// the child with exit 78 (or is repaired, where DESIGN.md says it is), and
// none prints a secret.
func TestBadInputMatrix(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	creds := filepath.Join(dir, "creds")
	os.Mkdir(creds, 0o700)
	os.WriteFile(filepath.Join(creds, "openai"), []byte(openAIKey), 0o600)

	fake := vaulttest.New(t)
	fake.Admin().PutKV2(t, "secret", "big", map[string]any{"api_key": "sk-proj-" + strings.Repeat("A", 2<<20)})
	fake.Admin().PutKV2(t, "secret", "nul", map[string]any{"api_key": openAIKey[:40] + "\x00" + openAIKey[40:]})
	vaultEnv := func(ref string) map[string]string {
		return map[string]string{"VAULT_ADDR": fake.URL, "VAULT_TOKEN": fake.RootToken, "OPENAI_API_KEY": ref}
	}

	key := func(v string) map[string]string { return map[string]string{"OPENAI_API_KEY": v} }
	refused := "http://" + closedPort(t) // a source that is contacted answers 69, not 78
	ref := func(r string) map[string]string {
		return map[string]string{"OPENAI_API_KEY": r, "VAULT_ADDR": refused, "VAULT_TOKEN": vaultToken, "CREDENTIALS_DIRECTORY": creds}
	}
	conf := func(name, content string) []string {
		return []string{"--config", write(name, []byte(content)), "--no-probe"} // no --timeout: the file sets it
	}
	list := func(v string) map[string]string {
		return map[string]string{"OAI_CONFIG_LIST": v, "OPENAI_API_KEY": openAIKey}
	}
	withKey := key(openAIKey)
	bigList := write("big-list.json", []byte(`[{"model":"gpt-4o","api_key":"`+openAIKey+`","pad":"`+strings.Repeat("x", 2<<20)+`"}]`))

	runFaultCases(t, []faultCase{
		// Malformed references: refused before any source is contacted.
		{name: "ref vault without path", env: ref("vault://"), flags: failFast, code: 78, msg: "vault://"},
		{name: "ref vault empty field", env: ref("vault://secret/llm/openai#"), flags: failFast, code: 78, msg: "OPENAI_API_KEY"},
		{name: "ref vault bad version", env: ref("vault://secret/llm/openai?version=abc#api_key"), flags: failFast, code: 78, msg: "version"},
		{name: "ref vault empty path", env: ref("vault:///#api_key"), flags: failFast, code: 78, msg: "OPENAI_API_KEY"},
		{name: "ref vault unknown query", env: ref("vault://secret/llm/openai?foo=1#api_key"), flags: failFast, code: 78, msg: "foo"},
		{name: "ref awssm stage and id", env: ref("awssm://x?version-stage=A&version-id=B"), flags: failFast, code: 78, msg: "OPENAI_API_KEY"},
		{name: "ref awssm without name", env: ref("awssm://"), flags: failFast, code: 78, msg: "awssm://"},
		{name: "ref bad arn", env: ref("arn:aws:secretsmanager:us-east-1:123:secret"), flags: failFast, code: 78, msg: "OPENAI_API_KEY"},
		{name: "ref file without path", env: ref("file://"), flags: failFast, code: 78, msg: "file://"},
		{name: "ref env without name", env: ref("env://"), flags: failFast, code: 78, msg: "env://"},
		{name: "ref cred escaping its directory", env: ref("cred://../creds/openai"), flags: failFast, code: 78, msg: "cred://"},
		{name: "ref cred absolute", env: ref("cred:///etc/passwd"), flags: failFast, code: 78, msg: "cred://"},

		// Config files.
		{name: "config bad yaml", env: withKey, flags: conf("bad.yaml", "provider: [unclosed\n"), code: 78, msg: "not valid yaml"},
		{name: "config unknown key", env: withKey, flags: conf("unknown.yaml", "vault:\n  adress: http://x\n"), code: 78, msg: `unknown key "vault.adress"`},
		{name: "config section not a mapping", env: withKey, flags: conf("probe.yaml", "probe: yes\n"), code: 78, msg: `"probe" must be a mapping`},
		{name: "config wrong type list for duration", env: withKey, flags: conf("timeout.yaml", "timeout: [1, 2]\n"), code: 78, msg: "timeout"},
		{name: "config wrong type bool", env: withKey, flags: conf("bool.yaml", "keep_aliases: maybe\n"), code: 78, msg: "keep_aliases"},
		{name: "config negative duration", env: withKey, flags: conf("neg.yaml", "timeout: -5s\n"), code: 78, msg: "positive duration"},
		{name: "config secret under a bool key", env: withKey, flags: conf("leak.yaml", "keep_aliases: "+openAIKey+"\n"), code: 78, msg: "keep_aliases"},
		{name: "config secret in an unknown key", env: withKey, flags: conf("leak2.yaml", "openai_api_key: "+openAIKey+"\n"), code: 78, msg: "openai_api_key"},
		{name: "config huge file", env: withKey, flags: conf("huge.yaml", "# "+strings.Repeat("x", 2<<20)+"\n"), code: 78, msg: "bytes"},
		{name: "config bad json", env: withKey, flags: conf("bad.json", `{"provider": "auto",`), code: 78, msg: "not valid json"},
		{name: "config bad toml", env: withKey, flags: conf("bad.toml", "provider = \n"), code: 78, msg: "not valid toml"},
		{name: "config unknown extension", env: withKey, flags: conf("conf.ini", "provider=auto\n"), code: 78, msg: "unknown extension"},
		{name: "config invalid utf-8", env: withKey, flags: conf("utf8.yaml", "provider: \xff\xfeauto\n"), code: 78, msg: "utf8.yaml"},
		{name: "config nul byte", env: withKey, flags: conf("nul.yaml", "provider: au\x00to\n"), code: 78, msg: "nul.yaml"},
		{name: "config nul in a variable name", env: withKey, flags: conf("nulname.json", `{"secrets": {"A\u0000B": "x"}}`), code: 78, msg: "not a variable name"},

		// AutoGen config lists.
		{name: "list truncated", env: list(`[{"model": "gpt-4o", "api_key": "` + openAIKey + `"`), flags: failFast, code: 78, msg: "OAI_CONFIG_LIST"},
		{name: "list not a list", env: list(`{"models": ["gpt-4o"], "key": "` + openAIKey + `"}`), flags: failFast, code: 78, msg: "OAI_CONFIG_LIST"},
		{name: "list of numbers", env: list(`[1, 2]`), flags: failFast, code: 78, msg: "OAI_CONFIG_LIST"},
		{name: "list invalid utf-8 inside a key", env: list("[{\"model\": \"gpt-4o\", \"api_key\": \"" + openAIKey[:50] + "\xff" + openAIKey[50:] + "\"}]"), flags: failFast, code: 78, msg: "entry 0"},
		{name: "list nul inside a key", env: list(`[{"model": "gpt-4o", "api_key": "` + openAIKey[:40] + `\u0000` + openAIKey[40:] + `"}]`), flags: failFast, code: 78, msg: "entry 0"},
		{name: "list file of 2 MiB", env: list(bigList), flags: failFast, code: 78, msg: "big-list.json"},

		// Oversized values, invalid UTF-8, NUL bytes.
		{name: "2 MiB value in vault", env: vaultEnv("vault://secret/big#api_key"), flags: failFast, code: 78, msg: "OPENAI_API_KEY"},
		{name: "64 KiB key in the environment", env: key("sk-proj-" + strings.Repeat("A", 64<<10)), flags: failFast, code: 78, msg: "OPENAI_API_KEY"},
		{name: "invalid utf-8 inside a key", env: key(openAIKey[:50] + "\xff\xfe" + openAIKey[50:]), flags: failFast, code: 78, msg: "invalid UTF-8 at byte 50"},
		{name: "nul inside a vault key", env: vaultEnv("vault://secret/nul#api_key"), flags: failFast, code: 78, msg: "at byte 40"},
		{name: "nul inside a file key", env: key("file://" + write("nul", []byte(openAIKey[:40]+"\x00"+openAIKey[40:]))), flags: failFast, code: 78, msg: "at byte 40"},
		{name: "trailing nul and BOM are repaired", env: key("file://" + write("bom", []byte("\ufeff"+openAIKey+"\x00\n"))), flags: failFast, child: true},
		{name: "cred reference repaired and read", env: ref("cred://openai"), flags: failFast, child: true},
	})
}
