package delivery_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/testwait"
)

// probeReceiver answers with the status the test sets, checks each
// request's signature with an independent verifier, and keeps the
// webhook-id and event type of each.
type probeReceiver struct {
	status atomic.Int32
	mu     sync.Mutex
	ids    []string
	types  []string
	srv    *httptest.Server
}

func newProbeReceiver(t *testing.T, secret func() string) *probeReceiver {
	t.Helper()
	r := &probeReceiver{}
	r.status.Store(http.StatusServiceUnavailable)
	r.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		v, _ := standardwebhooks.NewWebhook(secret())
		// The test's clock runs hours ahead: the timestamp is the clock's.
		if err := v.VerifyIgnoringTimestamp(b, req.Header); err != nil {
			t.Errorf("signature: %v", err)
		}
		var env struct {
			Type string `json:"type"`
		}
		_ = json.Unmarshal(b, &env)
		r.mu.Lock()
		r.ids, r.types = append(r.ids, req.Header.Get("webhook-id")), append(r.types, env.Type)
		r.mu.Unlock()
		rw.WriteHeader(int(r.status.Load()))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// count returns the requests of event type typ received.
func (r *probeReceiver) count(typ string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.types {
		if x == typ {
			n++
		}
	}
	return n
}

// recovery reads the webhook's recovery, nil when it has none.
func (h *harness) recovery(t *testing.T, webhookID string) *hookgate.Recovery {
	t.Helper()
	got, err := h.store.FindRecoveries(context.Background(), h.proj, []string{webhookID})
	if err != nil {
		t.Fatal(err)
	}
	return got[webhookID]
}

// Issue 24, item 3: a disabled webhook is probed at each step of the
// recovery schedule, by the clock the test moves: the first step after
// the disabling, each next after the probe before, the last repeated.
// Each probe is a signed hookgate.ping, recorded as a delivery of kind
// probe with its attempt. The first 2xx enables the webhook again, its
// paused deliveries are sent with their own webhook-ids, and the
// hookgate.webhook.recovered event is sent.
func TestRecoveryProbesOnScheduleAndReenables(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clk := newClock(time.Now().Add(time.Minute).UTC().Truncate(time.Millisecond))
		sched := hookgate.Schedule{5 * time.Minute, 30 * time.Minute, 2 * time.Hour}
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) {
			clocked(c, clk)
			c.RecoverySchedule, c.ProbePoll = sched, 10*time.Millisecond
		})
		var w *hookgate.Webhook
		rcv := newProbeReceiver(t, func() string { return w.Secret })
		w = h.webhook(t, rcv.srv.URL)
		// Two deliveries fail (503) and wait for their retry; then the
		// webhook is disabled, as DisableFailing does, and they are paused.
		events := h.send(t, 2)
		testwait.For(t, "two failed attempts", func() bool { return rcv.count("order.created") == 2 && h.status(t, hookgate.DeliveryPending) == 2 })
		testwait.For(t, "the attempts recorded", func() bool {
			for _, e := range events {
				d, err := h.store.FindDelivery(ctx, h.proj, hookgate.DeliveryID(e.ID, w.ID))
				if err != nil || d.Attempts != 1 {
					return false
				}
			}
			return true
		})
		disabledAt := clk.Now()
		if _, err := h.store.SetWebhookStatus(ctx, h.proj, w.ID, hookgate.StatusDisabled, disabledAt); err != nil {
			t.Fatal(err)
		}
		at := disabledAt.Add(sched[0])
		testwait.For(t, "the first probe scheduled", func() bool {
			r := h.recovery(t, w.ID)
			return r != nil && r.NextProbeAt.Equal(at)
		})
		// Steps: 5m after the disabling, then 30m, 2h, 2h (the last wait
		// repeats). The fourth probe is answered 200.
		for i, wait := range []time.Duration{sched[1], sched[2], sched[2], 0} {
			n := i + 1
			if n == 4 {
				rcv.status.Store(http.StatusOK)
			}
			clk.Advance(at.Sub(clk.Now()))
			testwait.For(t, "the probe made", func() bool { return rcv.count(hookgate.EventPing) == n })
			if n == 4 {
				break
			}
			next := at.Add(wait)
			testwait.For(t, "the probe recorded", func() bool {
				r := h.recovery(t, w.ID)
				return r.Probes == n && r.LastStatusCode == http.StatusServiceUnavailable
			})
			if r := h.recovery(t, w.ID); !r.NextProbeAt.Equal(next) || !r.LastProbeAt.Equal(at) {
				t.Fatalf("after probe %d at %s: %+v; want the next at %s", n, at, r, next)
			}
			at = next
		}
		testwait.For(t, "the webhook enabled again", func() bool {
			got, err := h.store.FindWebhook(ctx, h.proj, w.ID)
			return err == nil && got.Status == hookgate.StatusActive
		})
		if r := h.recovery(t, w.ID); r != nil {
			t.Fatalf("an enabled webhook kept its recovery %+v", r)
		}
		// The paused deliveries are sent again, due as they were.
		clk.Advance(time.Minute)
		h.disp.Wake()
		testwait.For(t, "the paused deliveries sent", func() bool { return h.status(t, hookgate.DeliverySucceeded) == 3 })
		rcv.mu.Lock()
		sent := map[string]int{}
		for i, id := range rcv.ids {
			if rcv.types[i] == "order.created" {
				sent[id]++
			}
		}
		rcv.mu.Unlock()
		for _, e := range events {
			if id := hookgate.DeliveryID(e.ID, w.ID); sent[id] != 2 {
				t.Errorf("delivery %s sent %d times, want 2 (failed, then after the recovery)", id, sent[id])
			}
		}
		// Each probe is a delivery of kind probe with its attempt.
		probes, _, err := h.store.ListDeliveries(ctx, h.proj, hookgate.DeliveryFilter{WebhookID: w.ID, Kind: hookgate.KindProbe})
		if err != nil || len(probes) != 4 {
			t.Fatalf("probe deliveries %d (%v), want 4", len(probes), err)
		}
		if probes[0].Status != hookgate.DeliverySucceeded || probes[1].Status != hookgate.DeliveryFailed || probes[0].EventType != hookgate.EventPing {
			t.Fatalf("latest probes %+v, %+v; want the last succeeded, the one before failed", probes[0], probes[1])
		}
		for _, p := range probes {
			atts, _, err := h.store.ListAttempts(ctx, h.proj, p.ID, hookgate.Page{})
			if err != nil || len(atts) != 1 || atts[0].RequestMethod != http.MethodPost || atts[0].RequestURL == "" || atts[0].Node == "" {
				t.Fatalf("probe %s attempts %+v (%v); want one, with its request and its node", p.ID, atts, err)
			}
		}
		// The recovered event, in the project's event log.
		evs, _, err := h.store.ListEvents(ctx, h.proj, hookgate.EventFilter{Type: hookgate.EventWebhookRecovered})
		if err != nil || len(evs) != 1 {
			t.Fatalf("recovered events %d (%v), want 1", len(evs), err)
		}
		var data struct {
			WebhookID string `json:"webhookId"`
			Probes    int    `json:"probes"`
			Requeued  int    `json:"requeued"`
		}
		if err := json.Unmarshal(evs[0].Data, &data); err != nil || data.WebhookID != w.ID || data.Probes != 4 || data.Requeued != 2 {
			t.Fatalf("recovered event %s (%v)", evs[0].Data, err)
		}
		if v := h.sample(t, "hookgate_recovery_probes_total", "outcome", "failed", 0); v != 3 {
			t.Fatalf("failed probes counted %v, want 3", v)
		}
	})
}

