package delivery_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore"
)

// recorder is a receiver that keeps the time and envelope of each request.
type recorder struct {
	mu     sync.Mutex
	times  []time.Time
	bodies []envelope
	srv    *httptest.Server
}

type envelope struct {
	Type string         `json:"type"`
	Data map[string]any `json:"data"`
}

// newRecorder answers every request with status after running hold.
func newRecorder(t *testing.T, status int, hold func()) *recorder {
	t.Helper()
	r := &recorder{}
	r.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		var env envelope
		_ = json.Unmarshal(b, &env)
		r.mu.Lock()
		r.times = append(r.times, time.Now())
		r.bodies = append(r.bodies, env)
		r.mu.Unlock()
		if hold != nil {
			hold()
		}
		rw.WriteHeader(status)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.times)
}

func (r *recorder) snapshot() ([]time.Time, []envelope) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Time(nil), r.times...), append([]envelope(nil), r.bodies...)
}

func (h *harness) webhookWith(t *testing.T, url string, edit func(w *hookgate.Webhook)) *hookgate.Webhook {
	t.Helper()
	w := webhook(url)
	w.ID, w.ProjectID = hookgate.NewID(hookgate.PrefixWebhook, time.Now()), h.proj
	edit(w)
	if err := h.store.CreateWebhook(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	return w
}

// clock is a clock that moves only when the test moves it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock(at time.Time) *clock { return &clock{now: at} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Issue 22, item 1: the rate limiter's decisions are tested against a
// clock the test moves, not by timing arrivals on a shared machine (see
// BenchmarkRateLimitAtReceiver for that). While the clock stands still, a
// webhook with a rateLimit of 10 gets its first request and no other,
// and an endpoint without one gets all of its requests: rows waiting for
// the limiter hold no worker. Each tenth of a second the clock moves, the
// limited webhook gets exactly one more.
func TestRateLimitSpacesRequestsAndBlocksNoOne(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		// A minute ahead, so that rows due by the store's clock are due
		// by this one; well within their two-minute lease.
		clk := newClock(time.Now().Add(time.Minute))
		// Four workers: were a worker to wait for the limiter, the limited
		// endpoint's rows would hold all of them and the free one would wait.
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) {
			c.Concurrency = 4
			clocked(c, clk)
		})
		limited, free := newRecorder(t, 200, nil), newRecorder(t, 200, nil)
		h.webhookWith(t, limited.srv.URL, func(w *hookgate.Webhook) { w.RateLimit = 10 })
		h.webhook(t, free.srv.URL)
		h.send(t, 20)
		testwait.For(t, "20 requests to the free endpoint and the first to the limited one", func() bool {
			return free.count() == 20 && limited.count() >= 1
		})
		// A window in which nothing may come, whatever the machine's load:
		// with the clock standing still, no token falls due. A limiter
		// that read the wall clock, or took a timer's firing for its
		// decision, would send two more requests within it.
		time.Sleep(300 * time.Millisecond)
		if n := limited.count(); n != 1 {
			t.Fatalf("the limited endpoint got %d requests at one instant; its rateLimit of 10 a second allows 1", n)
		}
		// A step a little longer than the limiter's 100 ms, so that no
		// rounding of its arithmetic can leave a token just short of due;
		// two tokens would need 200 ms.
		const step = 101 * time.Millisecond
		for want := 2; want <= 20; want++ {
			if n := limited.count(); n != want-1 {
				t.Fatalf("the limited endpoint got %d requests after %d steps of %s; want %d", n, want-2, step, want-1)
			}
			clk.Advance(step)
			testwait.For(t, fmt.Sprintf("request %d to the limited endpoint", want), func() bool { return limited.count() >= want })
		}
		testwait.For(t, "40 succeeded deliveries", func() bool { return h.status(t, hookgate.DeliverySucceeded) == 40 })
		if n := limited.count(); n != 20 {
			t.Fatalf("the limited endpoint got %d requests, want 20", n)
		}
	})
}

