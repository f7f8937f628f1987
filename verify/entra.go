package verify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/keyexec/keyexec/sources"
	"github.com/keyexec/keyexec/verify/provider"
)

// TokenSource gets Microsoft Entra ID access tokens.
type TokenSource interface {
	Token(ctx context.Context, scopes []string) (string, error)
}

// NewEntraSource returns azidentity's DefaultAzureCredential as a
// TokenSource: the same chain as Python's azure-identity (environment
// service principal, workload identity, managed identity, Azure CLI…), so
// keyexec proves the identity the app will use. AZURE_TOKEN_CREDENTIALS
// narrows the chain ("prod", "dev", or one credential's name). The
// credential is built on first use, and its tokens live in memory only.
// env is keyexec's environment (azidentity reads the process's own).
func NewEntraSource(env map[string]string) TokenSource { return &entraSource{env: env} }

type entraSource struct {
	env  map[string]string
	once sync.Once
	cred *azidentity.DefaultAzureCredential
	err  error
}

func (s *entraSource) Token(ctx context.Context, scopes []string) (string, error) {
	s.once.Do(func() {
		s.cred, s.err = azidentity.NewDefaultAzureCredential(&azidentity.DefaultAzureCredentialOptions{
			DisableInstanceDiscovery: customAuthority(s.env["AZURE_AUTHORITY_HOST"]),
		})
	})
	if s.err != nil {
		return "", s.err
	}
	tok, err := s.cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: scopes})
	if err != nil {
		return "", err
	}
	return tok.Token, nil
}

// customAuthority reports whether AZURE_AUTHORITY_HOST names an authority
// other than the Azure clouds' (a sovereign or disconnected cloud, Azure
// Stack, ADFS). MSAL would ask login.microsoftonline.com to validate such a
// host (instance discovery); the operator chose it, so keyexec trusts it,
// as apps there do with disable_instance_discovery.
func customAuthority(host string) bool {
	if host == "" {
		return false
	}
	norm := func(h string) string { return strings.TrimSuffix(strings.ToLower(h), "/") }
	for _, c := range []cloud.Configuration{cloud.AzurePublic, cloud.AzureGovernment, cloud.AzureChina} {
		if norm(host) == norm(c.ActiveDirectoryAuthorityHost) {
			return false
		}
	}
	return true
}

// entra gets the token an Entra ID target is probed with, and names its
// principal for hints. It reports false with the outcome when no token
// could be had.
func (p *Prober) entra(ctx context.Context, t Target, c *provider.Call) (provider.Outcome, bool) {
	if p.opts.Entra == nil {
		return provider.Outcome{Diagnosis: provider.NoCredential, Hint: "Microsoft Entra ID is not available in this build"}, false
	}
	tok, err := p.opts.Entra.Token(ctx, t.Entra.Scopes)
	if stop := sources.Stopped(ctx); stop != nil {
		return provider.Outcome{Diagnosis: provider.Stopped, Hint: stop.Error()}, false
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return provider.Outcome{Diagnosis: provider.Unreachable,
				Hint: "no Entra ID token before the probe deadline: the identity endpoint did not answer; check the managed identity or raise --probe-timeout"}, false
		}
		return provider.Outcome{Diagnosis: provider.NoCredential, Code: "no_credential",
			Hint: fmt.Sprintf("no Microsoft Entra ID credential worked for %s: %s; give the app an identity (managed or workload identity, AZURE_CLIENT_ID/AZURE_TENANT_ID/AZURE_CLIENT_SECRET, or `az login`), or set a key",
				strings.Join(t.Entra.Scopes, " "), chainReport(err))}, false
	}
	c.Token, c.TokenName = tok, "Entra ID token"
	if cl, err := provider.TokenClaims(tok); err == nil {
		c.Principal = cl.Principal()
	}
	return provider.Outcome{}, true
}

// chainReport flattens azidentity's error, which lists each credential of
// the chain and why it failed, one per line, into one line.
func chainReport(err error) string {
	var lines []string
	for _, l := range strings.Split(err.Error(), "\n") {
		l = strings.TrimSpace(l)
		switch {
		case l == "", strings.HasPrefix(l, "----"), strings.HasPrefix(l, "To troubleshoot"), strings.HasPrefix(l, "Attempted credentials"),
			l == "{", l == "}", strings.HasPrefix(l, `"correlationId"`), strings.HasPrefix(l, `"statusCode"`):
			continue
		}
		lines = append(lines, l)
	}
	return strings.Join(lines, "; ")
}
