package providertest

import (
	"net/http"
	"time"
)

// Kind selects which provider (or identity endpoint) a Server fakes.
type Kind string

// Providers the fake speaks, one file each.
const (
	OpenAI     Kind = "openai"
	Azure      Kind = "azure"
	Anthropic  Kind = "anthropic"
	Gemini     Kind = "gemini"
	Groq       Kind = "groq"
	Mistral    Kind = "mistral"
	OpenRouter Kind = "openrouter"
	Together   Kind = "together"
	XAI        Kind = "xai"
	DeepSeek   Kind = "deepseek"
	Ollama     Kind = "ollama"
	// ManagedIdentity is the App Service managed identity endpoint
	// (IDENTITY_ENDPOINT, plain http as on App Service itself).
	ManagedIdentity Kind = "managed-identity"
	// EntraID is a Microsoft identity platform authority (https) issuing
	// client-credentials tokens to service principals.
	EntraID Kind = "entra"
)

// Kinds lists every Kind, in a stable order.
func Kinds() []Kind {
	return []Kind{OpenAI, Azure, Anthropic, Gemini, Groq, Mistral, OpenRouter, Together, XAI, DeepSeek, Ollama, ManagedIdentity, EntraID}
}

// Mode is how the fake answers an accepted credential.
type Mode string

// Modes. Each answers with its provider's own status and body; a mode a
// provider has no equivalent for is said so in that provider's file.
const (
	OK             Mode = ""                // 200 (Azure deployment check: 400 for "{}")
	InvalidKey     Mode = "invalid_key"     // as for an unknown key (Azure AD token: the token 401)
	EchoKey        Mode = "echo_key"        // 401 whose message repeats the whole key, as some gateways do
	NoOrganization Mode = "no_organization" // OpenAI 401 no_organization
	NoQuota        Mode = "no_quota"        // the provider's no-credit answer (see each file for where it shows)
	RateLimited    Mode = "rate_limited"    // 429, Key.Times times (0: always)
	Forbidden      Mode = "forbidden"       // 403 (or the provider's refusal of a valid key)
	ServerError    Mode = "server_error"    // Key.Status (default 500), Key.Times times (0: always)
	Slow           Mode = "slow"            // waits Key.Delay, then OK
	Redirect       Mode = "redirect"        // 307 to Key.Location
	HugeBody       Mode = "huge_body"       // 200 streaming Key.Size bytes of JSON (default 50 MiB)
	Truncated      Mode = "truncated"       // 200 whose body stops half-way (connection cut)
	NotJSON        Mode = "not_json"        // 200 with an HTML page

	// PermissionDenied is an Azure AD token whose identity lacks the
	// "Cognitive Services OpenAI User" role: 401 code PermissionDenied.
	PermissionDenied Mode = "permission_denied"
	// ExpiredToken is an Azure AD token the service refuses (expired or
	// for another audience): the 401 {"statusCode":401,…} body.
	ExpiredToken Mode = "expired_token"
	// NoIdentity is a managed identity endpoint with no identity assigned
	// (or not the one asked for): 400 "Unable to load the proper Managed Identity."
	NoIdentity Mode = "no_identity"
	// Unreachable drops the connection without answering.
	Unreachable Mode = "unreachable"
)

// Modes lists every Mode, OK first.
func Modes() []Mode {
	return []Mode{OK, InvalidKey, EchoKey, NoOrganization, NoQuota, RateLimited, Forbidden, ServerError, Slow, Redirect,
		HugeBody, Truncated, NotJSON, PermissionDenied, ExpiredToken, NoIdentity, Unreachable}
}

// Key is the behaviour of one accepted credential.
type Key struct {
	Mode       Mode
	Org        string        // OpenAI: organization of the key; another OpenAI-Organization → 401
	Times      int           // RateLimited, ServerError: fail this many requests, then OK (0: always)
	Status     int           // ServerError status (default 500)
	RetryAfter string        // RateLimited Retry-After header (default "1")
	Delay      time.Duration // Slow
	Location   string        // Redirect target
	Size       int64         // HugeBody size in bytes (default 50 MiB)
	// Scopes makes an OpenAI key a restricted key holding only these
	// permissions (nil: unrestricted). GET /v1/models* needs
	// "api.model.read", POST /v1/chat/completions needs "model.request";
	// a missing one is the 401 "Missing scopes" with code null. On xAI the
	// scopes are the key's ACLs reported by GET /v1/api-key.
	Scopes []string
	// SpuriousScopeErrors: the first N OpenAI model-list requests of this
	// (unrestricted) key get the missing-scopes 401 anyway, as users report
	// intermittently (community.openai.com thread 1378804).
	SpuriousScopeErrors int
}

