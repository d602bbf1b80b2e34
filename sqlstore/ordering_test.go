package sqlstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
)

// newOrderedWebhook registers a FIFO webhook keyed at pointer ("" for one
// key).
func newOrderedWebhook(t *testing.T, s *sqlstore.Store, projectID, pointer string) *hookgate.Webhook {
	t.Helper()
	now := time.Now().UTC()
	w := &hookgate.Webhook{ID: hookgate.NewID(hookgate.PrefixWebhook, now), ProjectID: projectID, URL: "http://127.0.0.1:9/hook",
		Secret: hookgate.NewSecret(), Ordering: hookgate.OrderingFIFO, OrderingKey: pointer, CreatedAt: now, UpdatedAt: now}
	w.ApplyDefaults()
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateWebhook(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	return w
}

// keyed are events of type t whose data.k are keys, in order.
func keyed(keys ...string) []hookgate.EventInput {
	in := make([]hookgate.EventInput, len(keys))
	for i, k := range keys {
		data := fmt.Sprintf(`{"k":%q,"n":%d}`, k, i)
		if k == "-" {
			data = fmt.Sprintf(`{"n":%d}`, i) // no key: the key ""
		}
		in[i] = hookgate.EventInput{Type: "t", Data: json.RawMessage(data)}
	}
	return in
}

// outcomeOf is the outcome of claimed d: status, due again at next when
// pending.
func outcomeOf(d *hookgate.Delivery, lease time.Time, status string, next time.Time) hookgate.AttemptOutcome {
	code := 200
	if status != hookgate.DeliverySucceeded {
		code = 500
	}
	return hookgate.AttemptOutcome{ProjectID: d.ProjectID, WebhookID: d.WebhookID, LeaseUntil: lease, Status: status, NextAttemptAt: next,
		Ordered: d.Ordered, OrderingKey: d.OrderingKey,
		Attempt: hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, time.Now()), DeliveryID: d.ID, Attempt: d.Attempts + 1, StartedAt: time.Now(), StatusCode: code}}
}

// byKey maps claimed deliveries by ordering key, failing on two of one key.
func byKey(t *testing.T, ds []*hookgate.Delivery) map[string]*hookgate.Delivery {
	t.Helper()
	out := map[string]*hookgate.Delivery{}
	for _, d := range ds {
		if !d.Ordered {
			t.Fatalf("delivery %s of a FIFO webhook is not ordered", d.ID)
		}
		if prev, ok := out[d.OrderingKey]; ok {
			t.Fatalf("two deliveries of key %q claimed at once: %s and %s", d.OrderingKey, prev.ID, d.ID)
		}
		out[d.OrderingKey] = d
	}
	return out
}

func TestOrderedDeliveriesGoOneAtATimePerKey(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "fifo")
		w := newOrderedWebhook(t, s, p.ID, "/data/k")
		first, err := s.CreateEvents(ctx, p.ID, keyed("a", "b", "a", "-"))
		if err != nil {
			t.Fatal(err)
		}
		second, err := s.CreateEvents(ctx, p.ID, keyed("a", "b"))
		if err != nil {
			t.Fatal(err)
		}
		id := func(e *hookgate.Event) string { return hookgate.DeliveryID(e.ID, w.ID) }
		now := time.Now().Add(time.Second)
		claim := func(at time.Time) ([]*hookgate.Delivery, time.Time) {
			t.Helper()
			got, lease, err := s.ClaimDue(ctx, "n1", at, 100, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			return got, lease
		}
		got, lease := claim(now)
		heads := byKey(t, got)
		if len(heads) != 3 || heads["a"].ID != id(first[0]) || heads["b"].ID != id(first[1]) || heads[""].ID != id(first[3]) {
			t.Fatalf("claimed %v; want the heads of a, b and the key \"\"", heads)
		}
		if again, _ := claim(now); len(again) != 0 {
			t.Fatalf("claimed %d more while every key has one in flight", len(again))
		}

		// A head failing blocks its key, and only its key, through its
		// retries.
		retryAt := now.Add(10 * time.Second)
		if err := s.RecordAttempts(ctx, now, []hookgate.AttemptOutcome{
			outcomeOf(heads["a"], lease, hookgate.DeliveryPending, retryAt),
			outcomeOf(heads["b"], lease, hookgate.DeliverySucceeded, time.Time{}),
			outcomeOf(heads[""], lease, hookgate.DeliverySucceeded, time.Time{}),
		}); err != nil {
			t.Fatal(err)
		}
		got, lease = claim(now.Add(time.Second))
		if len(got) != 1 || got[0].ID != id(second[1]) {
			t.Fatalf("claimed %v; want b's second only (a waits for its head's retry)", got)
		}
		waiting, err := s.FindDelivery(ctx, p.ID, id(first[2]))
		if err != nil || waiting.Status != hookgate.DeliveryPending || !waiting.NextAttemptAt.IsZero() || waiting.OrderingKey != "a" {
			t.Fatalf("a's second = %+v, %v; want pending with no time of its own, key a", waiting, err)
		}
		if err := s.RecordAttempts(ctx, now, []hookgate.AttemptOutcome{outcomeOf(got[0], lease, hookgate.DeliverySucceeded, time.Time{})}); err != nil {
			t.Fatal(err)
		}
		got, lease = claim(retryAt)
		if len(got) != 1 || got[0].ID != id(first[0]) {
			t.Fatalf("claimed %v at the retry; want a's head again", got)
		}

		// Exhausted, the head is a dead letter and its key moves on.
		if err := s.RecordAttempts(ctx, retryAt, []hookgate.AttemptOutcome{outcomeOf(got[0], lease, hookgate.DeliveryFailed, time.Time{})}); err != nil {
			t.Fatal(err)
		}
		got, lease = claim(retryAt)
		if len(got) != 1 || got[0].ID != id(first[2]) {
			t.Fatalf("claimed %v after the head failed; want a's second", got)
		}

		// Sent again while a's second is in flight, the dead letter waits
		// for it, then goes before a's third: the older first.
		if _, err := s.RetryDelivery(ctx, p.ID, id(first[0]), retryAt); err != nil {
			t.Fatal(err)
		}
		if more, _ := claim(retryAt); len(more) != 0 {
			t.Fatalf("claimed %v while a's second is in flight", more)
		}
		if err := s.RecordAttempts(ctx, retryAt, []hookgate.AttemptOutcome{outcomeOf(got[0], lease, hookgate.DeliverySucceeded, time.Time{})}); err != nil {
			t.Fatal(err)
		}
		got, lease = claim(retryAt)
		if len(got) != 1 || got[0].ID != id(first[0]) {
			t.Fatalf("claimed %v; want the retried dead letter before a's third", got)
		}
		if err := s.RecordAttempts(ctx, retryAt, []hookgate.AttemptOutcome{outcomeOf(got[0], lease, hookgate.DeliverySucceeded, time.Time{})}); err != nil {
			t.Fatal(err)
		}
		got, _ = claim(retryAt)
		if len(got) != 1 || got[0].ID != id(second[0]) {
			t.Fatalf("claimed %v; want a's third", got)
		}
	})
}

