package sqlstore_test

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

func TestClaimAndRecord(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "q")
		newWebhook(t, s, p.ID)
		if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "a", Data: json.RawMessage(`1`)}, {Type: "b", Data: json.RawMessage(`2`)}}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().Add(time.Second)
		got, lease, err := s.ClaimDue(ctx, "test-node", now, 10, time.Minute)
		if err != nil || len(got) != 2 {
			t.Fatalf("claim = %d, %v; want 2", len(got), err)
		}
		t.Run("LeasedRowsAreNotClaimedAgain", func(t *testing.T) {
			again, _, err := s.ClaimDue(ctx, "test-node", now, 10, time.Minute)
			if err != nil || len(again) != 0 {
				t.Fatalf("second claim = %d, %v; want 0", len(again), err)
			}
		})
		t.Run("ExpiredLeaseIsClaimedAgain", func(t *testing.T) {
			later := now.Add(2 * time.Minute)
			taken, lease2, err := s.ClaimDue(ctx, "test-node", later, 10, time.Minute)
			if err != nil || len(taken) != 2 {
				t.Fatalf("claim after expiry = %d, %v; want 2", len(taken), err)
			}
			// The first owner's results no longer change the rows...
			d := got[0]
			stale := hookgate.AttemptOutcome{ProjectID: p.ID, LeaseUntil: lease, Status: hookgate.DeliverySucceeded,
				Attempt: hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, now), DeliveryID: d.ID, Attempt: 1, StartedAt: now, StatusCode: 200}}
			if err := s.RecordAttempts(ctx, now, []hookgate.AttemptOutcome{stale}); err != nil {
				t.Fatal(err)
			}
			if cur, _ := s.FindDelivery(ctx, p.ID, d.ID); cur.Status != hookgate.DeliveryPending || cur.Attempts != 0 {
				t.Fatalf("a stale lease changed the delivery: %+v", cur)
			}
			// ...the new owner's do, and every attempt is kept for audit.
			fresh := stale
			fresh.LeaseUntil = lease2
			fresh.Attempt.ID = hookgate.NewID(hookgate.PrefixAttempt, later)
			fresh.Attempt.Attempt = 2
			fresh.Attempt.ResponseHeaders = map[string]string{"X-A": "1"}
			fresh.Attempt.RequestBody = `{"order":1}` // a transform's body
			if err := s.RecordAttempts(ctx, later, []hookgate.AttemptOutcome{fresh}); err != nil {
				t.Fatal(err)
			}
			cur, _ := s.FindDelivery(ctx, p.ID, d.ID)
			if cur.Status != hookgate.DeliverySucceeded || cur.Attempts != 1 || cur.LastStatusCode != 200 {
				t.Fatalf("delivery = %+v", cur)
			}
			atts, _, err := s.ListAttempts(ctx, p.ID, d.ID, hookgate.Page{})
			if err != nil || len(atts) != 2 || atts[0].Attempt != 2 || atts[0].ResponseHeaders["X-A"] != "1" ||
				atts[0].RequestBody != `{"order":1}` || atts[1].RequestBody != "" {
				t.Fatalf("attempts = %+v, %v", atts, err)
			}
		})
	})
}

// Claims running at once never hand out the same row twice.
func TestConcurrentClaims(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "cc")
		for range 5 {
			newWebhook(t, s, p.ID)
		}
		in := make([]hookgate.EventInput, 100)
		for i := range in {
			in[i] = hookgate.EventInput{Type: "t", Data: json.RawMessage(`{}`)}
		}
		if _, err := s.CreateEvents(ctx, p.ID, in); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		now := time.Now().Add(time.Second)
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					got, _, err := s.ClaimDue(ctx, "test-node", now, 25, time.Minute)
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, d := range got {
						seen[d.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != 500 {
			t.Fatalf("%d distinct deliveries claimed, want 500", len(seen))
		}
		for id, n := range seen {
			if n != 1 {
				t.Fatalf("%s claimed %d times", id, n)
			}
		}
	})
}

