package vault

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/vault/api"
	"golang.org/x/net/http/httpproxy"

	"github.com/keyexec/keyexec/sources"
)

const (
	defaultAddress     = "https://127.0.0.1:8200" // as the Vault CLI
	defaultJWTFile     = "/var/run/secrets/kubernetes.io/serviceaccount/token"
	defaultConcurrency = 8
)

// settings is Config with every fallback applied and checked.
type settings struct {
	address     string
	addrFrom    string // "vault.address", "VAULT_ADDR", or "" for the CLI default
	display     string // address as messages show it: sources.DisplayURL, never userinfo
	namespace   string
	nsFrom      string // "vault.namespace" or "VAULT_NAMESPACE"
	auth        string // "token", "approle" or "kubernetes"
	authMount   string
	tokenFile   string // vault.token_file
	envToken    string // VAULT_TOKEN
	homeToken   string // $HOME/.vault-token
	roleID      string
	secretID    string
	secretFile  string
	role        string
	jwtFile     string
	kvVersion   map[string]int // mount without slashes → 1 or 2
	revoke      bool
	concurrency int
	tls         api.TLSConfig
	tlsSet      bool
	env         map[string]string
}

// resolveSettings applies the VAULT_* fallbacks from cfg.Env and checks
// everything that can be checked without the network.
func resolveSettings(cfg Config) (settings, error) {
	env := cfg.Env
	get := func(k string) string { return strings.TrimSpace(env[k]) }
	bad := func(format string, args ...any) (settings, error) {
		return settings{}, fmt.Errorf("vault config: "+format+": %w", append(args, sources.ErrInvalid)...)
	}
	s := settings{
		address:     firstOf(cfg.Address, get("VAULT_ADDR"), defaultAddress),
		addrFrom:    pickFrom(cfg.Address, "vault.address", get("VAULT_ADDR"), "VAULT_ADDR"),
		namespace:   strings.Trim(firstOf(cfg.Namespace, get("VAULT_NAMESPACE")), "/"),
		nsFrom:      pickFrom(cfg.Namespace, "vault.namespace", get("VAULT_NAMESPACE"), "VAULT_NAMESPACE"),
		auth:        strings.ToLower(firstOf(cfg.Auth, "token")),
		tokenFile:   cfg.TokenFile,
		envToken:    get("VAULT_TOKEN"),
		roleID:      firstOf(cfg.RoleID, get("VAULT_ROLE_ID")),
		secretID:    cfg.SecretID,
		secretFile:  cfg.SecretIDFile,
		role:        cfg.Role,
		jwtFile:     firstOf(cfg.JWTFile, defaultJWTFile),
		revoke:      cfg.RevokeToken == nil || *cfg.RevokeToken,
		concurrency: cfg.Concurrency,
		env:         env,
	}
	if home := get("HOME"); home != "" {
		s.homeToken = filepath.Join(home, ".vault-token")
	}
	if s.concurrency <= 0 {
		s.concurrency = defaultConcurrency
	}
	s.display = sources.DisplayURL(s.address)
	u, err := url.Parse(s.address)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "unix") || (u.Host == "" && u.Scheme != "unix") {
		return bad("address %s (from %s) is not a URL such as https://vault.example.com:8200", showAddress(s.address), s.addrName())
	}
	switch s.auth {
	case "token":
	case "approle":
		s.authMount = firstOf(strings.Trim(cfg.Mount, "/"), "approle")
		if s.secretID == "" && s.secretFile == "" {
			s.secretID = get("VAULT_SECRET_ID")
		}
		if s.roleID == "" {
			return bad("approle auth needs a role ID: set vault.role_id or VAULT_ROLE_ID")
		}
		if s.secretID == "" && s.secretFile == "" {
			return bad("approle auth needs a secret ID: set vault.secret_id, vault.secret_id_file or VAULT_SECRET_ID")
		}
	case "kubernetes":
		s.authMount = firstOf(strings.Trim(cfg.Mount, "/"), "kubernetes")
		if s.role == "" {
			return bad("kubernetes auth needs vault.role, the Vault role bound to this service account")
		}
	default:
		return bad("unknown auth %q: want token, approle or kubernetes", cfg.Auth)
	}
	s.kvVersion = map[string]int{}
	for mount, v := range cfg.KVVersion {
		if v != 1 && v != 2 {
			return bad("kv_version for mount %q is %d: want 1 or 2", mount, v)
		}
		s.kvVersion[strings.Trim(mount, "/")] = v
	}
	if s.tls, err = tlsSettings(get); err != nil {
		return settings{}, err
	}
	t := s.tls
	s.tlsSet = t.CACert != "" || t.CAPath != "" || t.ClientCert != "" || t.TLSServerName != "" || t.Insecure
	return s, nil
}

