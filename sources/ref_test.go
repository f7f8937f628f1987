package sources

import (
	"errors"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in                  string
		scheme, path, field, opts string
		wantErr                   string
	}{
		{name: "vault field", in: "vault://secret/llm/openai#api_key", scheme: "vault", path: "secret/llm/openai", field: "api_key"},
		{name: "vault version", in: "vault://secret/llm/openai?version=3#api_key", scheme: "vault", path: "secret/llm/openai", field: "api_key", opts: "version=3"},
		{name: "vault option after field", in: "vault://secret/llm/openai#api_key?version=2", scheme: "vault", path: "secret/llm/openai", field: "api_key", opts: "version=2"},
		{name: "vault kv override", in: "vault://kv/app?kv=2#k", scheme: "vault", path: "kv/app", field: "k", opts: "kv=2"},
		{name: "vault slashes trimmed", in: "vault:///secret/x/#k", scheme: "vault", path: "secret/x", field: "k"},
		{name: "vault bad version", in: "vault://secret/x?version=abc#k", wantErr: "positive integer"},
		{name: "vault version zero", in: "vault://secret/x?version=0#k", wantErr: "positive integer"},
		{name: "vault bad kv", in: "vault://secret/x?kv=3#k", wantErr: "kv must be 1 or 2"},
		{name: "vault unknown option", in: "vault://secret/x?versoin=1#k", wantErr: `unknown option "versoin"`},
		{name: "vault double slash", in: "vault://secret//x#k", wantErr: "MOUNT/PATH"},
		{name: "awssm whole", in: "awssm://prod/llm/openai", scheme: "awssm", path: "prod/llm/openai"},
		{name: "awssm key stage", in: "awssm://prod/llm/openai?version-stage=AWSPREVIOUS#api_key", scheme: "awssm", path: "prod/llm/openai", field: "api_key", opts: "version-stage=AWSPREVIOUS"},
		{name: "awssm pointer", in: "awssm://prod/llm#/openai/key", scheme: "awssm", path: "prod/llm", field: "/openai/key"},
		{name: "awssm arn in scheme", in: "awssm://arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/llm-AbCdEf#k", scheme: "awssm", path: "arn:aws:secretsmanager:us-east-1:123456789012:secret:prod/llm-AbCdEf", field: "k"},
		{name: "bare arn", in: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/llm#api_key", scheme: "awssm", path: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/llm", field: "api_key"},
		{name: "bare arn incomplete", in: "arn:aws:secretsmanager:eu-west-1", wantErr: "incomplete ARN"},
		{name: "awssm stage and id", in: "awssm://x?version-stage=AWSCURRENT&version-id=abc", wantErr: "not both"},
		{name: "awssm other arn", in: "awssm://arn:aws:ssm:us-east-1:1:parameter/x", wantErr: "not a Secrets Manager ARN"},
		{name: "file abs", in: "file:///run/secrets/openai_api_key", scheme: "file", path: "/run/secrets/openai_api_key"},
		{name: "file json key", in: "file:///run/secrets/llm.json#openai", scheme: "file", path: "/run/secrets/llm.json", field: "openai"},
		{name: "file relative", in: "file://secrets/key.txt", scheme: "file", path: "secrets/key.txt"},
		{name: "file options refused", in: "file:///x?version=1", wantErr: "unknown option \"version\" for file:// (known: raw)"},
		{name: "raw with field", in: "file:///x?raw=true#k", wantErr: "drop the #k"},
		{name: "raw not boolean", in: "vault://a/b?raw=yes", wantErr: "raw must be true or false"},
		{name: "cred", in: "cred://openai", scheme: "cred", path: "openai"},
		{name: "cred with slash", in: "cred://../etc/passwd", wantErr: "plain file name"},
		{name: "env", in: "env://OTHER_VAR", scheme: "env", path: "OTHER_VAR"},
		{name: "env bad name", in: "env://1BAD", wantErr: "not a variable name"},
		{name: "empty path", in: "vault://", wantErr: "empty path"},
		{name: "empty field", in: "vault://secret/x#", wantErr: "empty field"},
		{name: "whitespace", in: "vault://secret/x #k", wantErr: "whitespace"},
		{name: "newline", in: "file:///x\n", wantErr: "whitespace"},
		{name: "not a ref", in: "sk-abc", wantErr: "not a reference"},
		{name: "unknown scheme", in: "vualt://secret/x", wantErr: "not a reference"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ref, err := Parse(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Parse(%q) error = %v, want containing %q", tt.in, err, tt.wantErr)
				}
				if !errors.Is(err, ErrInvalid) {
					t.Errorf("error %v does not wrap ErrInvalid", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if ref.Scheme != tt.scheme || ref.Path != tt.path || ref.Field != tt.field || ref.Query.Encode() != tt.opts {
				t.Errorf("Parse(%q) = %q %q %q %q, want %q %q %q %q", tt.in, ref.Scheme, ref.Path, ref.Field, ref.Query.Encode(), tt.scheme, tt.path, tt.field, tt.opts)
			}
			if ref.String() != tt.in {
				t.Errorf("String() = %q, want the reference as written", ref.String())
			}
		})
	}
}

func TestLocationDedupes(t *testing.T) {
	t.Parallel()
	a, _ := Parse("vault://secret/llm#a")
	b, _ := Parse("vault://secret/llm#b")
	c, _ := Parse("vault://secret/llm?version=2#a")
	if a.Location() != b.Location() {
		t.Errorf("two fields of one path have different locations: %q %q", a.Location(), b.Location())
	}
	if a.Location() == c.Location() {
		t.Errorf("different versions share a location %q", a.Location())
	}
}

func TestIsRefAndNearMiss(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in        string
		ref, near bool
	}{
		{"vault://x", true, false},
		{"arn:aws:secretsmanager:us-east-1:1:secret:x", true, false},
		{"sk-proj-abc", false, false},
		{"https://api.openai.com/v1", false, false},
		{"postgres://user:pass@db/app", false, false},
		{"vualt://secret/x", false, true},
		{"Vault://secret/x", false, true},
		{"aws-sm://x", false, true},
		{"secretsmanager://x", false, true},
		{"ssm://x", false, true},
		{"fiel:///x", false, true},
		{"creds://x", false, true},
		{"", false, false},
	} {
		if got := IsRef(tt.in); got != tt.ref {
			t.Errorf("IsRef(%q) = %v, want %v", tt.in, got, tt.ref)
		}
		if _, got := LooksLikeRef(tt.in); got != tt.near {
			t.Errorf("LooksLikeRef(%q) = %v, want %v", tt.in, got, tt.near)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"vault://secret/x#k", "awssm://a?version-stage=X#/a/b", "arn:aws:secretsmanager:r:1:secret:n#k", "file:///x#y", "cred://a", "env://A", "vault://a#b?c=d", "vault://%zz?x=%"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := Parse(s)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			return
		}
		if ref.Path == "" || ref.Raw != s || !IsRef(s) {
			t.Fatalf("Parse(%q) accepted with empty path or wrong raw: %+v", s, ref)
		}
		again, err := Parse(ref.Raw)
		if err != nil || again.Location() != ref.Location() || again.Field != ref.Field {
			t.Fatalf("Parse is not stable for %q", s)
		}
	})
}