// Deactivated and activated again, a FIFO webhook's deliveries keep their
// order; switched to ordering none, they all go at once.
func TestOrderedDeliveriesAcrossPauseAndRelease(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "fifo-pause")
		w := newOrderedWebhook(t, s, p.ID, "")
		evs, err := s.CreateEvents(ctx, p.ID, keyed("x", "y", "z", "w"))
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		if _, err := s.SetWebhookStatus(ctx, p.ID, w.ID, hookgate.StatusDeactivated, now); err != nil {
			t.Fatal(err)
		}
		if got, _, _ := s.ClaimDue(ctx, "n1", now.Add(time.Second), 100, time.Minute); len(got) != 0 {
			t.Fatalf("claimed %d of a deactivated webhook", len(got))
		}
		if _, err := s.SetWebhookStatus(ctx, p.ID, w.ID, hookgate.StatusActive, now); err != nil {
			t.Fatal(err)
		}
		got, _, err := s.ClaimDue(ctx, "n1", now.Add(time.Second), 100, time.Minute)
		if err != nil || len(got) != 1 || got[0].ID != hookgate.DeliveryID(evs[0].ID, w.ID) {
			t.Fatalf("claimed %v, %v after activation; want the first only", got, err)
		}

		// Ordering none: the waiting rows are due at once, unordered.
		w, err = s.FindWebhook(ctx, p.ID, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		w.Ordering = hookgate.OrderingNone
		if err := s.UpdateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		rest, _, err := s.ClaimDue(ctx, "n1", time.Now().Add(time.Second), 100, time.Minute)
		if err != nil || len(rest) != 3 {
			t.Fatalf("claimed %d, %v after ordering none; want the 3 waiting", len(rest), err)
		}
		for _, d := range rest {
			if d.Ordered {
				t.Fatalf("delivery %s still ordered after ordering none", d.ID)
			}
		}
	})
}