// A node hears about events that another node commits.
func TestListenAcrossNodes(t *testing.T) {
	t.Parallel()
	_, a, b := twoNodes(t)
	ctx := context.Background()
	woke, stop := listen(t, b)
	defer stop()
	p := newProject(t, a, "n")
	newWebhook(t, a, p.ID)
	if _, err := a.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "t", Data: json.RawMessage(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	testwait.Recv(t, "a wake-up from the other node's commit", woke)
}

func TestRecoverRequeuesFailed(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "rq")
		w := newWebhook(t, s, p.ID)
		start := time.Now().Add(-time.Minute)
		if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "a", Data: json.RawMessage(`1`)}}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().Add(time.Second)
		got, lease, err := s.ClaimDue(ctx, "test-node", now, 10, time.Minute)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim: %d, %v", len(got), err)
		}
		if err := s.RecordAttempts(ctx, now, []hookgate.AttemptOutcome{{ProjectID: p.ID, LeaseUntil: lease, Status: hookgate.DeliveryFailed,
			Attempt: hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, now), DeliveryID: got[0].ID, Attempt: 1, StartedAt: now, StatusCode: 500}}}); err != nil {
			t.Fatal(err)
		}
		requeued, created, err := s.RecoverWebhook(ctx, p.ID, w.ID, start, now)
		if err != nil || requeued != 1 || created != 0 {
			t.Fatalf("recover = %d requeued, %d created, %v; want 1, 0", requeued, created, err)
		}
		if d, _ := s.FindDelivery(ctx, p.ID, got[0].ID); d.Status != hookgate.DeliveryPending || d.ID != got[0].ID {
			t.Fatalf("delivery = %+v", d)
		}
	})
}

// An attempt in flight when its webhook is deactivated still records its
// outcome: a success is final, and is not sent again after activation.
func TestPauseKeepsTheAttemptInFlight(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "pause")
		w := newWebhook(t, s, p.ID)
		if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "a", Data: json.RawMessage(`1`)}}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().Add(time.Second)
		got, lease, err := s.ClaimDue(ctx, "test-node", now, 10, time.Minute)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim: %d, %v", len(got), err)
		}
		if _, err := s.SetWebhookStatus(ctx, p.ID, w.ID, hookgate.StatusDeactivated, now); err != nil {
			t.Fatal(err)
		}
		if err := s.RecordAttempts(ctx, now, []hookgate.AttemptOutcome{{ProjectID: p.ID, LeaseUntil: lease, Status: hookgate.DeliverySucceeded,
			Attempt: hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, now), DeliveryID: got[0].ID, Attempt: 1, StartedAt: now, StatusCode: 200}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetWebhookStatus(ctx, p.ID, w.ID, hookgate.StatusActive, now); err != nil {
			t.Fatal(err)
		}
		if d, _ := s.FindDelivery(ctx, p.ID, got[0].ID); d.Status != hookgate.DeliverySucceeded || d.Attempts != 1 {
			t.Fatalf("delivery = %+v, want succeeded after 1 attempt", d)
		}
		if due, _, _ := s.ClaimDue(ctx, "test-node", now.Add(time.Hour), 10, time.Minute); len(due) != 0 {
			t.Fatalf("%d deliveries due again", len(due))
		}
	})
}

func TestPurge(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "pg")
		newWebhook(t, s, p.ID)
		out, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "a", Data: json.RawMessage(`{"x":1}`)}, {Type: "b", Data: json.RawMessage(`{"y":2}`)}})
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now().Add(time.Second)
		got, lease, err := s.ClaimDue(ctx, "test-node", now, 1, time.Minute) // only the first event's delivery finishes
		if err != nil || len(got) != 1 {
			t.Fatalf("claim: %d, %v", len(got), err)
		}
		if err := s.RecordAttempts(ctx, now, []hookgate.AttemptOutcome{{ProjectID: p.ID, LeaseUntil: lease, Status: hookgate.DeliverySucceeded,
			Attempt: hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, now), DeliveryID: got[0].ID, Attempt: 1, StartedAt: now, StatusCode: 200}}}); err != nil {
			t.Fatal(err)
		}
		n, err := s.Purge(ctx, now.Add(time.Hour), now)
		if err != nil || n != 2 { // one attempt, one payload
			t.Fatalf("Purge = %d, %v; want 2", n, err)
		}
		if n, _ := s.Purge(ctx, now.Add(time.Hour), now); n != 0 {
			t.Fatalf("a second purge changed %d rows", n)
		}
		finished, _ := s.FindEvent(ctx, p.ID, got[0].EventID)
		other := out[0]
		if other.ID == finished.ID {
			other = out[1]
		}
		pending, _ := s.FindEvent(ctx, p.ID, other.ID)
		if string(finished.Data) != "null" || string(pending.Data) == "null" {
			t.Fatalf("data after purge: finished %s, pending %s", finished.Data, pending.Data)
		}
		if atts, _, _ := s.ListAttempts(ctx, p.ID, got[0].ID, hookgate.Page{}); len(atts) != 0 {
			t.Fatalf("%d attempts left", len(atts))
		}
	})
}

