package delivery_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/destinations/all"
	"github.com/hookgate/hookgate/internal/testlog"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// harness is a store, a dispatcher and a project.
type harness struct {
	store *sqlstore.Store
	disp  *delivery.Dispatcher
	proj  string
	start func() (stop func()) // runs the dispatcher until stop is called or the test ends
	stop  func()               // runDispatcher's stop
	reg   *prometheus.Registry
}

// sample finds the sample of metric name whose label has value, and returns
// its value, or missing when there is none.
func (h *harness) sample(t *testing.T, name, label, value string, missing float64) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == label && l.GetValue() == value {
					if m.GetCounter() != nil {
						return m.GetCounter().GetValue()
					}
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return missing
}

// metric returns the value of a counter with the given outcome label.
func (h *harness) metric(t *testing.T, outcome string) float64 {
	t.Helper()
	return h.sample(t, "hookgate_delivery_outcomes_total", "outcome", outcome, 0)
}

// failing returns the gauge of webhooks with a failure streak.
func (h *harness) failing(t *testing.T) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "hookgate_webhooks_failing" {
			return mf.GetMetric()[0].GetGauge().GetValue()
		}
	}
	return -1
}

func runDispatcher(t *testing.T, engine string, schedule hookgate.Schedule, opts ...func(*delivery.Config)) *harness {
	t.Helper()
	h := newHarness(t, engine, schedule, opts...)
	h.stop = h.start()
	return h
}

// runDispatcherB prepares a dispatcher for a benchmark; call start.
func runDispatcherB(b *testing.B, engine string) *harness {
	return newHarness(b, engine, nil)
}

func newHarness(t testing.TB, engine string, schedule hookgate.Schedule, opts ...func(*delivery.Config)) *harness {
	t.Helper()
	return newHarnessOn(t, sqltest.Open(t, engine), schedule, opts...)
}

// newHarnessOn is newHarness on store s.
func newHarnessOn(t testing.TB, s *sqlstore.Store, schedule hookgate.Schedule, opts ...func(*delivery.Config)) *harness {
	t.Helper()
	now := time.Now().UTC()
	p := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, now), Slug: "d", Name: "d", CreatedAt: now, UpdatedAt: now}
	if err := s.CreateProject(context.Background(), p); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	cfg := delivery.Config{Queue: s, Destinations: all.New(newSender()), Schedule: schedule, Poll: 50 * time.Millisecond, Rand: func() float64 { return 0.5 }, Registry: reg,
		Logger: testlog.Logger(t)}
	for _, o := range opts {
		o(&cfg)
	}
	d := delivery.New(cfg)
	// As serve does: ingest hands new deliveries to the running dispatcher.
	s.Adopt(d)
	start := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { d.Run(ctx); close(done) }()
		stop = func() { cancel(); <-done }
		t.Cleanup(stop)
		return stop
	}
	return &harness{store: s, disp: d, proj: p.ID, start: start, reg: reg}
}

// clocked sends with a sender on clk: the dispatcher's clock and the
// sender's are the one the test moves. It returns the sender, which
// triggers may share.
func clocked(c *delivery.Config, clk *clock) *delivery.Sender {
	sender := newSender()
	sender.Now = clk.Now
	c.Now, c.Destinations = clk.Now, all.New(sender)
	return sender
}

