// Command keyexec resolves, repairs and proves an AI app's LLM credentials,
// then execs the app: `keyexec run -- python app.py`.
//
// main is thin: it turns the stop signals into a cancelled context, hands
// the process's arguments, environment and streams to run and exits with
// what run returns. Nothing below cmd/ exits or reads the process
// environment for configuration.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/keyexec/keyexec/sources"
)

func main() {
	ctx, cancel := context.WithCancelCause(context.Background())
	sigs := make(chan os.Signal, 1)
	stop := make([]os.Signal, len(sources.StopSignals))
	for i, s := range sources.StopSignals {
		stop[i] = s
	}
	signal.Notify(sigs, stop...)
	go func() {
		for s := range sigs {
			cancel(&sources.StopError{Signal: s.(syscall.Signal)})
		}
	}()
	code := runWith(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr, func() { signal.Reset(stop...) })
	os.Exit(code)
}
