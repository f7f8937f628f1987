package providertest

import (
	"encoding/json"
	"github.com/keyexec/keyexec/sources"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// defaultHugeSize is the HugeBody size when Key.Size is zero.
const defaultHugeSize = 50 << 20

// faults is how one provider words the failure modes every kind shares.
// Each kind builds one; mode does the rest (Times counting, transport
// faults), so a new provider writes only its bodies.
type faults struct {
	reject    func(w http.ResponseWriter, cred string) // InvalidKey: as for an unknown key
	noQuota   func(w http.ResponseWriter)
	rateLimit func(w http.ResponseWriter, retryAfter string)
	forbidden func(w http.ResponseWriter)
	server    func(w http.ResponseWriter, status int)
	// quotaOnChat: NoQuota shows only on generation requests; listings and
	// key info answer 200, as real providers do (a key without credit
	// still lists models).
	quotaOnChat bool
	// noRetryAfter: the provider puts the delay in the body only (Google).
	noRetryAfter bool
}

// readSmall reads up to 64 KiB of a request body for the log.
func readSmall(r *http.Request) string {
	if r.Body == nil {
		return ""
	}
	b, _ := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	return string(b)
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	b, _ := json.Marshal(body)
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// oaiError writes OpenAI's error object {"error":{message,type,param,code}};
// an empty param or code is null, as OpenAI sends them.
func oaiError(w http.ResponseWriter, status int, msg, typ, param, code string) {
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "param": nullable(param), "code": nullable(code)}})
}

// nullable is nil for "" so it marshals as JSON null.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
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

// mode answers for the credential's Mode and reports whether it did; false
// means "carry on with the normal answer". chat says the request asks for
// generation (see faults.quotaOnChat).
func (s *Server) mode(w http.ResponseWriter, r *http.Request, cred string, k Key, f faults, chat bool) bool {
	switch k.Mode {
	case InvalidKey, ExpiredToken, NoIdentity:
		f.reject(w, cred)
	case EchoKey:
		// obs: LiteLLM proxy's answer to a wrong virtual key (BerriAI/litellm
		// issues), the gateway keyexec must never echo back.
		oaiError(w, http.StatusUnauthorized, "Authentication Error, Invalid proxy server token passed. Received API Key = "+cred+", Key Hash (Token) = none",
			"invalid_request_error", "", "invalid_api_key")
	case NoOrganization:
		if s.Kind != OpenAI {
			f.reject(w, cred)
			return true
		}
		oaiError(w, http.StatusUnauthorized, "You must be a member of an organization to use the API. Please contact us through our help center at help.openai.com.",
			"invalid_request_error", "", "no_organization")
	case NoQuota:
		if f.quotaOnChat && !chat {
			return false
		}
		f.noQuota(w)
	case RateLimited, ServerError:
		return s.transient(w, cred, k, f)
	case Forbidden, PermissionDenied:
		f.forbidden(w)
	default:
		return s.transport(w, r, k)
	}
	return true
}

// transient answers the Times-limited modes: a failure while the key has
// failures left, then the normal answer.
func (s *Server) transient(w http.ResponseWriter, cred string, k Key, f faults) bool {
	if !s.failing(cred, k) {
		return false
	}
	if k.Mode == ServerError {
		status := k.Status
		if status == 0 {
			status = http.StatusInternalServerError
		}
		f.server(w, status)
		return true
	}
	ra := k.RetryAfter
	if ra == "" {
		ra = "1"
	}
	if !f.noRetryAfter {
		w.Header().Set("Retry-After", ra)
	}
	f.rateLimit(w, ra)
	return true
}

// transport answers the modes that are about the HTTP exchange itself and
// read the same for every provider.
func (s *Server) transport(w http.ResponseWriter, r *http.Request, k Key) bool {
	switch k.Mode {
	case Slow:
		return !sources.Sleep(r.Context(), k.Delay) // then the normal answer
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
	case Unreachable:
		// Nothing written: the server closes the connection, which the
		// client sees as EOF / connection reset, as for a dead endpoint.
		panic(http.ErrAbortHandler)
	default:
		return false
	}
	return true
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

// bearer splits an Authorization header: the credential after "Bearer "
// and whether any Authorization header was sent at all.
func bearer(r *http.Request) (cred string, present bool) {
	h, present := r.Header["Authorization"]
	if !present || len(h) == 0 {
		return "", false
	}
	cred, _ = strings.CutPrefix(h[0], "Bearer ")
	if cred == h[0] {
		return "", true // not Bearer auth
	}
	return strings.TrimSpace(cred), true
}
