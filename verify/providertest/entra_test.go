package providertest

import (
	"context"
	"io"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

var cognitive = policy.TokenRequestOptions{Scopes: []string{DefaultAudience + "/.default"}}

// TestManagedIdentityAzidentity runs the real azidentity
// ManagedIdentityCredential against the App Service fake. Not parallel:
// IDENTITY_ENDPOINT is process-wide. MSAL caches managed identity tokens
// process-wide by client ID, so each case uses its own user-assigned ID.
func TestManagedIdentityAzidentity(t *testing.T) {
	tests := []struct {
		name      string
		clientID  string // the identity the fake has
		asked     string // the identity the credential asks for
		key       Key
		tokenMode Mode
		ok        bool
		azure     int    // status of the token at the Azure fake
		marker    string // in its body
		errText   string
	}{
		{name: "token accepted by azure", clientID: "mi-ok", asked: "mi-ok", ok: true, azure: 200, marker: `"object":"list"`},
		{name: "identity without the role", clientID: "mi-norole", asked: "mi-norole", tokenMode: PermissionDenied, ok: true, azure: 401, marker: "PermissionDenied"},
		{name: "identity not assigned", clientID: "mi-have", asked: "mi-other", errText: "Unable to load the proper Managed Identity."},
		{name: "endpoint answers no identity", clientID: "mi-none", asked: "mi-none", key: Key{Mode: NoIdentity}, errText: "Unable to load the proper Managed Identity."},
		{name: "endpoint unreachable", clientID: "mi-down", asked: "mi-down", key: Key{Mode: Unreachable}, errText: "EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			az := Start(t, Azure, Config{})
			mi := Start(t, ManagedIdentity, Config{Identity: Identity{ClientID: tc.clientID, Key: tc.key, TokenMode: tc.tokenMode}, Azure: az})
			for _, kv := range mi.IdentityEnv() {
				k, val, _ := strings.Cut(kv, "=")
				t.Setenv(k, val)
			}
			cred, err := azidentity.NewManagedIdentityCredential(&azidentity.ManagedIdentityCredentialOptions{ID: azidentity.ClientID(tc.asked),
				ClientOptions: azcore.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}})
			if err != nil {
				t.Fatal(err)
			}
			tok, err := cred.GetToken(context.Background(), cognitive)
			if !tc.ok {
				if err == nil || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err %v, want one naming %q", err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			claims, _ := ParseJWT(tok.Token)
			if claims["aud"] != DefaultAudience || claims["appid"] != tc.clientID || tok.ExpiresOn.IsZero() {
				t.Errorf("claims %v, expires %v", claims, tok.ExpiresOn)
			}
			status, body := do(t, "GET", az.URL+"/openai/models"+v, map[string]string{"Authorization": "Bearer " + tok.Token}, "")
			if status != tc.azure || !strings.Contains(body, tc.marker) {
				t.Errorf("azure: %d %s, want %d", status, body, tc.azure)
			}
			if q := mi.Log()[0].Query; !strings.Contains(q, "api-version=2019-08-01") || !strings.Contains(q, "client_id="+tc.asked) {
				t.Errorf("query %s", q)
			}
		})
	}
}

// secretCredential builds the real azidentity credential against the
// authority fake, trusting its certificate in-process; instance discovery
// is off because MSAL would ask login.microsoftonline.com about any host
// it does not know.
func secretCredential(t *testing.T, entra *Server, tenant, client, secret string) *azidentity.ClientSecretCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenant, client, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: entra.URL + "/"},
			Transport: entra.HTTPClient(),
			Retry:     policy.RetryOptions{MaxRetries: -1},
		},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func TestClientSecretAzidentity(t *testing.T) {
	t.Parallel()
	az := Start(t, Azure, Config{})
	entra := Start(t, EntraID, Config{Azure: az, Clients: map[string]Client{
		"app-1": {Secret: "s3cret", Token: TokenSpec{ObjectID: "00000000-0000-4000-8000-0000000000f0"}},
	}})
	tests := []struct {
		name, tenant, client, secret string
		errText                      string
	}{
		{"ok", DefaultTenant, "app-1", "s3cret", ""},
		{"wrong secret", DefaultTenant, "app-1", "nope", "AADSTS7000215"},
		{"unknown app", DefaultTenant, "app-2", "s3cret", "AADSTS700016"},
		{"unknown tenant", "22222222-2222-4222-8222-222222222222", "app-1", "s3cret", "AADSTS90002"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tok, err := secretCredential(t, entra, tc.tenant, tc.client, tc.secret).GetToken(context.Background(), cognitive)
			if tc.errText != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errText) {
					t.Fatalf("err %v, want %s", err, tc.errText)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			c, _ := ParseJWT(tok.Token)
			if c["appid"] != "app-1" || c["oid"] != "00000000-0000-4000-8000-0000000000f0" || c["aud"] != DefaultAudience {
				t.Errorf("claims %v", c)
			}
			if status, body := do(t, "GET", az.URL+"/openai/models"+v, map[string]string{"Authorization": "Bearer " + tok.Token}, ""); status != 200 {
				t.Errorf("azure refused the issued token: %d %s", status, body)
			}
		})
	}
}

