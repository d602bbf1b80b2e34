package delivery_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/testwait"
)

// Issue 24, item 2: a webhook's circuit breaker, on a clock the test
// moves. The project says 4 failures and a 10s cooldown; the webhook's own
// 3 failures beat the project's, and its cooldown is the project's. Two
// failures, a success and two failures do not open it; a third failure in
// a row does. While it is open the receiver gets nothing and the deliveries
// waiting count no attempt. After the cooldown one delivery is the probe:
// it fails, and the circuit opens again for twice the cooldown; after that
// the next probe succeeds, the circuit closes, and every delivery held
// goes. circuit_opened and circuit_closed are each sent once.
func TestCircuitBreaker(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clk := newClock(time.Now().Add(time.Minute).Truncate(time.Millisecond))
		h := runDispatcher(t, engine, hookgate.Schedule{time.Hour}, func(c *delivery.Config) {
			clocked(c, clk)
			c.PerEndpoint, c.MaxPerEndpoint = 1, 1 // one request at a time: the counts are exact
		})
		p, err := h.store.FindProject(ctx, h.proj)
		if err != nil {
			t.Fatal(err)
		}
		p.Breaker = hookgate.Breaker{Failures: 4, Cooldown: 10 * time.Second}
		if err := h.store.UpdateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
		// Answers by the request's rank: 500, 500, 200, 500, 500, 500, then
		// 500 until up.
		var calls atomic.Int32
		var up atomic.Bool
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
			if n := calls.Add(1); n == 3 || up.Load() {
				return
			}
			rw.WriteHeader(http.StatusInternalServerError)
		}))
		t.Cleanup(srv.Close)
		w := h.webhookWith(t, srv.URL, func(w *hookgate.Webhook) { w.Breaker = hookgate.Breaker{Failures: 3} })
		circuit := func() *hookgate.Circuit {
			cs, err := h.store.FindCircuits(ctx, h.proj, []string{w.ID})
			if err != nil {
				t.Fatal(err)
			}
			if c := cs[w.ID]; c != nil {
				return c
			}
			return &hookgate.Circuit{State: hookgate.CircuitClosed}
		}

		first := h.send(t, 5)
		testwait.For(t, "5 attempts recorded", func() bool {
			for _, ev := range first {
				d, err := h.store.FindDelivery(ctx, h.proj, hookgate.DeliveryID(ev.ID, w.ID))
				if err != nil || d.Attempts != 1 {
					return false
				}
			}
			return circuit().Failures == 2
		})
		if c := circuit(); c.State != hookgate.CircuitClosed || c.Failures != 2 {
			t.Fatalf("after 500, 500, 200, 500, 500: %+v; want closed with 2 failures", c)
		}
		h.send(t, 1)
		testwait.For(t, "the circuit open", func() bool { return circuit().State == hookgate.CircuitOpen })
		opened := circuit()
		if opened.Failures != 3 || opened.Cooldown != 10*time.Second {
			t.Fatalf("opened: %+v; want 3 failures, the project's cooldown of 10s", opened)
		}

		// Open: nothing is sent, no attempt counted.
		held := h.send(t, 4)
		testwait.For(t, "the new deliveries held until the probe", func() bool {
			for _, ev := range held {
				d, err := h.store.FindDelivery(ctx, h.proj, hookgate.DeliveryID(ev.ID, w.ID))
				if err != nil || d.Status != hookgate.DeliveryPending || d.Attempts != 0 || d.NextAttemptAt.Before(opened.NextProbeAt) {
					return false
				}
			}
			return true
		})
		if n := calls.Load(); n != 6 {
			t.Fatalf("the receiver got %d requests, want 6: none while the circuit is open", n)
		}

		// The cooldown is over: one probe, which fails.
		clk.Advance(opened.NextProbeAt.Sub(clk.Now()))
		h.disp.Wake()
		testwait.For(t, "the failed probe recorded", func() bool {
			c := circuit()
			return c.State == hookgate.CircuitOpen && c.Cooldown == 20*time.Second
		})
		reopened := circuit()
		if n := calls.Load(); n != 7 {
			t.Fatalf("the receiver got %d requests, want 7: one probe", n)
		}
		if want := clk.Now().Add(20 * time.Second); !reopened.NextProbeAt.Equal(want) {
			t.Fatalf("next probe at %s, want %s: twice the cooldown", reopened.NextProbeAt, want)
		}

		// The next probe succeeds: closed, and the held deliveries go (the
		// first probe's delivery waits for its retry, an hour later).
		up.Store(true)
		clk.Advance(20 * time.Second)
		h.disp.Wake()
		testwait.For(t, "the held deliveries delivered", func() bool {
			n := 0
			for _, ev := range held {
				d, err := h.store.FindDelivery(ctx, h.proj, hookgate.DeliveryID(ev.ID, w.ID))
				if err == nil && d.Status == hookgate.DeliverySucceeded && d.Attempts == 1 {
					n++
				}
			}
			return n == 3
		})
		if c := circuit(); c.State != hookgate.CircuitClosed || c.Failures != 0 {
			t.Fatalf("after a good probe: %+v", c)
		}
		if n := calls.Load(); n != 10 {
			t.Fatalf("the receiver got %d requests, want 10: the failed probe, then the 3 others held once each", n)
		}
		for typ, want := range map[string]int{hookgate.EventCircuitOpened: 1, hookgate.EventCircuitClosed: 1} {
			var evs []*hookgate.Event
			testwait.For(t, typ, func() bool {
				evs, _, _ = h.store.ListEvents(ctx, h.proj, hookgate.EventFilter{Type: typ})
				return len(evs) >= want
			})
			var data map[string]any
			if len(evs) != want || json.Unmarshal(evs[0].Data, &data) != nil || data["webhookId"] != w.ID {
				t.Fatalf("%s events: %d, data %s", typ, len(evs), evs[0].Data)
			}
		}
	})
}
