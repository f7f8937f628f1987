package provider

import (
	"encoding/json"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxMessage bounds a provider message kept in a Result, in runes.
const maxMessage = 300

// ParseErrorBody extracts the error code and message from a provider's error
// body. It understands
//
//	OpenAI     {"error":{"message":…,"type":…,"code":… or null}}
//	Azure      {"error":{"code":…,"message":…}} and {"statusCode":401,"message":…}
//	Anthropic  {"type":"error","error":{"type":…,"message":…}}
//
// and the looser {"error":"…"}, {"message":"…"} and {"detail":"…"} of
// OpenAI-compatible servers. Anthropic's error type is its code; OpenAI's
// type stands in for a null code unless it is a broad "…_error" category
// (older insufficient_quota answers have type insufficient_quota, code null). Anything else, including
// a body that is not JSON, yields empty strings. The message is one line of
// valid UTF-8, at most 300 runes; it is not masked (callers mask it).
func ParseErrorBody(body []byte) (code, message string) {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return "", ""
	}
	if raw, ok := top["error"]; ok {
		var inner map[string]json.RawMessage
		if json.Unmarshal(raw, &inner) == nil {
			code = jsonScalar(inner["code"])
			typ := jsonScalar(inner["type"])
			_, hasCode := inner["code"]
			// Anthropic's only code is its type. OpenAI's type is a broad
			// category ("invalid_request_error") except on older quota
			// answers, whose null code leaves the type as the only clue.
			if !hasCode || code == "" && !strings.HasSuffix(typ, "_error") {
				code = typ
			}
			return oneLineMessage(code), oneLineMessage(jsonScalar(inner["message"]))
		}
		if m := jsonScalar(raw); m != "" {
			return "", oneLineMessage(m)
		}
	}
	for _, k := range []string{"message", "detail"} {
		if m := jsonScalar(top[k]); m != "" {
			return "", oneLineMessage(m)
		}
	}
	return "", ""
}

// jsonScalar renders a JSON string, number or boolean; objects, arrays, null and
// absent values give "".
func jsonScalar(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return ""
	}
	switch x := v.(type) {
	case string:
		return x
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	}
	return ""
}

// oneLineMessage collapses whitespace and control characters to single spaces,
// repairs invalid UTF-8 and cuts to maxMessage runes, so that a message fits
// one line of a report and cannot forge extra lines in a log.
func oneLineMessage(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	n := 0
	for _, c := range s {
		if unicode.IsSpace(c) || unicode.IsControl(c) || unicode.In(c, unicode.Cf, unicode.Zl, unicode.Zp) {
			space = b.Len() > 0
			continue
		}
		if n >= maxMessage {
			b.WriteString("…")
			break
		}
		if space {
			b.WriteByte(' ')
			n++
			space = false
		}
		b.WriteRune(c)
		n++
	}
	out := b.String()
	if !utf8.ValidString(out) {
		return ""
	}
	return out
}