func (h *harness) webhook(t *testing.T, url string) *hookgate.Webhook {
	t.Helper()
	w := webhook(url)
	w.ID, w.ProjectID = hookgate.NewID(hookgate.PrefixWebhook, time.Now()), h.proj
	if err := h.store.CreateWebhook(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	return w
}

func (h *harness) send(t *testing.T, n int) []*hookgate.Event {
	t.Helper()
	in := make([]hookgate.EventInput, n)
	for i := range in {
		in[i] = hookgate.EventInput{Type: "order.created", Data: json.RawMessage(`{"n":1}`)}
	}
	out, err := h.store.CreateEvents(context.Background(), h.proj, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) > 0 && !out[0].Adopted {
		h.disp.Wake() // as the API does for deliveries no dispatcher holds
	}
	return out
}

func (h *harness) status(t *testing.T, status string) int {
	t.Helper()
	list, _, err := h.store.ListDeliveries(context.Background(), h.proj, hookgate.DeliveryFilter{Page: hookgate.Page{Limit: 250}, Status: status})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func eachEngine(t *testing.T, fn func(t *testing.T, engine string)) {
	t.Parallel()
	for _, e := range sqltest.Engines(t) {
		t.Run(e, func(t *testing.T) { t.Parallel(); fn(t, e) })
	}
}

func TestDispatcherDeliversSigned(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		h := runDispatcher(t, engine, nil)
		var mu sync.Mutex
		ids := map[string]int{}
		var w *hookgate.Webhook
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			v, _ := standardwebhooks.NewWebhook(w.Secret)
			if err := v.Verify(b, r.Header); err != nil {
				t.Errorf("signature: %v", err)
			}
			mu.Lock()
			ids[r.Header.Get("webhook-id")]++
			mu.Unlock()
		}))
		defer srv.Close()
		w = h.webhook(t, srv.URL)
		h.send(t, 50)
		testwait.For(t, "50 succeeded deliveries", func() bool { return h.status(t, hookgate.DeliverySucceeded) == 50 })
		if s := h.failing(t); s != 0 {
			t.Fatalf("%v webhooks failing, want 0", s)
		}
		mu.Lock()
		defer mu.Unlock()
		if len(ids) != 50 {
			t.Fatalf("%d distinct webhook-ids received, want 50", len(ids))
		}
	})
}

func TestDispatcherRetriesThenFails(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		h := runDispatcher(t, engine, hookgate.Schedule{time.Second, time.Second})
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
			calls.Add(1)
			rw.WriteHeader(http.StatusInternalServerError)
		}))
		defer srv.Close()
		w := h.webhook(t, srv.URL)
		ev := h.send(t, 1)
		testwait.For(t, "a failed delivery", func() bool { return h.status(t, hookgate.DeliveryFailed) == 1 })
		if s := h.failing(t); s != 1 {
			t.Fatalf("%v webhooks failing, want 1", s)
		}
		_ = w
		if n := calls.Load(); n != 3 {
			t.Fatalf("%d requests, want 3 (1 + 2 retries)", n)
		}
		if r, f := h.metric(t, "retry"), h.metric(t, "failed"); r != 2 || f != 1 {
			t.Fatalf("metrics: retry %v, failed %v; want 2, 1", r, f)
		}
		list, _, _ := h.store.ListDeliveries(context.Background(), h.proj, hookgate.DeliveryFilter{EventID: ev[0].ID})
		atts, _, err := h.store.ListAttempts(context.Background(), h.proj, list[0].ID, hookgate.Page{})
		if err != nil || len(atts) != 3 || atts[0].StatusCode != 500 || list[0].Attempts != 3 {
			t.Fatalf("attempts = %d (%v), delivery %+v", len(atts), err, list[0])
		}
	})
}

func TestDispatcher410DisablesWebhook(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		h := runDispatcher(t, engine, nil)
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(http.StatusGone) }))
		defer srv.Close()
		w := h.webhook(t, srv.URL)
		id := hookgate.DeliveryID(h.send(t, 1)[0].ID, w.ID)
		testwait.For(t, "the webhook disabled", func() bool {
			got, _ := h.store.FindWebhook(context.Background(), h.proj, w.ID)
			return got.Status == hookgate.StatusDisabled
		})
		testwait.For(t, "a failed delivery", func() bool { return h.status(t, hookgate.DeliveryFailed) == 1 })
		// Issue 23, step 1: the attempt is recorded as it was before
		// destinations classed outcomes: the status, and no error (the
		// permanent failure's reason is for the operator's log).
		atts, _, err := h.store.ListAttempts(context.Background(), h.proj, id, hookgate.Page{})
		if err != nil || len(atts) != 1 || atts[0].StatusCode != http.StatusGone || atts[0].Error != "" {
			t.Fatalf("attempts: %+v, %v; want one, 410 and no error", atts, err)
		}
	})
}

