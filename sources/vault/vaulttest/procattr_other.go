//go:build !linux

package vaulttest

import "syscall"

// procAttr: outside Linux a server outlives a killed test binary; StopShared
// and t.Cleanup stop it otherwise.
func procAttr() *syscall.SysProcAttr { return nil }
