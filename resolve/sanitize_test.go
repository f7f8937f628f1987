package resolve

import (
	"errors"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

const testKey = "sk-proj-Abc123DEF456ghi789JKL012mno345PQR678stu901VWX234yzT3BlbkFJabc123DEF456ghi789JKL012mno345PQR678stu901VWX234yz"

func TestSanitize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		isKey   bool
		want    string
		fix     string // substring of one reported fix; "" = no fix expected
		wantErr string
	}{
		{name: "clean", in: testKey, isKey: true, want: testKey},
		{name: "trailing newline", in: testKey + "\n", isKey: true, want: testKey, fix: `trailing \n`},
		{name: "trailing CRLF", in: testKey + "\r\n", isKey: true, want: testKey, fix: `trailing \r, \n`},
		{name: "leading and trailing spaces", in: "  " + testKey + " \t", isKey: true, want: testKey, fix: "leading space and trailing space, tab"},
		{name: "NUL", in: testKey + "\x00", isKey: true, want: testKey, fix: "NUL"},
		{name: "BOM", in: "\ufeff" + testKey, isKey: true, want: testKey, fix: "BOM"},
		{name: "zero-width", in: testKey + "\u200b", isKey: true, want: testKey, fix: "zero-width U+200B"},
		{name: "double quotes", in: `"` + testKey + `"`, isKey: true, want: testKey, fix: "surrounding quotes"},
		{name: "single quotes", in: `'` + testKey + `'`, isKey: true, want: testKey, fix: "surrounding quotes"},
		{name: "smart quotes", in: "\u201c" + testKey + "\u201d", isKey: true, want: testKey, fix: "surrounding quotes"},
		{name: "only one pair", in: `""` + testKey + `""`, isKey: false, want: `"` + testKey + `"`, fix: "surrounding quotes"},
		{name: "unmatched quote kept", in: `"` + testKey, isKey: false, want: `"` + testKey},
		{name: "bearer", in: "Bearer " + testKey, isKey: true, want: testKey, fix: "Bearer"},
		{name: "bearer lower case", in: "bearer " + testKey, isKey: true, want: testKey, fix: "Bearer"},
		{name: "bearer kept for non-key", in: "Bearer x", isKey: false, want: "Bearer x"},
		{name: "export line", in: "export OPENAI_API_KEY=" + testKey + "\n", isKey: true, want: testKey, fix: `"export OPENAI_API_KEY="`},
		{name: "export with quotes", in: `export OPENAI_API_KEY="` + testKey + `"`, isKey: true, want: testKey, fix: "surrounding quotes"},
		{name: "quoted bearer", in: `"Bearer ` + testKey + `"`, isKey: true, want: testKey, fix: "Bearer"},
		{name: "inner space", in: testKey[:20] + " " + testKey[20:], isKey: true, wantErr: "whitespace inside the key at byte 20"},
		{name: "inner newline", in: testKey[:30] + "\n" + testKey[30:], isKey: true, wantErr: "at byte 30"},
		{name: "two keys on two lines", in: testKey + "\n" + testKey, isKey: true, wantErr: "whitespace inside the key"},
		{name: "inner control", in: testKey[:5] + "\x01" + testKey[5:], isKey: true, wantErr: "control character inside the key at byte 5"},
		{name: "inner non-ASCII", in: testKey[:7] + "\u2019" + testKey[7:], isKey: true, wantErr: "non-ASCII character U+2019 inside the key at byte 7"},
		{name: "invalid UTF-8", in: testKey[:9] + "\xff" + testKey[9:], isKey: true, wantErr: "invalid UTF-8 at byte 9"},
		{name: "inner space fine for non-key", in: "hello world\n", isKey: false, want: "hello world", fix: "trailing"},
		{name: "empty stays empty", in: "  \n", isKey: true, want: "", fix: "removed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, fixes, err := Sanitize(tt.in, tt.isKey)
			all := strings.Join(fixes, "; ")
			if err != nil {
				all += err.Error()
			}
			if strings.Contains(all, testKey[8:30]) {
				t.Fatalf("fix or error leaks the value: %s", all)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, sources.ErrInvalid) {
					t.Fatalf("error = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Sanitize: %v", err)
			}
			if got != tt.want {
				t.Errorf("Sanitize = %q, want %q", got, tt.want)
			}
			if tt.fix == "" && len(fixes) > 0 {
				t.Errorf("unexpected fixes %q", fixes)
			}
			if tt.fix != "" && !strings.Contains(all, tt.fix) {
				t.Errorf("fixes %q do not mention %q", fixes, tt.fix)
			}
		})
	}
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{testKey, " \"Bearer x\"\r\n", "export A=b", "\ufeff\u200b'x'", "\xff"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, in string, isKey bool) {
		out, fixes, err := Sanitize(in, isKey)
		if len(out) > len(in) {
			t.Fatalf("sanitize grew the value")
		}
		if err == nil && isKey {
			if strings.TrimSpace(out) != out {
				t.Fatalf("key with edge whitespace accepted: %q", out)
			}
			for _, c := range []byte(out) {
				if c < 0x21 || c > 0x7e {
					t.Fatalf("key with byte %#x accepted", c)
				}
			}
		}
		if (out != in) != (len(fixes) > 0) {
			t.Fatalf("changed=%v but fixes=%q", out != in, fixes)
		}
		if err == nil {
			// Repairs converge: what one pass accepted, a second pass
			// leaves as it is or shortens further (one quote pair per
			// pass), never grows, never rejects.
			again, _, err2 := Sanitize(out, isKey)
			if err2 != nil || len(again) > len(out) {
				t.Fatalf("second pass over an accepted value: %v, grew %v", err2, len(again) > len(out))
			}
		}
	})
}
