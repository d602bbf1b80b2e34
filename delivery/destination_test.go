package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/destinations/all"
	"github.com/hookgate/hookgate/internal/testwait"
)

// fakeKind is a destination kind that is not HTTP: it keeps what it is
// sent, and answers by the event's type. "flaky" fails twice, asking the
// second time to be left alone for longer than the schedule would wait;
// "refused" fails for good and "gone" asks to be disabled, until accept
// is set; anything else is taken.
type fakeKind struct {
	mu     sync.Mutex
	sent   []hookgate.DeliveryMessage
	tries  map[string]int // by delivery ID
	accept bool
	closed bool
}

const fakeRetryAfter = 10 * time.Second

func (f *fakeKind) Check(w *hookgate.Webhook) error {
	if w.URL == "" {
		return hookgate.MissingParam("url")
	}
	return nil
}

func (f *fakeKind) Send(_ context.Context, _ *hookgate.Webhook, m hookgate.DeliveryMessage) hookgate.Outcome {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, m)
	f.tries[m.ID]++
	switch {
	case m.EventType == "flaky" && f.tries[m.ID] == 1:
		return hookgate.Retryable(hookgate.Attempt{}, 0)
	case m.EventType == "flaky" && f.tries[m.ID] == 2:
		return hookgate.Retryable(hookgate.Attempt{Error: "the fake sink is busy"}, fakeRetryAfter)
	case m.EventType == "refused" && !f.accept:
		return hookgate.Permanent(hookgate.Attempt{Error: "refused"}, "the fake sink refused it")
	case m.EventType == "gone" && !f.accept:
		o := hookgate.Permanent(hookgate.Attempt{}, "the fake sink is gone")
		o.Disable = true
		return o
	}
	return hookgate.Succeeded(hookgate.Attempt{})
}

func (f *fakeKind) Timeout() time.Duration { return time.Second }

func (f *fakeKind) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.closed = true
	return nil
}

// ids returns the delivery IDs sent, in order, of the event type typ.
func (f *fakeKind) ids(typ string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, m := range f.sent {
		if m.EventType == typ {
			out = append(out, m.ID)
		}
	}
	return out
}

func (f *fakeKind) setAccept() {
	f.mu.Lock()
	f.accept = true
	f.mu.Unlock()
}