// Issue 22, item 1: a delivery waits for the pace its webhook's triggers
// share, by the injected clock. A trigger takes the webhook's one token of
// this instant; the delivery due at the same instant goes only once the
// clock has moved a tenth of a second.
func TestDeliveryWaitsForThePaceTriggersShare(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		clk := newClock(time.Now().Add(time.Minute))
		var sender *delivery.Sender
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) {
			sender = clocked(c, clk)
		})
		rec := newRecorder(t, 200, nil)
		w := h.webhookWith(t, rec.srv.URL, func(w *hookgate.Webhook) { w.RateLimit = 10 })
		triggers := delivery.NewTriggers(delivery.TriggerConfig{Store: h.store, Sender: sender, Now: clk.Now})
		inv, err := triggers.Trigger(context.Background(), w, &hookgate.TriggerInput{Data: json.RawMessage(`{"n":1}`)})
		if err != nil || !inv.Last().Result.OK() {
			t.Fatalf("trigger: %+v, %v", inv, err)
		}
		h.send(t, 1)
		// A window in which the delivery may not go: the clock stands
		// still, and the trigger took this instant's token.
		time.Sleep(300 * time.Millisecond)
		if n := rec.count(); n != 1 {
			t.Fatalf("%d requests at one instant; the webhook's rateLimit of 10 a second allows 1", n)
		}
		clk.Advance(101 * time.Millisecond)
		testwait.For(t, "the delivery, once the clock moved", func() bool { return rec.count() == 2 })
	})
}

func TestSlowEndpointCostsOnlyItsOwnSlots(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) { c.Concurrency, c.PerEndpoint, c.MaxPerEndpoint = 4, 2, 2 })
		release := make(chan struct{})
		var mu sync.Mutex
		inflight, most := 0, 0
		slow := newRecorder(t, 200, func() {
			mu.Lock()
			inflight++
			most = max(most, inflight)
			mu.Unlock()
			<-release
			mu.Lock()
			inflight--
			mu.Unlock()
		})
		var once sync.Once
		unblock := func() { once.Do(func() { close(release) }) }
		t.Cleanup(unblock) // before the receiver closes, should the test fail first
		fast := newRecorder(t, 200, nil)
		h.webhook(t, slow.srv.URL)
		h.webhook(t, fast.srv.URL)
		h.send(t, 20)
		// With 4 workers and the slow endpoint's rows ahead in the queue,
		// the fast endpoint still gets all of its deliveries.
		testwait.For(t, "20 deliveries to the fast endpoint", func() bool { return fast.count() == 20 })
		mu.Lock()
		m := most
		mu.Unlock()
		if m > 2 {
			t.Fatalf("%d requests in flight to one endpoint, cap 2", m)
		}
		if n := slow.count(); n > 2 {
			t.Fatalf("the blocked endpoint received %d requests while 2 were stuck", n)
		}
		unblock()
		testwait.For(t, "40 succeeded deliveries", func() bool { return h.status(t, hookgate.DeliverySucceeded) == 40 })
	})
}

