package awssmtest

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Proxy stands in front of moto (Secrets Manager and STS, which moto serves
// on one port): it counts requests by AWS operation, can add a fixed latency
// to every answer, hold requests until several are in flight, and answer
// injected faults itself. It is an http.Handler, so a benchmark outside go
// test can serve it with httptest.NewServer in front of its own moto.
type Proxy struct {
	next *httputil.ReverseProxy
	done chan struct{} // closed by Close: ends every wait

	mu      sync.Mutex
	closed  bool
	counts  map[string]int
	log     []string      // operations in arrival order
	changed chan struct{} // closed and replaced on every count
	faults  map[string]*Fault
	latency time.Duration
	gate    *gate
}

// gate holds requests until n of them are in flight.
type gate struct {
	n       int
	arrived int
	open    chan struct{}
}

// NewProxy returns a Proxy that forwards to target, moto's URL.
func NewProxy(target string) (*Proxy, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("awssmtest: moto URL %q is not a URL", target)
	}
	return &Proxy{
		next:    httputil.NewSingleHostReverseProxy(u),
		done:    make(chan struct{}),
		counts:  make(map[string]int),
		changed: make(chan struct{}),
		faults:  make(map[string]*Fault),
	}, nil
}

// ServeHTTP counts r, waits as SetLatency and Gate ask, then answers the
// injected fault for r's operation or forwards r to moto.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op, query := operation(r)
	p.mu.Lock()
	p.counts[op]++
	p.log = append(p.log, op)
	close(p.changed)
	p.changed = make(chan struct{})
	fault, latency, open := p.faults[op], p.latency, p.arrive()
	p.mu.Unlock()
	// A waiting request ends with its client (a cancelled call) or with
	// Close, so that httptest.Server.Close, which waits for every request,
	// never waits for a latency meant to outlast the test.
	if !p.wait(r.Context(), open) || !p.sleep(r.Context(), latency) {
		http.Error(w, "awssmtest: proxy closed", http.StatusServiceUnavailable)
		return
	}
	if fault == nil {
		p.next.ServeHTTP(w, r)
		return
	}
	fault.write(w, query)
}

// write answers f as AWS would: a JSON error for JSON protocols (Secrets
// Manager), an XML ErrorResponse for query protocols (STS).
func (f *Fault) write(w http.ResponseWriter, query bool) {
	w.Header().Set("X-Amzn-Requestid", "awssmtest-fault")
	if query {
		var b bytes.Buffer
		b.WriteString("<ErrorResponse><Error><Type>Sender</Type><Code>")
		_ = xml.EscapeText(&b, []byte(f.Code))
		b.WriteString("</Code><Message>")
		_ = xml.EscapeText(&b, []byte(f.Message))
		b.WriteString("</Message></Error><RequestId>awssmtest-fault</RequestId></ErrorResponse>")
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(f.Status)
		_, _ = w.Write(b.Bytes())
		return
	}
	body, _ := json.Marshal(map[string]string{"__type": f.Code, "message": f.Message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", f.Code)
	w.WriteHeader(f.Status)
	_, _ = w.Write(body)
}

// arrive counts a request into the gate, if one is set, and returns the
// channel that opens it; nil when no gate holds requests. Called with p.mu
// held.
func (p *Proxy) arrive() <-chan struct{} {
	g := p.gate
	if g == nil {
		return nil
	}
	g.arrived++
	if g.arrived == g.n {
		close(g.open)
		p.gate = nil // later requests pass
	}
	return g.open
}

func (p *Proxy) wait(ctx context.Context, open <-chan struct{}) bool {
	if open == nil {
		return true
	}
	select {
	case <-open:
		return true
	case <-ctx.Done():
	case <-p.done:
	}
	return false
}

func (p *Proxy) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
	case <-p.done:
	}
	return false
}

// operation names the AWS operation of r: from X-Amz-Target for JSON
// protocols (Secrets Manager), from the Action form field for query
// protocols (STS: AssumeRole, AssumeRoleWithWebIdentity). Anything else,
// such as an instance metadata request, is "". query reports a query
// protocol, whose errors are XML.
func operation(r *http.Request) (op string, query bool) {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		return target[strings.LastIndex(target, ".")+1:], false
	}
	if r.Body == nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return "", false
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return "", true
	}
	form, _ := url.ParseQuery(string(body))
	return form.Get("Action"), true
}

// Calls returns how many requests for op ("GetSecretValue",
// "BatchGetSecretValue", "AssumeRole", …; "" for requests that are no AWS
// operation) reached the proxy, including retries and injected failures.
func (p *Proxy) Calls(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[op]
}

// Counts returns every operation's count, for a test that asserts nothing
// else was asked (no instance metadata, no second STS call).
func (p *Proxy) Counts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.counts)
}

// Requests lists the operations of every request in the order they
// arrived, for a test that asserts what came before the first Secrets
// Manager call.
func (p *Proxy) Requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.log)
}

// ResetCalls sets every counter back to zero and empties Requests.
func (p *Proxy) ResetCalls() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.counts)
	p.log = nil
}

// WaitCalls blocks until op was counted at least n times, or ctx ends: a
// test that must act while a call is in flight (a stop during a slow call)
// waits for it this way instead of sleeping.
func (p *Proxy) WaitCalls(ctx context.Context, op string, n int) error {
	for {
		p.mu.Lock()
		got, changed := p.counts[op], p.changed
		p.mu.Unlock()
		if got >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("awssmtest: %d %s requests, waiting for %d: %w", got, op, n, context.Cause(ctx))
		}
	}
}

// SetLatency delays every answer by d (0: none), as a distant region
// would. A request cancelled by its client stops waiting.
func (p *Proxy) SetLatency(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.latency = d
}

// Gate holds the next n requests until all n have arrived, then lets them
// and every later one through. Calls made one after another never get
// there, so a test that fetches with a deadline proves that n calls were in
// flight together without timing anything.
func (p *Proxy) Gate(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.gate != nil {
		close(p.gate.open) // an unfilled gate lets its waiters go
	}
	p.gate = nil
	if n > 1 {
		p.gate = &gate{n: n, open: make(chan struct{})}
	}
}

// Close ends every wait of SetLatency and Gate; the requests waiting fail
// with a 503. Forwarding goes on.
func (p *Proxy) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.closed {
		p.closed = true
		close(p.done)
	}
}

// Fail makes the proxy answer every op request with f; a nil f forwards
// them to moto again.
func (p *Proxy) Fail(op string, f *Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f == nil {
		delete(p.faults, op)
		return
	}
	p.faults[op] = f
}

// DenyBatch makes the proxy answer BatchGetSecretValue with an
// AccessDeniedException (as AWS does when the policy lacks
// secretsmanager:BatchGetSecretValue), or stops doing so.
func (p *Proxy) DenyBatch(deny bool) {
	if !deny {
		p.Fail("BatchGetSecretValue", nil)
		return
	}
	p.Fail("BatchGetSecretValue", &Fault{
		Status:  400,
		Code:    "AccessDeniedException",
		Message: "User: arn:aws:iam::" + AccountID + ":user/awssmtest is not authorized to perform: secretsmanager:BatchGetSecretValue because no identity-based policy allows the secretsmanager:BatchGetSecretValue action",
	})
}

// Fault is an AWS JSON error the proxy answers instead of forwarding.
type Fault struct {
	Status  int    // HTTP status, such as 400 or 503
	Code    string // the __type, such as "ThrottlingException"
	Message string
}
