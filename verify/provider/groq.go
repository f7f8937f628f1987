package provider

// groq is Groq, as groq-python reads it (GROQ_API_KEY, GROQ_BASE_URL; src:
// groq/groq-python _client.py), and its OpenAI-compatible API, which is
// where the routes live: https://api.groq.com/openai/v1.
func groq() *Unit {
	return &Unit{
		Name: Groq, Title: "Groq", SDK: "groq-python",
		Vars: []Var{
			{Name: "GROQ_API_KEY", Role: RoleKey, ReadBy: readBy("groq-python", ByAG2, ByLiteLLM)},
			{Name: "GROQ_BASE_URL", Role: RoleBaseURL, ReadBy: readBy("groq-python")},
		},
		Detect:      []string{"GROQ_API_KEY"},
		DefaultBase: "https://api.groq.com",
		CompatBase:  "https://api.groq.com/openai/v1",
		Hosts:       []string{"api.groq.com"},
		Shapes: []Shape{{Kind: "groq", Desc: "a Groq key", order: 20, match: func(v string) bool {
			return prefixed(v, "gsk_", minBody, isAlnum)
		}}},
		StrictShape: true,
		KeyHelp:     "Groq keys start with gsk_ (https://console.groq.com/keys)",
		AG2:         AG2{Types: []string{"groq"}, KeyEnv: "GROQ_API_KEY"},
		ProbeDoc:    "GET {base}/openai/v1/models, or …/models/{model}; Authorization: Bearer",
		QuotaSeen:   false,
		probe:       listProbe{unit: Groq, native: "openai/v1/models", compat: "models", byID: true},
	}
}