func TestQueueStats(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "qs")
		newWebhook(t, s, p.ID)
		newWebhook(t, s, p.ID)
		if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "a", Data: json.RawMessage(`1`)}}); err != nil {
			t.Fatal(err)
		}
		later := time.Now().Add(time.Minute)
		due, scheduled, oldest, err := s.QueueStats(ctx, later)
		if err != nil || due != 2 || scheduled != 0 || oldest.IsZero() || oldest.After(later) {
			t.Fatalf("stats at a later time = %d due, %d scheduled, oldest %v, %v", due, scheduled, oldest, err)
		}
		due, scheduled, oldest, err = s.QueueStats(ctx, time.Now().Add(-time.Minute))
		if err != nil || due != 0 || scheduled != 2 || !oldest.IsZero() {
			t.Fatalf("stats at an earlier time = %d due, %d scheduled, oldest %v, %v", due, scheduled, oldest, err)
		}
	})
}

func TestFailureStreakDisables(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "fs")
		w := newWebhook(t, s, p.ID)
		ok := newWebhook(t, s, p.ID)
		if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "a", Data: json.RawMessage(`1`)}, {Type: "b", Data: json.RawMessage(`2`)}}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().Add(time.Second)
		got, lease, err := s.ClaimDue(ctx, "test-node", now, 10, time.Minute)
		if err != nil || len(got) != 4 {
			t.Fatalf("claim: %d, %v", len(got), err)
		}
		sixDaysAgo := now.Add(-6 * 24 * time.Hour)
		var outs []hookgate.AttemptOutcome
		for i, d := range got {
			o := hookgate.AttemptOutcome{ProjectID: p.ID, WebhookID: d.WebhookID, LeaseUntil: lease, Status: hookgate.DeliveryPending, NextAttemptAt: now,
				Attempt: hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, now), DeliveryID: d.ID, Attempt: 1, StartedAt: sixDaysAgo.Add(time.Duration(i) * time.Second), StatusCode: 500}}
			if d.WebhookID == ok.ID {
				o.Status, o.Attempt.StatusCode = hookgate.DeliverySucceeded, 200 // ok's receiver answers
			}
			outs = append(outs, o)
		}
		if err := s.RecordAttempts(ctx, now, outs); err != nil {
			t.Fatal(err)
		}
		gone, err := s.DisableFailing(ctx, now.Add(-5*24*time.Hour), now)
		if err != nil {
			t.Fatal(err)
		}
		disabled := map[string]bool{}
		for _, g := range gone {
			disabled[g.ID] = g.Status == hookgate.StatusDisabled
		}
		if !disabled[w.ID] {
			t.Fatalf("the always-failing webhook was not disabled: %v", disabled)
		}
		if _, okGone := disabled[ok.ID]; okGone {
			t.Fatal("a webhook whose attempts succeeded was disabled")
		}
		if n, _, _ := s.ListDeliveries(ctx, p.ID, hookgate.DeliveryFilter{WebhookID: w.ID, Status: hookgate.DeliveryPaused}); len(n) != 2 {
			t.Fatalf("%d paused deliveries of the disabled webhook, want 2", len(n))
		}
	})
}

