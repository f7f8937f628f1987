package sources

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMissingSlashes(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"vault:secret/llm#k", "vault://secret/llm#k"},
		{"vault:/secret/llm", "vault://secret/llm"},
		{"file:/run/secrets/k", "file:///run/secrets/k"},
		{"file:relative/k", "file://relative/k"},
		{"awssm:prod/llm", "awssm://prod/llm"},
		{"cred:openai", "cred://openai"},
		{"env:OTHER", "env://OTHER"},
	}
	for _, tt := range tests {
		got, ok := MissingSlashes(tt.in)
		if !ok || got != tt.want {
			t.Errorf("MissingSlashes(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	for _, in := range []string{"vault://secret/x", "https://api.openai.com/v1", "localhost:8200", "vaulty:x", "sk-proj-x", "arn:aws:secretsmanager:x", "Vault:x", "vault:8200", "env:8080/x"} {
		if got, ok := MissingSlashes(in); ok {
			t.Errorf("MissingSlashes(%q) = %q, want no reference", in, got)
		}
	}
}

func TestPickText(t *testing.T) {
	t.Parallel()
	ref := func(raw string) Ref {
		r, err := Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name, text, ref, want, wantErr string
	}{
		{name: "plain", text: "sk-abc\n", ref: "file:///k", want: "sk-abc\n"},
		{name: "one field", text: `{"api_key":"sk-abc"}`, ref: "file:///k", want: "sk-abc"},
		{name: "several fields", text: `{"api_key":"sk-abc","org":"o"}`, ref: "file:///k", wantErr: `several fields ("api_key", "org")`},
		{name: "several fields raw", text: `{"a":"1","b":"2"}`, ref: "file:///k?raw=true", want: `{"a":"1","b":"2"}`},
		{name: "field", text: `{"a":"1","b":"2"}`, ref: "file:///k#b", want: "2"},
		{name: "brace not JSON", text: "{not json", ref: "file:///k", want: "{not json"},
		{name: "one non-string field", text: `{"list":[1]}`, ref: "file:///k", wantErr: "not a string"},
		{name: "JSON list", text: `[{"model":"x"}]`, ref: "file:///k", want: `[{"model":"x"}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := PickText(tt.text, ref(tt.ref))
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrInvalid) {
					t.Fatalf("err = %v, want %q (ErrInvalid)", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "sk-abc") {
					t.Fatalf("the error shows a value: %v", err)
				}
			case err != nil || got != tt.want:
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestStopped(t *testing.T) {
	t.Parallel()
	if Stopped(context.Background()) != nil {
		t.Fatal("a live context is not stopped")
	}
	ctx, cancel := context.WithCancelCause(context.Background())
	deadline, stop := context.WithTimeout(ctx, time.Hour)
	defer stop()
	cancel(&StopError{Signal: syscall.SIGTERM})
	var se *StopError
	if err := Stopped(deadline); !errors.As(err, &se) || se.ExitCode() != 143 {
		t.Fatalf("Stopped = %v, want SIGTERM (143) through the child context", err)
	}
	expired, stop2 := context.WithTimeout(context.Background(), 0)
	defer stop2()
	<-expired.Done()
	if Stopped(expired) != nil {
		t.Fatal("a deadline is not a stop")
	}
}

func TestClassifyNet(t *testing.T) {
	t.Parallel()
	wrap := func(err error) error { return &url.Error{Op: "Get", URL: "https://x.invalid", Err: err} }
	tests := []struct {
		err  error
		want NetKind
	}{
		{nil, NetNone},
		{errors.New("plain"), NetNone},
		{wrap(&net.DNSError{Err: "no such host", Name: "x.invalid", IsNotFound: true}), NetNoHost},
		{wrap(x509.UnknownAuthorityError{}), NetTLS},
		{wrap(errors.New("http: server gave HTTP response to HTTPS client")), NetProtocol},
		{wrap(&net.OpError{Op: "dial", Err: syscall.ECONNREFUSED}), NetRefused},
		{wrap(&net.OpError{Op: "read", Err: syscall.ECONNRESET}), NetReset},
		{wrap(context.DeadlineExceeded), NetTimeout},
		{wrap(errors.New("something else")), NetOther},
	}
	for _, tt := range tests {
		if got := ClassifyNet(tt.err); got != tt.want {
			t.Errorf("ClassifyNet(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	if !NetNoHost.Final() || NetRefused.Final() {
		t.Error("Final: no-host is final, refused is not")
	}
}

func TestNextWait(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for n := 1; n < 10; n++ {
		if w := Backoff(n); w <= 0 || w > backoffCap+time.Millisecond {
			t.Fatalf("Backoff(%d) = %s", n, w)
		}
	}
	if w, ok := NextWait(1, "3", time.Time{}, now); !ok || w != 3*time.Second {
		t.Fatalf("Retry-After 3 = %s, %v", w, ok)
	}
	if _, ok := NextWait(1, "30", now.Add(time.Second), now); ok {
		t.Fatal("a Retry-After past the deadline ends the retries")
	}
}

func TestRedactor(t *testing.T) {
	t.Parallel()
	key := "sk-proj-AbCdEf0123456789AbCdEf0123456789T3BlbkFJxyz0123456789"
	known := "hunter2-but-a-much-longer-password"
	r := NewRedactor(func(s string) bool { return strings.HasPrefix(s, "zz-") })
	r.Add(known, "short")
	in := fmt.Sprintf("flag %q; pass=%s; url http://user:p4ss@vault:8200/v1; shape zz-0123456789ab; short", key, known)
	got := r.Redact(in)
	for _, leak := range []string{key[:20], key[20:40], "hunter2-but", "p4ss", "zz-0123456789ab"} {
		if strings.Contains(got, leak) {
			t.Errorf("Redact leaks %q: %s", leak, got)
		}
	}
	if !strings.Contains(got, "http://user:[masked]@vault:8200/v1") || !strings.Contains(got, "short") {
		t.Errorf("Redact = %s", got)
	}

	var out bytes.Buffer
	w := r.Writer(&out)
	half := len(known) / 2
	fmt.Fprint(w, "a "+known[:half])
	fmt.Fprint(w, known[half:]+" b\nrest")
	if strings.Contains(out.String(), "rest") {
		t.Error("an unfinished line was written before Flush")
	}
	w.Flush()
	if strings.Contains(out.String(), known[:12]) || !strings.HasSuffix(out.String(), "rest") {
		t.Errorf("Writer = %q", out.String())
	}
}

func TestShowValue(t *testing.T) {
	t.Parallel()
	if got := ShowValue("opnai"); got != `"opnai"` {
		t.Errorf("ShowValue(opnai) = %s", got)
	}
	key := "sk-proj-AbCdEf0123456789AbCdEf0123456789T3BlbkFJ"
	if got := ShowValue(key); strings.Contains(got, key[:12]) {
		t.Errorf("ShowValue shows a key: %s", got)
	}
}

// A line longer than the Writer holds is cut where no secret can be, so a
// secret at the cut is still masked whole.
func TestRedactWriterLongLine(t *testing.T) {
	t.Parallel()
	known := "AbCdEf0123456789AbCdEf0123456789"
	r := NewRedactor()
	r.Add(known)
	for _, k := range []int{1, 5, 7, 12} {
		var out bytes.Buffer
		w := r.Writer(&out)
		// The first write passes the bound k characters into the secret.
		pad := strings.Repeat("x ", maxLine/2)[:maxLine-k+1]
		fmt.Fprint(w, pad+known[:k])
		fmt.Fprint(w, known[k:]+" tail\n")
		w.Flush()
		for i := 0; i+5 <= len(known); i++ {
			if strings.Contains(out.String(), known[i:i+5]) {
				t.Fatalf("cut %d into the secret: piece %q shows", k, known[i:i+5])
			}
		}
		if !strings.HasSuffix(out.String(), " tail\n") || out.Len() < len(pad) {
			t.Errorf("cut %d into the secret: output lost text (%d bytes)", k, out.Len())
		}
	}
}

// FuzzRedactWriter: however the output is split into writes, a known
// secret never comes out, not even 8 characters of it.
func FuzzRedactWriter(f *testing.F) {
	const known = "sk-ant-api03-FuzzKnownSecret0123456789abcdefXYZ"
	f.Add("before ", " after\n", uint16(3))
	f.Add("", "", uint16(0))
	f.Add("a\nb", "\n\n", uint16(40))
	f.Fuzz(func(t *testing.T, pre, post string, step uint16) {
		r := NewRedactor()
		r.Add(known)
		var out bytes.Buffer
		w := r.Writer(&out)
		text := pre + known + post
		n := int(step)%64 + 1
		for i := 0; i < len(text); i += n {
			fmt.Fprint(w, text[i:min(i+n, len(text))])
		}
		w.Flush()
		for i := len("sk-ant-api03-"); i+8 <= len(known); i++ {
			if strings.Contains(out.String(), known[i:i+8]) {
				t.Fatalf("piece %q of the secret shows in %q", known[i:i+8], out.String())
			}
		}
	})
}
