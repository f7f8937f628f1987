package provider

import (
	"encoding/base64"
	"net/url"
	"strings"
	"testing"
	"time"
)

var fakeKeys = ExampleKeys()

// TestEveryShapeHasAFakeKeyAndIsClassifiedAsItself is generated from the
// units: each declared shape classifies its fake key as itself and owner.
func TestEveryShapeHasAFakeKeyAndIsClassifiedAsItself(t *testing.T) {
	t.Parallel()
	for _, s := range Shapes() {
		key, ok := fakeKeys[s.Kind]
		if !ok {
			t.Errorf("shape %s of %s has no fake key in this test", s.Kind, s.Owner)
			continue
		}
		got := ClassifyKey(key)
		if got.Kind != s.Kind || got.Owner != s.Owner {
			t.Errorf("ClassifyKey(%s key) = %s of %s, want %s of %s", s.Kind, got.Kind, got.Owner, s.Kind, s.Owner)
		}
		if got.Desc == "" {
			t.Errorf("shape %s has no description", s.Kind)
		}
	}
	if len(fakeKeys) != len(Shapes()) {
		t.Errorf("%d fake keys for %d shapes: a shape was removed", len(fakeKeys), len(Shapes()))
	}
}

func TestClassifyKeyEdges(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want KeyKind
	}{
		{"empty", "", KeyUnknown},
		{"bare sk-", "sk-", KeyUnknown},
		{"short sk- (LiteLLM master key)", "sk-1234", KeyUnknown},
		{"bare project prefix", "sk-proj-", KeyUnknown},
		{"sk-None- user key", "sk-None-" + fill(alnum, 40, 3) + "T3BlbkFJ" + fill(alnum, 40, 4), "openai-legacy"},
		{"anthropic oauth token", "sk-ant-oat01-" + fill(wordDash, 80, 5), "anthropic"},
		{"deepseek with uppercase is not deepseek", "sk-" + strings.ToUpper(fill(lowerAN, 32, 6)), "unknown-sk"},
		{"deepseek 33 chars is not deepseek", "sk-" + fill(lowerAN, 33, 6), "unknown-sk"},
		{"31 hex is nothing", fill(hexLower, 31, 7), KeyUnknown},
		{"long alnum is azure (weak)", fill(alnum, 84, 8), "azure"},
		{"groq with dash", "gsk_" + fill(wordDash, 52, 9) + "-", KeyUnknown},
		{"google short", "AIza" + fill(alnum, 10, 10), KeyUnknown},
		{"inner space", "sk-proj-" + fill(alnum, 40, 11) + " " + fill(alnum, 40, 12), KeyUnknown},
		{"bearer left in", "Bearer " + fakeKeys["openai-project"], KeyUnknown},
		{"jwt", "eyJhbGciOiJub25lIn0.eyJzdWIiOiJ0ZXN0In0.c2ln", KeyUnknown},
	}
	for _, tt := range tests {
		if got := ClassifyKey(tt.in).Kind; got != tt.want {
			t.Errorf("%s: ClassifyKey = %s, want %s", tt.name, got, tt.want)
		}
	}
}

