package provider

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Claims are the parts of an Entra ID access token keyexec reads: who it is
// for (audience), until when, and which principal it names. They are read
// without verifying the signature, which only the resource can do.
type Claims struct {
	Audience string
	Expires  time.Time
	ObjectID string // oid
	AppID    string // appid (v1 tokens) or azp (v2)
	UPN      string // upn, or preferred_username
	Name     string
	TenantID string
}

// Principal names the identity for hints: "user ada@example.com (object
// id …)" or "application 1a2b… (object id …)". No part of a token's secret
// material is in it: these are directory identifiers.
func (c Claims) Principal() string {
	switch {
	case c.UPN != "":
		return fmt.Sprintf("user %s (object id %s)", c.UPN, c.ObjectID)
	case c.AppID != "":
		return fmt.Sprintf("application %s (object id %s)", c.AppID, c.ObjectID)
	case c.ObjectID != "":
		return "principal " + c.ObjectID
	}
	return "the identity"
}

// TokenClaims decodes the claims of a JWT access token (the middle of its
// three base64url parts). The error says what the value is not, never what
// it holds.
func TokenClaims(tok string) (Claims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || !strings.HasPrefix(parts[0], "eyJ") || parts[1] == "" {
		return Claims{}, errors.New("not a JWT (three base64url parts, starting eyJ…)")
	}
	for _, p := range parts {
		if !allBytes(p, func(c byte) bool { return IsWordDash(c) || c == '=' }) {
			return Claims{}, errors.New("not a JWT: a part holds characters outside base64url")
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return Claims{}, errors.New("not a JWT: its claims are not base64url")
	}
	var c struct {
		Aud     json.RawMessage `json:"aud"`
		Exp     json.Number     `json:"exp"`
		Oid     string          `json:"oid"`
		AppID   string          `json:"appid"`
		Azp     string          `json:"azp"`
		UPN     string          `json:"upn"`
		PrefUsr string          `json:"preferred_username"`
		Name    string          `json:"name"`
		Tid     string          `json:"tid"`
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		return Claims{}, errors.New("not a JWT: its claims are not a JSON object")
	}
	out := Claims{ObjectID: c.Oid, AppID: c.AppID, UPN: c.UPN, Name: c.Name, TenantID: c.Tid}
	if out.AppID == "" {
		out.AppID = c.Azp
	}
	if out.UPN == "" {
		out.UPN = c.PrefUsr
	}
	// aud is a string or a list of strings (RFC 7519 §4.1.3).
	var aud string
	var auds []string
	if json.Unmarshal(c.Aud, &aud) == nil {
		out.Audience = aud
	} else if json.Unmarshal(c.Aud, &auds) == nil && len(auds) > 0 {
		out.Audience = auds[0]
	}
	if c.Exp != "" {
		f, err := c.Exp.Float64()
		if err != nil {
			return Claims{}, errors.New("not a JWT: exp is not a number")
		}
		out.Expires = time.Unix(int64(f), 0)
	}
	return out, nil
}
