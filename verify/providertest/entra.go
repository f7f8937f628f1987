package providertest

import (
	"cmp"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// entraFail writes the Microsoft identity platform's OAuth error (fields as
// MSAL reads them: error, error_description starting "AADSTSn:", error_codes).
func entraFail(w http.ResponseWriter, status int, code string, aadsts int, desc string) {
	now := time.Now().UTC()
	trace, corr := "00000000-0000-4000-8000-0000000000e1", "00000000-0000-4000-8000-0000000000e2"
	writeJSON(w, status, map[string]any{"error": code,
		"error_description": fmt.Sprintf("AADSTS%d: %s Trace ID: %s Correlation ID: %s Timestamp: %s", aadsts, desc, trace, corr, now.Format("2006-01-02 15:04:05Z")),
		"error_codes":       []int{aadsts}, "timestamp": now.Format("2006-01-02 15:04:05Z"), "trace_id": trace, "correlation_id": corr,
		"error_uri": fmt.Sprintf("https://login.microsoftonline.com/error?code=%d", aadsts)})
}

// entra serves what MSAL Go (v1.10.1, under azidentity v1.15.0) asks an
// authority for a client-credentials token (src: apps/internal/oauth/
// resolvers.go, ops/authority/authority.go, ops/accesstokens):
//
//	GET  /common/discovery/instance   instance discovery (only asked of a
//	     Microsoft host: for any other host MSAL asks login.microsoftonline.com,
//	     so tests must set DisableInstanceDiscovery / disable_instance_discovery)
//	GET  /{tenant}/v2.0/.well-known/openid-configuration
//	POST /{tenant}/oauth2/v2.0/token   grant_type=client_credentials with
//	     client_secret, or client_assertion (workload identity)
//
// The issuer shares scheme and host with the authority, which MSAL checks
// (ValidateIssuerMatchesAuthority).
func (s *Server) entra(w http.ResponseWriter, r *http.Request, body string) {
	tenant, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	switch {
	case r.Method == http.MethodGet && rest == "discovery/instance":
		s.entraInstance(w, r)
	case !strings.EqualFold(tenant, s.config().Tenant):
		// obs: the AADSTS90002 users post for a wrong AZURE_TENANT_ID.
		entraFail(w, http.StatusBadRequest, "invalid_tenant", 90002, fmt.Sprintf("Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant))
	case r.Method == http.MethodGet && rest == "v2.0/.well-known/openid-configuration":
		base := s.URL + "/" + tenant
		writeJSON(w, http.StatusOK, map[string]any{"token_endpoint": base + "/oauth2/v2.0/token",
			"authorization_endpoint": base + "/oauth2/v2.0/authorize", "issuer": base + "/v2.0",
			"jwks_uri": base + "/discovery/v2.0/keys", "token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
			"response_types_supported": []string{"code", "id_token", "code id_token", "id_token token"}, "tenant_region_scope": "EU"})
	case r.Method == http.MethodPost && rest == "oauth2/v2.0/token":
		s.entraToken(w, r, body)
	default:
		entraFail(w, http.StatusNotFound, "invalid_request", 900561, "The endpoint only accepts POST requests.") // UNCONFIRMED
	}
}

// entraInstance answers instance discovery for this host (src:
// ops/authority InstanceDiscoveryResponse).
func (s *Server) entraInstance(w http.ResponseWriter, r *http.Request) {
	host := strings.TrimPrefix(s.URL, "https://")
	auth, _ := url.Parse(r.URL.Query().Get("authorization_endpoint"))
	tenant := s.config().Tenant
	if auth != nil {
		if t, _, ok := strings.Cut(strings.TrimPrefix(auth.Path, "/"), "/"); ok {
			tenant = t
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tenant_discovery_endpoint": s.URL + "/" + tenant + "/v2.0/.well-known/openid-configuration",
		"api-version": "1.1", "metadata": []any{map[string]any{"preferred_network": host, "preferred_cache": host, "aliases": []string{host}}}})
}

// entraToken issues a client-credentials token. Errors (obs: the AADSTS
// codes users post from azidentity and azure-identity): 700016 unknown
// app, 7000215 wrong secret (401 invalid_client), 70021 no federated
// credential for an assertion, 7000216 no credential, 1002012 a scope
// without /.default, 70003 another grant type.
func (s *Server) entraToken(w http.ResponseWriter, r *http.Request, body string) {
	cfg := s.config()
	form, _ := url.ParseQuery(body)
	cid := form.Get("client_id")
	client, known := cfg.Clients[cid]
	resource := ""
	for _, sc := range strings.Fields(form.Get("scope")) {
		if strings.HasSuffix(sc, "/.default") {
			resource = strings.TrimSuffix(sc, "/.default")
		}
	}
	switch {
	case form.Get("grant_type") != "client_credentials":
		entraFail(w, http.StatusBadRequest, "unsupported_grant_type", 70003, fmt.Sprintf("The app requested an unsupported grant type '%s'.", form.Get("grant_type")))
	case !known:
		entraFail(w, http.StatusBadRequest, "unauthorized_client", 700016, fmt.Sprintf("Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", cid, cfg.Tenant))
	case form.Get("client_secret") != "" && form.Get("client_secret") != client.Secret:
		entraSecretRejected(w, cid)
	case form.Get("client_secret") == "" && form.Get("client_assertion") == "":
		entraFail(w, http.StatusUnauthorized, "invalid_client", 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")
	case form.Get("client_secret") == "" && (client.Assertion == "" || form.Get("client_assertion") != client.Assertion):
		entraFail(w, http.StatusBadRequest, "invalid_request", 70021, "No matching federated identity record found for presented assertion.")
	case resource == "":
		entraFail(w, http.StatusBadRequest, "invalid_scope", 1002012, fmt.Sprintf("The provided value for scope %s is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).", form.Get("scope")))
	default:
		f := entraFaults
		f.reject = func(w http.ResponseWriter, _ string) { entraSecretRejected(w, cid) }
		if !s.mode(w, r, "entra:"+cid, client.Key, f, true) {
			s.entraIssue(w, cid, client, resource, cfg)
		}
	}
}

func entraSecretRejected(w http.ResponseWriter, cid string) {
	entraFail(w, http.StatusUnauthorized, "invalid_client", 7000215, fmt.Sprintf("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '%s'.", cid))
}

// entraIssue mints the token and answers as the v2.0 endpoint does
// (token_type, expires_in, ext_expires_in, access_token).
func (s *Server) entraIssue(w http.ResponseWriter, cid string, client Client, resource string, cfg Config) {
	spec := client.Token
	spec.AppID = cmp.Or(spec.AppID, cid)
	token, exp := s.issue(spec, resource, cfg, client.TokenMode)
	life := max(1, exp-time.Now().Unix())
	writeJSON(w, http.StatusOK, map[string]any{"token_type": "Bearer", "expires_in": life, "ext_expires_in": life, "access_token": token})
}

// issue fills what spec leaves out (audience: the resource asked for; the
// fake's tenant and token lifetime), mints the token, registers it for the
// provider fakes to accept under mode, and returns it with its expiry.
func (s *Server) issue(spec TokenSpec, resource string, cfg Config, mode Mode) (string, int64) {
	spec.Audience = cmp.Or(spec.Audience, resource)
	spec.Tenant = cmp.Or(spec.Tenant, cfg.Tenant)
	if spec.Expires.IsZero() {
		spec.Expires = time.Now().Add(cfg.TokenLifetime)
	}
	claims := spec.Claims()
	token := MintJWT(claims)
	aud, _ := claims["aud"].(string)
	s.register(token, aud, mode)
	return token, unixClaim(claims["exp"])
}

// entraFaults: AADSTS codes for the shared modes (UNCONFIRMED pairing of
// modes and codes; the codes and texts are the platform's).
var entraFaults = faults{
	reject: func(w http.ResponseWriter, _ string) { entraSecretRejected(w, "") },
	noQuota: func(w http.ResponseWriter) {
		entraFail(w, http.StatusBadRequest, "unauthorized_client", 7000112, "Application is disabled.")
	},
	rateLimit: func(w http.ResponseWriter, _ string) {
		entraFail(w, http.StatusTooManyRequests, "temporarily_unavailable", 50196, "The server terminated an operation because it encountered a client request loop.")
	},
	forbidden: func(w http.ResponseWriter) {
		entraFail(w, http.StatusBadRequest, "unauthorized_client", 7000112, "Application is disabled.")
	},
	server: func(w http.ResponseWriter, status int) {
		entraFail(w, status, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again.")
	},
}

// HTTPClient returns a client that trusts this server's certificate (the
// EntraID fake is https): pass it as azidentity's ClientOptions.Transport
// in-process, where SSL_CERT_FILE is read only once.
func (s *Server) HTTPClient() *http.Client { return s.srv.Client() }

// CAFile writes the server's certificate as PEM and returns its path, for
// a child process: SSL_CERT_FILE (Go), REQUESTS_CA_BUNDLE (Python
// requests, which MSAL Python uses). Removed by Close.
func (s *Server) CAFile() (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.srv.Certificate() == nil {
		return "", fmt.Errorf("%s fake is not served over TLS", s.Kind)
	}
	if s.caDir == "" {
		dir, err := os.MkdirTemp("", "providertest-ca-")
		if err != nil {
			return "", err
		}
		s.caDir = dir
	}
	path := filepath.Join(s.caDir, "ca.pem")
	pemBytes := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
	return path, os.WriteFile(path, pemBytes, 0o600)
}

// ClientEnv is the environment for EnvironmentCredential (azidentity and
// azure-identity) to sign in as clientID against this EntraID fake,
// including the CA bundle variables of CAFile.
func (s *Server) ClientEnv(clientID string) ([]string, error) {
	ca, err := s.CAFile()
	if err != nil {
		return nil, err
	}
	cfg := s.config()
	return []string{"AZURE_AUTHORITY_HOST=" + s.URL, "AZURE_TENANT_ID=" + cfg.Tenant, "AZURE_CLIENT_ID=" + clientID,
		"AZURE_CLIENT_SECRET=" + cfg.Clients[clientID].Secret, "SSL_CERT_FILE=" + ca, "REQUESTS_CA_BUNDLE=" + ca}, nil
}
