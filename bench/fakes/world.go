package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/keyexec/keyexec/sources/awssm/awssmtest"
	"github.com/keyexec/keyexec/sources/vault/vaulttest"
	"github.com/keyexec/keyexec/verify/providertest"
)

// Benchmark credentials: shaped like the real thing, never real.
const (
	OpenAIKey    = "sk-proj-BenchKeyAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKKKllllT3BlbkFJmmmmNNNNooooPPPPqqqqRRRRssssTTTTuuuuVVVVwwwwXXXXyy"
	AnthropicKey = "sk-ant-api03-BenchAnthropicKey00123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-AA"
	// serviceAccountJWT is what the Vault fake's Kubernetes role accepts
	// (the fake compares it; it checks no signature).
	serviceAccountJWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzeXN0ZW06c2VydmljZWFjY291bnQ6bGxtOmFwcCJ9.YmVuY2g"
	awsSecret         = "bench/llm/openai"
)

// flow is one way keyexec gets ready, as the benchmark times it.
type flow struct {
	name  string
	floor int // sequential round trips no implementation can avoid
	title string
}

// flows are the benchmark's flows, in the order they are reported.
var flows = []flow{
	{"env", 1, "key in the environment + probe"},
	{"vault-token", 2, "Vault, token auth + probe"},
	{"vault-approle", 3, "Vault, AppRole login + probe (token revoked)"},
	{"vault-kubernetes", 3, "Vault, Kubernetes login + probe (token revoked)"},
	{"aws", 2, "AWS Secrets Manager + probe"},
	{"aws-assume-role", 3, "AWS Secrets Manager with aws.assume_role_arn + probe"},
	{"aws-web-identity", 3, "AWS Secrets Manager with web identity (EKS) + probe"},
	{"config-list", 2, "config list, 3 entries over 2 providers, keys in Vault"},
}

// bare are the calibration requests: keyexec's requests sent by ideal
// clients, so that what the fakes, the machine and the Go runtime add to L
// is measured apart from keyexec. The curl-* ones are curl configs
// (NAME.curl, reads repeated in one curl process go one after the other);
// the go-* ones are bench/rounds -n FLOOR, run with vault-token.env.
var bare = []flow{
	{"curl-openai", 1, "curl: one probe request to the OpenAI fake"},
	{"curl-aws", 1, "curl: one GetSecretValue through the moto proxy"},
	{"curl-vault", 1, "curl: one KV v2 read from the Vault fake"},
	{"curl-vault-3", 3, "curl: three KV v2 reads, one after the other"},
	{"go-vault-1", 1, "Go (bench/rounds): one KV v2 read"},
	{"go-vault-2", 2, "Go (bench/rounds): two KV v2 reads, one after the other"},
	{"go-vault-3", 3, "Go (bench/rounds): three KV v2 reads, one after the other"},
}