// tlsSettings reads the Vault CLI's TLS variables.
func tlsSettings(get func(string) string) (api.TLSConfig, error) {
	t := api.TLSConfig{
		CACert:        get("VAULT_CACERT"),
		CAPath:        get("VAULT_CAPATH"),
		ClientCert:    get("VAULT_CLIENT_CERT"),
		ClientKey:     get("VAULT_CLIENT_KEY"),
		TLSServerName: get("VAULT_TLS_SERVER_NAME"),
	}
	if v := get("VAULT_SKIP_VERIFY"); v != "" {
		var err error
		if t.Insecure, err = strconv.ParseBool(v); err != nil {
			return t, fmt.Errorf("vault config: VAULT_SKIP_VERIFY=%s is not a boolean: %w", sources.ShowValue(v), sources.ErrInvalid)
		}
	}
	if (t.ClientCert == "") != (t.ClientKey == "") {
		return t, fmt.Errorf("vault config: VAULT_CLIENT_CERT and VAULT_CLIENT_KEY must be set together: %w", sources.ErrInvalid)
	}
	return t, nil
}

// httpClient returns a copy of cfg.HTTPClient, or a client of our own whose
// TLS and proxy settings come from the settings only (api.DefaultConfig
// would read the process environment). Either way its transport bounds
// every answer's body (bounded.go), so the api client, which needs an
// *http.Transport for unix:// addresses, is given http://localhost and our
// transport dials the socket.
func httpClient(cfg Config, s settings) (*http.Client, bool, error) {
	hc, owns := cfg.HTTPClient, false
	if hc == nil {
		owns = true
		dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
		tr := &http.Transport{
			Proxy:                 proxyFunc(s.env),
			DialContext:           dialer.DialContext,
			ForceAttemptHTTP2:     true,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   s.concurrency,
			IdleConnTimeout:       90 * time.Second,
			TLSHandshakeTimeout:   10 * time.Second,
			ExpectContinueTimeout: time.Second,
			TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		}
		if socket, ok := strings.CutPrefix(s.address, "unix://"); ok {
			tr.Proxy = nil
			tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
				return dialer.DialContext(ctx, "unix", socket)
			}
		}
		// The api client follows Vault's own redirects (standby to active)
		// once, itself; the HTTP client must not.
		hc = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	} else {
		cp := *hc // the caller's client stays as it was
		hc = &cp
		if hc.Transport == nil {
			hc.Transport = http.DefaultTransport.(*http.Transport).Clone()
		}
	}
	if s.tlsSet {
		if err := configureTLS(hc, s.tls); err != nil {
			return nil, false, err
		}
	}
	hc.Transport = &boundedTransport{next: hc.Transport}
	return hc, owns, nil
}

// configureTLS applies the VAULT_CA*, VAULT_CLIENT_* and VAULT_TLS_* settings
// to hc's transport.
func configureTLS(hc *http.Client, t api.TLSConfig) error {
	tr, ok := hc.Transport.(*http.Transport)
	if !ok {
		return fmt.Errorf("vault config: VAULT_CA*/VAULT_CLIENT_* need an *http.Transport, got %T: %w", hc.Transport, sources.ErrInvalid)
	}
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if err := (&api.Config{HttpClient: hc}).ConfigureTLS(&t); err != nil {
		return fmt.Errorf("vault config: TLS from VAULT_CACERT/VAULT_CAPATH/VAULT_CLIENT_CERT/VAULT_CLIENT_KEY: %w: %w", err, sources.ErrInvalid)
	}
	return nil
}

