package provider

import (
	"net"
	"strings"
)

// NormHost lowercases host and drops its port, brackets and a trailing dot.
func NormHost(host string) string {
	h := strings.ToLower(host)
	if sh, _, err := net.SplitHostPort(h); err == nil {
		h = sh
	}
	return strings.TrimSuffix(strings.Trim(h, "[]"), ".")
}

// IsLoopbackHost reports whether host names the local machine: localhost,
// 127.0.0.0/8 or ::1. It resolves no names.
func IsLoopbackHost(host string) bool {
	h := NormHost(host)
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// hostOf is the host of a URL, "" when it does not parse.
func hostOf(raw string) string {
	_, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return ""
	}
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		rest = rest[:i]
	}
	if i := strings.LastIndexByte(rest, '@'); i >= 0 {
		rest = rest[i+1:]
	}
	return rest
}
