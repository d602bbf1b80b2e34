package delivery

import (
	"strconv"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
)

// The rows remembered for hastening are bounded over all endpoints, not
// per endpoint, so that many slow endpoints cannot fill memory with them;
// taking, expiring and forgetting rows give their room back.
func TestGivenRowsBoundedOverAllEndpoints(t *testing.T) {
	t.Parallel()
	d := &Dispatcher{cfg: Config{BatchSize: 2}, eps: map[string]*endpoint{}, wake: make(chan struct{}, 1)}
	limit := maxGiven * d.cfg.BatchSize
	now := time.Now()
	spilled := func(webhook string, n int, due time.Time) []outcome {
		out := make([]outcome, n)
		for i := range out {
			out[i] = outcome{AttemptOutcome: hookgate.AttemptOutcome{ProjectID: "p", NextAttemptAt: due,
				Attempt: hookgate.Attempt{DeliveryID: webhook + "-" + strconv.Itoa(i)}}, spilled: webhook}
		}
		return out
	}
	a, b := &endpoint{id: "a", queue: make([]job, 1)}, &endpoint{id: "b", queue: make([]job, 1)}
	d.eps["a"], d.eps["b"] = a, b
	d.remember(spilled("a", limit-3, now.Add(time.Minute)))
	d.remember(spilled("b", 10, now.Add(time.Minute)))
	if len(a.given) != limit-3 || len(b.given) != 3 || d.givenRows != limit {
		t.Fatalf("remembered %d and %d rows (%d counted), want %d and 3 of at most %d in all", len(a.given), len(b.given), d.givenRows, limit-3, limit)
	}
	if len(d.hasten) != 0 {
		t.Fatalf("endpoints with rows queued asked to be hastened: %d", len(d.hasten))
	}
	// b ran dry: it takes as many as it has room for (a batch, less what
	// it holds), and the count falls by as many.
	b.queue = nil
	rows := d.takeGiven(b, now)
	if len(rows) != 2 || d.givenRows != limit-2 {
		t.Fatalf("b took %d rows, %d remembered; want 2 and %d", len(rows), d.givenRows, limit-2)
	}
	// Rows due by now are forgotten: a claim brings them.
	a.queue = nil
	d.remember(spilled("b", 1, now.Add(-time.Second)))
	if d.givenRows != limit-1 || len(d.hasten) != 1 {
		t.Fatalf("%d rows remembered, %d endpoints to hasten; want %d and 1", d.givenRows, len(d.hasten), limit-1)
	}
	d.takeGiven(b, now)
	if d.givenRows != limit-3 || len(b.given) != 0 {
		t.Fatalf("after b's rows due by now: %d remembered, b keeps %d; want %d and 0", d.givenRows, len(b.given), limit-3)
	}
	// A forgotten endpoint's rows go with it.
	a.lastUsed = now.Add(-time.Hour - time.Minute)
	d.sweep(now)
	if _, ok := d.eps["a"]; ok || d.givenRows != 0 {
		t.Fatalf("after the sweep: endpoint a kept %v, %d rows remembered; want gone and 0", ok, d.givenRows)
	}
}
