package client

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// A 429 or 503 is retried after its Retry-After, or with backoff without
// one; other errors and waits beyond the cap are returned at once.
func TestRetries(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name       string
		answers    []int  // statuses answered in turn; the last repeats
		retryAfter string // on every error answer
		retries    int
		wantCalls  int
		wantErr    int // the status of the returned error; 0 for success
		wantWaits  []time.Duration
	}{
		{"429 then ok", []int{429, 200}, "2", 3, 2, 0, []time.Duration{2 * time.Second}},
		{"503 twice then ok", []int{503, 503, 200}, "1", 3, 3, 0, []time.Duration{time.Second, time.Second}},
		{"gives up after the retries", []int{503}, "1", 2, 3, 503, []time.Duration{time.Second, time.Second}},
		{"no retries", []int{429}, "1", 0, 1, 429, nil},
		{"400 is not retried", []int{400}, "", 3, 1, 400, nil},
		{"500 is not retried", []int{500}, "1", 3, 1, 500, nil},
		{"Retry-After beyond the cap", []int{429}, "3600", 3, 1, 429, nil},
		{"an HTTP date", []int{503, 200}, "date", 3, 2, 0, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := int(calls.Add(1)) - 1
				st := tc.answers[min(n, len(tc.answers)-1)]
				if st == 200 {
					w.Header().Set("Content-Type", "application/json")
					_, _ = w.Write([]byte(`{"id":"prj_1","name":"x","slug":"x","retrySchedule":[]}`))
					return
				}
				switch tc.retryAfter {
				case "":
				case "date":
					w.Header().Set("Retry-After", time.Now().Add(10*time.Second).UTC().Format(http.TimeFormat))
				default:
					w.Header().Set("Retry-After", tc.retryAfter)
				}
				w.Header().Set("Content-Type", "application/problem+json")
				w.WriteHeader(st)
				_, _ = w.Write([]byte(`{"type":"about:blank","title":"Slow down","status":429,"detail":"too many","code":"rate_limited","errorId":"e1"}`))
			}))
			defer srv.Close()
			c, err := New(srv.URL, "k", WithRetries(tc.retries), WithMaxWait(time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			var waits []time.Duration
			c.sleep = func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil }
			p, err := c.GetProject(context.Background(), "x")
			if got := int(calls.Load()); got != tc.wantCalls {
				t.Fatalf("%d calls, want %d", got, tc.wantCalls)
			}
			if tc.wantErr == 0 {
				if err != nil || p.ID != "prj_1" {
					t.Fatalf("GetProject = %+v, %v", p, err)
				}
			} else {
				var e *Error
				if !errors.As(err, &e) || e.Status != tc.wantErr || e.Code != CodeRateLimited || e.Title != "Slow down" {
					t.Fatalf("err = %#v, want status %d", err, tc.wantErr)
				}
			}
			if tc.retryAfter == "date" {
				if len(waits) != 1 || waits[0] < 8*time.Second || waits[0] > 10*time.Second {
					t.Fatalf("waits = %v, want about 10s", waits)
				}
				return
			}
			if len(waits) != len(tc.wantWaits) {
				t.Fatalf("waits = %v, want %v", waits, tc.wantWaits)
			}
			for i := range waits {
				if waits[i] != tc.wantWaits[i] {
					t.Fatalf("waits = %v, want %v", waits, tc.wantWaits)
				}
			}
		})
	}
}

// Without Retry-After the waits grow and stay jittered within [d/2, d].
func TestBackoff(t *testing.T) {
	t.Parallel()
	for attempt := range 8 {
		d := 500 * time.Millisecond << min(attempt, 6)
		for range 50 {
			if got := backoff(attempt); got < d/2 || got > d {
				t.Fatalf("backoff(%d) = %v, want within [%v, %v]", attempt, got, d/2, d)
			}
		}
	}
}

// A cancelled context ends the wait, and the error says both.
func TestRetryWaitCancelled(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "30")
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	c, err := New(srv.URL, "k")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	waiting := make(chan struct{})
	c.sleep = func(ctx context.Context, d time.Duration) error {
		close(waiting)
		return sleepCtx(ctx, d)
	}
	go func() { <-waiting; cancel() }()
	start := time.Now()
	_, err = c.GetProject(ctx, "x")
	var e *Error
	if !errors.Is(err, context.Canceled) || !errors.As(err, &e) || e.Status != 503 || e.RetryAfter != 30*time.Second {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 10*time.Second {
		t.Fatal("the wait did not end with the context")
	}
}