// TestReleaseKeepsLastAttempt checks that giving a row back without an
// attempt moves it on, frees its lease, and keeps the last attempt's status.
func TestReleaseKeepsLastAttempt(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "r")
		newWebhook(t, s, p.ID)
		if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "a", Data: json.RawMessage(`1`)}}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().Add(time.Second)
		got, lease, err := s.ClaimDue(ctx, "test-node", now, 10, time.Minute)
		if err != nil || len(got) != 1 {
			t.Fatalf("claim = %d, %v", len(got), err)
		}
		d := got[0]
		failed := hookgate.AttemptOutcome{ProjectID: p.ID, LeaseUntil: lease, Status: hookgate.DeliveryPending, NextAttemptAt: now,
			Attempt: hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, now), DeliveryID: d.ID, Attempt: 1, StartedAt: now, StatusCode: 503, Error: "busy"}}
		if err := s.RecordAttempts(ctx, now, []hookgate.AttemptOutcome{failed}); err != nil {
			t.Fatal(err)
		}
		again, lease, err := s.ClaimDue(ctx, "test-node", now, 10, time.Minute)
		if err != nil || len(again) != 1 {
			t.Fatalf("second claim = %d, %v", len(again), err)
		}
		at := now.Add(time.Hour)
		released := hookgate.AttemptOutcome{ProjectID: p.ID, LeaseUntil: lease, Status: hookgate.DeliveryPending, NextAttemptAt: at,
			Attempt: hookgate.Attempt{DeliveryID: d.ID}}
		if err := s.RecordAttempts(ctx, now, []hookgate.AttemptOutcome{released}); err != nil {
			t.Fatal(err)
		}
		cur, _ := s.FindDelivery(ctx, p.ID, d.ID)
		if cur.Attempts != 1 || cur.LastStatusCode != 503 || cur.LastError != "busy" || !cur.NextAttemptAt.Equal(at.Truncate(time.Microsecond)) {
			t.Fatalf("after a release: %+v", cur)
		}
		if due, _, _ := s.ClaimDue(ctx, "test-node", at, 10, time.Minute); len(due) != 1 {
			t.Fatalf("the released row is not claimable at its new time: %d", len(due))
		}
	})
}

// released is the outcome that gives claimed d back due at at, without an
// attempt, as the dispatcher's release does.
func released(d *hookgate.Delivery, lease, at time.Time) hookgate.AttemptOutcome {
	return hookgate.AttemptOutcome{ProjectID: d.ProjectID, WebhookID: d.WebhookID, LeaseUntil: lease, Status: hookgate.DeliveryPending,
		NextAttemptAt: at, Ordered: d.Ordered, OrderingKey: d.OrderingKey, Attempt: hookgate.Attempt{DeliveryID: d.ID}}
}

