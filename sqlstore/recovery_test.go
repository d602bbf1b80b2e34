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

// Issue 24, item 3: disabling a webhook starts its recovery; the first
// probe is scheduled first after the disabling, one claim takes each step,
// a probe is recorded as a delivery of kind probe with its attempt, and
// enabling the recovered webhook queues its paused deliveries again and
// ends the recovery.
func TestRecoveryScheduleClaimAndEnable(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "rec")
		w := newWebhook(t, s, p.ID)
		if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "a", Data: json.RawMessage(`1`)}, {Type: "a", Data: json.RawMessage(`2`)}}); err != nil {
			t.Fatal(err)
		}
		at := time.Now().UTC().Truncate(time.Microsecond)
		if _, err := s.SetWebhookStatus(ctx, p.ID, w.ID, hookgate.StatusDisabled, at); err != nil {
			t.Fatal(err)
		}
		first, window := 5*time.Minute, 7*24*time.Hour
		if due, err := s.DueRecoveries(ctx, at.Add(first-time.Microsecond), first, window, 10); err != nil || len(due) != 0 {
			t.Fatalf("due before the first step: %v, %v", due, err)
		}
		got, err := s.FindRecoveries(ctx, p.ID, []string{w.ID})
		r := got[w.ID]
		if err != nil || r == nil || !r.DisabledAt.Equal(at) || !r.NextProbeAt.Equal(at.Add(first)) || !r.EndsAt.Equal(at.Add(window)) || r.Probes != 0 {
			t.Fatalf("recovery %+v (%v); want disabled at %s, first probe at %s, ending %s", r, err, at, at.Add(first), at.Add(window))
		}
		now := at.Add(first)
		due, err := s.DueRecoveries(ctx, now, first, window, 10)
		if err != nil || len(due) != 1 || due[0].WebhookID != w.ID {
			t.Fatalf("due at the first step: %v, %v", due, err)
		}
		next := now.Add(30 * time.Minute)
		if ok, err := s.ClaimProbe(ctx, due[0], next, now); err != nil || !ok {
			t.Fatalf("claim = %v, %v", ok, err)
		}
		if ok, err := s.ClaimProbe(ctx, due[0], next, now); err != nil || ok {
			t.Fatalf("the same step was claimed twice (%v, %v)", ok, err)
		}
		if due, _ := s.DueRecoveries(ctx, now, first, window, 10); len(due) != 0 {
			t.Fatalf("due again after its claim: %v", due)
		}

		// The probe, answered 503.
		e := &hookgate.Event{ID: hookgate.NewID(hookgate.PrefixEvent, now), ProjectID: p.ID, Type: hookgate.EventPing, Data: json.RawMessage(`{}`), Deliveries: 1, CreatedAt: now}
		d := &hookgate.Delivery{ID: hookgate.DeliveryID(e.ID, w.ID), ProjectID: p.ID, EventID: e.ID, WebhookID: w.ID, EventType: e.Type,
			Kind: hookgate.KindProbe, Status: hookgate.DeliveryFailed, Attempts: 1, LastStatusCode: 503, CreatedAt: now, UpdatedAt: now}
		a := &hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, now), DeliveryID: d.ID, Attempt: 1, StartedAt: now, StatusCode: 503, Error: "503 Service Unavailable"}
		if err := s.SaveProbe(ctx, e, d, a); err != nil {
			t.Fatal(err)
		}
		list, _, err := s.ListDeliveries(ctx, p.ID, hookgate.DeliveryFilter{WebhookID: w.ID, Kind: hookgate.KindProbe})
		if err != nil || len(list) != 1 || list[0].ID != d.ID || list[0].Status != hookgate.DeliveryFailed || list[0].Kind != hookgate.KindProbe {
			t.Fatalf("probe deliveries %v (%v); want the one failed probe", list, err)
		}
		atts, _, err := s.ListAttempts(ctx, p.ID, d.ID, hookgate.Page{})
		if err != nil || len(atts) != 1 || atts[0].StatusCode != 503 {
			t.Fatalf("probe attempts %v (%v)", atts, err)
		}
		if _, err := s.RetryDelivery(ctx, p.ID, d.ID, now); hookgate.ErrorCode(err) != hookgate.EConflict {
			t.Fatalf("retry of a probe = %v, want a conflict", err)
		}
		got, _ = s.FindRecoveries(ctx, p.ID, []string{w.ID})
		if r := got[w.ID]; r.Probes != 1 || !r.LastProbeAt.Equal(now) || r.LastStatusCode != 503 || !r.NextProbeAt.Equal(next) {
			t.Fatalf("after a probe: %+v", r)
		}
		if ds, _, _ := s.ClaimDue(ctx, "n1", now.Add(time.Hour), 10, time.Minute); len(ds) != 0 {
			t.Fatalf("the dispatcher could claim %d rows of a disabled webhook and its probe", len(ds))
		}

		// The next probe succeeds: the webhook is enabled, its two paused
		// deliveries queued again, its recovery over.
		enabled, requeued, disabledAt, err := s.EnableRecovered(ctx, p.ID, w.ID, next)
		if err != nil || enabled.Status != hookgate.StatusActive || requeued != 2 || !disabledAt.Equal(at) {
			t.Fatalf("EnableRecovered = %v, %d, %s, %v; want active, 2 requeued, disabled at %s", enabled, requeued, disabledAt, err, at)
		}
		if n := len(deliveriesIn(t, s, p.ID, hookgate.DeliveryPending)); n != 2 {
			t.Fatalf("%d pending deliveries after the recovery, want 2", n)
		}
		if got, _ := s.FindRecoveries(ctx, p.ID, []string{w.ID}); len(got) != 0 {
			t.Fatalf("an active webhook kept its recovery: %+v", got[w.ID])
		}
		if _, _, _, err := s.EnableRecovered(ctx, p.ID, w.ID, next); hookgate.ErrorCode(err) != hookgate.EConflict {
			t.Fatalf("EnableRecovered of an active webhook = %v, want a conflict", err)
		}
	})
}