func TestEntraOtherAudienceNotRegistered(t *testing.T) {
	t.Parallel()
	az := Start(t, Azure, Config{})
	entra := Start(t, EntraID, Config{Azure: az, Clients: map[string]Client{"app": {Secret: "x"}}})
	tok, err := secretCredential(t, entra, DefaultTenant, "app", "x").GetToken(context.Background(),
		policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	if c, _ := ParseJWT(tok.Token); c["aud"] != "https://management.azure.com" {
		t.Errorf("aud %v", c["aud"])
	}
	status, body := do(t, "GET", az.URL+"/openai/models"+v, map[string]string{"Authorization": "Bearer " + tok.Token}, "")
	if status != 401 || !strings.Contains(body, "audience is incorrect") {
		t.Errorf("%d %s", status, body)
	}
}

func TestEntraEndpoints(t *testing.T) {
	t.Parallel()
	entra := Start(t, EntraID, Config{Clients: map[string]Client{"app": {Secret: "x", Assertion: "fed-jwt"}}})
	c := entra.HTTPClient()
	post := func(form url.Values) (int, string) {
		resp, err := c.PostForm(entra.URL+"/"+DefaultTenant+"/oauth2/v2.0/token", form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	form := func(kv ...string) url.Values {
		f := url.Values{"grant_type": {"client_credentials"}, "client_id": {"app"}, "scope": {DefaultAudience + "/.default"}}
		for i := 0; i+1 < len(kv); i += 2 {
			f.Set(kv[i], kv[i+1])
		}
		return f
	}
	for _, tc := range []struct {
		name   string
		form   url.Values
		status int
		marker string
	}{
		{"workload identity assertion", form("client_assertion", "fed-jwt", "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"), 200, `"access_token"`},
		{"wrong assertion", form("client_assertion", "other"), 400, "AADSTS70021"},
		{"no credential", form(), 401, "AADSTS7000216"},
		{"scope without .default", form("client_secret", "x", "scope", DefaultAudience), 400, "AADSTS1002012"},
		{"other grant", form("client_secret", "x", "grant_type", "password"), 400, "AADSTS70003"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := post(tc.form)
			if status != tc.status || !strings.Contains(body, tc.marker) {
				t.Errorf("%d %s, want %d with %q", status, body, tc.status, tc.marker)
			}
		})
	}
	t.Run("openid configuration and CA file", func(t *testing.T) {
		t.Parallel()
		resp, err := c.Get(entra.URL + "/" + DefaultTenant + "/v2.0/.well-known/openid-configuration")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("%v %v", resp, err)
		}
		resp.Body.Close()
		path, err := entra.CAFile()
		if err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), "BEGIN CERTIFICATE") {
			t.Errorf("CA file %s: %v", path, err)
		}
	})
}

func TestManagedIdentityRequests(t *testing.T) {
	t.Parallel()
	mi := Start(t, ManagedIdentity, Config{})
	h := map[string]string{"X-IDENTITY-HEADER": DefaultIdentityHeader}
	q := "?api-version=2019-08-01&resource=" + url.QueryEscape(DefaultAudience)
	tests := []struct {
		name, query string
		header      map[string]string
		status      int
		marker      string
	}{
		{"ok", q, h, 200, `"expires_on":"`},
		{"system identity by its client id", q + "&client_id=" + DefaultMIClientID, h, 200, `"client_id":"` + DefaultMIClientID},
		{"wrong header", q, map[string]string{"X-IDENTITY-HEADER": "other"}, 401, `"statusCode":401`},
		{"other api-version", "?api-version=2017-09-01&resource=x", h, 400, `"statusCode":400`},
		{"no resource", "?api-version=2019-08-01", h, 400, "Resource is required"},
		{"resource id not assigned", q + "&mi_res_id=/subscriptions/x", h, 400, "Unable to load the proper Managed Identity."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := do(t, "GET", mi.BaseURL()+tc.query, tc.header, "")
			if status != tc.status || !strings.Contains(body, tc.marker) {
				t.Errorf("%d %s, want %d with %q", status, body, tc.status, tc.marker)
			}
		})
	}
}
