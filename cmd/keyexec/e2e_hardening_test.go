package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources/awssm/awssmtest"
	"github.com/keyexec/keyexec/sources/vault/vaulttest"
)

// TestScrubAddsAndPassThroughIsExplicit: scrub: adds to the built-in list,
// never replaces it; keeping a built-in one takes pass_through, reported.
func TestScrubAddsAndPassThroughIsExplicit(t *testing.T) {
	t.Parallel()
	env := map[string]string{"OPENAI_API_KEY": openAIKey, "VAULT_TOKEN": vaultToken, "MY_EXTRA_SECRET": "extra", "KEYEXEC_PROVIDER": "openai"}
	dir := t.TempDir()
	writeTestFile(t, dir, "keyexec.yaml", "scrub: [MY_EXTRA_SECRET]\n")
	out, child, ran := runChild(t, dir, env, "--no-probe")
	if !ran {
		t.Fatalf("exit %d:\n%s", out.code, out.stderr)
	}
	for _, gone := range []string{"VAULT_TOKEN", "MY_EXTRA_SECRET", "KEYEXEC_PROVIDER"} {
		if _, ok := child.Env[gone]; ok {
			t.Errorf("%s reached the child with scrub: [MY_EXTRA_SECRET]", gone)
		}
	}
	writeTestFile(t, dir, "keyexec.yaml", "pass_through: [VAULT_TOKEN]\n")
	out, child, ran = runChild(t, dir, env, "--no-probe")
	if !ran || child.Env["VAULT_TOKEN"] != vaultToken {
		t.Fatalf("pass_through: [VAULT_TOKEN] did not pass it (exit %d):\n%s", out.code, out.stderr)
	}
	chk := keyexecCmd(t, dir, env, "check", "--no-probe")
	if !strings.Contains(chk.stdout, "warning: VAULT_TOKEN is passed to the child (pass_through: [VAULT_TOKEN])") {
		t.Errorf("check does not warn about pass_through:\n%s", chk.stdout)
	}
	writeTestFile(t, dir, "keyexec.yaml", "pass_through: [OPENAI_API_KEY]\n")
	if bad := keyexecCmd(t, dir, env, "check", "--no-probe"); bad.code != 78 || !strings.Contains(bad.stderr+bad.stdout, "not a variable keyexec keeps from the child") {
		t.Errorf("pass_through of a name keyexec does not scrub: exit %d\n%s%s", bad.code, bad.stdout, bad.stderr)
	}
	assertNoLeak(t, out.stderr, chk.stdout)
}

