package resolve

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/keyexec/keyexec/sources"
)

// fuzzSecret is planted in seeds: no error may ever repeat it.
const fuzzSecret = "sk-proj-FuzzSecretDoNotPrint0123456789"

func FuzzParseConfigList(f *testing.F) {
	for _, seed := range []string{
		`[{"model": "gpt-4o", "api_key": "` + fuzzSecret + `"}]`,
		`[{"model": "gpt-4", "api_key": "vault://secret/llm#k", "base_url": "https://x.openai.azure.com", "api_type": "azure", "api_version": "2024-10-21", "tags": ["a"]}]`,
		`{"model": "gpt-4o", "api_key": "` + fuzzSecret + `"}`,
		`[{"model": "gpt-4o", "api_key": '` + fuzzSecret + `'}]`,
		`[{"api_key": 1}, "` + fuzzSecret + `", null, [], {"tags": [1, {}]}]`,
		`[{"price": [1e400, -0.0, 12345678901234567890123]}]`,
		"\ufeff[]",
		`[] ` + fuzzSecret,
		`[{"model": "m", "nested": {"a": [{"b": "env://X"}]}}]`,
		``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		list, err := ParseConfigList(data)
		if err != nil {
			if !errors.Is(err, sources.ErrInvalid) {
				t.Fatalf("error does not wrap ErrInvalid: %v", err)
			}
			if strings.Contains(err.Error(), fuzzSecret[:16]) {
				t.Fatalf("error repeats input: %v", err)
			}
			return
		}
		// What parses goes to the child as JSON and must read back the same.
		out, err := json.Marshal(list)
		if err != nil {
			t.Fatalf("parsed list does not encode: %v", err)
		}
		back, err := ParseConfigList(out)
		if err != nil || len(back) != len(list) {
			t.Fatalf("re-encoded list does not parse back (%v): %s", err, out)
		}
		for _, fields := range list {
			for _, lf := range leaves(fields) {
				lf.set(lf.val) // the walker reaches every string and can write it
			}
		}
	})
}
