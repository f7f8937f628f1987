package provider

import (
	"fmt"
	"strings"
)

// mistral is Mistral AI, as mistralai reads it: MISTRAL_API_KEY only, the
// base URL is an argument (src: mistralai/client-python
// utils/security.py, sdkconfiguration.py). Its keys have no documented
// shape (32 letters and digits, like Azure's), so nothing is inferred
// from one.
func mistral() *Unit {
	return &Unit{
		Name: Mistral, Title: "Mistral", SDK: "mistralai",
		Vars: []Var{
			{Name: "MISTRAL_API_KEY", Role: RoleKey, ReadBy: readBy("mistralai", ByAG2, ByLiteLLM)},
		},
		Detect:      []string{"MISTRAL_API_KEY"},
		DefaultBase: "https://api.mistral.ai",
		CompatBase:  "https://api.mistral.ai/v1",
		Hosts:       []string{"api.mistral.ai"},
		KeyHelp:     "get a Mistral key at https://console.mistral.ai/api-keys",
		AG2:         AG2{Types: []string{"mistral"}, KeyEnv: "MISTRAL_API_KEY"},
		ProbeDoc:    "GET {base}/v1/models, or …/models/{model}; Authorization: Bearer",
		QuotaSeen:   false,
		probe: listProbe{unit: Mistral, native: "v1/models", compat: "models", byID: true, special: func(c *Call, r *Request, a *Answer, code, msg string) (Outcome, bool) {
			// Mistral answers an unknown model with 400 invalid_model (obs: lfnovo/open-notebook#441).
			if a.Status == 400 && (code == "invalid_model" || strings.Contains(strings.ToLower(msg), "invalid model")) {
				return Outcome{Diagnosis: NotFound, Code: code, Message: msg, Hint: fmt.Sprintf("model %s does not exist at Mistral: check %s", c.Model, c.ModelName)}, true
			}
			return Outcome{}, false
		}},
	}
}