// writeFlowTable writes DIR/flows and DIR/bare: name, floor, title.
func writeFlowTable(dir string) error {
	for name, list := range map[string][]flow{"flows": flows, "bare": bare} {
		var b strings.Builder
		for _, f := range list {
			fmt.Fprintf(&b, "%s\t%d\t%s\n", f.name, f.floor, f.title)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(b.String()), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// world is one set of fakes, all adding the same latency.
type world struct {
	vault             *vaulttest.Server
	roleID, secretID  string
	openai, anthropic *providertest.Server
	awsURL            string
}

func startWorld(tb *shim, motoURL string, latency time.Duration, trace *tracer) (*world, error) {
	w := &world{}
	w.vault = vaulttest.New(tb)
	admin := w.vault.Admin()
	admin.PutKV2(tb, "secret", "llm/openai", map[string]any{"api_key": OpenAIKey})
	admin.PutKV2(tb, "secret", "llm/anthropic", map[string]any{"api_key": AnthropicKey})
	admin.PutPolicy(tb, "bench-read", `path "secret/data/llm/*" { capabilities = ["read"] }`)
	w.roleID, w.secretID = admin.CreateAppRole(tb, "approle", "bench", "bench-read")
	w.vault.AddKubernetesRole("bench", serviceAccountJWT, "bench-read")
	if tb.failed != nil {
		return nil, tb.failed
	}
	// The latency and the trace start after the set-up.
	w.vault.SetDelay(latency)
	w.vault.OnRequest(func(r vaulttest.Request) { trace.add("vault", r.Method+" "+r.Path) })

	provider := func(kind providertest.Kind, key string) *providertest.Server {
		s := providertest.New(kind, providertest.Config{
			Keys:      map[string]providertest.Key{key: {}},
			Latency:   latency,
			OnRequest: func(r providertest.Request) { trace.add(string(kind), r.Method+" "+r.Path) },
		})
		tb.Cleanup(s.Close)
		return s
	}
	w.openai = provider(providertest.OpenAI, OpenAIKey)
	w.anthropic = provider(providertest.Anthropic, AnthropicKey)

	proxy, err := awssmtest.NewProxy(motoURL)
	if err != nil {
		return nil, err
	}
	proxy.SetLatency(latency)
	aws := httptest.NewServer(trace.wrapAWS(proxy))
	tb.Cleanup(aws.Close)
	tb.Cleanup(proxy.Close) // before aws.Close, which waits for held requests
	w.awsURL = aws.URL
	return w, nil
}

// write puts each flow's environment file, and the files it names, in dir.
func (w *world) write(dir string) error {
	file := func(name, content string) (string, error) {
		p := filepath.Join(dir, name)
		return p, os.WriteFile(p, []byte(content), 0o600)
	}
	base := []string{"PATH=/usr/bin:/bin", "HOME=" + filepath.Join(dir, "home")}
	openai := []string{"OPENAI_BASE_URL=" + w.openai.BaseURL()}
	vault := []string{"VAULT_ADDR=" + w.vault.URL}
	vaultKey := "OPENAI_API_KEY=vault://secret/llm/openai#api_key"
	awsKey := "OPENAI_API_KEY=awssm://" + awsSecret + "#api_key"

	approle, err := file("approle.yaml", "vault: {auth: approle}\n")
	if err != nil {
		return err
	}
	jwt, err := file("jwt", serviceAccountJWT)
	if err != nil {
		return err
	}
	kubernetes, err := file("kubernetes.yaml", fmt.Sprintf("vault: {auth: kubernetes, role: bench, jwt_file: %s}\n", jwt))
	if err != nil {
		return err
	}
	assume, err := file("assume-role.yaml", "aws: {assume_role_arn: \""+awssmtest.RoleARN+"\"}\n")
	if err != nil {
		return err
	}
	token, err := awssmtest.WriteToken(dir)
	if err != nil {
		return err
	}
	list, err := w.configList()
	if err != nil {
		return err
	}
	listFile, err := file("oai_config_list.json", list)
	if err != nil {
		return err
	}

	envs := map[string][]string{
		"env":              join(base, openai, []string{"OPENAI_API_KEY=" + OpenAIKey}),
		"vault-token":      join(base, openai, vault, []string{"VAULT_TOKEN=" + w.vault.RootToken, vaultKey}),
		"vault-approle":    join(base, openai, vault, []string{"KEYEXEC_CONFIG=" + approle, "VAULT_ROLE_ID=" + w.roleID, "VAULT_SECRET_ID=" + w.secretID, vaultKey}),
		"vault-kubernetes": join(base, openai, vault, []string{"KEYEXEC_CONFIG=" + kubernetes, vaultKey}),
		"aws":              join(base, openai, set(awssmtest.StaticEnv(w.awsURL)), []string{awsKey}),
		"aws-assume-role":  join(base, openai, set(awssmtest.StaticEnv(w.awsURL)), []string{"KEYEXEC_CONFIG=" + assume, awsKey}),
		"aws-web-identity": join(base, openai, set(awssmtest.WebIdentityEnv(w.awsURL, token)), []string{awsKey}),
		"config-list":      join(base, vault, []string{"VAULT_TOKEN=" + w.vault.RootToken, "OAI_CONFIG_LIST=" + listFile}),
	}
	for _, f := range flows {
		if _, err := file(f.name+".env", strings.Join(envs[f.name], "\n")+"\n"); err != nil {
			return err
		}
	}
	if _, err := file("bare.env", strings.Join(base, "\n")+"\n"); err != nil {
		return err
	}
	for name, lines := range w.bareRequests() {
		if _, err := file(name+".curl", strings.Join(append([]string{"silent", "fail"}, lines...), "\n")+"\n"); err != nil {
			return err
		}
	}
	return nil
}

// bareRequests are curl configs for the requests keyexec's flows send:
// the probe, the KV v2 read, GetSecretValue (moto checks no signature).
func (w *world) bareRequests() map[string][]string {
	q := func(k, v string) string { return fmt.Sprintf("%s = %q", k, v) }
	// urls gives each URL its own output: curl pairs them in order.
	urls := func(u string, n int) []string {
		var out []string
		for range n {
			out = append(out, q("url", u), q("output", "/dev/null"))
		}
		return out
	}
	kv := w.vault.URL + "/v1/secret/data/llm/openai"
	token := q("header", "X-Vault-Token: "+w.vault.RootToken)
	return map[string][]string{
		"curl-openai":  append(urls(w.openai.BaseURL()+"/models", 1), q("header", "Authorization: Bearer "+OpenAIKey)),
		"curl-vault":   append(urls(kv, 1), token),
		"curl-vault-3": append(urls(kv, 3), token),
		"curl-aws": {
			q("url", w.awsURL+"/"), q("output", "/dev/null"), q("request", "POST"),
			q("header", "X-Amz-Target: secretsmanager.GetSecretValue"),
			q("header", "Content-Type: application/x-amz-json-1.1"),
			q("header", "Authorization: AWS4-HMAC-SHA256 Credential="+awssmtest.AccessKeyID+"/20250101/"+awssmtest.Region+"/secretsmanager/aws4_request, SignedHeaders=host, Signature=0"),
			q("data", `{"SecretId":"`+awsSecret+`"}`),
		},
	}
}

// configList is an AutoGen config list as users write one: two OpenAI
// models sharing a key and a Claude model, every key a Vault reference.
func (w *world) configList() (string, error) {
	list := []map[string]any{
		{"model": "gpt-4o-mini", "api_key": "vault://secret/llm/openai#api_key", "base_url": w.openai.BaseURL()},
		{"model": "gpt-4o", "api_key": "vault://secret/llm/openai#api_key", "base_url": w.openai.BaseURL()},
		{"model": "claude-sonnet-4-5", "api_type": "anthropic", "api_key": "vault://secret/llm/anthropic#api_key", "base_url": w.anthropic.BaseURL()},
	}
	b, err := json.MarshalIndent(list, "", "  ")
	return string(b), err
}

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// set keeps the NAME=VALUE pairs that set something: awssmtest's
// environments write "NAME=" for unset, and the file is the whole
// environment anyway.
func set(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasSuffix(kv, "=") {
			out = append(out, kv)
		}
	}
	return out
}

// seedMoto creates the benchmark's secret in moto (directly, not through a
// proxy, so the set-up is neither delayed nor traced).
func seedMoto(url string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := secretsmanager.New(secretsmanager.Options{
		Region:       awssmtest.Region,
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider(awssmtest.AccessKeyID, awssmtest.SecretAccessKey, ""),
	})
	value, err := json.Marshal(map[string]string{"api_key": OpenAIKey})
	if err != nil {
		return err
	}
	_, err = client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(awsSecret), SecretString: aws.String(string(value))})
	if err != nil && !errors.As(err, new(*types.ResourceExistsException)) {
		return fmt.Errorf("seed moto %s: %w", awsSecret, err)
	}
	return nil
}
