package provider

import (
	"encoding/json"
	"net/http"
	"strings"
)

// xai is xAI, which apps reach with the openai SDK (base
// https://api.x.ai/v1). GET {base}/api-key reads the key itself: blocked
// and disabled keys answer 200 there and are refused here.
func xai() *Unit {
	return &Unit{
		Name: XAI, Title: "xAI", SDK: "openai-python",
		Vars: []Var{
			{Name: "XAI_API_KEY", Role: RoleKey, ReadBy: readBy("xai-sdk", ByLiteLLM)},
		},
		Detect:      []string{"XAI_API_KEY"},
		DefaultBase: "https://api.x.ai/v1",
		CompatBase:  "https://api.x.ai/v1",
		Hosts:       []string{"api.x.ai"},
		// trufflehog xai: xai-[0-9a-zA-Z_]{80}.
		Shapes: []Shape{{Kind: "xai", Desc: "an xAI key", order: 22, match: func(v string) bool {
			return prefixed(v, "xai-", minBody, func(c byte) bool { return isAlnum(c) || c == '_' })
		}}},
		StrictShape:   true,
		KeyHelp:       "xAI keys start with xai- (https://console.x.ai)",
		ModelPrefixes: []string{"grok-"},
		ProbeDoc:      "GET {base}/api-key (the key itself: blocked or disabled keys answer there), then GET {base}/models/{model}; Authorization: Bearer",
		QuotaSeen:     false,
		probe: listProbe{unit: XAI, native: "models", keyPath: "api-key", keyInfo: xaiKeyState, byID: true,
			special: xaiAnswers},
	}
}

// xaiAnswers reads xAI's refusals: an invalid key is a 400 ("Incorrect API
// key provided"; obs: continuedev/continue#10778), a team without credits
// a 403.
func xaiAnswers(c *Call, r *Request, a *Answer, code, msg string) (Outcome, bool) {
	low := strings.ToLower(msg)
	if a.Status == http.StatusBadRequest && strings.Contains(low, "api key") {
		return Outcome{Diagnosis: Rejected, Code: code, Message: msg, Hint: "xAI rejected the key as incorrect: it may be revoked or mistyped" + withCred(c)}, true
	}
	return Outcome{}, false
}

// xaiKeyState refuses a key GET /api-key reports blocked or disabled.
func xaiKeyState(c *Call, body []byte) (Outcome, bool) {
	var k struct {
		Blocked  bool `json:"api_key_blocked"`
		Disabled bool `json:"api_key_disabled"`
		Team     bool `json:"team_blocked"`
	}
	if json.Unmarshal(body, &k) != nil {
		return Outcome{}, false
	}
	switch {
	case k.Disabled:
		return Outcome{Diagnosis: Rejected, Code: "api_key_disabled", Hint: "the xAI key is disabled: enable it or create another at https://console.x.ai" + withCred(c)}, true
	case k.Blocked:
		return Outcome{Diagnosis: Rejected, Code: "api_key_blocked", Hint: "the xAI key is blocked: see https://console.x.ai" + withCred(c)}, true
	case k.Team:
		return Outcome{Diagnosis: Forbidden, Code: "team_blocked", Hint: "the key's xAI team is blocked: see https://console.x.ai" + withCred(c)}, true
	}
	return Outcome{}, false
}
