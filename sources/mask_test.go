package sources

import "testing"

func TestMask(t *testing.T) {
	t.Parallel()
	const key = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
	tests := []struct {
		name, in, want string
		secrets        []string
	}{
		{name: "whole key", in: "Received API Key = " + key + ", Key Hash", want: "Received API Key = sk-proj-[masked], Key Hash", secrets: []string{key}},
		{name: "8-char piece", in: "key ...ghijklmn... seen", want: "key ...[masked]... seen", secrets: []string{key}},
		{name: "7 chars stay", in: "key ghijklm seen", want: "key ghijklm seen", secrets: []string{key}},
		{name: "two pieces", in: "abcdefgh and 23456789", want: "[masked] and [masked]", secrets: []string{key}},
		{name: "second secret", in: "token=eyJhbGciOiJI", want: "token=[masked]", secrets: []string{"", key, "eyJhbGciOiJIUzI1NiJ9"}},
		{name: "public prefix stays", in: "Incorrect API key provided: sk-proj-****6789.", want: "Incorrect API key provided: sk-proj-****6789.", secrets: []string{key}},
		{name: "prefix and more", in: "got sk-proj-abc", want: "got sk-proj-[masked]", secrets: []string{key}},
		{name: "no secrets", in: "plain", want: "plain"},
		{name: "short secret", in: "abc", want: "abc", secrets: []string{"abc"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := Mask(tc.in, tc.secrets...); got != tc.want {
				t.Errorf("Mask(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// A secret that is one plain word is masked where it stands whole, not in
// the words that share 8 letters with it; other secrets are masked in any
// run of 8 characters they share.
func TestMaskWordSecrets(t *testing.T) {
	t.Parallel()
	r := NewRedactor()
	r.Add("environment", "ManagedIdentityCredential")
	got := r.Redact(`{"credentials": [{"source": "environment", "label": "environments"}], "via": "ManagedIdentityCredential"}`)
	want := `{"credentials": [{"source": "[masked]", "label": "environments"}], "via": "[masked]"}`
	if got != want {
		t.Errorf("Redact:\n got %s\nwant %s", got, want)
	}
	// Not a plain word: its pieces are masked wherever they appear.
	r.Add("hunter2hunter2")
	if got := r.Redact("pw=xxhunter2hunt"); got != "pw=xx[masked]" {
		t.Errorf("Redact = %s", got)
	}
}
