package verify

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Pre-flight refusals: these requests are never sent.
var (
	errUnknownProvider = errors.New("unknown provider: keyexec probes openai, azure and anthropic")
	errNoEndpoint      = errors.New("no Azure endpoint: set AZURE_OPENAI_ENDPOINT (or the config list's base_url) to https://RESOURCE.openai.azure.com")
)

func errBadURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // url.Error repeats the URL, which may hold a password
	}
	return fmt.Errorf("the base URL does not parse (%v): fix OPENAI_BASE_URL, AZURE_OPENAI_ENDPOINT or ANTHROPIC_BASE_URL", err)
}

func errNoHost() error {
	return errors.New("the base URL needs a scheme and a host, such as https://api.example.com/v1")
}

// checkScheme allows https everywhere and http only to loopback hosts, so
// that a key never crosses a network in the clear unless the user said so.
func checkScheme(u *url.URL, allowHTTP bool) error {
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if allowHTTP || loopbackHost(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("refusing plain http:// to %s, which is not a loopback host: the key would cross the network unencrypted; use https:// or set probe.allow_http: true", u.Hostname())
	}
	return fmt.Errorf("the base URL scheme %q is not http or https", u.Scheme)
}

// loopbackHost reports whether host is localhost, 127.0.0.0/8 or ::1. It does
// not resolve names: "localhost" is the only name trusted.
func loopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkSegment refuses model and deployment names that would change the
// request path instead of naming something in it.
func checkSegment(what, name string) error {
	if name == "." || name == ".." {
		return fmt.Errorf("%s name %q is not a valid name", what, name)
	}
	return nil
}

// jsonObject encodes {"k": v}.
func jsonObject(k, v string) ([]byte, error) {
	return json.Marshal(map[string]string{k: v})
}