// TestUnitTables checks the one table of names across every unit: each
// variable belongs to one unit, aliases point to a variable some unit's SDK
// reads and never shadow one, detection variables are the unit's own, and
// api_types select one unit each.
func TestUnitTables(t *testing.T) {
	t.Parallel()
	owner := map[string]Name{}
	apiTypes := map[string]Name{}
	for _, u := range All() {
		if u.Title == "" || u.SDK == "" || u.KeyHelp == "" || u.probe == nil {
			t.Errorf("%s: Title, SDK, KeyHelp and a probe are required", u.Name)
		}
		if ByName(string(u.Name)) == nil {
			t.Errorf("ByName(%s) finds nothing", u.Name)
		}
		for _, v := range u.Vars {
			if o, dup := owner[v.Name]; dup {
				t.Errorf("%s is read by both %s and %s: one unit owns a name", v.Name, o, u.Name)
			}
			owner[v.Name] = u.Name
			if len(v.ReadBy) == 0 {
				t.Errorf("%s: no consumer reads %s", u.Name, v.Name)
			}
		}
		if !u.Keyless && u.Var(RoleKey) == "" {
			t.Errorf("%s has no key variable", u.Name)
		}
		for _, d := range u.Detect {
			if UnitOfVar(d) != u {
				t.Errorf("%s detects on %s, which is not its own variable", u.Name, d)
			}
		}
		for _, at := range u.AG2.Types {
			if o, dup := apiTypes[at]; dup {
				t.Errorf("api_type %s selects both %s and %s", at, o, u.Name)
			}
			apiTypes[at] = u.Name
		}
		if u.DefaultBase != "" {
			if _, err := url.Parse(u.DefaultBase); err != nil || ForHost(u.DefaultBase) != u {
				t.Errorf("%s: its default base %s is not one of its hosts", u.Name, u.DefaultBase)
			}
		}
	}
	for _, a := range Aliases() {
		if _, canonical := owner[a.Name]; canonical {
			t.Errorf("alias %s is also a canonical variable", a.Name)
		}
		for _, to := range a.Targets() {
			if _, ok := owner[to]; !ok {
				t.Errorf("alias %s points to %s, which no unit reads", a.Name, to)
			}
		}
	}
}

func TestLookups(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Name{"": OpenAI, "openai": OpenAI, "openai_v2": OpenAI, "responses": OpenAI, "azure": Azure,
		"azure_openai": Azure, "anthropic": Anthropic, "google": Gemini, "groq": Groq, "mistral": Mistral, "together": Together,
		"deepseek": DeepSeek, "ollama": Ollama} {
		if u := ForAPIType(in); u == nil || u.Name != want {
			t.Errorf("ForAPIType(%q) = %v, want %s", in, u, want)
		}
	}
	for _, in := range []string{"bedrock", "cohere", "cerebras"} {
		if u := ForAPIType(in); u != nil {
			t.Errorf("ForAPIType(%q) = %s, want none (not proven)", in, u.Name)
		}
	}
	for in, want := range map[string]Name{"https://api.openai.com/v1": OpenAI, "https://x.openai.azure.com": Azure, "https://gw.azure-api.net/openai": Azure,
		"https://api.groq.com/openai/v1": Groq, "https://openrouter.ai/api/v1": OpenRouter, "http://localhost:11434/v1": Ollama,
		"https://generativelanguage.googleapis.com/v1beta/openai/": Gemini, "https://api.x.ai/v1": XAI} {
		if u := ForHost(in); u == nil || u.Name != want {
			t.Errorf("ForHost(%q) = %v, want %s", in, u, want)
		}
	}
	for _, in := range []string{"https://gw.example/v1", "http://localhost:4000/v1", "https://openai.azure.com"} {
		if u := ForHost(in); u != nil {
			t.Errorf("ForHost(%q) = %s, want none", in, u.Name)
		}
	}
	if u := ForModel("claude-sonnet-4-5"); u == nil || u.Name != Anthropic {
		t.Errorf("ForModel(claude-…) = %v", u)
	}
}