// Issue 23, step 1: a destination kind that is not HTTP is one type and
// one registration. Registered under "fake", it is driven through the
// whole engine, on both engines: a webhook stored with that destination
// gets its deliveries through it; a retryable outcome is retried on the
// schedule (and after the Retry-After it asks for, when longer); each
// attempt is recorded with the reason it failed; a permanent outcome fails
// the delivery at once, and with Disable disables the webhook; a retried
// delivery and a recovered webhook are sent again, with the same delivery
// ID.
func TestFakeDestinationKindThroughTheEngine(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clk := newClock(time.Now().Add(time.Minute).Truncate(time.Millisecond))
		fake := &fakeKind{tries: map[string]int{}}
		var reg *hookgate.Destinations
		h := runDispatcher(t, engine, hookgate.Schedule{time.Second, 2 * time.Second}, func(c *delivery.Config) {
			clocked(c, clk)
			reg = c.Destinations
			if err := reg.Register(hookgate.DestinationKind{Name: "fake", Fields: []string{"url"}}, fake); err != nil {
				t.Fatal(err)
			}
		})
		w := h.webhookWith(t, "fake://sink/orders", func(w *hookgate.Webhook) { w.Destination = "fake" })
		if got, err := h.store.FindWebhook(ctx, h.proj, w.ID); err != nil || got.Destination != "fake" {
			t.Fatalf("stored webhook: %+v, %v; want its destination kept", got, err)
		}
		if err := reg.Check(w); err != nil {
			t.Fatalf("Check: %v", err)
		}
		emit := func(typ string) string {
			t.Helper()
			evs, err := h.store.CreateEvents(ctx, h.proj, []hookgate.EventInput{{Type: typ, Data: json.RawMessage(`{}`)}})
			if err != nil {
				t.Fatal(err)
			}
			h.disp.Wake()
			return hookgate.DeliveryID(evs[0].ID, w.ID)
		}
		find := func(id string) *hookgate.Delivery {
			t.Helper()
			d, err := h.store.FindDelivery(ctx, h.proj, id)
			if err != nil {
				t.Fatal(err)
			}
			return d
		}
		waitAttempts := func(id string, n int) *hookgate.Delivery {
			t.Helper()
			var d *hookgate.Delivery
			testwait.For(t, "the delivery's attempts recorded", func() bool { d = find(id); return d.Attempts == n })
			return d
		}

		// Retryable: on the schedule, then after the longer Retry-After.
		flaky := emit("flaky")
		d := waitAttempts(flaky, 1)
		if want := clk.Now().Add(time.Second); d.Status != hookgate.DeliveryPending || !d.NextAttemptAt.Equal(want) {
			t.Fatalf("after the first attempt: %s, next at %s; want pending, at %s (the schedule's 1s)", d.Status, d.NextAttemptAt, want)
		}
		clk.Advance(time.Second)
		d = waitAttempts(flaky, 2)
		if want := clk.Now().Add(fakeRetryAfter); d.Status != hookgate.DeliveryPending || !d.NextAttemptAt.Equal(want) {
			t.Fatalf("after the second attempt: %s, next at %s; want pending, at %s (the Retry-After, longer than the schedule's 2s)", d.Status, d.NextAttemptAt, want)
		}
		clk.Advance(fakeRetryAfter)
		d = waitAttempts(flaky, 3)
		if d.Status != hookgate.DeliverySucceeded {
			t.Fatalf("after the third attempt: %s, want succeeded", d.Status)
		}
		atts, _, err := h.store.ListAttempts(ctx, h.proj, flaky, hookgate.Page{})
		if err != nil || len(atts) != 3 {
			t.Fatalf("attempts: %d, %v; want 3", len(atts), err)
		}
		slices.Reverse(atts) // the latest first
		for i, want := range []string{"", "the fake sink is busy", ""} {
			if a := atts[i]; a.Attempt != i+1 || a.Error != want || a.DeliveryID != flaky || a.ID == "" || a.StartedAt.IsZero() {
				t.Errorf("attempt %d: %+v; want number %d, error %q", i, a, i+1, want)
			}
		}
		if ids := fake.ids("flaky"); len(ids) != 3 || ids[0] != flaky || ids[2] != flaky {
			t.Errorf("sent %v; want the delivery's ID three times", ids)
		}

		// Permanent: failed at once, whatever the schedule, the attempt
		// recorded as the destination gave it. Retried, it is sent again with its ID.
		refused := emit("refused")
		d = waitAttempts(refused, 1)
		if d.Status != hookgate.DeliveryFailed {
			t.Fatalf("after a permanent failure: %s, want failed", d.Status)
		}
		if atts, _, _ := h.store.ListAttempts(ctx, h.proj, refused, hookgate.Page{}); len(atts) != 1 || atts[0].Error != "refused" {
			t.Fatalf("attempts: %+v; want one, with the reason", atts)
		}
		fake.setAccept()
		if _, err := h.store.RetryDelivery(ctx, h.proj, refused, clk.Now()); err != nil {
			t.Fatal(err)
		}
		h.disp.Wake()
		if d = waitAttempts(refused, 2); d.Status != hookgate.DeliverySucceeded {
			t.Fatalf("retried: %s, want succeeded", d.Status)
		}
		if ids := fake.ids("refused"); len(ids) != 2 || ids[1] != refused {
			t.Errorf("sent %v; want the same delivery ID again", ids)
		}

		// Disable: the webhook is disabled. Active again, recovering it
		// sends the failed delivery once more.
		fake.mu.Lock()
		fake.accept = false
		fake.mu.Unlock()
		gone := emit("gone")
		if d = waitAttempts(gone, 1); d.Status != hookgate.DeliveryFailed {
			t.Fatalf("after a permanent failure asking to disable: %s, want failed", d.Status)
		}
		testwait.For(t, "the webhook disabled", func() bool {
			got, err := h.store.FindWebhook(ctx, h.proj, w.ID)
			return err == nil && got.Status == hookgate.StatusDisabled
		})
		fake.setAccept()
		if _, err := h.store.SetWebhookStatus(ctx, h.proj, w.ID, hookgate.StatusActive, clk.Now()); err != nil {
			t.Fatal(err)
		}
		if n, _, err := h.store.RecoverWebhook(ctx, h.proj, w.ID, time.Time{}, clk.Now()); err != nil || n != 1 {
			t.Fatalf("recover: %d requeued, %v; want 1", n, err)
		}
		h.disp.Wake()
		if d = waitAttempts(gone, 2); d.Status != hookgate.DeliverySucceeded {
			t.Fatalf("recovered: %s, want succeeded", d.Status)
		}

		h.stop()
		if err := reg.Close(); err != nil || !fake.closed {
			t.Fatalf("Close: %v, closed %v", err, fake.closed)
		}
	})
}