// Config sets up a Server. Fields a Kind does not use are ignored.
type Config struct {
	// Keys are the accepted keys; any other key gets the provider's
	// refusal. Ollama takes no key: Keys[""] (if set) is the behaviour of
	// the whole server.
	Keys map[string]Key
	// Tokens are Azure AD tokens (Bearer) and Anthropic Bearer tokens.
	Tokens map[string]Key
	// Models known to the provider (default: a few of its own; OpenAI,
	// Azure and Anthropic share gpt-4o-mini, gpt-4o, claude-sonnet-4-5,
	// claude-sonnet-4-20250514).
	// Ollama: the models pulled.
	Models []string
	// Deployments of the Azure resource (default gpt-4o-mini).
	Deployments []string
	// APIVersions Azure accepts (default 2024-02-01, 2024-06-01,
	// 2024-10-21, 2025-01-01-preview; "preview" and "latest" on /openai/v1).
	APIVersions []string
	Latency     time.Duration // added before every answer
	// Reply is the assistant's text in every chat answer (default DefaultReply).
	Reply string
	// OnRequest is called as each request arrives, before Latency and any
	// mode, so a test can act at the moment a probe reaches the provider.
	// It runs on the request's goroutine; a slow OnRequest delays the answer.
	OnRequest func(Request)
	// Addr is where to listen (default 127.0.0.1:0); only loopback hosts.
	Addr string

	// DisableLocalAuth makes an Azure resource refuse every api-key with
	// 403 AuthenticationTypeDisabled (Entra ID only, disableLocalAuth: true).
	DisableLocalAuth bool
	// VerifyTokenClaims makes Azure check exp and aud of Bearer JWTs before
	// looking them up, as the service does (off by default because older
	// tests use opaque test tokens).
	VerifyTokenClaims bool

	// Tenant is the EntraID tenant and the tid of issued tokens (default DefaultTenant).
	Tenant string
	// Clients are the EntraID service principals, by client ID.
	Clients map[string]Client
	// Identity is the ManagedIdentity endpoint's identity.
	Identity Identity
	// IdentityHeader is the X-IDENTITY-HEADER value the ManagedIdentity
	// endpoint expects (IDENTITY_HEADER; default DefaultIdentityHeader).
	IdentityHeader string
	// TokenLifetime of issued tokens (default one hour).
	TokenLifetime time.Duration
	// Azure, when set, is the Azure fake that accepts exactly the tokens
	// this ManagedIdentity or EntraID fake issues for Cognitive Services:
	// each one is added to its Tokens (with Key{Mode: TokenMode}).
	Azure *Server
}

// Client is a service principal of an EntraID fake.
type Client struct {
	Secret    string // client secret; another one gets AADSTS7000215
	Assertion string // accepted client_assertion (workload identity), if any
	Key       Key    // behaviour of the token endpoint for this client
	Token     TokenSpec
	TokenMode Mode // behaviour of its tokens at the Config.Azure fake
}

// Identity is the identity behind a ManagedIdentity fake.
type Identity struct {
	ClientID string // default DefaultMIClientID; a request naming another client_id gets 400
	ObjectID string // oid of its tokens (default DefaultMIObjectID)
	Key      Key    // behaviour of the endpoint (NoIdentity, Unreachable, ServerError, Slow…)
	Token    TokenSpec
	// TokenMode is the behaviour of its tokens at the Config.Azure fake
	// (PermissionDenied: the identity has no role on the resource).
	TokenMode Mode
}

// Defaults used when Config leaves a field empty.
const (
	DefaultReply          = "keyexec fake: hello"
	DefaultTenant         = "11111111-2222-4333-8444-555555555555"
	DefaultIdentityHeader = "providertest-identity-header"
	DefaultMIClientID     = "aaaaaaaa-bbbb-4ccc-8ddd-eeeeeeeeeeee"
	DefaultMIObjectID     = "99999999-8888-4777-8666-555555555555"
)

// Request is one request the fake received, headers included (credentials
// too: this is a test helper).
type Request struct {
	Kind   Kind
	Seq    int // 1 for the first request this server received
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   string
}

// defaults fills in what cfg leaves empty for kind.
func defaults(kind Kind, cfg Config) Config {
	if cfg.Models == nil {
		cfg.Models = defaultModels(kind)
	}
	if cfg.Deployments == nil {
		cfg.Deployments = []string{"gpt-4o-mini"}
	}
	if cfg.APIVersions == nil {
		cfg.APIVersions = []string{"2024-02-01", "2024-06-01", "2024-10-21", "2025-01-01-preview"}
	}
	if cfg.Reply == "" {
		cfg.Reply = DefaultReply
	}
	if cfg.Tenant == "" {
		cfg.Tenant = DefaultTenant
	}
	if cfg.IdentityHeader == "" {
		cfg.IdentityHeader = DefaultIdentityHeader
	}
	if cfg.Identity.ClientID == "" {
		cfg.Identity.ClientID = DefaultMIClientID
	}
	if cfg.Identity.ObjectID == "" {
		cfg.Identity.ObjectID = DefaultMIObjectID
	}
	if cfg.TokenLifetime <= 0 {
		cfg.TokenLifetime = time.Hour
	}
	return cfg
}

// defaultModels are real model names of each provider, so SDKs that check
// names (AutoGen's model_info table) accept them.
func defaultModels(kind Kind) []string {
	switch kind {
	case Gemini:
		return []string{"gemini-2.0-flash", "gemini-2.5-flash"}
	case Groq:
		return []string{"llama-3.3-70b-versatile", "llama-3.1-8b-instant"}
	case Mistral:
		return []string{"mistral-small-latest", "mistral-large-latest"}
	case OpenRouter:
		return []string{"openai/gpt-4o-mini", "anthropic/claude-sonnet-4.5"}
	case Together:
		return []string{"meta-llama/Llama-3.3-70B-Instruct-Turbo"}
	case XAI:
		return []string{"grok-4", "grok-3-mini"}
	case DeepSeek:
		return []string{"deepseek-chat", "deepseek-reasoner"}
	case Ollama:
		return []string{"llama3.2:latest"}
	}
	// claude-sonnet-4-20250514 is in AutoGen's model table (autogen_ext
	// models/openai/_model_info.py), so OpenAIChatCompletionClient takes it
	// without model_info.
	return []string{"gpt-4o-mini", "gpt-4o", "claude-sonnet-4-5", "claude-sonnet-4-20250514"}
}