// syncBuffer is a log sink safe for the dispatcher's goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []map[string]any
	for _, l := range bytes.Split(s.b.Bytes(), []byte("\n")) {
		var m map[string]any
		if json.Unmarshal(l, &m) == nil {
			out = append(out, m)
		}
	}
	return out
}

// A webhook's first failure leaves a line (a retry to come at warn, with
// when), each success one at debug, and the end of a failure streak one at
// info; further failures are summed up (every one here), at error when
// deliveries failed for good among them; never a header value.
func TestDeliveriesAreLogged(t *testing.T) {
	t.Parallel()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := runDispatcher(t, sqlstore.EngineSQLite, hookgate.Schedule{20 * time.Millisecond}, func(c *delivery.Config) { c.Logger, c.FailureLogEvery = logger, 1 })
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			rw.WriteHeader(500)
		}
	}))
	defer srv.Close()
	ok := h.webhook(t, srv.URL)
	ok.Headers = map[string]string{"X-Api-Key": "very-secret-key"}
	if err := h.store.UpdateWebhook(context.Background(), ok); err != nil {
		t.Fatal(err)
	}
	dl := hookgate.DeliveryID(h.send(t, 1)[0].ID, ok.ID)
	find := func(msg, key, value string) map[string]any {
		for _, l := range logs.lines() {
			if l["msg"] == msg && l[key] == value {
				return l
			}
		}
		return nil
	}
	testwait.For(t, "the success line", func() bool { return find("delivered", "delivery", dl) != nil })
	w := find("webhook failing: delivery attempt failed; retrying", "delivery", dl)
	if w == nil || w["level"] != "WARN" || w["attempt"].(float64) != 1 || w["status"].(float64) != 500 || w["next_attempt"] == nil ||
		w["project"] != h.proj || w["webhook"] != ok.ID || w["elapsed_ms"] == nil {
		t.Fatalf("retry line = %v", w)
	}
	if s := find("delivered", "delivery", dl); s["level"] != "DEBUG" || s["attempt"].(float64) != 2 {
		t.Fatalf("success line = %v", s)
	}
	if r := find("webhook recovered: an attempt succeeded after a failure streak", "webhook", ok.ID); r == nil || r["level"] != "INFO" || r["streak"].(float64) != 1 {
		t.Fatalf("recovery line = %v", r)
	}

	dead := h.webhook(t, "http://127.0.0.1:9/")
	h.send(t, 1)
	testwait.For(t, "the exhausted summary", func() bool { return find("webhook still failing", "webhook", dead.ID) != nil })
	if e := find("webhook still failing", "webhook", dead.ID); e["level"] != "ERROR" || e["failedForGood"].(float64) != 1 || e["streak"].(float64) != 2 || e["lastError"] == "" {
		t.Fatalf("exhausted summary = %v", e)
	}
	if f := find("webhook failing: delivery attempt failed; retrying", "webhook", dead.ID); f == nil || f["error"] == "" {
		t.Fatalf("the dead webhook's first line = %v", f)
	}
	logs.mu.Lock()
	defer logs.mu.Unlock()
	if bytes.Contains(logs.b.Bytes(), []byte("very-secret-key")) || bytes.Contains(logs.b.Bytes(), []byte(`{"n":1}`)) {
		t.Fatal("a header value or a body reached the log")
	}
}

// flakyQueue fails RecordAttempts a number of times, as a database
// restart does.
type flakyQueue struct {
	hookgate.Queue
	fails atomic.Int32
}

func (q *flakyQueue) RecordAttempts(ctx context.Context, now time.Time, outs []hookgate.AttemptOutcome) error {
	if q.fails.Add(-1) >= 0 {
		return errors.New("the database system is starting up")
	}
	return q.Queue.RecordAttempts(ctx, now, outs)
}

