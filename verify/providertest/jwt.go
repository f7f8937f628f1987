package providertest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"
)

// DefaultAudience is the aud of Azure OpenAI access tokens: the resource of
// the scope https://cognitiveservices.azure.com/.default (the audience the
// service names in its 401, PROVIDERS.md §3).
const DefaultAudience = "https://cognitiveservices.azure.com"

// SigningKey signs the fakes' tokens (HS256). Nothing verifies the
// signature but this package: keyexec decodes tokens without verifying.
var SigningKey = []byte("providertest-not-a-secret")

// TokenSpec describes an access token. Zero fields take the defaults a
// real Entra ID token for Azure OpenAI would carry.
type TokenSpec struct {
	Audience string    // aud (default DefaultAudience)
	Tenant   string    // tid (default DefaultTenant)
	ObjectID string    // oid (default a fixed GUID)
	AppID    string    // appid and azp (default a fixed GUID)
	UPN      string    // upn, for a user's token (omitted when empty)
	Name     string    // name, for a user's token (omitted when empty)
	IssuedAt time.Time // iat and nbf (default now)
	Expires  time.Time // exp (default IssuedAt + 1h)
	// Extra claims, added last: they override the above (nil deletes one).
	Extra map[string]any
}

// Claims returns the token's claims with the defaults filled in.
func (t TokenSpec) Claims() map[string]any {
	if t.Audience == "" {
		t.Audience = DefaultAudience
	}
	if t.Tenant == "" {
		t.Tenant = DefaultTenant
	}
	if t.ObjectID == "" {
		t.ObjectID = "00000000-0000-4000-8000-00000000000a"
	}
	if t.AppID == "" {
		t.AppID = "00000000-0000-4000-8000-00000000000b"
	}
	if t.IssuedAt.IsZero() {
		t.IssuedAt = time.Now()
	}
	if t.Expires.IsZero() {
		t.Expires = t.IssuedAt.Add(time.Hour)
	}
	c := map[string]any{
		"aud": t.Audience, "iss": "https://sts.windows.net/" + t.Tenant + "/", "tid": t.Tenant,
		"oid": t.ObjectID, "sub": t.ObjectID, "appid": t.AppID, "azp": t.AppID, "ver": "1.0",
		"iat": t.IssuedAt.Unix(), "nbf": t.IssuedAt.Unix(), "exp": t.Expires.Unix(),
	}
	if t.UPN != "" {
		c["upn"] = t.UPN
		c["idtyp"] = "user"
	} else {
		c["idtyp"] = "app"
	}
	if t.Name != "" {
		c["name"] = t.Name
	}
	for k, v := range t.Extra {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

// MintToken signs a token described by t (see MintJWT).
func MintToken(t TokenSpec) string { return MintJWT(t.Claims()) }

// MintJWT returns a compact JWT with exactly these claims, signed HS256
// with SigningKey. Tests of a static AZURE_OPENAI_AD_TOKEN use it for
// expired, wrong-audience and near-expiry tokens.
func MintJWT(claims map[string]any) string {
	enc := base64.RawURLEncoding
	head, _ := json.Marshal(map[string]string{"alg": "HS256", "typ": "JWT"})
	body, _ := json.Marshal(claims)
	signed := enc.EncodeToString(head) + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, SigningKey)
	mac.Write([]byte(signed))
	return signed + "." + enc.EncodeToString(mac.Sum(nil))
}

// ParseJWT decodes a JWT's claims without verifying it (numbers come back
// as float64). ok is false when token is not a JWT.
func ParseJWT(token string) (map[string]any, bool) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, false
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, false
	}
	var c map[string]any
	if json.Unmarshal(b, &c) != nil {
		return nil, false
	}
	return c, true
}

// register adds an issued token to the Azure fake that should accept it
// (only tokens for Cognitive Services: the service refuses other audiences).
func (s *Server) register(token, audience string, mode Mode) {
	az := s.config().Azure
	if az == nil || strings.TrimSuffix(audience, "/") != DefaultAudience {
		return
	}
	az.SetToken(token, Key{Mode: mode})
}

// unixClaim reads a NumericDate claim however it was given (int, int64,
// float64 after a JSON round trip); 0 when absent.
func unixClaim(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	}
	return 0
}