// Rows given back due later are made due at once only while they are as
// given back: one claimed by another node since, one that succeeded, one
// given back at another time, one due already or unknown is left alone,
// and the count says how many were made due.
func TestHastenDeliveries(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "h")
		newWebhook(t, s, p.ID)
		in := make([]hookgate.EventInput, 4)
		for i := range in {
			in[i] = hookgate.EventInput{Type: "a", Data: json.RawMessage(`1`)}
		}
		if _, err := s.CreateEvents(ctx, p.ID, in); err != nil {
			t.Fatal(err)
		}
		now := time.Now().Add(time.Second)
		ds, lease, err := s.ClaimDue(ctx, "n1", now, 10, time.Minute)
		if err != nil || len(ds) != 4 {
			t.Fatalf("claim = %d, %v; want 4", len(ds), err)
		}
		later, soon := now.Add(time.Hour), now.Add(30*time.Minute)
		given, claimed, done, moved := ds[0], ds[1], ds[2], ds[3]
		succeeded := released(done, lease, time.Time{})
		succeeded.Status = hookgate.DeliverySucceeded
		outs := []hookgate.AttemptOutcome{released(given, lease, later), released(claimed, lease, soon), succeeded,
			released(moved, lease, later.Add(time.Minute))}
		if err := s.RecordAttempts(ctx, now, outs); err != nil {
			t.Fatal(err)
		}
		// Another node claims one given-back row when it comes due.
		if got, _, err := s.ClaimDue(ctx, "n2", soon, 1, time.Hour); err != nil || len(got) != 1 || got[0].ID != claimed.ID {
			t.Fatalf("the other node's claim = %v, %v; want the row due soonest", got, err)
		}
		rows := []hookgate.DueRow{
			{ProjectID: p.ID, ID: given.ID, Due: later},
			{ProjectID: p.ID, ID: claimed.ID, Due: soon},
			{ProjectID: p.ID, ID: done.ID, Due: later},
			{ProjectID: p.ID, ID: moved.ID, Due: later}, // given back at another time
			{ProjectID: p.ID, ID: "dl_unknown", Due: later},
			{ProjectID: p.ID, ID: given.ID, Due: later}, // twice: made due once
		}
		// At or after the time it was given, a row is due already.
		if n, err := s.HastenDeliveries(ctx, later, rows[:1]); err != nil || n != 0 {
			t.Fatalf("hastened %d rows due already, %v; want 0", n, err)
		}
		n, err := s.HastenDeliveries(ctx, now, rows)
		if err != nil || n != 1 {
			t.Fatalf("hastened %d, %v; want 1", n, err)
		}
		want := map[string]time.Time{given.ID: now, moved.ID: later.Add(time.Minute)}
		for id, at := range want {
			d, err := s.FindDelivery(ctx, p.ID, id)
			if err != nil || d.Status != hookgate.DeliveryPending || !d.NextAttemptAt.Equal(at.Truncate(time.Microsecond)) {
				t.Fatalf("delivery %s = %+v, %v; want pending, due at %s", id, d, err, at)
			}
		}
		if d, _ := s.FindDelivery(ctx, p.ID, claimed.ID); !d.NextAttemptAt.Equal(soon.Truncate(time.Microsecond)) {
			t.Fatalf("the row another node claimed changed: %+v", d)
		}
		if d, _ := s.FindDelivery(ctx, p.ID, done.ID); d.Status != hookgate.DeliverySucceeded {
			t.Fatalf("the succeeded row changed: %+v", d)
		}
		got, _, err := s.ClaimDue(ctx, "n1", now, 10, time.Minute)
		if err != nil || len(got) != 1 || got[0].ID != given.ID {
			t.Fatalf("claim after hastening = %v, %v; want the hastened row alone", got, err)
		}
		// Claimed again, the row no longer matches the time it was given.
		if n, err := s.HastenDeliveries(ctx, now, rows); err != nil || n != 0 {
			t.Fatalf("hastened again %d, %v; want 0", n, err)
		}
	})
}

// A FIFO key's head given back due later and made due again still goes
// alone, and the row behind it waits for its outcome.
func TestHastenKeepsOrder(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "ho")
		newOrderedWebhook(t, s, p.ID, "/k")
		if _, err := s.CreateEvents(ctx, p.ID, keyed("a", "a")); err != nil {
			t.Fatal(err)
		}
		now := time.Now().Add(time.Second)
		ds, lease, err := s.ClaimDue(ctx, "n1", now, 10, time.Minute)
		if err != nil || len(ds) != 1 {
			t.Fatalf("claim = %d, %v; want the key's head alone", len(ds), err)
		}
		head, later := ds[0], now.Add(time.Hour)
		if err := s.RecordAttempts(ctx, now, []hookgate.AttemptOutcome{released(head, lease, later)}); err != nil {
			t.Fatal(err)
		}
		if got, _, err := s.ClaimDue(ctx, "n1", now, 10, time.Minute); err != nil || len(got) != 0 {
			t.Fatalf("claim of a key whose head waits = %d, %v; want none", len(got), err)
		}
		if n, err := s.HastenDeliveries(ctx, now, []hookgate.DueRow{{ProjectID: p.ID, ID: head.ID, Due: later}}); err != nil || n != 1 {
			t.Fatalf("hastened %d, %v; want 1", n, err)
		}
		got, _, err := s.ClaimDue(ctx, "n1", now, 10, time.Minute)
		if err != nil || len(got) != 1 || got[0].ID != head.ID {
			t.Fatalf("claim after hastening = %v, %v; want the head alone", got, err)
		}
	})
}

