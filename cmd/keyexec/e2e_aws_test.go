package main

import (
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources/awssm/awssmtest"
)

// motoEnv is the child environment that points the SDK at moto with static
// test credentials and no instance metadata.
func motoEnv(m *awssmtest.Moto, extra map[string]string) map[string]string {
	env := map[string]string{}
	for _, kv := range m.Env() {
		if k, v, ok := strings.Cut(kv, "="); ok && v != "" {
			env[k] = v
		}
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// TestAWSEndToEnd: a key stored in Secrets Manager with surrounding
// whitespace reaches the child trimmed; the report names the version read.
func TestAWSEndToEnd(t *testing.T) {
	t.Parallel()
	m := awssmtest.Start(t)
	name := m.Name("prod/llm/openai")
	m.CreateSecret(t, name, `{"api_key": "  `+openAIKey+`\n", "org": "org-e2e"}`)
	plain := m.Name("prod/llm/anthropic")
	m.CreateSecret(t, plain, "\n"+anthropicKey+"  \n")
	env := motoEnv(m, map[string]string{
		"OPENAI_API_KEY":    "awssm://" + name + "#api_key",
		"OPENAI_ORG_ID":     "awssm://" + name + "#org",
		"ANTHROPIC_API_KEY": "awssm://" + plain,
	})
	m.ResetCalls()
	out, child, ok := runChild(t, "", env, "--no-probe")
	if !ok {
		t.Fatalf("child did not run (exit %d): %s", out.code, out.stderr)
	}
	if child.Env["OPENAI_API_KEY"] != openAIKey || child.Env["ANTHROPIC_API_KEY"] != anthropicKey || child.Env["OPENAI_ORG_ID"] != "org-e2e" {
		t.Errorf("the child did not get the trimmed values")
	}
	if calls := m.Calls("BatchGetSecretValue") + m.Calls("GetSecretValue"); calls != 1 {
		t.Errorf("2 secrets cost %d calls, want 1 batch call", calls)
	}
	chk := keyexecCmd(t, "", env, "check", "--no-probe")
	if chk.code != 0 || !strings.Contains(chk.stdout, "AWSCURRENT") {
		t.Errorf("check does not report the version read:\n%s%s", chk.stdout, chk.stderr)
	}
	assertNoLeak(t, out.stderr, chk.stdout, chk.stderr)
}

func TestAWSFailuresFailClosed(t *testing.T) {
	t.Parallel()
	m := awssmtest.Start(t)
	name := m.Name("prod/llm/keys")
	m.CreateSecret(t, name, `{"api_key": "`+openAIKey+`"}`)
	tests := []struct {
		name string
		env  map[string]string
		code int
		msg  string
	}{
		{"missing secret", map[string]string{"OPENAI_API_KEY": "awssm://" + m.Name("nope")}, 78, "nope"},
		{"missing key lists keys", map[string]string{"OPENAI_API_KEY": "awssm://" + name + "#apikey"}, 78, `"api_key"`},
		{"no region", map[string]string{"OPENAI_API_KEY": "awssm://" + name + "#api_key", "AWS_REGION": "", "AWS_DEFAULT_REGION": ""}, 78, "region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := motoEnv(m, nil)
			for k, v := range tt.env {
				if v == "" {
					delete(env, k)
				} else {
					env[k] = v
				}
			}
			out, _, ran := runChild(t, "", env, "--no-probe", "--timeout", "5s")
			if ran || out.code != tt.code || !strings.Contains(out.stderr, tt.msg) {
				t.Fatalf("child ran=%v exit %d, want %d naming %q:\n%s", ran, out.code, tt.code, tt.msg, out.stderr)
			}
			assertNoLeak(t, out.stdout, out.stderr)
		})
	}
}
