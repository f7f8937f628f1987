package awssm_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/sources/awssm"
	"github.com/keyexec/keyexec/sources/awssm/awssmtest"
)

// BenchmarkFirstFetch measures a first fetch, the one keyexec makes at
// start-up, of 20 secrets for each way of getting credentials, with 20 ms
// of latency on every answer (a nearby region) so that round trips show.
// Each iteration is a new Source, so its STS call is paid again;
// requests/op is what the proxy counted.
//
//	go test -run '^$' -bench FirstFetch ./sources/awssm/
func BenchmarkFirstFetch(b *testing.B) {
	moto := awssmtest.Start(b)
	refs := make([]sources.Ref, 20)
	for i := range refs {
		name := moto.Name(fmt.Sprintf("s%02d", i))
		moto.CreateSecret(b, name, fmt.Sprintf(`{"api_key":"value-%d"}`, i))
		refs[i], _ = sources.Parse("awssm://" + name + "#api_key")
	}
	for _, flow := range []struct {
		name        string
		webIdentity bool
		role        string
	}{
		{"static", false, ""},
		{"assume-role", false, awssmtest.RoleARN},
		{"web-identity", true, ""},
	} {
		b.Run(flow.name, func(b *testing.B) {
			env := moto.Env()
			if flow.webIdentity {
				env = moto.WebIdentityEnv(b)
			}
			setenv(b, env)
			moto.SetLatency(20 * time.Millisecond)
			defer moto.SetLatency(0)
			moto.ResetCalls()
			for b.Loop() {
				src, err := awssm.New(context.Background(), awssm.Config{AssumeRoleARN: flow.role})
				if err != nil {
					b.Fatal(err)
				}
				res, err := src.Fetch(context.Background(), refs)
				if err != nil || res[0].Err != nil {
					b.Fatalf("Fetch: %v %v", err, res[0].Err)
				}
			}
			b.ReportMetric(float64(len(moto.Requests()))/float64(b.N), "requests/op")
		})
	}
}