// Two nodes claiming and recording at once, with failures retried at
// once, never have two deliveries of one key in flight, and each key's
// deliveries succeed in the order they were accepted.
func TestOrderedDeliveriesOnTwoNodes(t *testing.T) {
	t.Parallel()
	_, a, b := twoNodes(t)
	ctx := context.Background()
	p := newProject(t, a, "fifo-nodes")
	w := newOrderedWebhook(t, a, p.ID, "/data/k")
	const keys, perKey = 8, 12
	var want []string
	for range perKey {
		var batch []string
		for k := range keys {
			batch = append(batch, fmt.Sprint("k", k))
		}
		rand.Shuffle(len(batch), func(i, j int) { batch[i], batch[j] = batch[j], batch[i] })
		node := a
		if rand.IntN(2) == 0 {
			node = b
		}
		evs, err := node.CreateEvents(ctx, p.ID, keyed(batch...))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range evs {
			want = append(want, hookgate.DeliveryID(e.ID, w.ID))
		}
	}
	var mu sync.Mutex
	inFlight := map[string]string{}
	succeeded := map[string][]string{}
	done := 0
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i, s := range []*sqlstore.Store{a, b, a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			node := fmt.Sprint("node-", i)
			for {
				mu.Lock()
				finished := done == keys*perKey
				mu.Unlock()
				if finished {
					return
				}
				got, lease, err := s.ClaimDue(ctx, node, time.Now(), 4, time.Minute)
				if err != nil {
					errs <- err
					return
				}
				var outs []hookgate.AttemptOutcome
				mu.Lock()
				for _, d := range got {
					if other, ok := inFlight[d.OrderingKey]; ok {
						mu.Unlock()
						errs <- fmt.Errorf("%s claimed %s while %s of key %s is in flight", node, d.ID, other, d.OrderingKey)
						return
					}
					inFlight[d.OrderingKey] = d.ID
				}
				mu.Unlock()
				for _, d := range got {
					if rand.IntN(4) == 0 {
						outs = append(outs, outcomeOf(d, lease, hookgate.DeliveryPending, time.Now()))
						continue
					}
					outs = append(outs, outcomeOf(d, lease, hookgate.DeliverySucceeded, time.Time{}))
				}
				// Out of flight before the write: a claim of the next one
				// can only follow the write.
				mu.Lock()
				for _, o := range outs {
					delete(inFlight, o.OrderingKey)
					if o.Status == hookgate.DeliverySucceeded {
						succeeded[o.OrderingKey] = append(succeeded[o.OrderingKey], o.Attempt.DeliveryID)
						done++
					}
				}
				mu.Unlock()
				if err := s.RecordAttempts(ctx, time.Now(), outs); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for k, ids := range succeeded {
		if !slices.IsSorted(ids) || len(ids) != perKey {
			t.Errorf("key %s succeeded in the order %v; want %d in ID order", k, ids, perKey)
		}
	}
	if len(want) != keys*perKey {
		t.Fatalf("accepted %d", len(want))
	}
}

// Issue 24, item 1: dead letters of a FIFO webhook queued again by a
// redrive or by recover go back in line by ID: after the delivery of their
// key in flight, before the key's younger pending ones.
func TestOrderedRequeuesKeepTheOrder(t *testing.T) {
	for _, how := range []string{"redrive", "recover"} {
		t.Run(how, func(t *testing.T) {
			eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
				ctx := context.Background()
				p := newProject(t, s, "fifo-"+how)
				w := newOrderedWebhook(t, s, p.ID, "")
				evs, err := s.CreateEvents(ctx, p.ID, keyed("a", "b", "c", "d"))
				if err != nil {
					t.Fatal(err)
				}
				id := func(i int) string { return hookgate.DeliveryID(evs[i].ID, w.ID) }
				now := time.Now().Add(time.Second)
				step := func(wantID string, status string) {
					t.Helper()
					got, lease, err := s.ClaimDue(ctx, "n1", now, 100, time.Minute)
					if err != nil || len(got) != 1 || got[0].ID != wantID {
						t.Fatalf("claimed %v, %v; want %s alone", got, err, wantID)
					}
					if status == "" {
						return // left in flight
					}
					if err := s.RecordAttempts(ctx, now, []hookgate.AttemptOutcome{outcomeOf(got[0], lease, status, time.Time{})}); err != nil {
						t.Fatal(err)
					}
				}
				step(id(0), hookgate.DeliveryFailed)
				step(id(1), hookgate.DeliveryFailed)
				step(id(2), "") // the third in flight
				switch how {
				case "redrive":
					r := &hookgate.Redrive{ID: hookgate.NewID(hookgate.PrefixRedrive, now), ProjectID: p.ID, State: hookgate.RedriveRunning,
						Selection: hookgate.RedriveSelection{Status: hookgate.DeliveryFailed, WebhookID: w.ID}, StartedAt: now}
					if _, _, err := s.CreateRedrive(ctx, r, now.Add(time.Minute)); err != nil {
						t.Fatal(err)
					}
					if over, err := s.StepRedrive(ctx, p.ID, r.ID, now, now.Add(time.Minute)); err != nil || !over {
						t.Fatalf("redrive step = %v, %v", over, err)
					}
				case "recover":
					if n, _, err := s.RecoverWebhook(ctx, p.ID, w.ID, now.Add(-time.Hour), now); err != nil || n != 2 {
						t.Fatalf("recover = %d, %v; want 2 requeued", n, err)
					}
				}
				if got, _, _ := s.ClaimDue(ctx, "n1", now, 100, time.Minute); len(got) != 0 {
					t.Fatalf("claimed %v while the third is in flight", got)
				}
				// The third is recorded: its key goes on with the oldest.
				inFlight, err := s.FindDelivery(ctx, p.ID, id(2))
				if err != nil {
					t.Fatal(err)
				}
				lease := now.Add(time.Minute).Truncate(time.Microsecond)
				if err := s.RecordAttempts(ctx, now, []hookgate.AttemptOutcome{outcomeOf(inFlight, lease, hookgate.DeliverySucceeded, time.Time{})}); err != nil {
					t.Fatal(err)
				}
				step(id(0), hookgate.DeliverySucceeded)
				step(id(1), hookgate.DeliverySucceeded)
				step(id(3), hookgate.DeliverySucceeded)
			})
		})
	}
}
