package awssmtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
)

// proxy forwards to moto, counting requests by operation and answering
// injected faults itself.
type proxy struct {
	next *httputil.ReverseProxy

	mu     sync.Mutex
	counts map[string]int
	faults map[string]*Fault
}

func newProxy(target string) *proxy {
	u, err := url.Parse(target)
	if err != nil {
		panic("awssmtest: bad moto URL " + target) // built by this package
	}
	return &proxy{
		next:   httputil.NewSingleHostReverseProxy(u),
		counts: make(map[string]int),
		faults: make(map[string]*Fault),
	}
}

func (p *proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	op := operation(r)
	p.mu.Lock()
	p.counts[op]++
	fault := p.faults[op]
	p.mu.Unlock()
	if fault == nil {
		p.next.ServeHTTP(w, r)
		return
	}
	body, _ := json.Marshal(map[string]string{"__type": fault.Code, "message": fault.Message})
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-Errortype", fault.Code)
	w.Header().Set("X-Amzn-Requestid", "awssmtest-fault")
	w.WriteHeader(fault.Status)
	_, _ = w.Write(body)
}

// operation names the AWS operation of r: from X-Amz-Target for JSON
// protocols (Secrets Manager), from the Action form field for query
// protocols (STS, which AssumeRole uses).
func operation(r *http.Request) string {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		return target[strings.LastIndex(target, ".")+1:]
	}
	if r.Body == nil || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return ""
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if err != nil {
		return ""
	}
	form, _ := url.ParseQuery(string(body))
	return form.Get("Action")
}

func (p *proxy) calls(op string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[op]
}

func (p *proxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.counts)
}

func (p *proxy) setFault(op string, f *Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if f == nil {
		delete(p.faults, op)
		return
	}
	p.faults[op] = f
}
