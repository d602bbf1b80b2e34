package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
)

// failDue moves the project's due deliveries of the given event types to
// failed, as the delivery engine does when their schedule runs out, and
// returns their IDs.
func (e *env) failDue(t *testing.T, types ...string) []string {
	t.Helper()
	ctx := context.Background()
	now := time.Now()
	ds, lease, err := e.store.ClaimDue(ctx, "test-node", now, 1000, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var outs []hookgate.AttemptOutcome
	var failed []string
	for _, d := range ds {
		st := hookgate.DeliveryPending
		for _, typ := range types {
			if d.EventType == typ {
				st = hookgate.DeliveryFailed
				failed = append(failed, d.ID)
			}
		}
		outs = append(outs, hookgate.AttemptOutcome{Attempt: hookgate.Attempt{DeliveryID: d.ID}, ProjectID: d.ProjectID,
			LeaseUntil: lease, Status: st, NextAttemptAt: now.Add(time.Hour)})
	}
	if err := e.store.RecordAttempts(ctx, now, outs); err != nil {
		t.Fatal(err)
	}
	return failed
}

// Issue 24, item 5: status=exhausted lists the dead letters (failed event
// deliveries) and combines with the webhook and event type filters.
func TestDeliveriesStatusExhaustedListsDeadLetters(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("dl")
		wh := e.webhook("dl", owner, map[string]any{"url": "http://127.0.0.1:9/a"}).str("id")
		for _, typ := range []string{"order.created", "order.paid", "user.created"} {
			e.req("POST", "/api/v1/projects/dl/events", owner, map[string]any{"type": typ, "data": 1}).must(t, 202)
		}
		failed := e.failDue(t, "order.created", "user.created")
		if len(failed) != 2 {
			t.Fatalf("%d deliveries failed, want 2", len(failed))
		}
		base := "/api/v1/projects/dl/deliveries?status=exhausted"
		if got := e.req("GET", base, owner, nil).must(t, 200).ids(t); len(got) != 2 {
			t.Fatalf("exhausted = %v, want the 2 failed", got)
		}
		if got := e.req("GET", base+"&webhook="+wh+"&eventType=user.created", owner, nil).must(t, 200).items(t); len(got) != 1 || got[0]["status"] != "failed" {
			t.Fatalf("exhausted user.created = %v, want 1 failed", got)
		}
		if got := e.req("GET", base+"&until=2000-01-01T00:00:00Z", owner, nil).must(t, 200).ids(t); len(got) != 0 {
			t.Fatalf("exhausted until 2000 = %v, want none", got)
		}
		if got := e.req("GET", base+"&kind=trigger", owner, nil).must(t, 200).ids(t); len(got) != 0 {
			t.Fatalf("exhausted triggers = %v, want none", got)
		}
		e.req("GET", "/api/v1/projects/dl/deliveries?status=dead", owner, nil).problem(t, 400, "invalid_parameter", "status")
	})
}
