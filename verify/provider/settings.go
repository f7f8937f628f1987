package provider

import (
	"fmt"
	"net/url"
	"strings"
	"time"
)

// Names are the settings' names as the user wrote them, for messages: the
// environment variables, or a config-list entry's / component's fields.
type Names struct {
	Key, Token, URL, Model, APIVersion, Org, Project, Deployment string
	// Entry: the settings are fields of a config-list entry or a
	// component config, so fixes are phrased for JSON, not variables;
	// Component: of a component config.
	Entry, Component bool
}

// EnvNames are the unit's variables as Names.
func (u *Unit) EnvNames() Names {
	url := u.Var(RoleBaseURL)
	if url == "" {
		url = "the base URL"
	}
	return Names{
		Key: u.Var(RoleKey), Token: u.Var(RoleToken), URL: url,
		APIVersion: u.Var(RoleAPIVersion), Org: u.Var(RoleOrg), Project: u.Var(RoleProject),
		Deployment: u.Var(RoleDeployment), Model: "--model",
	}
}

// Settings are one candidate as a unit's Validate sees it, after the
// generic checks (URL parses, key present, key shape).
type Settings struct {
	Names Names
	// URL is the parsed base URL (nil when the generic checks already
	// reported it missing or broken); URLSet says it was given, not the
	// SDK's default; Host is the unit owning its host, nil for any other.
	URL    *url.URL
	URLSet bool
	Host   *Unit
	// Client is the unit whose SDK reads the settings (the openai SDK
	// pointed at Groq has Client OpenAI and Host Groq).
	Client *Unit

	Key, Token                                  string
	Org, Project, APIVersion, Model, Deployment string
	// Entra: the client authenticates with Microsoft Entra ID through
	// DefaultAzureCredential (no key, no static token).
	Entra bool
	// Origin of the key or token, for messages ("vault://…").
	Origin string

	Now         time.Time
	MinTokenTTL time.Duration
}

// ProblemKind is how serious a Problem is.
type ProblemKind int

// Kinds of problem.
const (
	Misconfigured ProblemKind = iota // exit 78
	Refused                          // exit 77: a credential known to fail (expired token)
	Warning                          // reported, not failing
)

// Problem is one thing a unit's Validate found.
type Problem struct {
	Name string // the setting at fault
	Kind ProblemKind
	Msg  string
}

// problem builds a Misconfigured Problem.
func problem(name, format string, args ...any) Problem {
	return Problem{Name: name, Msg: fmt.Sprintf(format, args...)}
}

// Validate runs the unit's own rules over s; nil when it has none.
func (u *Unit) Validate(s *Settings) []Problem {
	if u.validate == nil {
		return nil
	}
	return u.validate(s)
}

// AcceptsKey reports whether a key of shape sh may go to the unit's own
// API (its default or well-known host): its own shape, or a weak one unless
// the unit's keys always have a recognisable shape.
func (u *Unit) AcceptsKey(sh Shape) bool {
	if sh.Owner == u.Name && !sh.Unknown() {
		return true
	}
	if u.StrictShape {
		return false
	}
	return sh.Weak
}

// DisplayURL is a URL for messages: scheme, host and path only (no
// userinfo, query or fragment, which can carry a key).
func DisplayURL(u *url.URL) string {
	if u == nil {
		return ""
	}
	return (&url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path}).String()
}

// ShowName quotes a name that is not secret (an ID, a version, a model)
// for a message; a long one, which might be a misplaced key, is not shown.
func ShowName(v string) string {
	if len(v) > 64 || LooksLikeKey(v) || strings.ContainsAny(v, " \t\r\n") {
		return "(a value of " + fmt.Sprint(len(v)) + " characters, not shown)"
	}
	return fmt.Sprintf("%q", v)
}

// withArticle puts "a" or "an" before a provider name.
func withArticle(name string) string {
	if name != "" && strings.ContainsRune("AEIOU", rune(name[0])) {
		return "an " + name
	}
	return "a " + name
}

// SetHint says how to set a setting: `set NAME` or `set "field"`.
func (n Names) SetHint(name string) string {
	if n.Entry {
		return fmt.Sprintf("set %q", name)
	}
	return "set " + name
}
