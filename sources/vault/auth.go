package vault

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/hashicorp/vault/api"
	"github.com/hashicorp/vault/api/auth/approle"
	"github.com/hashicorp/vault/api/auth/kubernetes"

	"github.com/keyexec/keyexec/sources"
)

// tokenInvalid is tokenInfo's answer when Vault does not know the token.
const tokenInvalid = "the token is invalid, expired or revoked"

// session is one Fetch's authenticated client.
type session struct {
	src    *Source
	client *api.Client
	who    string   // the auth method, for errors: "the token from VAULT_TOKEN"
	owned  bool     // the token came from a login: Finish revokes it
	creds  []string // credential values to keep out of error text
	mounts mountTable
	slots  chan struct{} // one per request in flight, Config.Concurrency of them

	lookupOnce sync.Once
	lookup     string // what lookup-self says about the token, for 403s
}

// login returns a session holding the user's token, or a token obtained by
// AppRole or Kubernetes login.
func (s *Source) login(ctx context.Context) (*session, error) {
	c, err := s.newClient()
	if err != nil {
		return nil, err
	}
	ss := &session{src: s, client: c, slots: make(chan struct{}, s.set.concurrency)}
	switch s.set.auth {
	case "token":
		tok, who, err := s.userToken()
		if err != nil {
			return nil, err
		}
		ss.who, ss.creds = who, []string{tok}
		c.SetToken(tok)
		return ss, nil
	case "approle":
		return ss, s.loginAppRole(ctx, ss)
	default:
		return ss, s.loginKubernetes(ctx, ss)
	}
}

// userToken finds the token for token auth: vault.token_file, else
// VAULT_TOKEN, else ~/.vault-token (where `vault login` leaves it).
func (s *Source) userToken() (tok, who string, err error) {
	switch {
	case s.set.tokenFile != "":
		who = "the token from vault.token_file " + s.set.tokenFile
		tok, err = readCredential(s.set.tokenFile, "vault token")
	case s.set.envToken != "":
		who, tok = "the token from VAULT_TOKEN", s.set.envToken
	case s.set.homeToken != "" && fileExists(s.set.homeToken):
		who = "the token from " + s.set.homeToken
		tok, err = readCredential(s.set.homeToken, "vault token")
	default:
		return "", "", fmt.Errorf("no Vault token: set VAULT_TOKEN or vault.token_file, run `vault login` (it writes ~/.vault-token), or set vault.auth to approle or kubernetes: %w", sources.ErrInvalid)
	}
	if err != nil {
		return "", "", err
	}
	if strings.IndexFunc(tok, func(r rune) bool { return !unicode.IsPrint(r) }) >= 0 {
		return "", "", fmt.Errorf("%s contains non-printable characters: %w", who, sources.ErrInvalid)
	}
	return tok, who, nil
}

func (s *Source) loginAppRole(ctx context.Context, ss *session) error {
	secretID := s.set.secretID
	if s.set.secretFile != "" {
		var err error
		if secretID, err = readCredential(s.set.secretFile, "approle secret ID"); err != nil {
			return err
		}
	}
	method, err := approle.NewAppRoleAuth(s.set.roleID, &approle.SecretID{FromString: secretID}, approle.WithMountPath(s.set.authMount))
	if err != nil {
		return fmt.Errorf("vault approle login: %w: %w", err, sources.ErrInvalid)
	}
	ss.who = "the token from AppRole login at auth/" + s.set.authMount
	ss.creds = []string{s.set.roleID, secretID}
	return ss.doLogin(ctx, method, "AppRole", "check vault.role_id/VAULT_ROLE_ID and the secret ID (it may have expired or run out of uses)")
}

func (s *Source) loginKubernetes(ctx context.Context, ss *session) error {
	jwt, err := readCredential(s.set.jwtFile, "kubernetes service account token")
	if err != nil {
		return err
	}
	method, err := kubernetes.NewKubernetesAuth(s.set.role, kubernetes.WithServiceAccountToken(jwt), kubernetes.WithMountPath(s.set.authMount))
	if err != nil {
		return fmt.Errorf("vault kubernetes login: %w: %w", err, sources.ErrInvalid)
	}
	ss.who = fmt.Sprintf("the token from Kubernetes login at auth/%s as role %q", s.set.authMount, s.set.role)
	ss.creds = []string{jwt}
	return ss.doLogin(ctx, method, "Kubernetes", fmt.Sprintf("check that role %q exists and is bound to this pod's service account and namespace", s.set.role))
}

// doLogin logs in with retries and sets the client's token.
func (ss *session) doLogin(ctx context.Context, method api.AuthMethod, name, hint string) error {
	var secret *api.Secret
	err := retry(ctx, func(ctx context.Context) (string, error) {
		var err error
		secret, err = ss.client.Auth().Login(ctx, method)
		return "", err
	})
	set := ss.src.set
	where := fmt.Sprintf("vault %s login at %s/v1/auth/%s/login", name, set.display, set.authMount)
	if err != nil {
		var re *api.ResponseError
		switch {
		case sources.Stopped(ctx) != nil || ss.configProblem(err, where) != nil:
			return ss.describe(ctx, err, where)
		case errors.As(err, &re) && (re.StatusCode == 400 || re.StatusCode == 401 || re.StatusCode == 403):
			if re.StatusCode == 403 {
				// Vault answers 403 for a mount where no auth method is, too.
				hint += fmt.Sprintf("; or no %s auth method is mounted at auth/%s: check vault.mount", name, set.authMount)
			}
			return &vaultError{msg: fmt.Sprintf("%s: rejected (%d %s): %s", where, re.StatusCode, ss.redact(vaultMessages(re)), hint), kind: sources.ErrPermission, cause: err}
		case errors.As(err, &re) && re.StatusCode == 404:
			return &vaultError{msg: fmt.Sprintf("%s: no auth method is mounted there (404): check vault.mount", where), kind: sources.ErrInvalid, cause: err}
		}
		return ss.describe(ctx, err, where)
	}
	if secret == nil || secret.Auth == nil || secret.Auth.ClientToken == "" {
		return fmt.Errorf("%s: the answer holds no token: %w", where, sources.ErrUnavailable)
	}
	ss.owned = true
	ss.creds = append(ss.creds, secret.Auth.ClientToken)
	return nil
}

// tokenInfo says, once per session, what Vault knows of the token, to
// explain a 403: invalid or expired, or valid with these policies.
func (ss *session) tokenInfo(ctx context.Context) string {
	ss.lookupOnce.Do(func() {
		lctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		sec, err := ss.client.Auth().Token().LookupSelfWithContext(lctx)
		var re *api.ResponseError
		switch {
		case errors.As(err, &re) && re.StatusCode == 403:
			ss.lookup = tokenInvalid
		case err != nil || sec == nil:
			ss.lookup = ""
		default:
			if pols, err := sec.TokenPolicies(); err == nil && len(pols) > 0 {
				ss.lookup = "token policies: " + strings.Join(pols, ", ")
			}
		}
	})
	return ss.lookup
}

// redact replaces any credential this session used with its fingerprint,
// and masks URL userinfo and key-like runs in text from Vault or the SDK.
func (ss *session) redact(s string) string {
	for _, c := range ss.creds {
		if len(c) >= 4 {
			s = strings.ReplaceAll(s, c, sources.Fingerprint(c))
		}
	}
	return redactURLs(s)
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir()
}