// Issue 24, item 3: a webhook disabled after a 410 is probed; a probe
// answered 410 stops the probing, and the webhook stays disabled.
func TestRecoveryStopsOn410(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clk := newClock(time.Now().Add(time.Minute).UTC().Truncate(time.Millisecond))
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) {
			clocked(c, clk)
			c.ProbePoll = 10 * time.Millisecond
		})
		var w *hookgate.Webhook
		rcv := newProbeReceiver(t, func() string { return w.Secret })
		rcv.status.Store(http.StatusGone)
		w = h.webhook(t, rcv.srv.URL)
		h.send(t, 1)
		var r *hookgate.Recovery
		testwait.For(t, "the webhook disabled after the 410, its first probe scheduled", func() bool {
			r = h.recovery(t, w.ID)
			return r != nil && !r.NextProbeAt.IsZero()
		})
		if got, _ := h.store.FindWebhook(ctx, h.proj, w.ID); got.Status != hookgate.StatusDisabled {
			t.Fatalf("webhook %s, want disabled", got.Status)
		}
		if want := r.DisabledAt.Add(hookgate.DefaultRecoverySchedule[0]); !r.NextProbeAt.Equal(want) || !r.EndsAt.Equal(r.DisabledAt.Add(hookgate.DefaultRecoveryFor)) {
			t.Fatalf("recovery %+v; want the first probe at %s, the end 7 days after the disabling", r, want)
		}
		clk.Advance(r.NextProbeAt.Sub(clk.Now()))
		testwait.For(t, "the probing stopped", func() bool { return h.recovery(t, w.ID).Stopped == hookgate.RecoveryGone })
		if n := rcv.count(hookgate.EventPing); n != 1 {
			t.Fatalf("%d probes, want 1", n)
		}
		due, err := h.store.DueRecoveries(ctx, clk.Now().Add(24*time.Hour), time.Minute, time.Hour, 10)
		if err != nil || len(due) != 0 {
			t.Fatalf("probes due after a 410: %v (%v)", due, err)
		}
		if got, _ := h.store.FindWebhook(ctx, h.proj, w.ID); got.Status != hookgate.StatusDisabled {
			t.Fatalf("webhook %s after a 410 probe, want disabled", got.Status)
		}
		if v := h.sample(t, "hookgate_recovery_probes_total", "outcome", "gone", 0); v != 1 {
			t.Fatalf("gone probes counted %v, want 1", v)
		}
	})
}

