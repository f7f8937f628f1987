package verify

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/keyexec/keyexec/verify/providertest"
)

// BenchmarkProbeParallel probes 1 and 3 providers, each behind a fake that
// adds the same latency, and reports the wall time per probe as a multiple
// of that latency (metric "x-latency"): parallel probes cost about one round
// trip, so both should be close to 1.
//
//	go test ./verify -run '^$' -bench ProbeParallel -benchtime 20x
func BenchmarkProbeParallel(b *testing.B) {
	const latency = 100 * time.Millisecond
	keys := map[string]providertest.Key{probeKeyGood: {}, probeAzureKey: {}, probeAntKey: {}}
	cfg := providertest.Config{Keys: keys, Latency: latency}
	targets := []Target{
		probeTarget(OpenAI, providertest.Start(b, providertest.OpenAI, cfg), probeKeyGood),
		probeTarget(Azure, providertest.Start(b, providertest.Azure, cfg), probeAzureKey),
		probeTarget(Anthropic, providertest.Start(b, providertest.Anthropic, cfg), probeAntKey),
	}
	for _, n := range []int{1, 3} {
		b.Run(fmt.Sprintf("providers=%d", n), func(b *testing.B) {
			start := time.Now()
			for b.Loop() {
				for _, r := range Probe(context.Background(), targets[:n], ProbeOptions{}) {
					if r.Diagnosis != OK {
						b.Fatalf("%s: %s", r.Provider, r.Hint)
					}
				}
			}
			perOp := time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(perOp)/float64(latency), "x-latency")
		})
	}
}