// deliveriesIn lists a project's deliveries in status.
func deliveriesIn(t *testing.T, s *sqlstore.Store, projectID, status string) []*hookgate.Delivery {
	t.Helper()
	list, _, err := s.ListDeliveries(context.Background(), projectID, hookgate.DeliveryFilter{Status: status, Page: hookgate.Page{Limit: 250}})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// Issue 24, item 3: no probe is due for a webhook a person deactivated
// (even if a 410 disables it afterwards), activated or deleted, for one whose autoRecover in force is false (its
// own, else its project's), after a 410 stopped the probing, or after
// the recovery's end; a webhook disabled again keeps its running
// recovery.
func TestRecoveryNotDue(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "nd")
		at := time.Now().UTC().Truncate(time.Microsecond)
		first, window := time.Minute, time.Hour
		disabled := func() *hookgate.Webhook {
			w := newWebhook(t, s, p.ID)
			if _, err := s.SetWebhookStatus(ctx, p.ID, w.ID, hookgate.StatusDisabled, at); err != nil {
				t.Fatal(err)
			}
			return w
		}
		due := func(now time.Time) map[string]bool {
			t.Helper()
			list, err := s.DueRecoveries(ctx, now, first, window, 100)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]bool{}
			for _, r := range list {
				out[r.WebhookID] = true
			}
			return out
		}
		on, off := true, false
		probed, deactivated, activated, deleted, selfOff, gone := disabled(), disabled(), disabled(), disabled(), disabled(), disabled()
		for _, c := range []struct {
			w      *hookgate.Webhook
			status string
		}{{deactivated, hookgate.StatusDeactivated}, {activated, hookgate.StatusActive}} {
			if _, err := s.SetWebhookStatus(ctx, p.ID, c.w.ID, c.status, at); err != nil {
				t.Fatal(err)
			}
		}
		// Deactivated by a person, then disabled by the 410 of a request
		// in flight: still not probed.
		lateGone := newWebhook(t, s, p.ID)
		for _, st := range []string{hookgate.StatusDeactivated, hookgate.StatusDisabled} {
			if _, err := s.SetWebhookStatus(ctx, p.ID, lateGone.ID, st, at); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.DeleteWebhook(ctx, p.ID, deleted.ID); err != nil {
			t.Fatal(err)
		}
		selfOff.AutoRecover = &off
		if err := s.UpdateWebhook(ctx, selfOff); err != nil {
			t.Fatal(err)
		}
		if err := s.StopRecovery(ctx, p.ID, gone.ID, hookgate.RecoveryGone); err != nil {
			t.Fatal(err)
		}
		// Disabled again (a late 410): the recovery goes on as it was.
		if _, err := s.SetWebhookStatus(ctx, p.ID, probed.ID, hookgate.StatusDisabled, at.Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		if got := due(at.Add(first)); len(got) != 1 || !got[probed.ID] {
			t.Fatalf("due %v; want only %s", got, probed.ID)
		}
		if got, _ := s.FindRecoveries(ctx, p.ID, []string{gone.ID, deactivated.ID}); got[gone.ID].Stopped != hookgate.RecoveryGone || got[deactivated.ID] != nil {
			t.Fatalf("recoveries %+v; want the gone one stopped and none for the deactivated one", got)
		}
		if got := due(at.Add(window + time.Second)); len(got) != 0 {
			t.Fatalf("due after the recovery's end: %v", got)
		}

		// The project turns it off; a webhook's own true wins.
		p.AutoRecover = &off
		if err := s.UpdateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
		if got := due(at.Add(first)); len(got) != 0 {
			t.Fatalf("due with the project's autoRecover off: %v", got)
		}
		if found, err := s.FindProject(ctx, p.ID); err != nil || found.AutoRecover == nil || *found.AutoRecover {
			t.Fatalf("project read back %+v (%v), want autoRecover false", found, err)
		}
		w, _ := s.FindWebhook(ctx, p.ID, probed.ID)
		w.AutoRecover = &on
		if err := s.UpdateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		if got := due(at.Add(first)); len(got) != 1 || !got[probed.ID] {
			t.Fatalf("due %v; want %s, whose own autoRecover is on", got, probed.ID)
		}
		if w, _ := s.FindWebhook(ctx, p.ID, probed.ID); w.AutoRecover == nil || !*w.AutoRecover {
			t.Fatalf("webhook read back with autoRecover %v, want true", w.AutoRecover)
		}
	})
}