func TestAliasRoutes(t *testing.T) {
	t.Parallel()
	route := func(name, v string) string {
		for _, a := range Aliases() {
			if a.Name == name {
				return a.Target(v)
			}
		}
		t.Fatalf("no alias %s", name)
		return ""
	}
	if got := route("API_KEY", fakeKeys["openai-project"]); got != "OPENAI_API_KEY" {
		t.Errorf("API_KEY with an OpenAI key → %q", got)
	}
	for _, other := range []string{"something-else", fakeKeys["unknown-sk"], fakeKeys["anthropic"]} {
		if got := route("API_KEY", other); got != "" {
			t.Errorf("API_KEY=%s… moves to %q, want it left alone", other[:6], got)
		}
	}
	if got := route("OPENAI_API_BASE", "https://x.openai.azure.com/"); got != "AZURE_OPENAI_ENDPOINT" {
		t.Errorf("OPENAI_API_BASE with an Azure host → %q", got)
	}
	if got := route("OPENAI_API_BASE", "http://127.0.0.1:4000/v1"); got != "OPENAI_BASE_URL" {
		t.Errorf("OPENAI_API_BASE → %q", got)
	}
	for _, kept := range []string{"AZURE_API_KEY", "AZURE_API_BASE", "AZURE_API_VERSION", "TOGETHERAI_API_KEY", "GOOGLE_GEMINI_API_KEY", "OPENAI_API_BASE"} {
		if !KeptAlias(kept) {
			t.Errorf("%s is read by a known consumer and must stay", kept)
		}
	}
	if KeptAlias("OPENAI_KEY") {
		t.Error("no consumer reads OPENAI_KEY")
	}
}

func TestRepairURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		unit     Name
		in, want string
	}{
		{OpenAI, "https://api.openai.com", "https://api.openai.com/v1"},
		{OpenAI, "https://api.openai.com/v1/", "https://api.openai.com/v1"},
		{OpenAI, "http://127.0.0.1:4000/v1//", "http://127.0.0.1:4000/v1"},
		{Azure, "https://x.openai.azure.com/openai/deployments/gpt4?api-version=1", "https://x.openai.azure.com"},
		{Azure, "https://gw.azure-api.net/openai/", "https://gw.azure-api.net/openai"},
	}
	for _, tt := range tests {
		if got, _ := ByName(string(tt.unit)).RepairURL(tt.in); got != tt.want {
			t.Errorf("%s RepairURL(%q) = %q, want %q", tt.unit, tt.in, got, tt.want)
		}
	}
}

// MintToken builds an unsigned JWT with the given claims, as tests need.
func mintToken(claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"none","typ":"JWT"}`)) + "." + enc([]byte(claims)) + ".c2ln"
}

func TestTokenClaimsAndADTokenChecks(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_800_000_000, 0)
	tok := func(aud string, exp time.Time) string {
		return mintToken(`{"aud":"` + aud + `","exp":` + itoa(exp.Unix()) + `,"oid":"o-1","appid":"app-1"}`)
	}
	cl, err := TokenClaims(tok("https://cognitiveservices.azure.com", now.Add(time.Hour)))
	if err != nil || cl.Audience != "https://cognitiveservices.azure.com" || cl.Principal() != "application app-1 (object id o-1)" {
		t.Fatalf("claims %+v, %v", cl, err)
	}
	if _, err := TokenClaims("not.a.jwt"); err == nil {
		t.Fatal("a non-JWT decodes")
	}
	check := func(token string) []Problem {
		return checkADToken(&Settings{Names: Names{Token: "AZURE_OPENAI_AD_TOKEN"}, Token: token, Now: now, MinTokenTTL: 10 * time.Minute})
	}
	cases := []struct {
		token string
		kind  ProblemKind
		want  string
	}{
		{tok("https://cognitiveservices.azure.com", now.Add(-time.Minute)), Refused, "expired at 2027-01-15T07:59:00Z"},
		{tok("https://cognitiveservices.azure.com", now.Add(5*time.Minute)), Warning, "in 5m0s"},
		{tok("https://graph.microsoft.com", now.Add(time.Hour)), Misconfigured, `audience "https://graph.microsoft.com"`},
	}
	for _, c := range cases {
		ps := check(c.token)
		if len(ps) != 1 || ps[0].Kind != c.kind || !strings.Contains(ps[0].Msg, c.want) {
			t.Errorf("problems %+v, want one of kind %d saying %q", ps, c.kind, c.want)
		}
	}
	if ps := check(tok("https://cognitiveservices.azure.com/", now.Add(time.Hour))); len(ps) != 0 {
		t.Errorf("a good token: %+v", ps)
	}
}

func itoa(n int64) string {
	var b [20]byte
	i := len(b)
	for n > 0 {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
	}
	return string(b[i:])
}
