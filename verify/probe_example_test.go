package verify_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify"
	"github.com/keyexec/keyexec/verify/providertest"
)

func ExampleProbe() {
	const good = "sk-proj-exampleEXAMPLE0123456789T3BlbkFJexampleEXAMPLE9xYz"
	srv := providertest.New(providertest.OpenAI, providertest.Config{Keys: map[string]providertest.Key{good: {}}})
	defer srv.Close()

	targets := []verify.Target{
		{Provider: verify.OpenAI, BaseURL: srv.BaseURL(), Key: sources.NewSecret(good), Label: "environment"},
		{Provider: verify.OpenAI, BaseURL: srv.BaseURL(), Key: sources.NewSecret("sk-proj-revoked0123456789T3BlbkFJrevoked0123Ab7c"),
			Label: "config list entry 0", Origin: "vault://secret/llm/openai#api_key"},
	}
	for _, r := range verify.Probe(context.Background(), targets, verify.ProbeOptions{Timeout: 5 * time.Second}) {
		fmt.Println(r.Label, r.Status, r.Diagnosis, errors.Is(r.Err, verify.ErrRejected))
		fmt.Println(" ", r.Hint)
	}
	// Output:
	// environment 200 ok false
	//   the key was accepted
	// config list entry 0 401 rejected true
	//   the key was rejected as invalid: it may be revoked, rotated or mistyped; key sk-…Ab7c came from vault://secret/llm/openai#api_key
}