func TestOperationalEvents(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		h := runDispatcher(t, engine, hookgate.Schedule{}) // no retries: the first failure exhausts
		failing, gone := newRecorder(t, 500, nil), newRecorder(t, 410, nil)
		ops, opsFailing, all := newRecorder(t, 200, nil), newRecorder(t, 500, nil), newRecorder(t, 200, nil)
		x := h.webhookWith(t, failing.srv.URL, func(w *hookgate.Webhook) { w.Events = []string{"order.*"} })
		// Issue 21, item 11: the disabled event shows the URL as reads do.
		g := h.webhookWith(t, gone.srv.URL+"/?room=ops&token=T0KEN", func(w *hookgate.Webhook) { w.Events = []string{"order.*"} })
		h.webhookWith(t, ops.srv.URL, func(w *hookgate.Webhook) { w.Events = []string{"hookgate.*"} })
		h.webhookWith(t, opsFailing.srv.URL, func(w *hookgate.Webhook) { w.Events = []string{"hookgate.*"} })
		h.webhook(t, all.srv.URL)
		ev := h.send(t, 1)
		testwait.For(t, "two operational events, and two requests to the failing subscriber", func() bool {
			return ops.count() >= 2 && opsFailing.count() >= 2
		})
		testwait.For(t, "no pending delivery", func() bool { return h.status(t, hookgate.DeliveryPending) == 0 })
		// Issue 22, item 1: no sleep "for an event that should not come".
		// Once the dispatcher has stopped, every outcome is recorded and
		// every operational event made of it is in the store: one more
		// would show as a request more, or as deliveries pending.
		h.stop()
		if n := h.status(t, hookgate.DeliveryPending); n != 0 {
			t.Fatalf("%d deliveries pending after the stop: the failing subscriber's exhausted deliveries made operational events", n)
		}
		_, got := ops.snapshot()
		if len(got) != 2 {
			t.Fatalf("the operational subscriber got %d events, want 2 (the failing subscriber's exhausted deliveries must not make more): %+v", len(got), got)
		}
		byType := map[string]map[string]any{}
		for _, e := range got {
			byType[e.Type] = e.Data
		}
		ex, dis := byType[hookgate.EventDeliveryExhausted], byType[hookgate.EventWebhookDisabled]
		if ex == nil || ex["webhookId"] != x.ID || ex["eventId"] != ev[0].ID || ex["eventType"] != "order.created" ||
			ex["attempts"] != float64(1) || ex["lastStatusCode"] != float64(500) || ex["deliveryId"] != hookgate.DeliveryID(ev[0].ID, x.ID) {
			t.Fatalf("exhausted event: %+v", ex)
		}
		if dis == nil || dis["webhookId"] != g.ID || dis["reason"] != "gone" || dis["url"] != gone.srv.URL+"/?room=ops&token=********" || dis["lastStatusCode"] != float64(410) {
			t.Fatalf("disabled event: %+v", dis)
		}
		if n := all.count(); n != 1 {
			t.Fatalf("a webhook without a filter got %d requests, want only the order event", n)
		}
		if n := opsFailing.count(); n != 2 {
			t.Fatalf("the failing operational subscriber got %d requests, want 2", n)
		}
	})
}

// Issue 22, item 1: the retry is checked against a clock the test moves,
// not by timing the requests.
func TestProjectRetryScheduleOverridesServers(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		clk := newClock(time.Now().Add(time.Minute).Truncate(time.Millisecond))
		// The default schedule waits 5s, then 5m.
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) { clocked(c, clk) })
		p, err := h.store.FindProject(context.Background(), h.proj)
		if err != nil {
			t.Fatal(err)
		}
		p.RetrySchedule = []time.Duration{time.Second}
		if err := h.store.UpdateProject(context.Background(), p); err != nil {
			t.Fatal(err)
		}
		r := newRecorder(t, 500, nil)
		w := h.webhook(t, r.srv.URL)
		id := hookgate.DeliveryID(h.send(t, 1)[0].ID, w.ID)
		var d *hookgate.Delivery
		testwait.For(t, "the first attempt recorded", func() bool {
			d, err = h.store.FindDelivery(context.Background(), h.proj, id)
			return err == nil && d.Attempts == 1
		})
		if want := clk.Now().Add(time.Second); d.Status != hookgate.DeliveryPending || !d.NextAttemptAt.Equal(want) {
			t.Fatalf("after the first attempt: %s, next attempt at %s; want pending, at %s (the project's 1s)", d.Status, d.NextAttemptAt, want)
		}
		clk.Advance(time.Second)
		testwait.For(t, "a failed delivery", func() bool { return h.status(t, hookgate.DeliveryFailed) == 1 })
		if n := r.count(); n != 2 {
			t.Fatalf("%d requests, want 2", n)
		}
	})
}