// Issue 24, item 3: a disabled webhook whose own autoRecover is false, one
// whose project's is, and one a person deactivated before a 410 disabled
// it are never probed. A webhook disabled at the same time with
// autoRecover on is the witness: the read of the due probes that found
// its step would have found theirs.
func TestRecoveryNeverProbesOffOrDeactivated(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clk := newClock(time.Now().Add(time.Minute).UTC().Truncate(time.Millisecond))
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) {
			clocked(c, clk)
			c.ProbePoll = 10 * time.Millisecond
		})
		var witness, selfOff, projectOff, deactivated *hookgate.Webhook
		rcv := map[string]*probeReceiver{}
		secret := func(w **hookgate.Webhook) func() string { return func() string { return (*w).Secret } }
		for _, c := range []struct {
			w    **hookgate.Webhook
			name string
		}{{&witness, "witness"}, {&selfOff, "selfOff"}, {&projectOff, "projectOff"}, {&deactivated, "deactivated"}} {
			rcv[c.name] = newProbeReceiver(t, secret(c.w))
		}
		off := false
		witness = h.webhook(t, rcv["witness"].srv.URL)
		selfOff = h.webhookWith(t, rcv["selfOff"].srv.URL, func(w *hookgate.Webhook) { w.AutoRecover = &off })
		deactivated = h.webhook(t, rcv["deactivated"].srv.URL)
		now := clk.Now()
		quiet := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, now), Slug: "quiet", Name: "quiet", AutoRecover: &off, CreatedAt: now, UpdatedAt: now}
		if err := h.store.CreateProject(ctx, quiet); err != nil {
			t.Fatal(err)
		}
		projectOff = webhook(rcv["projectOff"].srv.URL)
		projectOff.ID, projectOff.ProjectID = hookgate.NewID(hookgate.PrefixWebhook, now), quiet.ID
		if err := h.store.CreateWebhook(ctx, projectOff); err != nil {
			t.Fatal(err)
		}
		if _, err := h.store.SetWebhookStatus(ctx, h.proj, deactivated.ID, hookgate.StatusDeactivated, now); err != nil {
			t.Fatal(err)
		}
		for _, w := range []*hookgate.Webhook{witness, selfOff, projectOff, deactivated} {
			if _, err := h.store.SetWebhookStatus(ctx, w.ProjectID, w.ID, hookgate.StatusDisabled, now); err != nil {
				t.Fatal(err)
			}
		}
		// Two steps of the witness: the second read of the due probes comes
		// after every claim of the first, so a probe the others wrongly got
		// is counted by then.
		clk.Advance(hookgate.DefaultRecoverySchedule[0])
		testwait.For(t, "the witness probed", func() bool { return rcv["witness"].count(hookgate.EventPing) == 1 })
		clk.Advance(hookgate.DefaultRecoverySchedule[1])
		testwait.For(t, "the witness probed again", func() bool { return rcv["witness"].count(hookgate.EventPing) == 2 })
		for _, name := range []string{"selfOff", "projectOff", "deactivated"} {
			if n := rcv[name].count(hookgate.EventPing); n != 0 {
				t.Errorf("%s: %d probes, want none", name, n)
			}
		}
		got, err := h.store.FindRecoveries(ctx, h.proj, []string{selfOff.ID, deactivated.ID})
		if err != nil || got[selfOff.ID] == nil || got[selfOff.ID].Probes != 0 || got[deactivated.ID] != nil {
			t.Fatalf("recoveries %+v (%v); want selfOff's unprobed and none for the deactivated one", got, err)
		}
	})
}