// A node whose heartbeat stopped has its leased rows taken over before
// their lease ends; a live node's rows are left alone, and the dead node's
// late results no longer change the rows.
func TestTakeOverSilentNode(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "nodes")
		newWebhook(t, s, p.ID)
		if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "a", Data: json.RawMessage(`1`)}, {Type: "b", Data: json.RawMessage(`2`)}}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().Add(time.Second)
		for _, n := range []string{"dead", "live"} {
			if err := s.Heartbeat(ctx, n, "i-"+n, now); err != nil {
				t.Fatal(err)
			}
		}
		deadRows, deadLease, err := s.ClaimDue(ctx, "dead", now, 1, time.Hour)
		if err != nil || len(deadRows) != 1 {
			t.Fatalf("claim = %d, %v", len(deadRows), err)
		}
		liveRows, _, err := s.ClaimDue(ctx, "live", now, 1, time.Hour)
		if err != nil || len(liveRows) != 1 {
			t.Fatalf("claim = %d, %v", len(liveRows), err)
		}
		later := now.Add(20 * time.Second)
		if err := s.Heartbeat(ctx, "live", "i-live", later); err != nil {
			t.Fatal(err)
		}
		if nodes, n, err := s.TakeOver(ctx, "live", later.Add(-15*time.Second)); err != nil || nodes != 1 || n != 1 {
			t.Fatalf("take over = %d nodes, %d rows, %v; want the dead node and its 1 row", nodes, n, err)
		}
		if nodes, n, err := s.TakeOver(ctx, "live", later.Add(-15*time.Second)); err != nil || nodes != 0 || n != 0 {
			t.Fatalf("second take over = %d nodes, %d rows, %v; want 0", nodes, n, err)
		}
		again, lease, err := s.ClaimDue(ctx, "live", later, 10, time.Hour)
		if err != nil || len(again) != 1 || again[0].ID != deadRows[0].ID {
			t.Fatalf("claim after take over = %v, %v; want the dead node's row, an hour before its lease ends", again, err)
		}
		late := hookgate.AttemptOutcome{ProjectID: p.ID, LeaseUntil: deadLease, Status: hookgate.DeliverySucceeded,
			Attempt: hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, now), DeliveryID: deadRows[0].ID, Attempt: 1, StartedAt: now, StatusCode: 200}}
		if err := s.RecordAttempts(ctx, later, []hookgate.AttemptOutcome{late}); err != nil {
			t.Fatal(err)
		}
		if cur, _ := s.FindDelivery(ctx, p.ID, deadRows[0].ID); cur.Status != hookgate.DeliveryPending {
			t.Fatalf("the dead node's late result changed the row: %+v", cur)
		}
		mine := late
		mine.LeaseUntil, mine.Attempt.ID = lease, hookgate.NewID(hookgate.PrefixAttempt, later)
		if err := s.RecordAttempts(ctx, later, []hookgate.AttemptOutcome{mine}); err != nil {
			t.Fatal(err)
		}
		if cur, _ := s.FindDelivery(ctx, p.ID, deadRows[0].ID); cur.Status != hookgate.DeliverySucceeded {
			t.Fatalf("the new holder's result was not kept: %+v", cur)
		}
	})
}

// ReleaseLeases, for a node alone on its store, gives back every row the
// processes before it held, and none of its own.
func TestReleaseLeasesOfDeadProcesses(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "alone")
		newWebhook(t, s, p.ID)
		if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "a", Data: json.RawMessage(`1`)}, {Type: "b", Data: json.RawMessage(`2`)}}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().Add(time.Second)
		if _, _, err := s.ClaimDue(ctx, "before", now, 1, time.Hour); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.ClaimDue(ctx, "me", now, 1, time.Hour); err != nil {
			t.Fatal(err)
		}
		if n, err := s.ReleaseLeases(ctx, "me"); err != nil || n != 1 {
			t.Fatalf("release = %d, %v; want 1", n, err)
		}
		if got, _, err := s.ClaimDue(ctx, "me", now, 10, time.Hour); err != nil || len(got) != 1 {
			t.Fatalf("claim after release = %d, %v; want 1", len(got), err)
		}
	})
}

