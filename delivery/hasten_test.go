package delivery_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// An endpoint whose first request was slow has the rows it has no room for
// given back due far ahead, at the speed measured then. Once it answers
// at once, it runs dry, and those rows are made due without waiting for
// their time: every row is sent while the dispatcher's clock stands still,
// well before the time any was given back due at.
func TestQuickEndpointHastensGivenBackRows(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		clk := newClock(time.Now().Add(time.Minute))
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) {
			c.BatchSize, c.PerEndpoint, c.MaxPerEndpoint = 8, 1, 1
			clocked(c, clk)
		})
		release := make(chan struct{})
		var once sync.Once
		unblock := func() { once.Do(func() { close(release) }) }
		t.Cleanup(unblock)
		// The first request takes 900 ms by the dispatcher's clock: a slow
		// start, yet under a second, so that the rows beyond a batch are
		// claimed and given back by the endpoint (not born due later by
		// the ingest). The next ones wait until released, so that the
		// endpoint's queue is full whatever the machine's speed.
		var answered atomic.Int32
		rec := newRecorder(t, 200, func() {
			if answered.Add(1) == 1 {
				clk.Advance(900 * time.Millisecond)
				return
			}
			<-release
		})
		const n = 40
		h.slowStart(t, rec.srv.URL, n)
		// One request in flight, the endpoint's room of 8 (or 7 once the
		// worker took its row) queued, the rest given back due 6 s or more
		// ahead: 8 rows ahead of them at 1.1 requests a second.
		var first time.Time
		given := 0
		testwait.For(t, "the rows beyond the endpoint's room given back due later", func() bool {
			list, _, err := h.store.ListDeliveries(context.Background(), h.proj, hookgate.DeliveryFilter{Page: hookgate.Page{Limit: 250}, Status: hookgate.DeliveryPending})
			if err != nil {
				t.Fatal(err)
			}
			given, first = 0, time.Time{}
			for _, d := range list {
				if d.NextAttemptAt.After(clk.Now().Add(5 * time.Second)) {
					given++
					if first.IsZero() || d.NextAttemptAt.Before(first) {
						first = d.NextAttemptAt
					}
				}
			}
			sending, waiting := h.disp.InFlight()
			return sending == 1 && waiting+given == n-1 && given >= n-1-8
		})
		unblock()
		testwait.For(t, "every delivery sent", func() bool { return h.status(t, hookgate.DeliverySucceeded) == n+1 })
		if now := clk.Now(); !now.Add(5 * time.Second).Before(first) {
			t.Fatalf("the clock is at %s, the first row given back was due at %s: it was not hastened", now, first)
		}
		if got := rec.count(); got != n+1 {
			t.Fatalf("the receiver got %d requests for %d deliveries", got, n+1)
		}
		// Each row seen given back was sent before its time: hastened. A
		// row is hastened at most once for each time it is given back.
		back := h.sample(t, "hookgate_delivery_spills_total", "step", "given_back", -1)
		hastened := h.sample(t, "hookgate_delivery_spills_total", "step", "hastened", -1)
		if hastened < float64(given) || hastened > back {
			t.Fatalf("hookgate_delivery_spills_total: given_back %v, hastened %v; want %d ≤ hastened ≤ given_back", back, hastened, given)
		}
	})
}

// A slow endpoint's new deliveries beyond its room are born due later, at
// its speed then (AdoptDue). Once it answers at once it runs dry, and
// those rows are made due without waiting for their time: every row is
// sent while the clocks (the dispatcher's and the store's) stand still,
// well before the time any was born due at.
func TestSlowEndpointThatSpeedsUpHastensRowsBornLater(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		clk := newClock(time.Now().Add(time.Minute))
		cfg := sqltest.Config(t, engine)
		cfg.Now = clk.Now
		h := newHarnessOn(t, sqltest.OpenConfig(t, cfg), nil, func(c *delivery.Config) {
			c.BatchSize, c.PerEndpoint, c.MaxPerEndpoint = 8, 1, 1
			clocked(c, clk)
		})
		h.stop = h.start()
		// The first request takes 1.5 s by the clock: a slow endpoint
		// (a second or more a request). The next ones answer at once.
		var answered atomic.Int32
		rec := newRecorder(t, 200, func() {
			if answered.Add(1) == 1 {
				clk.Advance(1500 * time.Millisecond)
			}
		})
		const n = 40
		h.slowStart(t, rec.srv.URL, n)
		// The endpoint's room of 8 adopted, the rest born due 1.5 s apart
		// after them: 12 s ahead and more.
		list, _, err := h.store.ListDeliveries(context.Background(), h.proj, hookgate.DeliveryFilter{Page: hookgate.Page{Limit: 250}})
		if err != nil {
			t.Fatal(err)
		}
		var first time.Time
		later := 0
		for _, d := range list {
			if d.NextAttemptAt.After(clk.Now().Add(10 * time.Second)) {
				later++
				if first.IsZero() || d.NextAttemptAt.Before(first) {
					first = d.NextAttemptAt
				}
			}
		}
		if later < n-8 {
			t.Fatalf("%d of %d deliveries born due 10 s ahead or more; want at least %d", later, n, n-8)
		}
		testwait.For(t, "every delivery sent", func() bool { return h.status(t, hookgate.DeliverySucceeded) == n+1 })
		if now := clk.Now(); !now.Add(10 * time.Second).Before(first) {
			t.Fatalf("the clock is at %s, the first row born later was due at %s: it was not hastened", now, first)
		}
		if hastened := h.sample(t, "hookgate_delivery_spills_total", "step", "hastened", -1); hastened < float64(later) {
			t.Fatalf("%v rows hastened; want at least the %d born due later", hastened, later)
		}
	})
}

// slowStart makes a webhook to url, sends one event and waits for its
// delivery (the slow first request), then sends n more.
func (h *harness) slowStart(t *testing.T, url string, n int) {
	t.Helper()
	h.webhook(t, url)
	waitRunning(t, h.disp)
	h.send(t, 1)
	testwait.For(t, "the first, slow delivery", func() bool { return h.status(t, hookgate.DeliverySucceeded) == 1 })
	h.send(t, n)
}
