package sources

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

func TestPickField(t *testing.T) {
	t.Parallel()
	const secret = "sk-test-value-never-printed-0001"
	data := map[string]any{
		"api_key": secret,
		"org":     "org-1",
		"port":    float64(8080),
		"nested":  map[string]any{"openai": map[string]any{"key": secret}, "list": []any{"a", secret}},
	}
	single := map[string]any{"only": secret}
	tests := []struct {
		name    string
		data    map[string]any
		field   string
		want    string
		wantErr error
		errHas  string
	}{
		{name: "top-level field", data: data, field: "api_key", want: secret},
		{name: "single field without #", data: single, field: "", want: secret},
		{name: "several fields without #", data: data, field: "", wantErr: ErrInvalid, errHas: `"api_key", "nested", "org", "port"`},
		{name: "missing field lists names", data: data, field: "apikey", wantErr: ErrNotFound, errHas: `fields present: "api_key", "nested", "org", "port"`},
		{name: "number is not a string", data: data, field: "port", wantErr: ErrInvalid, errHas: "a JSON number"},
		{name: "object is not a string", data: data, field: "nested", wantErr: ErrInvalid, errHas: "a JSON object"},
		{name: "pointer", data: data, field: "/nested/openai/key", want: secret},
		{name: "pointer into array", data: data, field: "/nested/list/1", want: secret},
		{name: "pointer missing key", data: data, field: "/nested/anthropic/key", wantErr: ErrNotFound, errHas: `keys present: "list", "openai"`},
		{name: "pointer bad index", data: data, field: "/nested/list/9", wantErr: ErrNotFound},
		{name: "pointer through string", data: data, field: "/org/x", wantErr: ErrInvalid},
		{name: "empty secret", data: map[string]any{}, field: "", wantErr: ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := PickField(tt.data, tt.field)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(fmt.Sprint(err), tt.errHas) {
					t.Fatalf("PickField(%q) error = %v, want %v containing %q", tt.field, err, tt.wantErr, tt.errHas)
				}
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error leaks the value: %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("PickField(%q) = %v, %v", tt.field, err, got == tt.want)
			}
		})
	}
}

func TestParseJSONObject(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`sk-not-json`: "not JSON",
		`["a"]`:       "JSON array",
		`"str"`:       "JSON string",
		`{"a":"b"}`:   "",
	} {
		_, err := ParseJSONObject([]byte(in))
		if (want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), want)) {
			t.Errorf("ParseJSONObject(%q) = %v, want %q", in, err, want)
		}
		if err != nil && strings.Contains(err.Error(), in) {
			t.Errorf("error repeats the input: %v", err)
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	t.Parallel()
	const v = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789"
	s := NewSecret(v)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%v %+v %#v %s %q %x %d", s, s, s, s, s, s, s), s.String(), s.GoString()} {
		if strings.Contains(out, v) || strings.Contains(out, v[:12]) {
			t.Fatalf("secret printed: %s", out)
		}
		if !strings.Contains(out, "sha256:") {
			t.Fatalf("no fingerprint in %q", out)
		}
	}
	if got := Fingerprint(v); !strings.HasPrefix(got, "sha256:") || !strings.HasSuffix(got, "…6789") || len(got) != len("sha256:12345678…6789") {
		t.Errorf("Fingerprint = %q", got)
	}
	if got := Fingerprint("short"); strings.Contains(got, "…") {
		t.Errorf("short value shows its tail: %q", got)
	}
	if got := MaskedTail(v); got != "sk-…6789" {
		t.Errorf("MaskedTail = %q", got)
	}
}
