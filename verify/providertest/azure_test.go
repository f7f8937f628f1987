package providertest

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestAzureTokensAndLocalAuth(t *testing.T) {
	t.Parallel()
	good := MintToken(TokenSpec{})
	expired := MintToken(TokenSpec{IssuedAt: time.Now().Add(-2 * time.Hour)})
	otherAud := MintToken(TokenSpec{Audience: "https://management.azure.com"})
	denied := MintToken(TokenSpec{ObjectID: "00000000-0000-4000-8000-0000000000d0"})
	az := Start(t, Azure, Config{Keys: map[string]Key{key: {}}, VerifyTokenClaims: true, Tokens: map[string]Key{
		good: {}, expired: {}, otherAud: {}, denied: {Mode: PermissionDenied}, "opaque": {},
	}})
	keyless := Start(t, Azure, Config{Keys: map[string]Key{key: {}}, Tokens: map[string]Key{good: {}}, DisableLocalAuth: true})
	tests := []struct {
		name   string
		srv    *Server
		header map[string]string
		status int
		marker string
	}{
		{"token ok", az, map[string]string{"Authorization": "Bearer " + good}, 200, `"object":"list"`},
		{"expired token", az, map[string]string{"Authorization": "Bearer " + expired}, 401, `"statusCode":401`},
		{"other audience", az, map[string]string{"Authorization": "Bearer " + otherAud}, 401, "audience is incorrect"},
		{"not a JWT with VerifyTokenClaims", az, map[string]string{"Authorization": "Bearer opaque"}, 401, `"statusCode":401`},
		{"identity without the role", az, map[string]string{"Authorization": "Bearer " + denied}, 401, `"code":"PermissionDenied"`},
		{"local auth disabled: known key", keyless, map[string]string{"api-key": key}, 403, "AuthenticationTypeDisabled"},
		{"local auth disabled: any key", keyless, map[string]string{"api-key": "whatever"}, 403, "Key based authentication is disabled for this resource."},
		{"local auth disabled: token still works", keyless, map[string]string{"Authorization": "Bearer " + good}, 200, `"object":"list"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := do(t, "GET", tc.srv.URL+"/openai/models"+v, tc.header, "")
			if status != tc.status || !strings.Contains(body, tc.marker) {
				t.Errorf("%d %s, want %d with %q", status, body, tc.status, tc.marker)
			}
		})
	}
}

func TestAzureChat(t *testing.T) {
	t.Parallel()
	az := Start(t, Azure, Config{Keys: map[string]Key{key: {}}})
	h := map[string]string{"api-key": key}
	path := "/openai/deployments/gpt-4o-mini/chat/completions" + v
	for _, tc := range []struct {
		name, body string
		status     int
		marker     string
	}{
		{"deployment check", "{}", 400, "'messages' is a required property"},
		{"empty messages", `{"messages":[]}`, 400, "[] is too short - 'messages'"},
		{"real answer", chatBody(""), 200, DefaultReply},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			status, body := do(t, "POST", az.URL+path, h, tc.body)
			if status != tc.status || !strings.Contains(body, tc.marker) {
				t.Errorf("%d %s, want %d with %q", status, body, tc.status, tc.marker)
			}
		})
	}
}

func TestOnRequestBeforeLatency(t *testing.T) {
	t.Parallel()
	arrived := make(chan Request, 1)
	// A latency no test waits for: the request is cancelled once
	// OnRequest has seen it, proving the hook runs before the delay.
	srv := Start(t, OpenAI, Config{Keys: map[string]Key{key: {}}, Latency: time.Hour,
		OnRequest: func(r Request) { arrived <- r }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(ctx, "GET", srv.BaseURL()+"/models", nil)
		req.Header.Set("Authorization", "Bearer "+key)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	r := <-arrived
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("request ended with %v, want it still waiting when cancelled", err)
	}
	if r.Kind != OpenAI || r.Seq != 1 || r.Path != "/v1/models" {
		t.Errorf("request %+v", r)
	}
}

func TestJWT(t *testing.T) {
	t.Parallel()
	exp := time.Now().Add(5 * time.Minute).Truncate(time.Second)
	tok := MintToken(TokenSpec{UPN: "ada@example.com", Name: "Ada", Expires: exp, Extra: map[string]any{"ver": nil, "roles": []string{"x"}}})
	c, ok := ParseJWT(tok)
	if !ok {
		t.Fatal("not a JWT")
	}
	if c["aud"] != DefaultAudience || c["upn"] != "ada@example.com" || c["name"] != "Ada" || c["tid"] != DefaultTenant ||
		unixClaim(c["exp"]) != exp.Unix() || c["ver"] != nil || c["idtyp"] != "user" {
		t.Errorf("claims %v", c)
	}
	if _, ok := ParseJWT("opaque"); ok {
		t.Error("an opaque token parsed as a JWT")
	}
}
