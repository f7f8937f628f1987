package provider

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParseErrorBody(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, code, msg string
	}{
		{name: "openai", body: `{"error":{"message":"Incorrect API key provided: sk-…abcd.","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}`,
			code: "invalid_api_key", msg: "Incorrect API key provided: sk-…abcd."},
		{name: "openai null code", body: `{"error":{"message":"You didn't provide an API key.","type":"invalid_request_error","param":null,"code":null}}`,
			msg: "You didn't provide an API key."},
		{name: "openai old quota", body: `{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","param":null,"code":null}}`,
			code: "insufficient_quota", msg: "You exceeded your current quota"},
		{name: "azure", body: `{"error":{"code":"DeploymentNotFound","message":"The API deployment for this resource does not exist."}}`,
			code: "DeploymentNotFound", msg: "The API deployment for this resource does not exist."},
		{name: "azure numeric code", body: `{"error":{"code":404,"message":"Resource not found"}}`, code: "404", msg: "Resource not found"},
		{name: "azure ad", body: `{"statusCode":401,"message":"Unauthorized. Access token is missing"}`, msg: "Unauthorized. Access token is missing"},
		{name: "anthropic", body: `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`,
			code: "authentication_error", msg: "invalid x-api-key"},
		{name: "string error", body: `{"error":"model 'x' not found"}`, msg: "model 'x' not found"},
		{name: "detail", body: `{"detail":"Not Found"}`, msg: "Not Found"},
		{name: "multi-line message", body: `{"error":{"message":"line one\n\tline two\u202e","code":"x"}}`, code: "x", msg: "line one line two"},
		{name: "html", body: `<html><body>502 Bad Gateway</body></html>`},
		{name: "truncated", body: `{"error":{"message":"cut`},
		{name: "array", body: `[{"error":"x"}]`},
		{name: "empty", body: ``},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, msg := ParseErrorBody([]byte(tc.body))
			if code != tc.code || msg != tc.msg {
				t.Errorf("got (%q, %q), want (%q, %q)", code, msg, tc.code, tc.msg)
			}
		})
	}
}

func TestParseErrorBodyCutsLongMessages(t *testing.T) {
	t.Parallel()
	_, msg := ParseErrorBody([]byte(`{"message":"` + strings.Repeat("é", 1000) + `"}`))
	if n := utf8.RuneCountInString(msg); n != maxMessage+1 || !strings.HasSuffix(msg, "…") {
		t.Errorf("message of %d runes: %q", n, msg)
	}
}

func FuzzParseErrorBody(f *testing.F) {
	for _, s := range []string{
		`{"error":{"message":"m","type":"t","param":null,"code":"c"}}`,
		`{"error":{"code":"401","message":"Access denied"}}`,
		`{"statusCode":401,"message":"Unauthorized"}`,
		`{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`,
		`{"error":"x"}`, `{"detail":[1,2]}`, "\xff\xfe", `{"error":{"code":1e400}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		code, msg := ParseErrorBody(body)
		for _, s := range []string{code, msg} {
			if !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\t\x00") || utf8.RuneCountInString(s) > maxMessage+1 {
				t.Fatalf("bad output %q from %q", s, body)
			}
		}
	})
}
