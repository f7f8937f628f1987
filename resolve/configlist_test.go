package resolve

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

// A key shaped like an OpenAI project key; never real.
const listKey = "sk-proj-ListTestKeyAAAAbbbbCCCCddddEEEEffffT3BlbkFJggggHHHHiiii"

func TestParseConfigList(t *testing.T) {
	t.Parallel()
	// Shapes from AutoGen's documentation of OAI_CONFIG_LIST.
	valid := `[
	  {"model": "gpt-4o", "api_key": "vault://secret/llm/openai#api_key", "tags": ["gpt4", "fast"]},
	  {"model": "gpt-35-turbo", "api_key": "0123456789abcdef0123456789abcdef", "base_url": "https://res.openai.azure.com",
	   "api_type": "azure", "api_version": "2024-10-21"},
	  {"model": "claude-sonnet-4-5", "api_type": "anthropic", "api_key": "env://ANTHROPIC_API_KEY", "price": [0.003, 0.015]},
	  {"model": "llama3", "base_url": "http://127.0.0.1:11434/v1", "api_key": "ollama", "api_type": null}
	]`
	list, err := ParseConfigList([]byte(valid))
	if err != nil {
		t.Fatalf("valid list: %v", err)
	}
	if len(list) != 4 || list[1]["api_type"] != "azure" {
		t.Fatalf("parsed %d entries: %v", len(list), list)
	}

	tests := []struct {
		name  string
		in    string
		wants []string // substrings of the error
	}{
		{"empty", "  \n", []string{"empty"}},
		{"not JSON", `[{"model": "gpt-4o", "api_key": 'sk-proj-SECRETSECRETSECRET'}]`, []string{"not valid JSON", "line 1"}},
		{"trailing comma", "[\n  {\"model\": \"gpt-4o\"},\n]", []string{"line 3"}},
		{"truncated", `[{"model": "gpt-4o"`, []string{"ends too early"}},
		{"object not list", `{"name": "gpt-4o", "temperature": 0}`, []string{"JSON object", `an entry needs a "model"`}},
		{"string not list", `"sk-proj-SECRETSECRETSECRET"`, []string{"JSON string, want a list"}},
		{"entry not object", `[{"model": "gpt-4o"}, "sk-proj-SECRETSECRETSECRET"]`, []string{"entry 1 is a JSON string"}},
		{"number api_key", `[{"model": "gpt-4o"}, {"model": "gpt-4o", "api_key": 12345678901234567890}]`, []string{`entry 1: "api_key" is a JSON number, want a string`}},
		{"list model", `[{"model": ["gpt-4o"]}]`, []string{`entry 0: "model" is a JSON list`}},
		{"bool api_version", `[{"model": "m", "api_type": "azure", "api_version": true}]`, []string{`entry 0: "api_version" is a JSON boolean`}},
		{"tags object", `[{"model": "m", "tags": {"a": 1}}]`, []string{`entry 0: "tags" is a JSON object`}},
		{"tag number", `[{"model": "m", "tags": ["a", 2]}]`, []string{`entry 0: "tags"[1] is a JSON number`}},
		{"two problems", `[{"model": 1}, 2]`, []string{`entry 0: "model"`, "entry 1 is a JSON number"}},
		{"two lists", `[] []`, []string{"more data after the list"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseConfigList([]byte(tc.in))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, sources.ErrInvalid) {
				t.Errorf("error does not wrap ErrInvalid: %v", err)
			}
			for _, w := range tc.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "SECRET") || strings.Contains(err.Error(), "1234567890") {
				t.Errorf("error shows a value: %v", err)
			}
		})
	}
}

