package providertest

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// defaultHugeSize is the HugeBody size when Key.Size is zero.
const defaultHugeSize = 50 << 20

// readSmall reads up to 64 KiB of a request body for the log.
func readSmall(r *http.Request) string {
	if r.Body == nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	return string(b)
}

// fail writes an error in the provider's own format: OpenAI
// {"error":{message,type,param,code}} (code "" is null), Azure
// {"error":{code,message}}, Anthropic {"type":"error","error":{type,message}}
// (code is the error type).
func (s *Server) fail(w http.ResponseWriter, status int, typ, code, msg string) {
	var body any
	switch s.Kind {
	case Azure:
		body = map[string]any{"error": map[string]any{"code": code, "message": msg}}
	case Anthropic:
		body = map[string]any{"type": "error", "error": map[string]any{"type": code, "message": msg}}
	default:
		var c any
		if code != "" {
			c = code
		}
		body = map[string]any{"error": map[string]any{"message": msg, "type": typ, "param": nil, "code": c}}
	}
	writeJSON(w, status, body)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// truncatedKey is how OpenAI echoes a wrong key: its prefix, stars and the
// last four characters.
func truncatedKey(key string) string {
	prefix := ""
	if i := strings.IndexAny(key, "-_"); i >= 0 && i < 12 {
		prefix = key[:i+1]
	}
	tail := ""
	if len(key) > 8 {
		tail = key[len(key)-4:]
	}
	return prefix + strings.Repeat("*", 20) + tail
}

// reject answers a credential the provider does not know.
func (s *Server) reject(w http.ResponseWriter, cred string, token bool) {
	switch s.Kind {
	case Azure:
		if token {
			writeJSON(w, http.StatusUnauthorized, map[string]any{"statusCode": 401,
				"message": "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired."})
			return
		}
		s.fail(w, http.StatusUnauthorized, "", "401", "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.")
	case Anthropic:
		s.fail(w, http.StatusUnauthorized, "", "authentication_error", "invalid x-api-key")
	default:
		if cred == "" {
			s.fail(w, http.StatusUnauthorized, "invalid_request_error", "", "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.")
			return
		}
		s.fail(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
			"Incorrect API key provided: "+truncatedKey(cred)+". You can find your API key at https://platform.openai.com/account/api-keys.")
	}
}

// mode answers for the credential's Mode and reports whether it did; false
// means "carry on with the normal answer".
func (s *Server) mode(w http.ResponseWriter, r *http.Request, cred string, token bool, k Key) bool {
	switch k.Mode {
	case InvalidKey:
		s.reject(w, cred, token)
	case EchoKey:
		s.fail(w, http.StatusUnauthorized, "invalid_request_error", "invalid_api_key",
			"Authentication Error, Invalid proxy server token passed. Received API Key = "+cred+", Key Hash (Token) = none")
	case NoOrganization:
		if s.Kind != OpenAI {
			s.reject(w, cred, token)
			return true
		}
		s.fail(w, http.StatusUnauthorized, "invalid_request_error", "no_organization",
			"You must be a member of an organization to use the API. Please contact us through our help center at help.openai.com.")
	case NoQuota:
		s.noQuota(w)
	case RateLimited:
		if !s.failing(cred, k) {
			return false
		}
		ra := k.RetryAfter
		if ra == "" {
			ra = "1"
		}
		w.Header().Set("Retry-After", ra)
		switch s.Kind {
		case Azure:
			s.fail(w, http.StatusTooManyRequests, "", "429", "Requests to the ChatCompletions_Create Operation have exceeded call rate limit. Please retry after "+ra+" seconds.")
		case Anthropic:
			s.fail(w, http.StatusTooManyRequests, "", "rate_limit_error", "Number of requests has exceeded your rate limit.")
		default:
			s.fail(w, http.StatusTooManyRequests, "requests", "rate_limit_exceeded", "Rate limit reached for requests. Please try again in "+ra+"s.")
		}
	case Forbidden:
		switch s.Kind {
		case Azure:
			s.fail(w, http.StatusForbidden, "", "403", "Public access is disabled. Please configure private endpoint.")
		case Anthropic:
			s.fail(w, http.StatusForbidden, "", "forbidden", "Request not allowed")
		default:
			s.fail(w, http.StatusForbidden, "request_forbidden", "unsupported_country_region_territory", "Country, region, or territory not supported")
		}
	case ServerError:
		if !s.failing(cred, k) {
			return false
		}
		status := k.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		switch s.Kind {
		case Azure:
			s.fail(w, status, "", "InternalServerError", "The service is temporarily unable to process your request. Please try again later.")
		case Anthropic:
			s.fail(w, status, "", "api_error", "Internal server error")
		default:
			s.fail(w, status, "server_error", "", "The server had an error while processing your request. Sorry about that!")
		}
	case Slow:
		return !wait(r, k.Delay) // then the normal answer
	case Redirect:
		w.Header().Set("Location", k.Location)
		w.WriteHeader(http.StatusTemporaryRedirect)
	case HugeBody:
		s.huge(w, k.Size)
	case Truncated:
		full := `{"object":"list","data":[{"id":"gpt-4o-mini","object":"model","created":1721172741,"owned_by":"system"}]}`
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", strconv.Itoa(len(full)))
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, full[:len(full)/2])
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler) // cuts the connection mid-body
	case NotJSON:
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = io.WriteString(w, "<!doctype html><html><head><title>Sign in</title></head><body>Please sign in to continue.</body></html>")
	default:
		return false
	}
	return true
}

// noQuota answers an account without quota or credit.
func (s *Server) noQuota(w http.ResponseWriter) {
	switch s.Kind {
	case Azure:
		s.fail(w, http.StatusTooManyRequests, "", "InsufficientQuota", "The resource has insufficient quota for this operation.")
	case Anthropic:
		s.fail(w, http.StatusBadRequest, "", "invalid_request_error", "Your credit balance is too low to access the Anthropic API. Please go to Plans & Billing to upgrade or purchase credits.")
	default:
		s.fail(w, http.StatusTooManyRequests, "insufficient_quota", "insufficient_quota",
			"You exceeded your current quota, please check your plan and billing details. For more information on this error, read the docs: https://platform.openai.com/docs/guides/error-codes/api-errors.")
	}
}

// huge streams size bytes of a valid JSON model list padded with spaces,
// stopping as soon as the client hangs up.
func (s *Server) huge(w http.ResponseWriter, size int64) {
	if size <= 0 {
		size = defaultHugeSize
	}
	head := []byte(`{"object":"list","data":[`)
	tail := []byte(`]}`)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
	w.WriteHeader(http.StatusOK)
	chunk := make([]byte, 32<<10)
	for i := range chunk {
		chunk[i] = ' '
	}
	left := size - int64(len(head)) - int64(len(tail))
	write := func(b []byte) bool {
		n, err := w.Write(b)
		s.mu.Lock()
		s.bodyBytes += int64(n)
		s.mu.Unlock()
		return err == nil
	}
	if !write(head) {
		return
	}
	for left > 0 {
		n := min(left, int64(len(chunk)))
		if !write(chunk[:n]) {
			return
		}
		left -= n
	}
	write(tail)
}