// Issue 23, step 1: a webhook whose kind is not registered on this node
// is not sent; its attempt is recorded, saying so, and retried on the
// schedule, as one whose secrets do not open here.
func TestUnregisteredDestinationKindIsRetried(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		clk := newClock(time.Now().Add(time.Minute).Truncate(time.Millisecond))
		h := runDispatcher(t, engine, nil, func(c *delivery.Config) { clocked(c, clk) })
		w := h.webhookWith(t, "pigeon://127.0.0.1:9/orders", func(w *hookgate.Webhook) { w.Destination = "carrier-pigeon" })
		id := hookgate.DeliveryID(h.send(t, 1)[0].ID, w.ID)
		var d *hookgate.Delivery
		testwait.For(t, "the first attempt recorded", func() bool {
			var err error
			d, err = h.store.FindDelivery(ctx, h.proj, id)
			return err == nil && d.Attempts == 1
		})
		if d.Status != hookgate.DeliveryPending {
			t.Fatalf("status %s, want pending (retried on the schedule)", d.Status)
		}
		atts, _, err := h.store.ListAttempts(ctx, h.proj, id, hookgate.Page{})
		if err != nil || len(atts) != 1 || !strings.Contains(atts[0].Error, `no destination of kind "carrier-pigeon"`) {
			t.Fatalf("attempts: %+v, %v; want one saying why", atts, err)
		}
	})
}

// The registry refuses a name twice, and answers an unknown kind with an
// invalid destination.
func TestDestinationsRegistry(t *testing.T) {
	t.Parallel()
	r := all.New(newSender())
	if err := r.Register(hookgate.DestinationKind{Name: hookgate.DestinationHTTP}, &fakeKind{}); err == nil {
		t.Fatal("a second http kind was registered")
	}
	if d, err := r.For(&hookgate.Webhook{}); err != nil || d == nil {
		t.Fatalf("For a webhook without a destination: %v, %v; want HTTP's", d, err)
	}
	_, err := r.For(&hookgate.Webhook{Destination: "carrier-pigeon"})
	var he *hookgate.Error
	if !errors.As(err, &he) || he.Code != hookgate.EInvalidParameter || he.Param != "destination.kind" {
		t.Fatalf("For an unknown kind: %v; want an invalid destination", err)
	}
	kinds := map[string]hookgate.DestinationKind{}
	for _, k := range r.Kinds() {
		kinds[k.Name] = k
	}
	// Each kind and a secret field of it, one line a kind.
	want := map[string]string{
		hookgate.DestinationHTTP: "secret",
		"redis-stream":           "auth.password",
		"amqp":                   "auth.password",
		"mqtt":                   "auth.password",
		"nats":                   "auth.token",
	}
	for name, secret := range want {
		if !slices.Contains(kinds[name].Secret, secret) {
			t.Errorf("kind %s: %+v, want %s secret", name, kinds[name], secret)
		}
	}
	if len(kinds) != len(want) {
		t.Fatalf("kinds: %+v", r.Kinds())
	}
}