// proxyFunc honours VAULT_PROXY_ADDR (or VAULT_HTTP_PROXY) as the Vault CLI
// does, else HTTPS_PROXY/HTTP_PROXY/NO_PROXY, all from env.
func proxyFunc(env map[string]string) func(*http.Request) (*url.URL, error) {
	if p := firstOf(env["VAULT_PROXY_ADDR"], env["VAULT_HTTP_PROXY"]); p != "" {
		if u, err := url.Parse(p); err == nil {
			return http.ProxyURL(u)
		}
	}
	pc := httpproxy.Config{
		HTTPProxy:  firstOf(env["HTTP_PROXY"], env["http_proxy"]),
		HTTPSProxy: firstOf(env["HTTPS_PROXY"], env["https_proxy"]),
		NoProxy:    firstOf(env["NO_PROXY"], env["no_proxy"]),
	}
	f := pc.ProxyFunc()
	return func(r *http.Request) (*url.URL, error) { return f(r.URL) }
}

// newClient builds an api.Client that depends on the settings only: after
// api.NewClient, which reads VAULT_TOKEN, VAULT_NAMESPACE and VAULT_HEADERS
// from the process environment, token, headers and namespace are reset.
func (s *Source) newClient() (*api.Client, error) {
	addr := s.set.address
	if strings.HasPrefix(addr, "unix://") {
		addr = "http://localhost" // httpClient's transport dials the socket
	}
	conf := &api.Config{
		Address:      addr,
		HttpClient:   s.http,
		MaxRetries:   0, // retries are ours, bounded by the context (retry.go)
		MinRetryWait: time.Millisecond,
		MaxRetryWait: time.Millisecond,
		Timeout:      60 * time.Second, // only when the context has no earlier deadline
	}
	c, err := api.NewClient(conf)
	if err != nil {
		return nil, fmt.Errorf("vault client for %s: %s: %w", s.set.display, redactURLs(err.Error()), sources.ErrInvalid)
	}
	c.SetHeaders(http.Header{api.RequestHeaderName: []string{"true"}})
	c.ClearToken()
	if s.set.namespace != "" {
		c.SetNamespace(s.set.namespace)
	}
	return c, nil
}

// readCredential reads a token, secret ID or JWT from a file, without the
// surrounding whitespace editors and `echo` leave.
func readCredential(path, what string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", credentialFileError(path, what, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s file %s is empty: %w", what, path, sources.ErrInvalid)
	}
	return v, nil
}

// credentialFileError explains a credential file that cannot be read: a
// file keyexec may not read is a permission problem (77), anything else a
// configuration that points to the wrong place (78).
func credentialFileError(path, what string, err error) error {
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("read %s file %s: keyexec runs as uid %d, which may not read it: fix its owner or mode (or the directory's): %w: %w",
			what, path, os.Getuid(), sources.ErrPermission, err)
	}
	return fmt.Errorf("read %s file %s: %w: %w", what, path, sources.ErrInvalid, err)
}

// addrName names where the address came from, for messages that say what
// to fix.
func (s settings) addrName() string {
	if s.addrFrom == "" {
		return "VAULT_ADDR or vault.address"
	}
	return s.addrFrom
}

// defaultHint explains a failed connection to an address nobody set: the
// Vault CLI's default was tried, and where to set the right one.
func (s settings) defaultHint() string {
	if s.addrFrom != "" {
		return ""
	}
	return "; no Vault address is configured (neither VAULT_ADDR nor vault.address is set), so keyexec tried the Vault CLI default " +
		defaultAddress + ": set VAULT_ADDR or vault.address to your Vault"
}

// showAddress shows a malformed address so that the user sees the typo,
// unless it may hold credentials (userinfo, or anything key-like).
func showAddress(raw string) string {
	if strings.Contains(raw, "@") {
		return sources.DisplayURL(raw)
	}
	return sources.ShowValue(raw)
}

// redactURLs masks URL userinfo and anything key-like in text from a
// library (which may quote the request URL).
func redactURLs(s string) string { return sources.NewRedactor().Redact(s) }

// pickFrom names the first set value's origin.
func pickFrom(pairs ...string) string {
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i] != "" {
			return pairs[i+1]
		}
	}
	return ""
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}
