package sources

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{" 7 ", 7 * time.Second, true},
		{"Thu, 02 Jan 2025 03:04:15 GMT", 10 * time.Second, true},
		{"Thu, 02 Jan 2025 03:04:00 GMT", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			got, ok := RetryAfter(tc.in, now)
			if got != tc.want || ok != tc.ok {
				t.Errorf("got %v %v, want %v %v", got, ok, tc.want, tc.ok)
			}
		})
	}
}

func TestBackoffAndNextWait(t *testing.T) {
	t.Parallel()
	for n := 1; n < 12; n++ {
		for range 50 {
			if d := Backoff(n); d <= 0 || d > backoffCap+time.Millisecond || n == 1 && d > backoffBase+time.Millisecond {
				t.Fatalf("backoff(%d) = %v", n, d)
			}
		}
	}
	now := time.Now()
	if _, ok := NextWait(1, "30", now.Add(5*time.Second), now); ok {
		t.Error("a Retry-After past the deadline was honoured")
	}
	if d, ok := NextWait(1, "2", now.Add(5*time.Second), now); !ok || d != 2*time.Second {
		t.Errorf("Retry-After 2 within the deadline: %v %v", d, ok)
	}
	if _, ok := NextWait(3, "", now.Add(time.Millisecond), now); ok {
		t.Error("a wait past the deadline was allowed")
	}
}