// A write of outcomes that fails is tried again while the leases allow:
// after the database comes back nothing is sent twice.
func TestRecordRetriesWhileLeaseAllows(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		var q *flakyQueue
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) {
			q = &flakyQueue{Queue: c.Queue}
			q.fails.Store(4)
			c.Queue = q
			c.Lease = 30 * time.Second
		})
		var got atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got.Add(1) }))
		defer srv.Close()
		w := h.webhook(t, srv.URL)
		ev := h.send(t, 5)
		testwait.For(t, "all recorded", func() bool {
			n := 0
			for _, e := range ev {
				d, err := h.store.FindDelivery(context.Background(), h.proj, hookgate.DeliveryID(e.ID, w.ID))
				if err == nil && d.Status == hookgate.DeliverySucceeded {
					n++
				}
			}
			return n == len(ev)
		})
		if n := got.Load(); n != 5 {
			t.Fatalf("the receiver got %d requests for 5 events", n)
		}
	})
}

// An event a webhook can never be sent (not base64 for a base64 webhook)
// fails at its first attempt, with a clear error, instead of through the
// whole schedule.
func TestUnsendableFailsAtOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		h := runDispatcher(t, engine, hookgate.DefaultSchedule)
		w := webhook("http://127.0.0.1:9/")
		w.ID, w.ProjectID, w.PayloadEncoding = hookgate.NewID(hookgate.PrefixWebhook, time.Now()), h.proj, hookgate.EncodingBase64
		if err := h.store.CreateWebhook(context.Background(), w); err != nil {
			t.Fatal(err)
		}
		ev := h.send(t, 1)[0] // {"n":1}: not a base64 string
		id := hookgate.DeliveryID(ev.ID, w.ID)
		testwait.For(t, "the delivery to fail", func() bool {
			d, err := h.store.FindDelivery(context.Background(), h.proj, id)
			return err == nil && d.Status == hookgate.DeliveryFailed
		})
		d, _ := h.store.FindDelivery(context.Background(), h.proj, id)
		if d.Attempts != 1 || !strings.Contains(d.LastError, "base64") {
			t.Fatalf("delivery = %+v", d)
		}
	})
}

// Deliveries created while the dispatcher runs are born leased to it and
// sent without a claim: with no poll and no wake-up, they arrive all the
// same, and the store shows them leased to this node until recorded.
func TestAdoptedDeliveriesNeedNoClaim(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		var got atomic.Int32
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-release
			got.Add(1)
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() {
			select {
			case <-release:
			default:
				close(release)
			}
		})
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) { c.Poll = time.Hour })
		h.webhook(t, srv.URL)
		waitRunning(t, h.disp)
		evs, err := h.store.CreateEvents(context.Background(), h.proj, []hookgate.EventInput{{Type: "order.created", Data: json.RawMessage(`{}`)}, {Type: "order.created", Data: json.RawMessage(`{}`)}})
		if err != nil {
			t.Fatal(err)
		}
		if !evs[0].Adopted || !evs[1].Adopted {
			t.Fatalf("events not adopted: %+v", evs)
		}
		// Leased to the node while in flight: no other node claims them.
		if due, _, err := h.store.ClaimDue(context.Background(), "other-node", time.Now().Add(time.Second), 10, time.Minute); err != nil || len(due) != 0 {
			t.Fatalf("another node claimed %d adopted deliveries (%v)", len(due), err)
		}
		close(release)
		testwait.For(t, "2 adopted deliveries", func() bool { return got.Load() == 2 && h.status(t, hookgate.DeliverySucceeded) == 2 })
	})
}

// waitRunning waits until d runs and adopts new deliveries.
func waitRunning(t *testing.T, d *delivery.Dispatcher) {
	t.Helper()
	testwait.For(t, "the dispatcher to run", func() bool { _, _, ok := d.AdoptLease(); return ok })
}
