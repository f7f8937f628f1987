// Command fakes serves the test fakes outside `go test` for bench/run.sh: a
// Vault fake seeded with the benchmark secrets, three provider fakes that add
// a fixed latency to every answer, and (with -moto) the same secrets seeded
// into a running moto_server.
//
// It prints the addresses as shell assignments, then "READY", and serves
// until its standard input closes or it gets SIGTERM/SIGINT.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/keyexec/keyexec/sources/vault/vaulttest"
	"github.com/keyexec/keyexec/verify/providertest"
)

// Benchmark credentials: shaped like the real thing, never real.
const (
	OpenAIKey    = "sk-proj-BenchKeyAAAAbbbbCCCCddddEEEEffffGGGGhhhhIIIIjjjjKKKKllllT3BlbkFJmmmmNNNNooooPPPPqqqqRRRRssssTTTTuuuuVVVVwwwwXXXXyy"
	AzureKey     = "0123456789abcdef0123456789abcdef"
	AnthropicKey = "sk-ant-api03-BenchAnthropicKey00123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-AA"
)

// Secrets is how many distinct secrets (and fields of the one shared
// secret) are seeded: the largest reference count benchmarked.
const Secrets = 100

func main() {
	motoURL := flag.String("moto", "", "seed this moto_server with the benchmark secrets")
	latency := flag.Duration("latency", 200*time.Millisecond, "latency the provider fakes add to every answer")
	flag.Parse()
	tb := &shim{}
	defer tb.cleanup()
	if err := serve(tb, *motoURL, *latency); err != nil {
		fmt.Fprintln(os.Stderr, "fakes:", err)
		tb.cleanup()
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	eof := make(chan struct{})
	go func() { _, _ = io.Copy(io.Discard, os.Stdin); close(eof) }()
	select {
	case <-stop:
	case <-eof:
	}
}

func serve(tb *shim, motoURL string, latency time.Duration) error {
	vault := vaulttest.New(tb)
	admin := vault.Admin()
	fields := map[string]any{}
	for i := range Secrets {
		admin.PutKV2(tb, "secret", "bench/s"+strconv.Itoa(i), map[string]any{"v": "value-" + strconv.Itoa(i)})
		fields["f"+strconv.Itoa(i)] = "value-" + strconv.Itoa(i)
	}
	admin.PutKV2(tb, "secret", "bench/one", fields)
	if tb.failed != nil {
		return tb.failed
	}
	openai := providertest.New(providertest.OpenAI, providertest.Config{Keys: map[string]providertest.Key{OpenAIKey: {}}, Latency: latency})
	azure := providertest.New(providertest.Azure, providertest.Config{Keys: map[string]providertest.Key{AzureKey: {}}, Latency: latency})
	anthropic := providertest.New(providertest.Anthropic, providertest.Config{Keys: map[string]providertest.Key{AnthropicKey: {}}, Latency: latency})
	tb.Cleanup(openai.Close)
	tb.Cleanup(azure.Close)
	tb.Cleanup(anthropic.Close)
	if motoURL != "" {
		if err := seedMoto(motoURL, fields); err != nil {
			return err
		}
	}
	for _, kv := range [][2]string{
		{"VAULT_ADDR", vault.URL}, {"VAULT_TOKEN", vault.RootToken},
		{"OPENAI_BASE_URL", openai.BaseURL()}, {"OPENAI_API_KEY", OpenAIKey},
		{"AZURE_OPENAI_ENDPOINT", azure.BaseURL()}, {"AZURE_OPENAI_API_KEY", AzureKey}, {"OPENAI_API_VERSION", "2024-10-21"},
		{"ANTHROPIC_BASE_URL", anthropic.BaseURL()}, {"ANTHROPIC_API_KEY", AnthropicKey},
	} {
		fmt.Printf("%s=%s\n", kv[0], kv[1])
	}
	fmt.Println("READY")
	return nil
}

// seedMoto creates bench/s0…s99 (one value each) and bench/one (a JSON
// object with 100 keys), as the Vault fake holds them.
func seedMoto(url string, fields map[string]any) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	client := secretsmanager.New(secretsmanager.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIABENCH00000000000", "bench-secret-access-key", ""),
	})
	create := func(name, value string) error {
		_, err := client.CreateSecret(ctx, &secretsmanager.CreateSecretInput{Name: aws.String(name), SecretString: aws.String(value)})
		if err != nil {
			return fmt.Errorf("seed moto %s: %w", name, err)
		}
		return nil
	}
	for i := range Secrets {
		if err := create("bench/s"+strconv.Itoa(i), "value-"+strconv.Itoa(i)); err != nil {
			return err
		}
	}
	one, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	return create("bench/one", string(one))
}

// shim is the testing.TB the fakes' constructors want, outside a test:
// cleanups run at exit and a fatal error is remembered, not a Goexit.
type shim struct {
	testing.TB // never called: every method the fakes use is below
	cleanups   []func()
	failed     error
}

func (s *shim) Helper()             {}
func (s *shim) Name() string        { return "bench" }
func (s *shim) Cleanup(f func())    { s.cleanups = append(s.cleanups, f) }
func (s *shim) Logf(string, ...any) {}
func (s *shim) Fatalf(format string, args ...any) {
	if s.failed == nil {
		s.failed = fmt.Errorf(format, args...)
	}
}
func (s *shim) Fatal(args ...any)                 { s.Fatalf("%s", fmt.Sprint(args...)) }
func (s *shim) Errorf(format string, args ...any) { s.Fatalf(format, args...) }

func (s *shim) cleanup() {
	for i := len(s.cleanups) - 1; i >= 0; i-- {
		s.cleanups[i]()
	}
	s.cleanups = nil
}
