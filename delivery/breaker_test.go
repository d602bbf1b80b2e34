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
	"github.com/hookgate/hookgate/destinations/all"
	"github.com/hookgate/hookgate/internal/testlog"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 24, item 2: a webhook's circuit breaker, on a clock the test
// moves. The project says 4 failures and a 10s cooldown; the webhook's own
// 3 failures beat the project's, and its cooldown is the project's. Two
// failures (500), a success and two failures do not open it; nor do a 400
// (the receiver is up: not a failure for the breaker, which counts no
// answer, 5xx and 429) and two more; a third failure in a row (a 429)
// does. While it is open the receiver gets nothing and the deliveries
// waiting count no attempt. After the cooldown one delivery is the probe:
// it fails, and the circuit opens again for twice the cooldown, and so on
// up to 10 minutes; then a probe succeeds, the circuit closes, and every
// delivery held goes. circuit_opened and circuit_closed are each sent
// once. (Retries wait a day: none comes due meanwhile.)
func TestCircuitBreaker(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clk := newClock(time.Now().Add(time.Minute).Truncate(time.Millisecond))
		h := runDispatcher(t, engine, hookgate.Schedule{24 * time.Hour}, func(c *delivery.Config) {
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
		// Answers by the request's rank: 500, 500, 200, 500, 500, 400, 500,
		// 500, 429, then 500 until up.
		var calls atomic.Int32
		var up atomic.Bool
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
			switch n := calls.Add(1); {
			case n == 3 || up.Load():
			case n == 6:
				rw.WriteHeader(http.StatusBadRequest)
			case n == 9:
				rw.WriteHeader(http.StatusTooManyRequests)
			default:
				rw.WriteHeader(http.StatusInternalServerError)
			}
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

		// One at a time, each recorded before the next is sent: the count
		// follows the order in which outcomes are recorded.
		sendOne := func() {
			t.Helper()
			id := hookgate.DeliveryID(h.send(t, 1)[0].ID, w.ID)
			testwait.For(t, "the attempt recorded", func() bool {
				d, err := h.store.FindDelivery(ctx, h.proj, id)
				return err == nil && d.Attempts == 1
			})
		}
		for range 8 {
			sendOne()
		}
		testwait.For(t, "the circuit's count", func() bool { return circuit().Failures == 2 })
		if c := circuit(); c.State != hookgate.CircuitClosed || c.Failures != 2 {
			t.Fatalf("after 500, 500, 200, 500, 500, 400, 500, 500: %+v; want closed with 2 failures", c)
		}
		sendOne()
		testwait.For(t, "the circuit open", func() bool { return circuit().State == hookgate.CircuitOpen })
		opened := circuit()
		if opened.Failures != 3 || opened.Cooldown != 10*time.Second {
			t.Fatalf("opened: %+v; want 3 failures, the project's cooldown of 10s", opened)
		}

		// Open: nothing is sent, no attempt counted.
		held := h.send(t, 10)
		testwait.For(t, "the new deliveries held until the probe", func() bool {
			for _, ev := range held {
				d, err := h.store.FindDelivery(ctx, h.proj, hookgate.DeliveryID(ev.ID, w.ID))
				if err != nil || d.Status != hookgate.DeliveryPending || d.Attempts != 0 || d.NextAttemptAt.Before(opened.NextProbeAt) {
					return false
				}
			}
			return true
		})
		if n := calls.Load(); n != 9 {
			t.Fatalf("the receiver got %d requests, want 9: none while the circuit is open", n)
		}

		// The cooldown is over: one probe, which fails.
		clk.Advance(opened.NextProbeAt.Sub(clk.Now()))
		h.disp.Wake()
		testwait.For(t, "the failed probe recorded", func() bool {
			c := circuit()
			return c.State == hookgate.CircuitOpen && c.Cooldown == 20*time.Second
		})
		reopened := circuit()
		if n := calls.Load(); n != 10 {
			t.Fatalf("the receiver got %d requests, want 10: one probe", n)
		}
		if want := clk.Now().Add(20 * time.Second); !reopened.NextProbeAt.Equal(want) {
			t.Fatalf("next probe at %s, want %s: twice the cooldown", reopened.NextProbeAt, want)
		}

		// Each failed probe doubles the cooldown, up to 10 minutes.
		for i, want := range []time.Duration{40 * time.Second, 80 * time.Second, 160 * time.Second, 320 * time.Second, 10 * time.Minute, 10 * time.Minute} {
			clk.Advance(circuit().NextProbeAt.Sub(clk.Now()))
			h.disp.Wake()
			testwait.For(t, "failed probe "+want.String(), func() bool {
				c := circuit()
				return c.State == hookgate.CircuitOpen && c.Cooldown == want && int(calls.Load()) == 11+i
			})
			if c := circuit(); !c.NextProbeAt.Equal(clk.Now().Add(want)) {
				t.Fatalf("after failed probe %d: next probe at %s, want %s", i+2, c.NextProbeAt, clk.Now().Add(want))
			}
		}

		// The next probe succeeds: closed, and the held deliveries go (the
		// failed probes' deliveries wait for their retries, a day later).
		up.Store(true)
		clk.Advance(circuit().NextProbeAt.Sub(clk.Now()))
		h.disp.Wake()
		testwait.For(t, "the held deliveries delivered", func() bool {
			n := 0
			for _, ev := range held {
				d, err := h.store.FindDelivery(ctx, h.proj, hookgate.DeliveryID(ev.ID, w.ID))
				if err == nil && d.Status == hookgate.DeliverySucceeded && d.Attempts == 1 {
					n++
				}
			}
			return n == 3 // 10 held, 7 probes failed
		})
		if c := circuit(); c.State != hookgate.CircuitClosed || c.Failures != 0 {
			t.Fatalf("after a good probe: %+v", c)
		}
		if n := calls.Load(); n != 19 {
			t.Fatalf("the receiver got %d requests, want 19: 9, 7 failed probes, then the 3 others held once each", n)
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

// Issue 24, item 2: on PostgreSQL two dispatchers (two stores on one
// database: two nodes) share a webhook's circuit. While it is open
// neither sends; when the probe is due both claim the held deliveries,
// and one sends the probe alone: while the receiver holds it, the other
// deliveries wait, given back due at the probe's lease end. The probe
// succeeds, the circuit closes, and both nodes send the rest at once,
// each delivery once.
func TestCircuitOneProbeAcrossTwoDispatchers(t *testing.T) {
	t.Parallel()
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("PostgreSQL only: SQLite has no other nodes")
	}
	ctx := context.Background()
	clk := newClock(time.Now().Add(time.Minute).Truncate(time.Millisecond))
	cfg := sqltest.Config(t, sqlstore.EnginePostgres)
	stores := []*sqlstore.Store{sqltest.OpenConfig(t, cfg), sqltest.OpenConfig(t, cfg)}
	now := clk.Now()
	p := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, now), Slug: "two", Name: "two", CreatedAt: now, UpdatedAt: now}
	if err := stores[0].CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			select { // the probe: held until the test lets it go
			case <-release:
			case <-r.Context().Done():
			}
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	w := webhook(srv.URL)
	w.ID, w.ProjectID = hookgate.NewID(hookgate.PrefixWebhook, now), p.ID
	if err := stores[0].CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	// The circuit is open: its probe is due in 30s.
	if _, err := stores[0].RecordCircuits(ctx, now, []hookgate.CircuitReport{{ProjectID: p.ID, WebhookID: w.ID, Breaker: hookgate.DefaultBreaker, Failures: 10}}); err != nil {
		t.Fatal(err)
	}
	var disps []*delivery.Dispatcher
	for _, s := range stores {
		c := delivery.Config{Queue: s, Destinations: all.New(newSender()), Poll: 20 * time.Millisecond, Rand: func() float64 { return 0.5 }, Logger: testlog.Logger(t)}
		clocked(&c, clk)
		d := delivery.New(c)
		disps = append(disps, d)
		runCtx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { d.Run(runCtx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	const n = 40
	in := make([]hookgate.EventInput, n)
	for i := range in {
		in[i] = hookgate.EventInput{Type: "a", Data: json.RawMessage(`1`)}
	}
	evs, err := stores[1].CreateEvents(ctx, p.ID, in)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range disps {
		d.Wake()
	}
	circuit := func() *hookgate.Circuit {
		cs, err := stores[1].FindCircuits(ctx, p.ID, []string{w.ID})
		if err != nil || cs[w.ID] == nil {
			t.Fatalf("FindCircuits = %v, %v", cs, err)
		}
		return cs[w.ID]
	}
	next := circuit().NextProbeAt
	deliveries := func() []*hookgate.Delivery {
		out := make([]*hookgate.Delivery, n)
		for i, ev := range evs {
			var err error
			if out[i], err = stores[0].FindDelivery(ctx, p.ID, hookgate.DeliveryID(ev.ID, w.ID)); err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	heldUntil := func(at time.Time) func() bool {
		return func() bool {
			for _, d := range deliveries() {
				if d.Status != hookgate.DeliveryPending || d.Attempts != 0 || !d.NextAttemptAt.Equal(at) {
					return false
				}
			}
			return true
		}
	}
	testwait.For(t, "every delivery held until the probe is due", heldUntil(next))
	if c := calls.Load(); c != 0 {
		t.Fatalf("%d requests while the circuit is open", c)
	}

	clk.Advance(next.Sub(clk.Now()))
	for _, d := range disps {
		d.Wake()
	}
	testwait.For(t, "the probe at the receiver", func() bool { return calls.Load() == 1 })
	c := circuit()
	if c.State != hookgate.CircuitHalfOpen {
		t.Fatalf("with the probe in flight: %+v", c)
	}
	testwait.For(t, "the other deliveries held until the probe's lease ends", func() bool {
		held := 0
		for _, d := range deliveries() {
			if d.Status == hookgate.DeliveryPending && d.Attempts == 0 && d.NextAttemptAt.Equal(c.ProbeUntil) {
				held++
			}
		}
		return held == n-1
	})
	if got := calls.Load(); got != 1 {
		t.Fatalf("%d requests with the probe in flight, want the probe alone", got)
	}

	close(release)
	testwait.For(t, "every delivery sent", func() bool {
		for _, d := range deliveries() {
			if d.Status != hookgate.DeliverySucceeded {
				return false
			}
		}
		return true
	})
	if got := calls.Load(); got != n {
		t.Fatalf("%d requests for %d deliveries", got, n)
	}
	if c := circuit(); c.State != hookgate.CircuitClosed {
		t.Fatalf("after the probe: %+v", c)
	}
}

// circuitOf reads w's circuit; a webhook without a row is closed.
func (h *harness) circuitOf(t *testing.T, w *hookgate.Webhook) *hookgate.Circuit {
	t.Helper()
	cs, err := h.store.FindCircuits(context.Background(), h.proj, []string{w.ID})
	if err != nil {
		t.Fatal(err)
	}
	if c := cs[w.ID]; c != nil {
		return c
	}
	return &hookgate.Circuit{State: hookgate.CircuitClosed}
}

// sendAttempted sends one event and waits until its delivery to w has
// made its attempt, recorded.
func (h *harness) sendAttempted(t *testing.T, w *hookgate.Webhook) {
	t.Helper()
	id := hookgate.DeliveryID(h.send(t, 1)[0].ID, w.ID)
	testwait.For(t, "the attempt recorded", func() bool {
		d, err := h.store.FindDelivery(context.Background(), h.proj, id)
		return err == nil && d.Attempts == 1
	})
}

// serve --breaker-failures 3 --breaker-cooldown 5s: the server's breaker
// (Config.Breaker) opens the circuit of a webhook that, like its project,
// sets none, after 3 failures in a row, for 5s; then nothing is sent.
func TestCircuitBreakerServerSettings(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		clk := newClock(time.Now().Add(time.Minute).Truncate(time.Millisecond))
		h := runDispatcher(t, engine, hookgate.Schedule{24 * time.Hour}, func(c *delivery.Config) {
			clocked(c, clk)
			c.PerEndpoint, c.MaxPerEndpoint = 1, 1 // one request at a time: the counts are exact
			c.Breaker = hookgate.Breaker{Failures: 3, Cooldown: 5 * time.Second}
		})
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
			calls.Add(1)
			rw.WriteHeader(http.StatusServiceUnavailable)
		}))
		t.Cleanup(srv.Close)
		w := h.webhook(t, srv.URL)
		h.sendAttempted(t, w)
		h.sendAttempted(t, w)
		testwait.For(t, "2 failures counted", func() bool { return h.circuitOf(t, w).Failures == 2 })
		if c := h.circuitOf(t, w); c.State != hookgate.CircuitClosed {
			t.Fatalf("after 2 failures: %+v; want closed", c)
		}
		h.sendAttempted(t, w)
		testwait.For(t, "the circuit open", func() bool { return h.circuitOf(t, w).State == hookgate.CircuitOpen })
		c := h.circuitOf(t, w)
		if c.Failures != 3 || c.Cooldown != 5*time.Second || !c.NextProbeAt.Equal(c.OpenedAt.Add(5*time.Second)) {
			t.Fatalf("opened: %+v; want 3 failures and the server's cooldown of 5s", c)
		}
		held := h.send(t, 2)
		testwait.For(t, "the new deliveries held until the probe", func() bool {
			for _, ev := range held {
				d, err := h.store.FindDelivery(context.Background(), h.proj, hookgate.DeliveryID(ev.ID, w.ID))
				if err != nil || d.Status != hookgate.DeliveryPending || d.Attempts != 0 || d.NextAttemptAt.Before(c.NextProbeAt) {
					return false
				}
			}
			return true
		})
		if n := calls.Load(); n != 3 {
			t.Fatalf("the receiver got %d requests, want 3", n)
		}
	})
}

// serve --breaker-failures 0: the server's breaker is off, so a webhook
// that sets no failures is sent to however often it fails; one whose own
// failures is 2 still opens after 2, for the server's default cooldown.
func TestCircuitBreakerServerOff(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		clk := newClock(time.Now().Add(time.Minute).Truncate(time.Millisecond))
		h := runDispatcher(t, engine, hookgate.Schedule{24 * time.Hour}, func(c *delivery.Config) {
			clocked(c, clk)
			c.PerEndpoint, c.MaxPerEndpoint = 1, 1
			c.Breaker = hookgate.Breaker{Failures: hookgate.BreakerOff}
		})
		var calls [2]atomic.Int32 // by path: /plain, /own
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/own" {
				calls[1].Add(1)
			} else {
				calls[0].Add(1)
			}
			rw.WriteHeader(http.StatusInternalServerError)
		}))
		t.Cleanup(srv.Close)
		plain := h.webhook(t, srv.URL+"/plain")
		own := h.webhookWith(t, srv.URL+"/own", func(w *hookgate.Webhook) { w.Breaker = hookgate.Breaker{Failures: 2} })
		for range hookgate.DefaultBreakerFailures + 2 {
			h.sendAttempted(t, plain)
		}
		testwait.For(t, "the own breaker open", func() bool { return h.circuitOf(t, own).State == hookgate.CircuitOpen })
		if c := h.circuitOf(t, own); c.Failures != 2 || c.Cooldown != hookgate.DefaultBreakerCooldown {
			t.Fatalf("the webhook's own breaker: %+v; want open after 2 failures for 30s", c)
		}
		if c := h.circuitOf(t, plain); c.State != hookgate.CircuitClosed {
			t.Fatalf("with the server's breaker off: %+v; want closed", c)
		}
		if n, m := calls[0].Load(), calls[1].Load(); n != hookgate.DefaultBreakerFailures+2 || m != 2 {
			t.Fatalf("the receiver got %d requests without a breaker, want 12, and %d with one, want 2", n, m)
		}
	})
}
