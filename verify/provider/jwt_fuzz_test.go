package provider

import (
	"encoding/base64"
	"strings"
	"testing"
)

// FuzzTokenClaims: whatever is passed as an AD token, reading its claims
// never panics, and neither the error nor the principal shown in hints
// holds the token's signature.
func FuzzTokenClaims(f *testing.F) {
	enc := base64.RawURLEncoding.EncodeToString
	head := enc([]byte(`{"alg":"RS256","typ":"JWT"}`))
	const sig = "SignatureDoNotPrint0123456789abcdefXYZ"
	for _, claims := range []string{
		`{"aud":"https://cognitiveservices.azure.com","exp":1893456000,"oid":"o","upn":"ada@example.com"}`,
		`{"aud":["a","b"],"exp":1.5e9,"appid":"app"}`,
		`{"exp":"soon"}`,
		`{"exp":1e400}`,
		`[]`,
		`not json`,
	} {
		f.Add(head + "." + enc([]byte(claims)) + "." + sig)
	}
	f.Add("eyJ..")
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := TokenClaims(tok)
		if err != nil {
			if strings.Contains(err.Error(), sig[:12]) || (len(tok) >= 12 && strings.Contains(err.Error(), tok)) {
				t.Fatalf("error repeats the token: %v", err)
			}
			return
		}
		if strings.Contains(c.Principal(), sig[:12]) {
			t.Fatalf("principal shows the signature: %s", c.Principal())
		}
	})
}