// The request in flight at the stop ends before Run returns, and its
// outcome is recorded; the rows not started go back at once.
func TestStopLetsRequestsInFlightFinish(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		h := newHarness(t, engine, nil, func(c *delivery.Config) { c.PerEndpoint, c.MaxPerEndpoint = 1, 1 })
		started := make(chan struct{}, 10)
		var ended atomic.Bool
		r := newRecorder(t, 200, func() {
			started <- struct{}{}
			time.Sleep(500 * time.Millisecond) // a slow receiver: the stop comes while it answers
			ended.Store(true)
		})
		h.webhook(t, r.srv.URL)
		h.send(t, 5)
		stop := h.start()
		testwait.Recv(t, "the first request", started)
		stop()
		if !ended.Load() {
			t.Fatal("Run returned before the request in flight ended")
		}
		if n := h.status(t, hookgate.DeliverySucceeded); n != 1 || r.count() != 1 {
			t.Fatalf("%d succeeded, %d received; want the request in flight finished and recorded", n, r.count())
		}
		// The rows not started went back at once, not after their lease.
		due, _, err := h.store.ClaimDue(context.Background(), "test-node", time.Now(), 10, time.Minute)
		if err != nil || len(due) != 4 {
			t.Fatalf("claimable after the stop: %d (%v), want 4", len(due), err)
		}
	})
}

func TestStopCancelsRequestsAfterDrain(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		h := newHarness(t, engine, nil, func(c *delivery.Config) { c.Drain = 100 * time.Millisecond })
		started, unblock := make(chan struct{}, 1), make(chan struct{})
		r := newRecorder(t, 200, func() {
			started <- struct{}{}
			<-unblock
		})
		t.Cleanup(func() { close(unblock) }) // before the receiver closes: cleanups run last first
		h.webhook(t, r.srv.URL)
		h.send(t, 1)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { h.disp.Run(ctx); close(done) }()
		<-started
		cancel()
		testwait.Recv(t, "Run to return after the drain time, the request cancelled", done)
		list, _, err := h.store.ListDeliveries(context.Background(), h.proj, hookgate.DeliveryFilter{})
		if err != nil || len(list) != 1 || list[0].Status != hookgate.DeliveryPending || list[0].Attempts != 1 {
			t.Fatalf("after a cancelled request: %+v (%v); want pending with 1 attempt", list, err)
		}
	})
}

// Issue 22, item 13: Abandon (serve's second signal) cuts the drain short:
// Run returns while the receiver still holds the request, and the row goes
// back to the queue due at once, with no attempt counted.
func TestAbandonGivesBackRequestsInFlight(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		// Only Abandon can end this drain while the test runs.
		h := newHarness(t, engine, nil, func(c *delivery.Config) { c.Drain = time.Hour })
		started, unblock := make(chan struct{}, 1), make(chan struct{})
		r := newRecorder(t, 200, func() {
			started <- struct{}{}
			<-unblock
		})
		t.Cleanup(func() { close(unblock) }) // before the receiver closes: cleanups run last first
		h.webhook(t, r.srv.URL)
		h.send(t, 1)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { h.disp.Run(ctx); close(done) }()
		<-started
		if sending, waiting := h.disp.InFlight(); sending != 1 || waiting != 0 {
			t.Fatalf("in flight: %d sending, %d waiting; want 1, 0", sending, waiting)
		}
		cancel()
		h.disp.Abandon()
		select {
		case <-done:
		case <-time.After(time.Minute):
			t.Fatal("Run did not return after Abandon")
		}
		if rep := h.disp.StopReport(); rep.Abandoned != 1 || rep.Finished != 0 {
			t.Fatalf("stop report %+v; want 1 abandoned", rep)
		}
		list, _, err := h.store.ListDeliveries(context.Background(), h.proj, hookgate.DeliveryFilter{})
		if err != nil || len(list) != 1 || list[0].Status != hookgate.DeliveryPending || list[0].Attempts != 0 {
			t.Fatalf("after an abandoned request: %+v (%v); want pending with no attempt", list, err)
		}
		due, _, err := h.store.ClaimDue(context.Background(), "next-node", time.Now(), 10, time.Minute)
		if err != nil || len(due) != 1 {
			t.Fatalf("claimable at once after Abandon: %d (%v), want 1", len(due), err)
		}
	})
}

