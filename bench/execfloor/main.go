// Command execfloor is the floor for keyexec's start-up: a Go program that
// does nothing but replace itself with its arguments (PATH looked up, as
// keyexec does), so that `execfloor true` costs what any Go exec wrapper
// costs and the difference to `keyexec run -- true` is keyexec's own work.
package main

import (
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: execfloor COMMAND [ARG...]")
		os.Exit(64)
	}
	path, err := exec.LookPath(os.Args[1])
	if err == nil {
		err = syscall.Exec(path, os.Args[1:], os.Environ())
	}
	fmt.Fprintln(os.Stderr, "execfloor:", err)
	os.Exit(127)
}