func TestMatchFilter(t *testing.T) {
	t.Parallel()
	// The examples of AutoGen's filter_config documentation.
	configs := []map[string]any{
		{"model": "gpt-3.5-turbo", "api_type": "openai"},
		{"model": "gpt-4", "api_type": "openai"},
		{"model": "gpt-3.5-turbo", "api_type": "azure", "api_version": "2024-02-01"},
		{"model": "gpt-4", "tags": []any{"premium", "latest"}},
	}
	tests := []struct {
		name   string
		filter map[string]any
		want   []int
	}{
		{"none", nil, []int{0, 1, 2, 3}},
		{"model list", map[string]any{"model": []any{"gpt-4", "gpt-4o"}}, []int{1, 3}},
		{"model scalar", map[string]any{"model": "gpt-4"}, []int{1, 3}},
		{"two keys", map[string]any{"model": []any{"gpt-3.5-turbo"}, "api_type": []any{"azure"}}, []int{2}},
		{"tags intersect", map[string]any{"tags": []any{"premium"}}, []int{3}},
		{"tags scalar", map[string]any{"tags": "latest"}, []int{3}},
		{"missing field never matches", map[string]any{"api_type": []any{"openai"}}, []int{0, 1}},
		{"null accepts missing", map[string]any{"api_type": []any{"openai", nil}}, []int{0, 1, 3}},
		{"no match", map[string]any{"model": []any{"o3"}}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []int
			for i, c := range configs {
				if matchFilter(c, tc.filter) {
					got = append(got, i)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("kept %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLoadConfigList(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	inline := `[{"model": "gpt-4o", "api_key": "env://OPENAI_API_KEY"}]`
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("list.json", inline)
	write("bom.json", "\ufeff"+inline)
	write("big.json", "["+strings.Repeat(" ", 10<<20)+"]")
	fallbackDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(fallbackDir, "OAI_CONFIG_LIST"), []byte(inline), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name     string
		values   map[string]string
		opts     ListOptions
		wantFrom string // "" means no list
		wantErr  string
		wantNote string
	}{
		{name: "no list", values: map[string]string{}},
		{name: "inline", values: map[string]string{"OAI_CONFIG_LIST": inline}, wantFrom: "OAI_CONFIG_LIST (inline JSON)"},
		{name: "inline padded", values: map[string]string{"OAI_CONFIG_LIST": "\n " + inline + "\n"}, wantFrom: "inline JSON"},
		{name: "variable names a file", values: map[string]string{"OAI_CONFIG_LIST": "list.json"}, wantFrom: "OAI_CONFIG_LIST → file list.json"},
		{name: "custom variable", values: map[string]string{"MY_LIST": inline}, opts: ListOptions{Var: "MY_LIST"}, wantFrom: "MY_LIST (inline JSON)"},
		{name: "config_list.file", values: map[string]string{}, opts: ListOptions{File: "list.json"}, wantFrom: "config_list.file list.json"},
		{name: "variable wins over file", values: map[string]string{"OAI_CONFIG_LIST": inline}, opts: ListOptions{File: "list.json"}, wantFrom: "inline", wantNote: "config_list.file list.json is ignored"},
		{name: "byte-order mark", values: map[string]string{}, opts: ListOptions{File: "bom.json"}, wantFrom: "bom.json", wantNote: "byte-order mark"},
		{name: "missing file named by variable", values: map[string]string{"OAI_CONFIG_LIST": "./missing/OAI_CONFIG_LIST.json"}, wantErr: `("./missing/OAI_CONFIG_LIST.json") names no file`},
		{name: "key in the variable is not shown", values: map[string]string{"OAI_CONFIG_LIST": listKey}, wantErr: "sha256:"},
		{name: "missing config_list.file", values: map[string]string{}, opts: ListOptions{File: "nope.json"}, wantErr: "config_list.file nope.json: no such file"},
		{name: "10 MiB file", values: map[string]string{}, opts: ListOptions{File: "big.json"}, wantErr: "over 1024 KiB"},
		{name: "10 MiB inline", values: map[string]string{"OAI_CONFIG_LIST": "[" + strings.Repeat(" ", 10<<20) + "]"}, wantErr: "over the 1024 KiB limit"},
		{name: "not a list", values: map[string]string{"OAI_CONFIG_LIST": `{"temperature": 0}`}, wantErr: `an entry needs a "model", an LLMConfig a "config_list"`},
		{name: "one entry (AG2)", values: map[string]string{"OAI_CONFIG_LIST": `{"model": "gpt-4o"}`}, wantFrom: "inline", wantNote: "AG2 LLMConfig object (entry)"},
		{name: "LLMConfig (AG2)", values: map[string]string{"OAI_CONFIG_LIST": `{"config_list": [{"model": "gpt-4o"}], "temperature": 0}`}, wantFrom: "inline", wantNote: "AG2 LLMConfig object (llm_config)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if tc.opts.Dir == "" {
				tc.opts.Dir = dir
			}
			l, err := LoadConfigList(tc.values, tc.opts)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !errors.Is(err, sources.ErrInvalid) {
					t.Fatalf("error %v, want one saying %q and wrapping ErrInvalid", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), listKey[8:30]) {
					t.Errorf("error shows the key: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantFrom == "" {
				if l != nil {
					t.Fatalf("got a list from %s, want none", l.From)
				}
				return
			}
			if l == nil || !strings.Contains(l.From, tc.wantFrom) {
				t.Fatalf("list %+v, want one from %q", l, tc.wantFrom)
			}
			if len(l.Entries) != 1 || l.Entries[0].Label() != "config list entry 0 (gpt-4o)" {
				t.Errorf("entries %+v", l.Entries)
			}
			if tc.wantNote != "" && !strings.Contains(strings.Join(l.Notes, "\n"), tc.wantNote) {
				t.Errorf("notes %q, want %q", l.Notes, tc.wantNote)
			}
		})
	}

	t.Run("fallback file in the working directory", func(t *testing.T) {
		t.Parallel()
		l, err := LoadConfigList(map[string]string{}, ListOptions{Dir: fallbackDir})
		if err != nil || l == nil || !strings.Contains(l.From, "file OAI_CONFIG_LIST") {
			t.Fatalf("list %+v, err %v", l, err)
		}
	})
}

func TestLabelHidesKeyInModel(t *testing.T) {
	t.Parallel()
	l, err := LoadConfigList(map[string]string{"OAI_CONFIG_LIST": `[{"model": "` + listKey + `"}, {"api_key": "x"}, {"model": "a;b"}]`}, ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got := l.Entries[0].Label(); strings.Contains(got, listKey[:12]) || !strings.Contains(got, "sha256:") {
		t.Errorf("label %q shows the key", got)
	}
	if got := l.Entries[1].Label(); got != "config list entry 1 (no model)" {
		t.Errorf("label %q", got)
	}
	if got := l.Entries[2].Label(); strings.Contains(got, ";") {
		t.Errorf("label %q holds the probe label separator", got)
	}
}