// What ingest and the dispatcher read of webhooks follows every change at
// once, on both engines (the embedded store caches it).
func TestWebhookReadsFollowChanges(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "cache")
		w := newWebhook(t, s, p.ID, "a")
		send := func(typ string) int {
			t.Helper()
			evs, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: typ, Data: json.RawMessage(`1`)}})
			if err != nil {
				t.Fatal(err)
			}
			return evs[0].Deliveries
		}
		if n := send("a"); n != 1 {
			t.Fatalf("deliveries = %d, want 1", n)
		}
		got, err := s.DeliveryWebhook(ctx, p.ID, w.ID)
		if err != nil || got.URL != w.URL {
			t.Fatalf("webhook = %+v, %v", got, err)
		}
		w.Events, w.URL = []string{"b"}, "http://127.0.0.1:9/moved"
		if err := s.UpdateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		if n := send("a"); n != 0 {
			t.Fatalf("after the filter changed, deliveries = %d, want 0", n)
		}
		if got, _ := s.DeliveryWebhook(ctx, p.ID, w.ID); got.URL != w.URL {
			t.Fatalf("after the update, URL = %s", got.URL)
		}
		if _, err := s.SetWebhookStatus(ctx, p.ID, w.ID, hookgate.StatusDeactivated, time.Now()); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.DeliveryWebhook(ctx, p.ID, w.ID); got.Status != hookgate.StatusDeactivated {
			t.Fatalf("after deactivation, status = %s", got.Status)
		}
		if n := send("b"); n != 0 {
			t.Fatalf("a deactivated webhook got %d deliveries", n)
		}
		second := newWebhook(t, s, p.ID, "b")
		if n := send("b"); n != 1 {
			t.Fatalf("a new webhook: deliveries = %d, want 1", n)
		}
		if err := s.DeleteWebhook(ctx, p.ID, second.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DeliveryWebhook(ctx, p.ID, second.ID); hookgate.ErrorCode(err) != hookgate.ENotFound {
			t.Fatalf("a deleted webhook: %v", err)
		}
		if n := send("b"); n != 0 {
			t.Fatalf("a deleted webhook got %d deliveries", n)
		}
	})
}

// clock is a clock that moves only when the test moves it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

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

// On PostgreSQL a node caches webhooks only while it hears the other nodes'
// changes, and drops its entries when one of them writes a webhook, or
// when they are 10 s old by its clock.
//
// Issue 22, item 4: the node's clock stands still but when the test moves
// it, so that only a notification can refresh its cache while the test
// waits for one, however long a loaded machine takes.
func TestWebhookCacheAcrossNodes(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Now()}
	cfg, a, b := twoNodesAt(t, clk.Now)
	db := rawDB(t, b, cfg)
	ctx := context.Background()
	p := newProject(t, a, "cache")
	w := newWebhook(t, a, p.ID)
	// moveBehindTheStore changes the description without telling any node
	// (the URL is sealed, bound to its row: it cannot be written past the
	// store).
	moveBehindTheStore := func(desc string) {
		t.Helper()
		if _, err := db.Exec(`UPDATE webhooks SET description = $1 WHERE id = $2`, desc, w.ID); err != nil {
			t.Fatal(err)
		}
	}
	descAt := func() string {
		t.Helper()
		got, err := b.DeliveryWebhook(ctx, p.ID, w.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.Description
	}
	// Not listening: every read goes to the database.
	moveBehindTheStore("http://127.0.0.1:9/one")
	if got := descAt(); got != "http://127.0.0.1:9/one" {
		t.Fatalf("without Listen, description = %s", got)
	}

	_, stopListening := listen(t, b)
	defer stopListening()
	descAt() // cached now
	moveBehindTheStore("http://127.0.0.1:9/two")
	if got := descAt(); got != "http://127.0.0.1:9/one" {
		t.Fatalf("listening, a read did not come from the cache: description = %s", got)
	}

	// Another node's write reaches this node's cache.
	w.Description = "http://127.0.0.1:9/three"
	if err := a.UpdateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "the other node's change to reach the cache", func() bool { return descAt() == w.Description })
	newWebhook(t, a, p.ID)
	testwait.For(t, "a new webhook on the other node to get deliveries here", func() bool {
		evs, err := b.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "t", Data: json.RawMessage(`1`)}})
		return err == nil && evs[0].Deliveries == 2
	})

	// An entry 10 s old by the node's clock is read again: a change whose
	// notification was lost is not missed for longer.
	// The other node's notifications may still be arriving, each emptying
	// the cache: a read within 10 s comes from the cache once they are in.
	testwait.For(t, "a read within 10 s to come from the cache", func() bool {
		moveBehindTheStore(w.Description)
		descAt() // cached again
		moveBehindTheStore("http://127.0.0.1:9/four")
		return descAt() == w.Description
	})
	clk.Advance(10 * time.Second)
	if got := descAt(); got != "http://127.0.0.1:9/four" {
		t.Fatalf("after 10 s, description = %s; want the database's", got)
	}

	// Once it stops listening, it reads the database again.
	stopListening()
	moveBehindTheStore("http://127.0.0.1:9/five")
	if got := descAt(); got != "http://127.0.0.1:9/five" {
		t.Fatalf("after Listen ended, description = %s", got)
	}
}

