// Command supervisetest runs exec.Supervise on its arguments, with no
// resolving in front: it measures the supervisor alone (bench/supervise-rss.md)
// and lets one try it by hand. The real command line is cmd/keyexec.
//
//	supervisetest COMMAND [ARG...]
package main

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/keyexec/keyexec/exec"
)

func main() {
	code, err := exec.Supervise(context.Background(), os.Args[1:], os.Environ(), exec.SuperviseOptions{})
	switch {
	case errors.Is(err, exec.ErrNotFound):
		code = 127
	case errors.Is(err, exec.ErrNotExecutable):
		code = 126
	case err != nil:
		code = 1
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "supervisetest:", err)
	}
	os.Exit(code)
}
