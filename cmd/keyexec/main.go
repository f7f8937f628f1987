// Command keyexec resolves, repairs and proves an AI app's LLM credentials,
// then execs the app: `keyexec run -- python app.py`.
//
// main is thin: it hands the process's arguments, environment and streams to
// run and exits with what run returns. Nothing below cmd/ exits or reads the
// process environment for configuration.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}
