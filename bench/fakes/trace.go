package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// tracer records the requests the latency world's fakes receive, each when
// it arrives (before its latency), so that a timeline shows which request
// waited for which: requests sent together arrive together, and a request
// sent after another's answer arrives one latency later. A nil tracer
// records nothing (the zero-latency world).
type tracer struct {
	mu     sync.Mutex
	events []event
}

type event struct {
	at           time.Time
	server, what string
}

func (t *tracer) add(server, what string) {
	if t == nil {
		return
	}
	t.mu.Lock()
	t.events = append(t.events, event{time.Now(), server, what})
	t.mu.Unlock()
}

// ServeHTTP answers GET /trace with the timeline since the last one, in
// milliseconds after its first request, and starts a new one.
func (t *tracer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/trace" {
		http.NotFound(w, r)
		return
	}
	t.mu.Lock()
	events := t.events
	t.events = nil
	t.mu.Unlock()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	for _, e := range events {
		fmt.Fprintf(w, "%7.1f ms  %-9s %s\n", float64(e.at.Sub(events[0].at).Microseconds())/1000, e.server, e.what)
	}
}

// wrapAWS records each request to the AWS proxy by its operation
// (X-Amz-Target for Secrets Manager, the Action field for STS).
func (t *tracer) wrapAWS(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if t != nil {
			t.add("aws", awsOperation(r))
		}
		next.ServeHTTP(w, r)
	})
}

func awsOperation(r *http.Request) string {
	if target := r.Header.Get("X-Amz-Target"); target != "" {
		return target[strings.LastIndex(target, ".")+1:]
	}
	if r.Body == nil {
		return r.Method + " " + r.URL.Path
	}
	body, _ := io.ReadAll(r.Body)
	r.Body.Close()
	r.Body = io.NopCloser(bytes.NewReader(body))
	if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
		return "sts:" + form.Get("Action")
	}
	return r.Method + " " + r.URL.Path
}