// TestOwnCredentialNeverReachesTheChild: the Vault token keyexec read from
// ~/.vault-token is kept out of the child under any name.
func TestOwnCredentialNeverReachesTheChild(t *testing.T) {
	t.Parallel()
	fake := vaulttest.New(t)
	fake.Admin().PutKV2(t, "secret", "llm", map[string]any{"api_key": openAIKey})
	home := t.TempDir()
	if err := os.WriteFile(filepath.Join(home, ".vault-token"), []byte(fake.RootToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, child, ran := runChild(t, "", map[string]string{"HOME": home, "VAULT_ADDR": fake.URL, "OPENAI_API_KEY": "vault://secret/llm#api_key", "COPY_OF_TOKEN": fake.RootToken}, "--no-probe")
	if !ran {
		t.Fatalf("exit %d:\n%s", out.code, out.stderr)
	}
	if _, ok := child.Env["COPY_OF_TOKEN"]; ok {
		t.Error("a variable holding the Vault token keyexec used reached the child")
	}
	if strings.Contains(out.stderr, fake.RootToken) {
		t.Error("the Vault token is in keyexec's output")
	}
}

// TestSeveralFieldsWithoutFieldIsAnErrorForEverySource: a JSON object with
// several fields reached without #field is never a key, whatever the source.
func TestSeveralFieldsWithoutFieldIsAnErrorForEverySource(t *testing.T) {
	t.Parallel()
	doc := `{"api_key": "` + openAIKey + `", "org": "org-1"}`
	dir := t.TempDir()
	writeTestFile(t, dir, "multi.json", doc)
	creds := t.TempDir()
	writeTestFile(t, creds, "openai", doc)
	fake := vaulttest.New(t)
	fake.Admin().PutKV2(t, "secret", "llm", map[string]any{"api_key": openAIKey, "org": "org-1"})
	m := awssmtest.Start(t)
	name := m.Name("multi")
	m.CreateSecret(t, name, doc)
	refs := map[string]string{
		"file":  "file://" + filepath.Join(dir, "multi.json"),
		"cred":  "cred://openai",
		"env":   "env://DOC",
		"vault": "vault://secret/llm",
		"awssm": "awssm://" + name,
	}
	for scheme, ref := range refs {
		t.Run(scheme, func(t *testing.T) {
			t.Parallel()
			env := motoEnv(m, map[string]string{"OPENAI_API_KEY": ref, "CREDENTIALS_DIRECTORY": creds, "DOC": doc, "VAULT_ADDR": fake.URL, "VAULT_TOKEN": fake.RootToken})
			out, _, ran := runChild(t, dir, env, "--no-probe")
			if ran || out.code != 78 {
				t.Fatalf("child ran %v, exit %d, want 78:\n%s", ran, out.code, out.stderr)
			}
			if !strings.Contains(out.stderr, `several fields ("api_key", "org")`) || !strings.Contains(out.stderr, "#FIELD") {
				t.Errorf("stderr does not name the fields and the fix:\n%s", out.stderr)
			}
			assertNoLeak(t, out.stderr)
			env["OPENAI_API_KEY"] = ref + "#api_key"
			if scheme == "awssm" || scheme == "file" || scheme == "vault" || scheme == "cred" || scheme == "env" {
				if out2, child, ok := runChild(t, dir, env, "--no-probe"); !ok || child.Env["OPENAI_API_KEY"] != openAIKey {
					t.Errorf("with #api_key: exit %d\n%s", out2.code, out2.stderr)
				}
			}
		})
	}
}

// TestSchemeWithoutSlashesIsAnError: a registered scheme written without
// "//" is an error showing the corrected reference, never a literal.
func TestSchemeWithoutSlashesIsAnError(t *testing.T) {
	t.Parallel()
	cases := map[string]string{
		"vault:secret/x#k":    "vault://secret/x#k",
		"file:/run/secrets/k": "file:///run/secrets/k",
		"awssm:prod/llm":      "awssm://prod/llm",
		"cred:openai":         "cred://openai",
		"env:OTHER":           "env://OTHER",
	}
	for in, fixed := range cases {
		t.Run(in, func(t *testing.T) {
			t.Parallel()
			out, _, ran := runChild(t, "", map[string]string{"OPENAI_API_KEY": openAIKey, "SOME_SETTING": in}, "--no-probe")
			if ran || out.code != 78 || !strings.Contains(out.stderr, "write "+fixed) {
				t.Fatalf("child ran %v, exit %d; want 78 showing %s:\n%s", ran, out.code, fixed, out.stderr)
			}
		})
	}
	// A URL or host:port is no reference.
	if out, _, ran := runChild(t, "", map[string]string{"OPENAI_API_KEY": openAIKey, "DB": "postgres://u:p@db:5432/x", "HOSTPORT": "vault:8200"}, "--no-probe"); !ran {
		t.Errorf("ordinary values refused:\n%s", out.stderr)
	}
}

// TestConfigListOfUncheckedTypesIsPassedOn: a list whose entries are all of
// types keyexec does not check is handed on, reported "not proven", not
// failed with "no LLM credentials found".
func TestConfigListOfUncheckedTypesIsPassedOn(t *testing.T) {
	t.Parallel()
	list := `[{"model": "command-r", "api_type": "cohere", "api_key": "co-key"}, {"model": "claude", "api_type": "bedrock", "aws_region": "us-east-1"}]`
	out, child, ran := runChild(t, "", map[string]string{"OAI_CONFIG_LIST": list})
	if !ran || out.code != 0 {
		t.Fatalf("exit %d:\n%s", out.code, out.stderr)
	}
	if !strings.Contains(out.stderr, "2 not proven") || child.Env["OAI_CONFIG_LIST"] == "" {
		t.Errorf("summary does not say the entries are not proven, or the list was lost:\n%s", out.stderr)
	}
	chk := keyexecCmd(t, "", map[string]string{"OAI_CONFIG_LIST": list}, "check")
	if !strings.Contains(chk.stdout, `api_type "cohere" is not one keyexec checks`) {
		t.Errorf("check:\n%s", chk.stdout)
	}
}
