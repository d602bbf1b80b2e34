package sqlstore_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
)

// Issue 24, item 2: a circuit counts consecutive failures, opens at the
// threshold, lets one probe go after its cooldown, and closes on the
// probe's success, making the deliveries held for the probe due at once.
// A change of the webhook's status starts it anew.
func TestCircuitLifecycle(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "cb")
		w := newWebhook(t, s, p.ID)
		br := hookgate.Breaker{Failures: 3, Cooldown: 30 * time.Second}
		t0 := time.Now().UTC().Truncate(time.Microsecond)
		report := func(r hookgate.CircuitReport, at time.Time) hookgate.CircuitChange {
			t.Helper()
			r.ProjectID, r.WebhookID, r.Breaker = p.ID, w.ID, br
			got, err := s.RecordCircuits(ctx, at, []hookgate.CircuitReport{r})
			if err != nil || len(got) != 1 {
				t.Fatalf("RecordCircuits = %v, %v", got, err)
			}
			return got[0]
		}
		// Successes to a webhook without a row write nothing.
		if ch := report(hookgate.CircuitReport{Succeeded: true}, t0); ch.Circuit.State != hookgate.CircuitClosed {
			t.Fatalf("after a success: %+v", ch)
		}
		if cs, _ := s.Circuits(ctx); len(cs) != 0 {
			t.Fatalf("a success wrote a circuit: %+v", cs[0])
		}
		report(hookgate.CircuitReport{Failures: 2}, t0)
		if ch := report(hookgate.CircuitReport{Succeeded: true, Failures: 1}, t0); ch.Circuit.Failures != 1 || ch.Circuit.State != hookgate.CircuitClosed {
			t.Fatalf("a success between failures: %+v", ch.Circuit)
		}
		ch := report(hookgate.CircuitReport{Failures: 2, LastStatusCode: 503}, t0)
		if ch.Transition != hookgate.TransitionOpened || ch.Circuit.State != hookgate.CircuitOpen || !ch.Circuit.NextProbeAt.Equal(t0.Add(30*time.Second)) {
			t.Fatalf("after 3 in a row: %+v", ch)
		}
		cs, err := s.Circuits(ctx)
		if err != nil || len(cs) != 1 || cs[0].State != hookgate.CircuitOpen || cs[0].Failures != 3 {
			t.Fatalf("Circuits = %v, %v", cs, err)
		}
		found, err := s.FindCircuits(ctx, p.ID, []string{w.ID, "wh_other"})
		if err != nil || len(found) != 1 || found[w.ID].State != hookgate.CircuitOpen {
			t.Fatalf("FindCircuits = %v, %v", found, err)
		}
		if counts, err := s.CircuitCounts(ctx); err != nil || counts[hookgate.CircuitOpen] != 1 || counts[hookgate.CircuitClosed] != 0 {
			t.Fatalf("CircuitCounts = %v, %v", counts, err)
		}

		if _, took, err := s.TakeProbe(ctx, p.ID, w.ID, "early", t0.Add(29*time.Second), t0.Add(time.Hour)); err != nil || took {
			t.Fatalf("a probe before the cooldown: %v, %v", took, err)
		}
		at := t0.Add(30 * time.Second)
		until := at.Add(2 * time.Minute)
		c, took, err := s.TakeProbe(ctx, p.ID, w.ID, "probe-1", at, until)
		if err != nil || !took || c.State != hookgate.CircuitHalfOpen {
			t.Fatalf("TakeProbe = %+v, %v, %v", c, took, err)
		}
		if _, took, _ := s.TakeProbe(ctx, p.ID, w.ID, "probe-2", at, until); took {
			t.Fatal("a second probe while the first is in flight")
		}

		// A delivery held for the probe: given back due at its lease's end.
		if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "a", Data: json.RawMessage(`1`)}}); err != nil {
			t.Fatal(err)
		}
		ds, lease, err := s.ClaimDue(ctx, "n1", time.Now(), 10, time.Minute)
		if err != nil || len(ds) != 1 {
			t.Fatalf("claimed %d, %v", len(ds), err)
		}
		if err := s.RecordAttempts(ctx, at, []hookgate.AttemptOutcome{{Attempt: hookgate.Attempt{DeliveryID: ds[0].ID}, ProjectID: p.ID,
			LeaseUntil: lease, Status: hookgate.DeliveryPending, NextAttemptAt: until}}); err != nil {
			t.Fatal(err)
		}
		closedAt := at.Add(time.Second)
		ch = report(hookgate.CircuitReport{Probe: "probe-1", ProbeResult: hookgate.ProbeSucceeded}, closedAt)
		if ch.Transition != hookgate.TransitionClosed || ch.Circuit.State != hookgate.CircuitClosed || ch.Circuit.Failures != 0 {
			t.Fatalf("after the probe succeeded: %+v", ch)
		}
		d, err := s.FindDelivery(ctx, p.ID, ds[0].ID)
		if err != nil || !d.NextAttemptAt.Equal(closedAt) || d.Attempts != 0 {
			t.Fatalf("the held delivery: %+v, %v; want due at the close, %s, with no attempt", d, err, closedAt)
		}

		// Open again, a delivery held until its probe: a change of status
		// forgets the circuit, and the held delivery is due at once (when
		// the webhook is active again).
		ch = report(hookgate.CircuitReport{Failures: 5}, closedAt)
		if ch.Transition != hookgate.TransitionOpened {
			t.Fatalf("opened again: %+v", ch)
		}
		ds, lease, err = s.ClaimDue(ctx, "n1", closedAt, 10, time.Minute)
		if err != nil || len(ds) != 1 {
			t.Fatalf("claimed %d, %v", len(ds), err)
		}
		if err := s.RecordAttempts(ctx, closedAt, []hookgate.AttemptOutcome{{Attempt: hookgate.Attempt{DeliveryID: ds[0].ID}, ProjectID: p.ID,
			LeaseUntil: lease, Status: hookgate.DeliveryPending, NextAttemptAt: ch.Circuit.NextProbeAt}}); err != nil {
			t.Fatal(err)
		}
		offAt := closedAt.Add(time.Second)
		if _, err := s.SetWebhookStatus(ctx, p.ID, w.ID, hookgate.StatusDeactivated, offAt); err != nil {
			t.Fatal(err)
		}
		if cs, _ := s.Circuits(ctx); len(cs) != 0 {
			t.Fatalf("a circuit stayed after a change of status: %+v", cs[0])
		}
		if d, err := s.FindDelivery(ctx, p.ID, ds[0].ID); err != nil || d.Status != hookgate.DeliveryPaused || !d.NextAttemptAt.Equal(offAt) {
			t.Fatalf("the held delivery after deactivation: %+v, %v; want paused, due at %s", d, err, offAt)
		}
	})
}

