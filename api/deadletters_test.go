package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testwait"
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

// waitRedrive reads a redrive until it is no longer running, and returns
// its last read.
func (e *env) waitRedrive(t *testing.T, project, key, id string) resp {
	t.Helper()
	var r resp
	testwait.For(t, "the redrive to end", func() bool {
		r = e.req("GET", "/api/v1/projects/"+project+"/redrives/"+id, key, nil).must(t, 200)
		return r.str("state") != "running"
	})
	return r
}

// counts returns a finished redrive's matched and requeued.
func (r resp) counts(t *testing.T) (matched, requeued int) {
	t.Helper()
	if r.str("state") != "finished" || r.Body["finishedAt"] == nil || r.str("startedAt") == "" {
		t.Fatalf("the redrive did not finish: %s", r.Raw)
	}
	return int(r.Body["matched"].(float64)), int(r.Body["requeued"].(float64))
}

// Issue 24, item 5: a redrive by filter or by IDs queues again exactly the
// deliveries it matches, once, and reports its progress to finished; an
// Idempotency-Key answers the same redrive again, or 409 for another body.
func TestRedriveRequeuesTheMatchedDeliveriesOnce(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("rd")
		a := e.webhook("rd", owner, map[string]any{"url": "http://127.0.0.1:9/a"}).str("id")
		b := e.webhook("rd", owner, map[string]any{"url": "http://127.0.0.1:9/b"}).str("id")
		for _, typ := range []string{"order.created", "order.created", "user.created", "order.paid"} {
			e.req("POST", "/api/v1/projects/rd/events", owner, map[string]any{"type": typ, "data": 1}).must(t, 202)
		}
		if n := len(e.failDue(t, "order.created", "user.created")); n != 6 {
			t.Fatalf("%d deliveries failed, want 6", n)
		}
		exhausted := func() int {
			return len(e.req("GET", "/api/v1/projects/rd/deliveries?status=exhausted", owner, nil).must(t, 200).ids(t))
		}
		post := func(key string, body any) resp {
			return e.reqH("POST", "/api/v1/projects/rd/deliveries/redrive", map[string]string{"Authorization": "Bearer " + owner, "Idempotency-Key": key}, body)
		}

		byFilter := map[string]any{"filter": map[string]any{"webhook": a, "eventType": "order.created", "status": "exhausted"}}
		r := post("k1", byFilter).must(t, 202)
		id := r.str("id")
		if matched, requeued := e.waitRedrive(t, "rd", owner, id).counts(t); matched != 2 || requeued != 2 {
			t.Fatalf("filter redrive matched %d, requeued %d; want 2, 2", matched, requeued)
		}
		if n := exhausted(); n != 4 {
			t.Fatalf("%d dead letters after the redrive, want 4", n)
		}
		pending := e.req("GET", "/api/v1/projects/rd/deliveries?status=pending&webhook="+a+"&eventType=order.created", owner, nil).must(t, 200).ids(t)
		if len(pending) != 2 {
			t.Fatalf("%d of webhook a's order.created pending, want 2", len(pending))
		}

		// The same key and body: the same redrive, nothing requeued again.
		e.failDue(t, "order.created") // the 2 requeued fail again
		again := post("k1", byFilter).must(t, 202)
		if again.str("id") != id {
			t.Fatalf("the same Idempotency-Key started redrive %s, want %s", again.str("id"), id)
		}
		if matched, requeued := e.waitRedrive(t, "rd", owner, id).counts(t); matched != 2 || requeued != 2 {
			t.Fatalf("the replayed redrive counts %d, %d; want 2, 2", matched, requeued)
		}
		if n := exhausted(); n != 6 {
			t.Fatalf("%d dead letters after a replay, want 6 (none requeued)", n)
		}
		post("k1", map[string]any{"filter": map[string]any{"webhook": b}}).problem(t, 409, "idempotency_conflict", "Idempotency-Key")

		// By IDs: two failed ones, one made pending, one unknown.
		failedB := e.req("GET", "/api/v1/projects/rd/deliveries?status=exhausted&webhook="+b+"&eventType=order.created", owner, nil).must(t, 200).ids(t)
		e.req("POST", "/api/v1/projects/rd/deliveries/"+failedB[0]+"/retry", owner, nil).must(t, 202)
		ids := []string{failedB[0], failedB[1], pending[0], "msg_unknown", failedB[1]}
		byIDs := post("k2", map[string]any{"ids": ids}).must(t, 202)
		if matched, requeued := e.waitRedrive(t, "rd", owner, byIDs.str("id")).counts(t); matched != 3 || requeued != 2 {
			t.Fatalf("IDs redrive matched %d, requeued %d; want 3, 2", matched, requeued)
		}

		// The default status is exhausted; no key is needed.
		rest := e.req("POST", "/api/v1/projects/rd/deliveries/redrive", owner, map[string]any{"filter": map[string]any{}}).must(t, 202)
		if matched, requeued := e.waitRedrive(t, "rd", owner, rest.str("id")).counts(t); matched != 3 || requeued != 3 {
			t.Fatalf("the default redrive matched %d, requeued %d; want 3, 3", matched, requeued)
		}
		if n := exhausted(); n != 0 {
			t.Fatalf("%d dead letters left, want 0", n)
		}
		e.req("GET", "/api/v1/projects/rd/redrives/rdr_unknown", owner, nil).problem(t, 404, "not_found", "")
	})
}

// Issue 24, item 5: a redrive's bad input is a 400 naming the parameter.
func TestRedriveBadInputNamesTheParameter(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("rb")
		path := "/api/v1/projects/rb/deliveries/redrive"
		many := make([]string, 1001)
		for i := range many {
			many[i] = "msg_x"
		}
		for _, c := range []struct {
			body        any
			code, param string
		}{
			{map[string]any{"ids": []string{"msg_x"}, "filter": map[string]any{}}, "invalid_parameter", "filter"},
			{map[string]any{}, "missing_parameter", "ids"},
			{map[string]any{"ids": []string{}}, "invalid_parameter", "ids"},
			{map[string]any{"ids": []string{""}}, "invalid_parameter", "ids[0]"},
			{map[string]any{"ids": many}, "invalid_parameter", "ids"},
			{map[string]any{"filter": map[string]any{"since": "yesterday"}}, "invalid_parameter", "filter.since"},
			{map[string]any{"filter": map[string]any{"until": "now"}}, "invalid_parameter", "filter.until"},
			{map[string]any{"filter": map[string]any{"status": "pending"}}, "invalid_parameter", "filter.status"},
			{map[string]any{"filter": map[string]any{"webhook": "nope"}}, "invalid_parameter", "filter.webhook"},
		} {
			e.req("POST", path, owner, c.body).problem(t, 400, c.code, c.param)
		}
	})
}
