package verify

import (
	"errors"
	"strings"
	"testing"
)

func TestIsAzureHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		want bool
	}{
		{"myres.openai.azure.com", true},
		{"MyRes.OpenAI.Azure.com", true},
		{"myres.openai.azure.com:443", true},
		{"myres.openai.azure.com.", true},
		{"myres.cognitiveservices.azure.com", true},
		{"myproj.services.ai.azure.com", true},
		{"gateway.azure-api.net", true},
		{"openai.azure.com", false},
		{".openai.azure.com", false},
		{"openai.azure.com.evil.invalid", false},
		{"myres-openai.azure.com", false},
		{"api.openai.com", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			if got := IsAzureHost(tt.host); got != tt.want {
				t.Errorf("IsAzureHost(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}

func TestCheckBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		raw       string
		allowHTTP bool
		wantErr   string // substring; "" for no error
		notShown  string // must not appear in the error
	}{
		{name: "https", raw: "https://api.openai.com/v1"},
		{name: "https with port", raw: "https://llm.example.invalid:8443/v1"},
		{name: "http localhost", raw: "http://localhost:11434/v1"},
		{name: "http LOCALHOST", raw: "http://LOCALHOST:11434/v1"},
		{name: "http 127.0.0.1", raw: "http://127.0.0.1:4000"},
		{name: "http 127.1.2.3", raw: "http://127.1.2.3:4000"},
		{name: "http ::1", raw: "http://[::1]:8000/v1"},
		{name: "http remote refused", raw: "http://ollama.example.invalid:11434/v1", wantErr: "plain http://"},
		{name: "http private ip refused", raw: "http://10.0.0.5:8000/v1", wantErr: "probe.allow_http"},
		{name: "http localhost lookalike refused", raw: "http://localhost.example.invalid/v1", wantErr: "not a loopback host"},
		{name: "http remote allowed", raw: "http://ollama.example.invalid:11434/v1", allowHTTP: true},
		{name: "empty", raw: "", wantErr: "set but empty"},
		{name: "relative", raw: "api.openai.com/v1", wantErr: "not an absolute http(s) URL"},
		{name: "no scheme with port", raw: "localhost:11434", wantErr: "not an absolute http(s) URL"},
		{name: "ftp", raw: "ftp://files.example.invalid/", wantErr: "not an absolute http(s) URL"},
		{name: "garbage", raw: "::::%%%", wantErr: "not an absolute http(s) URL", notShown: "%%%"},
		{name: "space in host", raw: "https://api openai.com/v1", wantErr: "whitespace or a control character at byte 11", notShown: "api openai"},
		{name: "key after the URL", raw: "https://gw.example.invalid/v1 " + fakeKeys[KeyOpenAIProject], wantErr: "whitespace or a control character at byte 29", notShown: fakeKeys[KeyOpenAIProject][:30]},
		{name: "no host", raw: "https:///v1", wantErr: "not an absolute http(s) URL"},
		{name: "userinfo", raw: "https://user:hunter2pass@gw.example.invalid/v1", wantErr: "user name or password", notShown: "hunter2pass"},
		{name: "userinfo unparsable", raw: "https://user:hun ter2@gw.example.invalid/v1", wantErr: "whitespace", notShown: "hun ter2"},
		{name: "query not shown", raw: "http://gw.example.invalid/v1?key=AIzaSECRETSECRET", wantErr: "plain http://", notShown: "SECRET"},
		{name: "key in URL variable", raw: fakeKeys[KeyOpenAIProject], wantErr: "looks like an OpenAI key", notShown: fakeKeys[KeyOpenAIProject][:30]},
		{name: "azure key in URL variable", raw: fakeKeys[KeyAzure], wantErr: "looks like an Azure OpenAI key", notShown: fakeKeys[KeyAzure]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := CheckBaseURL("OPENAI_BASE_URL", tt.raw, tt.allowHTTP)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CheckBaseURL(%q) = %v, want nil", tt.raw, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("CheckBaseURL(%q) = nil, want error containing %q", tt.raw, tt.wantErr)
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.wantErr) || !strings.Contains(msg, "OPENAI_BASE_URL") {
				t.Errorf("error %q does not contain %q and the variable name", msg, tt.wantErr)
			}
			if tt.notShown != "" && strings.Contains(msg, tt.notShown) {
				t.Errorf("error %q shows %q", msg, tt.notShown)
			}
			if !errors.Is(err, ErrMisconfigured) {
				t.Errorf("error %v does not wrap ErrMisconfigured", err)
			}
		})
	}
}

func FuzzCheckBaseURL(f *testing.F) {
	f.Add("https://api.openai.com/v1", false)
	f.Add("http://localhost:11434/v1", false)
	f.Add("https://user:pass@host.invalid/", true)
	f.Add("::::%%%", false)
	f.Add("http://[::1", false)
	f.Fuzz(func(t *testing.T, raw string, allowHTTP bool) {
		err := CheckBaseURL("X", raw, allowHTTP)
		if err != nil && !errors.Is(err, ErrMisconfigured) {
			t.Errorf("error %v does not wrap ErrMisconfigured", err)
		}
		// A value that is not a URL may be a misplaced key: never echo it.
		if err != nil && len(raw) >= 8 && !strings.Contains(raw, "://") && strings.Contains(err.Error(), raw) {
			t.Errorf("error %q echoes the non-URL value", err)
		}
	})
}

func TestCheckAPIVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		ok bool
	}{
		{"2024-10-21", true},
		{"2025-04-01-preview", true},
		{"2024-02-29", true},
		{"preview", true},
		{"latest", true},
		{"v1", true},
		{"", false},
		{"2023-02-29", false},
		{"2024-13-01", false},
		{"2024-1-1", false},
		{"2024-10-21-PREVIEW", false},
		{"2024-10-21-beta", false},
		{"2024/10/21", false},
		{"v2", false},
		{" 2024-10-21", false},
		{"-preview", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()
			err := CheckAPIVersion(tt.in)
			if (err == nil) != tt.ok {
				t.Fatalf("CheckAPIVersion(%q) = %v, want ok=%v", tt.in, err, tt.ok)
			}
			if err != nil && !errors.Is(err, ErrMisconfigured) {
				t.Errorf("error %v does not wrap ErrMisconfigured", err)
			}
		})
	}
}

func TestCheckAPIVersionHidesKeys(t *testing.T) {
	t.Parallel()
	key := fakeKeys[KeyAzure]
	err := CheckAPIVersion(key)
	if err == nil || strings.Contains(err.Error(), key) {
		t.Fatalf("CheckAPIVersion(azure key) = %v, want an error without the value", err)
	}
}

func TestIsAzureResourceHost(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host string
		want bool
	}{
		{"myres.openai.azure.com", true},
		{"myres.cognitiveservices.azure.com:443", true},
		{"myproj.services.ai.azure.com", false},
		{"gateway.azure-api.net", false},
		{"api.openai.com", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			t.Parallel()
			if got := IsAzureResourceHost(tt.host); got != tt.want {
				t.Errorf("IsAzureResourceHost(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}
