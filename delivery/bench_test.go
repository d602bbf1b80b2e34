package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// BenchmarkDeliver measures deliveries per second end to end: b.N events are
// committed to one webhook, then the dispatcher sends them to a local
// receiver; the clock stops when the receiver has them all. "baseline" is a
// plain HTTP client posting the same number of requests to the same kind of
// receiver at the dispatcher's concurrency.
func BenchmarkDeliver(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(204) }))
		defer srv.Close()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		body := []byte(`{"type":"order.created","timestamp":"2026-11-23T12:00:00Z","data":{"n":1}}`)
		var next atomic.Int64
		b.ResetTimer()
		start := time.Now()
		var wg sync.WaitGroup
		for range 8 { // the dispatcher's per-endpoint cap
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= int64(b.N) {
					res, err := client.Post(srv.URL, "application/json", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					res.Body.Close()
				}
			}()
		}
		wg.Wait()
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
	})
	for _, engine := range sqltest.Engines(b) {
		b.Run(engine, func(b *testing.B) { benchDeliver(b, engine) })
	}
}

func benchDeliver(b *testing.B, engine string) {
	var got atomic.Int64
	done := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		if got.Add(1) >= int64(b.N) {
			once.Do(func() { close(done) })
		}
		rw.WriteHeader(204)
	}))
	defer srv.Close()
	h := runDispatcherB(b, engine)
	w := webhook(srv.URL)
	w.ID, w.ProjectID = hookgate.NewID(hookgate.PrefixWebhook, time.Now()), h.proj
	if err := h.store.CreateWebhook(context.Background(), w); err != nil {
		b.Fatal(err)
	}
	// Commit the events while the dispatcher waits for a wake-up that comes
	// only when all are in.
	for left := b.N; left > 0; left -= 1000 {
		in := make([]hookgate.EventInput, min(left, 1000))
		for i := range in {
			in[i] = hookgate.EventInput{Type: "order.created", Data: json.RawMessage(`{"n":1}`)}
		}
		if _, err := h.store.CreateEvents(context.Background(), h.proj, in); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	start := time.Now()
	h.start()
	select {
	case <-done:
	case <-time.After(5 * time.Minute):
		b.Fatalf("%d of %d delivered", got.Load(), b.N)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}

// BenchmarkRateLimitAtReceiver sends b.N deliveries to a webhook with a
// rateLimit of 50 a second and reports how fast they reach the receiver,
// and the most that came within any one second. These are figures, not a
// test: on a loaded machine a sender held up for a moment sends what waited
// in a bunch, and arrivals measure the machine as much as the limiter.
// TestRateLimitSpacesRequestsAndBlocksNoOne tests the limiter's decisions
// against a clock the test moves.
func BenchmarkRateLimitAtReceiver(b *testing.B) {
	for _, engine := range sqltest.Engines(b) {
		b.Run(engine, func(b *testing.B) { benchRateLimit(b, engine, 50) })
	}
}

func benchRateLimit(b *testing.B, engine string, limit int) {
	var mu sync.Mutex
	arrivals := make([]time.Time, 0, b.N)
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		if arrivals = append(arrivals, time.Now()); len(arrivals) == b.N {
			close(done)
		}
		mu.Unlock()
		rw.WriteHeader(204)
	}))
	defer srv.Close()
	h := runDispatcherB(b, engine)
	w := webhook(srv.URL)
	w.ID, w.ProjectID, w.RateLimit = hookgate.NewID(hookgate.PrefixWebhook, time.Now()), h.proj, limit
	if err := h.store.CreateWebhook(context.Background(), w); err != nil {
		b.Fatal(err)
	}
	in := make([]hookgate.EventInput, b.N)
	for i := range in {
		in[i] = hookgate.EventInput{Type: "order.created", Data: json.RawMessage(`{"n":1}`)}
	}
	if _, err := h.store.CreateEvents(context.Background(), h.proj, in); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	h.start()
	select {
	case <-done:
	case <-time.After(time.Duration(b.N/limit+60) * time.Second):
		b.Fatalf("%d of %d delivered", len(arrivals), b.N)
	}
	b.StopTimer()
	mu.Lock()
	defer mu.Unlock()
	most := 0
	for i, j := 0, 0; j < len(arrivals); j++ {
		for arrivals[j].Sub(arrivals[i]) >= time.Second {
			i++
		}
		most = max(most, j-i+1)
	}
	if n := len(arrivals); n > 1 {
		b.ReportMetric(float64(n-1)/arrivals[n-1].Sub(arrivals[0]).Seconds(), "requests/s")
	}
	b.ReportMetric(float64(most), "most-in-1s")
}
