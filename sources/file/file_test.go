package file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

const secret = "sk-file-test-secret-value-0001"

func fetch(t *testing.T, cfg Config, raws ...string) []sources.Result {
	t.Helper()
	src, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var refs []sources.Ref
	for _, raw := range raws {
		ref, err := sources.Parse(raw)
		if err != nil {
			t.Fatalf("parse %q: %v", raw, err)
		}
		refs = append(refs, ref)
	}
	res, err := src.Fetch(context.Background(), refs)
	if err != nil || len(res) != len(refs) {
		t.Fatalf("Fetch: %v (%d results)", err, len(res))
	}
	return res
}

func TestFileSource(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	plain := write("plain", secret+"\n", 0o600)
	js := write("llm.json", `{"openai":"`+secret+`","nested":{"k":"`+secret+`"},"n":1}`, 0o600)
	big := write("big", strings.Repeat("x", MaxSize+1), 0o600)
	os.Mkdir(filepath.Join(dir, "adir"), 0o700)
	tests := []struct {
		name, ref string
		want      string
		err       error
		msg       string
	}{
		{name: "whole file, untrimmed (sanitize trims later)", ref: "file://" + plain, want: secret + "\n"},
		{name: "json key", ref: "file://" + js + "#openai", want: secret},
		{name: "json pointer", ref: "file://" + js + "#/nested/k", want: secret},
		{name: "relative to Dir", ref: "file://llm.json#openai", want: secret},
		{name: "missing file", ref: "file://" + filepath.Join(dir, "nope"), err: sources.ErrNotFound, msg: "no file"},
		{name: "missing key", ref: "file://" + js + "#anthropic", err: sources.ErrNotFound, msg: `"openai"`},
		{name: "number", ref: "file://" + js + "#n", err: sources.ErrInvalid, msg: "number"},
		{name: "not json", ref: "file://" + plain + "#k", err: sources.ErrInvalid, msg: "not JSON"},
		{name: "too large", ref: "file://" + big, err: sources.ErrInvalid, msg: "too large"},
		{name: "directory", ref: "file://" + filepath.Join(dir, "adir"), err: sources.ErrInvalid, msg: "directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := fetch(t, Config{Dir: dir}, tt.ref)[0]
			if tt.err != nil {
				if !errors.Is(r.Err, tt.err) || !strings.Contains(r.Err.Error(), tt.msg) {
					t.Fatalf("err = %v, want %v with %q", r.Err, tt.err, tt.msg)
				}
				if strings.Contains(r.Err.Error(), secret) {
					t.Fatalf("error leaks the value")
				}
				return
			}
			if r.Err != nil || r.Value.Reveal() != tt.want {
				t.Fatalf("got err %v, value match %v", r.Err, r.Value.Reveal() == tt.want)
			}
		})
	}
}

func TestCredSource(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "openai"), []byte(secret), 0o600)
	res := fetch(t, Config{Dir: dir, Cred: true}, "cred://openai", "cred://missing")
	if res[0].Err != nil || res[0].Value.Reveal() != secret {
		t.Errorf("cred://openai: %v", res[0].Err)
	}
	if !errors.Is(res[1].Err, sources.ErrNotFound) {
		t.Errorf("cred://missing: %v", res[1].Err)
	}
	none := fetch(t, Config{Cred: true}, "cred://openai")
	if !errors.Is(none[0].Err, sources.ErrNotFound) || !strings.Contains(none[0].Err.Error(), "LoadCredential=openai") {
		t.Errorf("without CREDENTIALS_DIRECTORY: %v", none[0].Err)
	}
}
