package vaulttest

import "syscall"

// procAttr makes the kernel kill bao when the test binary dies, so that a
// crashed or killed `go test` leaves no server behind.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} }