// TestLargeEventIsReadWhenSent checks both paths of an event's data: read
// with the claimed batch when small, read by the worker when large.
func TestLargeEventIsReadWhenSent(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		h := runDispatcher(t, engine, nil)
		var mu sync.Mutex
		var sizes []int
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			var env struct{ Data struct{ S string } }
			_ = json.NewDecoder(r.Body).Decode(&env)
			mu.Lock()
			sizes = append(sizes, len(env.Data.S))
			mu.Unlock()
		}))
		defer srv.Close()
		h.webhook(t, srv.URL)
		big := strings.Repeat("x", sqlstore.InlineEventBytes+1)
		for _, s := range []string{"small", big} {
			data, _ := json.Marshal(map[string]string{"s": s})
			if _, err := h.store.CreateEvents(context.Background(), h.proj, []hookgate.EventInput{{Type: "t", Data: data}}); err != nil {
				t.Fatal(err)
			}
		}
		h.disp.Wake()
		testwait.For(t, "2 succeeded deliveries", func() bool { return h.status(t, hookgate.DeliverySucceeded) == 2 })
		mu.Lock()
		defer mu.Unlock()
		slices.Sort(sizes)
		if len(sizes) != 2 || sizes[0] != 5 || sizes[1] != len(big) {
			t.Fatalf("received data sizes %v, want [5 %d]", sizes, len(big))
		}
	})
}

// TestSlowEndpointBacklogDoesNotStopClaims fills a slow endpoint's queue
// with more rows than a claim takes; the other endpoint's rows, claimed
// after them, must still be sent.
func TestSlowEndpointBacklogDoesNotStopClaims(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		// One slot, and no more however well it answers: a slow endpoint.
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) { c.BatchSize, c.PerEndpoint, c.MaxPerEndpoint = 16, 1, 1 })
		release := make(chan struct{})
		var once sync.Once
		unblock := func() { once.Do(func() { close(release) }) }
		// Two slow answers give the endpoint its average; the third request
		// is held until the test ends, so that the backlog stays whatever
		// the machine's speed.
		var answered atomic.Int32
		slow := newRecorder(t, 200, func() {
			if answered.Add(1) <= 2 {
				time.Sleep(300 * time.Millisecond) // a slow receiver
				return
			}
			<-release
		})
		t.Cleanup(unblock)
		h.webhookWith(t, slow.srv.URL, func(w *hookgate.Webhook) { w.Events = []string{"slow"} })
		fast := newRecorder(t, 200, nil)
		h.webhookWith(t, fast.srv.URL, func(w *hookgate.Webhook) { w.Events = []string{"fast"} })
		in := make([]hookgate.EventInput, 100)
		for i := range in {
			in[i] = hookgate.EventInput{Type: "slow", Data: json.RawMessage(`1`)}
		}
		if _, err := h.store.CreateEvents(context.Background(), h.proj, in); err != nil {
			t.Fatal(err)
		}
		h.disp.Wake()
		testwait.For(t, "the slow endpoint's third request", func() bool { return slow.count() >= 3 })
		for i := range in {
			in[i].Type = "fast"
		}
		if _, err := h.store.CreateEvents(context.Background(), h.proj, in[:20]); err != nil {
			t.Fatal(err)
		}
		h.disp.Wake()
		// The slow endpoint's 97 rows left wait behind a request that does
		// not end; the fast ones must not wait for them.
		testwait.For(t, "20 deliveries to the fast endpoint", func() bool { return fast.count() == 20 })
		if n := slow.count(); n != 3 {
			t.Fatalf("the slow endpoint got %d requests, want 3: one slot, and the third held", n)
		}
	})
}

// inflight counts a receiver's concurrent requests and keeps the most.
type inflight struct {
	mu        sync.Mutex
	now, most int
}

func (f *inflight) hold(d time.Duration) func() {
	return func() {
		f.mu.Lock()
		f.now++
		f.most = max(f.most, f.now)
		f.mu.Unlock()
		time.Sleep(d)
		f.mu.Lock()
		f.now--
		f.mu.Unlock()
	}
}

// holdUntil holds each request until n are in flight at once, for at most
// most; once n have been, it holds none. Requests that overlap for sure,
// not by the chance of a short hold on a loaded machine.
func (f *inflight) holdUntil(n int, most time.Duration) func() {
	reached := make(chan struct{})
	return func() {
		f.mu.Lock()
		f.now++
		if f.now >= n && f.most < n {
			close(reached)
		}
		f.most = max(f.most, f.now)
		f.mu.Unlock()
		select {
		case <-reached:
		case <-time.After(most):
		}
		f.mu.Lock()
		f.now--
		f.mu.Unlock()
	}
}