// Issue 24, item 3: two nodes on one PostgreSQL database that see the same
// step due make one probe between them.
func TestTwoNodesClaimOneProbePerStep(t *testing.T) {
	t.Parallel()
	_, a, b := twoNodes(t)
	ctx := context.Background()
	p := newProject(t, a, "two")
	w := newWebhook(t, a, p.ID)
	at := time.Now().UTC().Truncate(time.Microsecond)
	if _, err := a.SetWebhookStatus(ctx, p.ID, w.ID, hookgate.StatusDisabled, at); err != nil {
		t.Fatal(err)
	}
	now := at.Add(time.Minute)
	for step := range 5 {
		// Both read the step due before either claims it.
		var read [2]*hookgate.Recovery
		for i, s := range []*sqlstore.Store{a, b} {
			due, err := s.DueRecoveries(ctx, now, time.Minute, time.Hour, 10)
			if err != nil || len(due) != 1 {
				t.Fatalf("step %d: due %v (%v)", step, due, err)
			}
			read[i] = due[0]
		}
		var wins sync.WaitGroup
		won := make(chan bool, 2)
		for i, s := range []*sqlstore.Store{a, b} {
			wins.Add(1)
			go func() {
				defer wins.Done()
				ok, err := s.ClaimProbe(ctx, read[i], now.Add(time.Minute), now)
				if err != nil {
					t.Error(err)
				}
				won <- ok
			}()
		}
		wins.Wait()
		if a, b := <-won, <-won; a == b {
			t.Fatalf("step %d: the nodes' claims returned %v and %v; want one probe", step, a, b)
		}
		now = now.Add(time.Minute)
	}
	got, _ := a.FindRecoveries(ctx, p.ID, []string{w.ID})
	if got[w.ID].Probes != 5 {
		t.Fatalf("%d probes counted for 5 steps", got[w.ID].Probes)
	}
}