// Issue 24, item 3: a webhook with payloadEncoding base64 receives its
// probe as the bytes of the ping's JSON envelope, and recovers.
func TestRecoveryProbesABase64Webhook(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clk := newClock(time.Now().Add(time.Minute).UTC().Truncate(time.Millisecond))
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) {
			clocked(c, clk)
			c.ProbePoll = 10 * time.Millisecond
		})
		bodies := make(chan []byte, 4)
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
			b, _ := io.ReadAll(req.Body)
			bodies <- b
		}))
		t.Cleanup(srv.Close)
		w := h.webhookWith(t, srv.URL, func(w *hookgate.Webhook) { w.PayloadEncoding = hookgate.EncodingBase64 })
		if _, err := h.store.SetWebhookStatus(ctx, h.proj, w.ID, hookgate.StatusDisabled, clk.Now()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(hookgate.DefaultRecoverySchedule[0])
		var env struct {
			Type string `json:"type"`
			Data struct {
				WebhookID string `json:"webhookId"`
				Probe     int    `json:"probe"`
			} `json:"data"`
		}
		if b := testwait.Recv(t, "the probe", (<-chan []byte)(bodies)); json.Unmarshal(b, &env) != nil || env.Type != hookgate.EventPing || env.Data.WebhookID != w.ID || env.Data.Probe != 1 {
			t.Fatalf("probe body %q, want the ping's JSON envelope", b)
		}
		testwait.For(t, "the webhook enabled again", func() bool {
			got, err := h.store.FindWebhook(ctx, h.proj, w.ID)
			return err == nil && got.Status == hookgate.StatusActive
		})
	})
}

// Issue 29: a recovery probe runs the webhook's transform on its ping; a
// transform that fails on the ping sends the envelope instead, so that
// the webhook can be probed, and recovers.
func TestRecoveryProbesATransformedWebhook(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clk := newClock(time.Now().Add(time.Minute).UTC().Truncate(time.Millisecond))
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) {
			clocked(c, clk)
			c.ProbePoll = 10 * time.Millisecond
		})
		bodies := map[string]chan []byte{"/works": make(chan []byte, 4), "/fails": make(chan []byte, 4)}
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
			b, _ := io.ReadAll(req.Body)
			bodies[req.URL.Path] <- b
		}))
		t.Cleanup(srv.Close)
		works := h.webhookWith(t, srv.URL+"/works", func(w *hookgate.Webhook) { w.Transform = `{"probe": data.probe}` })
		fails := h.webhookWith(t, srv.URL+"/fails", func(w *hookgate.Webhook) { w.Transform = `{"t": data.total}` })
		for _, w := range []*hookgate.Webhook{works, fails} {
			if _, err := h.store.SetWebhookStatus(ctx, h.proj, w.ID, hookgate.StatusDisabled, clk.Now()); err != nil {
				t.Fatal(err)
			}
		}
		clk.Advance(hookgate.DefaultRecoverySchedule[0])
		if b := testwait.Recv(t, "the transformed probe", (<-chan []byte)(bodies["/works"])); string(b) != `{"probe":1}` {
			t.Fatalf("probe body %q, want the transform's", b)
		}
		var env struct {
			Type string `json:"type"`
		}
		if b := testwait.Recv(t, "the envelope probe", (<-chan []byte)(bodies["/fails"])); json.Unmarshal(b, &env) != nil || env.Type != hookgate.EventPing {
			t.Fatalf("probe body %q, want the ping's envelope", b)
		}
		testwait.For(t, "both webhooks enabled again", func() bool {
			a, err := h.store.FindWebhook(ctx, h.proj, works.ID)
			b, err2 := h.store.FindWebhook(ctx, h.proj, fails.ID)
			return err == nil && err2 == nil && a.Status == hookgate.StatusActive && b.Status == hookgate.StatusActive
		})
	})
}