func (f *inflight) peak() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.most
}

// An endpoint that keeps answering 2xx with a backlog waiting gets more
// slots than it started with, never more than the cap; one that fails
// keeps the slots it started with.
//
// Every row stays in memory until it is sent: none is given back to the
// store for lack of room. An endpoint's queue holds at most a batch, and
// what it can send within the lease at the speed measured so far; the rows
// beyond are given back due when, at that speed, it will have sent what it
// holds. On a starved machine (-race, the whole suite on two cores) the
// first requests here took 0.5–1.5 s, held by holdUntil and waiting for a
// CPU: 1.4–3.7 requests a second. The rows beyond a batch of 256 went back
// due 30 s to 3 min later, while the endpoints, faster by then, sent their
// queues in a second or two and stood idle (since then, an endpoint that
// runs dry has them made due: TestQuickEndpointHastensGivenBackRows). No
// test of slots should depend on the spill: with a batch above the 300 rows
// and a lease of an hour, a queue has room for 512 rows at any speed the
// 5 s timeout allows (2 slots over 5 s, times 80 % of the lease left after
// the timeout: 1,150 rows), so no row leaves memory however slow the
// machine.
func TestEndpointConcurrencyAdapts(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		h := runDispatcher(t, engine, hookgate.Schedule{time.Hour}, func(c *delivery.Config) {
			c.PerEndpoint, c.MaxPerEndpoint = 2, 6
			// No row given back to the store: see above.
			c.BatchSize, c.Lease = 512, time.Hour
			c.Breaker = hookgate.Breaker{Failures: hookgate.BreakerOff} // the failing endpoint keeps failing
		})
		var good, bad inflight
		ok := newRecorder(t, 200, good.holdUntil(3, 200*time.Millisecond))
		failing := newRecorder(t, 500, bad.hold(5*time.Millisecond))
		h.webhook(t, ok.srv.URL)
		h.webhook(t, failing.srv.URL)
		h.send(t, 300)
		testwait.For(t, "300 deliveries to each endpoint", func() bool { return ok.count() == 300 && failing.count() == 300 })
		if p := good.peak(); p <= 2 || p > 6 {
			t.Fatalf("the healthy endpoint had at most %d requests in flight; want more than 2 and at most 6", p)
		}
		if p := bad.peak(); p > 2 {
			t.Fatalf("the failing endpoint had %d requests in flight; want at most 2", p)
		}
	})
}

// Deliveries to a slow webhook (a second or more a request) this node
// already holds a batch for are born due later, in the ingest transaction,
// instead of adopted and then given back with a write each.
func TestSlowFullEndpointDefersNewDeliveries(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		clk := newClock(time.Now().Add(time.Minute))
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) {
			c.BatchSize, c.PerEndpoint, c.MaxPerEndpoint = 4, 1, 1
			clocked(c, clk)
		})
		var first sync.Once
		// The first request takes 1.2 s by the dispatcher's clock: a slow
		// endpoint, without a test that sleeps.
		rec := newRecorder(t, 200, func() { first.Do(func() { clk.Advance(1200 * time.Millisecond) }) })
		h.webhook(t, rec.srv.URL)
		waitRunning(t, h.disp)
		h.send(t, 1)
		testwait.For(t, "the first, slow delivery", func() bool { return h.status(t, hookgate.DeliverySucceeded) == 1 })
		start := time.Now()
		evs := h.send(t, 20)
		if !evs[19].Adopted {
			t.Fatalf("the last event's delivery was neither adopted nor deferred")
		}
		list, _, err := h.store.ListDeliveries(context.Background(), h.proj, hookgate.DeliveryFilter{Page: hookgate.Page{Limit: 100}})
		if err != nil {
			t.Fatal(err)
		}
		later := 0
		for _, d := range list {
			if d.NextAttemptAt.After(start.Add(500 * time.Millisecond)) {
				later++
			}
		}
		if later < 10 {
			t.Fatalf("%d of 20 deliveries were born due later; want those beyond the endpoint's batch of 4", later)
		}
	})
}
