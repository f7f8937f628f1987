package provider

// together is Together AI, as together-python reads it (TOGETHER_API_KEY,
// TOGETHER_BASE_URL; src: togethercomputer/together-python client.py).
// LiteLLM reads three other names, which therefore stay in the child.
// Its model list is a bare JSON array, and it has no read of one model, so
// a model is looked up in the list.
func together() *Unit {
	return &Unit{
		Name: Together, Title: "Together AI", SDK: "together-python",
		Vars: []Var{
			{Name: "TOGETHER_API_KEY", Role: RoleKey, ReadBy: readBy("together-python", ByAG2, ByLiteLLM)},
			{Name: "TOGETHER_BASE_URL", Role: RoleBaseURL, ReadBy: readBy("together-python")},
		},
		Aliases: []Alias{
			{Name: "TOGETHERAI_API_KEY", To: "TOGETHER_API_KEY", ReadBy: readBy(ByLiteLLM)},
			{Name: "TOGETHER_AI_API_KEY", To: "TOGETHER_API_KEY", ReadBy: readBy(ByLiteLLM)},
			{Name: "TOGETHER_AI_TOKEN", To: "TOGETHER_API_KEY", ReadBy: readBy(ByLiteLLM)},
		},
		Detect:      []string{"TOGETHER_API_KEY"},
		DefaultBase: "https://api.together.xyz/v1",
		CompatBase:  "https://api.together.xyz/v1",
		Hosts:       []string{"api.together.xyz"},
		// tgp_v1_ keys (obs: public repositories; no scanner rule): older
		// keys are 64 hex digits, which match no strong shape.
		Shapes: []Shape{{Kind: "together", Desc: "a Together AI key", order: 23, match: func(v string) bool {
			return prefixed(v, "tgp_v1_", minBody, IsWordDash)
		}}},
		KeyHelp:   "Together keys start with tgp_v1_ (https://api.together.ai/settings/api-keys)",
		AG2:       AG2{Types: []string{"together"}, KeyEnv: "TOGETHER_API_KEY"},
		ProbeDoc:  "GET {base}/models (a bare JSON array; a model is looked up in it); Authorization: Bearer",
		QuotaSeen: false,
		probe:     listProbe{unit: Together, native: "models", compat: "models"},
	}
}
