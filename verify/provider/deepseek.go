package provider

import "encoding/json"

// deepSeek is DeepSeek, which apps reach with the openai SDK (base
// https://api.deepseek.com; AG2 defaults to …/v1). GET /user/balance
// proves the key and says whether it can pay for a call; DeepSeek's key
// shape (sk- and 32 lowercase letters and digits) is not distinctive, so it
// is weak: only DeepSeek's own host demands it.
func deepSeek() *Unit {
	return &Unit{
		Name: DeepSeek, Title: "DeepSeek", SDK: "openai-python",
		Vars: []Var{
			{Name: "DEEPSEEK_API_KEY", Role: RoleKey, ReadBy: readBy(ByLiteLLM)},
		},
		Detect:      []string{"DEEPSEEK_API_KEY"},
		DefaultBase: "https://api.deepseek.com",
		CompatBase:  "https://api.deepseek.com",
		Hosts:       []string{"api.deepseek.com"},
		Shapes: []Shape{{Kind: "deepseek", Desc: "a DeepSeek key", order: 40, match: func(v string) bool {
			return len(v) == 35 && prefixed(v, "sk-", 32, isLowerAlnum)
		}}},
		KeyHelp:       "DeepSeek keys start with sk- (https://platform.deepseek.com/api_keys)",
		ModelPrefixes: []string{"deepseek-"},
		// AG2 has no deepseek client of its own: the entry goes to the
		// OpenAI client, which falls back to OPENAI_API_KEY.
		AG2:       AG2{Types: []string{"deepseek"}, FallbackOf: OpenAI, DefaultBase: "https://api.deepseek.com/v1"},
		ProbeDoc:  "GET /user/balance at the base URL's host (the key, and whether it can pay), then the model list with a model; Authorization: Bearer",
		QuotaSeen: true,
		probe: listProbe{unit: DeepSeek, native: "models", keyPath: "user/balance", keyAtOrigin: true,
			keyInfo: deepSeekBalance},
	}
}

// deepSeekBalance refuses a key /user/balance reports unable to pay.
func deepSeekBalance(c *Call, body []byte) (Outcome, bool) {
	var b struct {
		Available *bool `json:"is_available"`
	}
	if json.Unmarshal(body, &b) != nil || b.Available == nil || *b.Available {
		return Outcome{}, false
	}
	return Outcome{Diagnosis: NoQuota, Code: "insufficient_balance",
		Hint: "the key is valid but its DeepSeek balance is too low for a call (is_available false): top up at https://platform.deepseek.com/top_up" + withCred(c)}, true
}