// Issue 24, item 2: on PostgreSQL two nodes (two stores on one database)
// trying at once to take an open circuit's probe: exactly one wins, and
// both count failures into the one circuit.
func TestCircuitOneProbeAcrossTwoNodes(t *testing.T) {
	t.Parallel()
	_, a, b := twoNodes(t)
	ctx := context.Background()
	p := newProject(t, a, "cb2")
	w := newWebhook(t, a, p.ID)
	br := hookgate.Breaker{Failures: 10, Cooldown: time.Second}
	t0 := time.Now().UTC()
	var wg sync.WaitGroup
	for i := range 10 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.RecordCircuits(ctx, t0, []hookgate.CircuitReport{{ProjectID: p.ID, WebhookID: w.ID, Breaker: br, Failures: 1}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	cs, err := b.Circuits(ctx)
	if err != nil || len(cs) != 1 || cs[0].State != hookgate.CircuitOpen || cs[0].Failures != 10 {
		t.Fatalf("after 10 failures from two nodes: %v, %v", cs, err)
	}
	at := cs[0].NextProbeAt
	var mu sync.Mutex
	won := 0
	for i := range 20 {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, took, err := s.TakeProbe(ctx, p.ID, w.ID, "p"+string(rune('a'+i)), at, at.Add(time.Minute))
			if err != nil {
				t.Error(err)
			}
			if took {
				mu.Lock()
				won++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if won != 1 {
		t.Fatalf("%d probes taken at once across two nodes, want 1", won)
	}
}