// Issue 22, item 4: stores on two schemas of one database do not hear each
// other. A webhook written on another schema leaves this node's cache as
// it was, and a commit there wakes no node here. (Every test's store is a
// schema of one database: another test's webhook emptied the cache of
// TestWebhookCacheAcrossNodes, which failed.)
func TestAnotherSchemaIsNotHeard(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Now()}
	cfg, a, b := twoNodesAt(t, clk.Now)
	other := sqltest.Open(t, sqlstore.EnginePostgres) // a schema of its own
	db := rawDB(t, b, cfg)
	ctx := context.Background()
	p := newProject(t, a, "here")
	w := newWebhook(t, a, p.ID)
	woke, stop := listen(t, b)
	defer stop()
	if _, err := b.DeliveryWebhook(ctx, p.ID, w.ID); err != nil { // cached now
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE webhooks SET description = 'behind' WHERE id = $1`, w.ID); err != nil {
		t.Fatal(err)
	}
	op := newProject(t, other, "there")
	newWebhook(t, other, op.ID)
	if _, err := other.CreateEvents(ctx, op.ID, []hookgate.EventInput{{Type: "t", Data: json.RawMessage(`1`)}}); err != nil {
		t.Fatal(err)
	}
	// A commit on this schema last: its wake-up comes after every
	// notification before it, which this node has then handled.
	if _, err := a.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "t", Data: json.RawMessage(`1`)}}); err != nil {
		t.Fatal(err)
	}
	testwait.Recv(t, "the wake-up of this schema's commit", woke)
	if got, err := b.DeliveryWebhook(ctx, p.ID, w.ID); err != nil || got.Description == "behind" {
		t.Fatalf("a webhook written on another schema emptied this node's cache: %v, %v", got, err)
	}
	select {
	case <-woke:
		t.Fatal("a commit on another schema woke this node")
	default:
	}
}

// twoNodes opens two stores on one PostgreSQL schema, as two nodes would,
// or skips the test without PostgreSQL.
func twoNodes(t *testing.T) (sqlstore.Config, *sqlstore.Store, *sqlstore.Store) {
	t.Helper()
	return twoNodesAt(t, nil)
}

// twoNodesAt is twoNodes whose second node reads the time from now.
func twoNodesAt(t *testing.T, now func() time.Time) (sqlstore.Config, *sqlstore.Store, *sqlstore.Store) {
	t.Helper()
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("PostgreSQL only: SQLite has no other nodes")
	}
	cfg := sqltest.Config(t, sqlstore.EnginePostgres)
	second := cfg
	second.Now = now
	return cfg, sqltest.OpenConfig(t, cfg), sqltest.OpenConfig(t, second)
}

// listen runs s.Listen until stop is called, and returns once it has
// connected; woke gets its later wake-ups. stop returns when Listen has.
func listen(t *testing.T, s *sqlstore.Store) (woke <-chan struct{}, stop func()) {
	t.Helper()
	ch := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	wake := func() {
		select {
		case ch <- struct{}{}:
		default: // never hold up Listen, which also drops cached webhooks
		}
	}
	go func() { s.Listen(ctx, sqlstore.Listeners{Wake: wake}); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	testwait.Recv(t, "the listener to connect (its first wake-up)", (<-chan struct{})(ch))
	return ch, stop
}
