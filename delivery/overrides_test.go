package delivery_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/destinations/all"
	"github.com/hookgate/hookgate/internal/testwait"
)

// Issue 24, item 4: a webhook's own retrySchedule and maxAttempts rule
// its deliveries over the server's: with a schedule of [1s, 1s, 1s] and
// maxAttempts 2, a delivery to a failing receiver is retried 1s after its
// first attempt (not after the server's 5s) and is exhausted after its
// second, though the schedule has waits left.
func TestWebhookScheduleAndMaxAttempts(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clk := newClock(time.Now().Add(time.Minute).Truncate(time.Millisecond))
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) { clocked(c, clk) })
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
			calls.Add(1)
			rw.WriteHeader(http.StatusInternalServerError)
		}))
		t.Cleanup(srv.Close)
		w := h.webhookWith(t, srv.URL, func(w *hookgate.Webhook) {
			w.RetrySchedule, w.MaxAttempts = hookgate.Schedule{time.Second, time.Second, time.Second}, 2
		})
		id := hookgate.DeliveryID(h.send(t, 1)[0].ID, w.ID)
		first := clk.Now()
		var d *hookgate.Delivery
		testwait.For(t, "the first attempt recorded", func() bool {
			var err error
			d, err = h.store.FindDelivery(ctx, h.proj, id)
			return err == nil && d.Attempts == 1
		})
		if d.Status != hookgate.DeliveryPending || !d.NextAttemptAt.Equal(first.Add(time.Second)) {
			t.Fatalf("after the first attempt: %s, next at %s; want pending, next at %s (the webhook's 1s)", d.Status, d.NextAttemptAt, first.Add(time.Second))
		}
		clk.Advance(time.Second)
		h.disp.Wake()
		testwait.For(t, "the delivery exhausted", func() bool {
			var err error
			d, err = h.store.FindDelivery(ctx, h.proj, id)
			return err == nil && d.Status == hookgate.DeliveryFailed
		})
		atts, _, err := h.store.ListAttempts(ctx, h.proj, id, hookgate.Page{})
		if err != nil || len(atts) != 2 || d.Attempts != 2 || calls.Load() != 2 {
			t.Fatalf("attempts %d (%v), delivery's count %d, requests %d; want 2 of each", len(atts), err, d.Attempts, calls.Load())
		}
		var starts []time.Time
		for _, a := range atts {
			starts = append(starts, a.StartedAt)
		}
		if gap := starts[0].Sub(starts[1]); gap != time.Second && -gap != time.Second {
			t.Fatalf("attempts started at %v; want 1s apart", starts)
		}
	})
}

// Issue 24, item 4: a webhook's own timeout bounds its requests: with a
// timeout of 1s, below the sender's minute, a receiver that holds the
// request gets an attempt recorded as a timeout, and the delivery is
// retried.
func TestWebhookTimeout(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		release := make(chan struct{})
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		t.Cleanup(srv.Close)
		t.Cleanup(func() { close(release) }) // runs before srv.Close
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) {
			s := newSender()
			s.Client.Timeout = time.Minute // beyond testwait's patience: only the webhook's timeout ends the request in time
			c.Destinations = all.New(s)
		})
		w := h.webhookWith(t, srv.URL, func(w *hookgate.Webhook) { w.Timeout = time.Second })
		id := hookgate.DeliveryID(h.send(t, 1)[0].ID, w.ID)
		var d *hookgate.Delivery
		testwait.For(t, "the first attempt recorded", func() bool {
			var err error
			d, err = h.store.FindDelivery(ctx, h.proj, id)
			return err == nil && d.Attempts == 1
		})
		atts, _, err := h.store.ListAttempts(ctx, h.proj, id, hookgate.Page{})
		if err != nil || len(atts) != 1 || atts[0].StatusCode != 0 || !strings.Contains(atts[0].Error, "timeout: no answer within the webhook's timeout of 1s") {
			t.Fatalf("attempts %+v (%v); want one timed out", atts, err)
		}
		if d.Status != hookgate.DeliveryPending {
			t.Fatalf("status %s, want pending (retried)", d.Status)
		}
	})
}
