package sqlstore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
)

// The stats of a webhook and of its project count each attempt of the
// window once, by what came back, with exact percentiles and the latest
// success and failure; attempts outside the window and other projects'
// do not count.
func TestAttemptStats(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "stats")
		a := newWebhook(t, s, p.ID, "a")
		b := newWebhook(t, s, p.ID, "b")
		other := newProject(t, s, "other")
		newWebhook(t, s, other.ID, "a")
		base := time.Now().Add(-2 * time.Hour).Truncate(time.Second)

		// Webhook a: 10 attempts in the window (6 × 200, 4xx, 5xx, 0, 302),
		// durations 1..10 ms; one 200 before the window.
		type att struct {
			webhook *hookgate.Webhook
			project string
			status  int
			ms      int64
			at      time.Time
			err     string
		}
		var plan []att
		codes := []int{200, 200, 200, 200, 200, 200, 404, 503, 0, 302}
		for i, c := range codes {
			plan = append(plan, att{a, p.ID, c, int64(i + 1), base.Add(time.Duration(i) * time.Minute), ""})
		}
		plan[8].err = "connection refused"
		plan = append(plan, att{a, p.ID, 200, 99, base.Add(-2 * time.Hour), ""}) // before the window
		plan = append(plan, att{b, p.ID, 500, 40, base.Add(30 * time.Minute), "boom"})
		// One event per attempt, so that each has a delivery to claim.
		for range plan {
			if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "a", Data: json.RawMessage(`1`)}}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "b", Data: json.RawMessage(`1`)}}); err != nil {
			t.Fatal(err)
		}
		now := time.Now().Add(time.Second)
		due, lease, err := s.ClaimDue(ctx, "test-node", now, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		byHook := map[string][]*hookgate.Delivery{}
		for _, d := range due {
			byHook[d.WebhookID] = append(byHook[d.WebhookID], d)
		}
		var outs []hookgate.AttemptOutcome
		for _, x := range plan {
			list := byHook[x.webhook.ID]
			if len(list) == 0 {
				t.Fatalf("no delivery left for %s", x.webhook.ID)
			}
			d := list[0]
			byHook[x.webhook.ID] = list[1:]
			outs = append(outs, hookgate.AttemptOutcome{ProjectID: x.project, WebhookID: x.webhook.ID, LeaseUntil: lease, Status: hookgate.DeliveryFailed,
				Attempt: hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, x.at), DeliveryID: d.ID, Attempt: 1, StartedAt: x.at,
					DurationMs: x.ms, StatusCode: x.status, Error: x.err}})
		}
		if err := s.RecordAttempts(ctx, now, outs); err != nil {
			t.Fatal(err)
		}

		since, until := base.Add(-time.Minute), time.Now()
		st, err := s.AttemptStats(ctx, p.ID, a.ID, since, until, 0)
		if err != nil {
			t.Fatal(err)
		}
		if st.Attempts != 10 || st.Successes != 6 || st.Failures4xx != 1 || st.Failures5xx != 1 || st.FailuresNoAnswer != 1 || st.FailuresOther != 1 {
			t.Fatalf("webhook a = %+v", st)
		}
		if st.P50Ms != 5 || st.P95Ms != 10 || st.SuccessRate() != 0.6 {
			t.Fatalf("webhook a: p50 %d, p95 %d, rate %v", st.P50Ms, st.P95Ms, st.SuccessRate())
		}
		if !st.LastSuccessAt.Equal(base.Add(5*time.Minute)) || st.LastFailure == nil || st.LastFailure.StatusCode != 302 ||
			!st.LastFailure.At.Equal(base.Add(9*time.Minute)) || st.LastFailure.WebhookID != a.ID {
			t.Fatalf("webhook a: last success %v, last failure %+v", st.LastSuccessAt, st.LastFailure)
		}

		proj, err := s.AttemptStats(ctx, p.ID, "", since, until, 0)
		if err != nil {
			t.Fatal(err)
		}
		if proj.Attempts != 11 || proj.Failures5xx != 2 || proj.LastFailure.Error != "boom" || proj.LastFailure.WebhookID != b.ID {
			t.Fatalf("project = %+v, last failure %+v", proj, proj.LastFailure)
		}
		if proj.P95Ms != 40 {
			t.Fatalf("project p95 = %d, want 40", proj.P95Ms)
		}
		// A series of one-minute intervals over webhook a's ten minutes.
		ser, err := s.AttemptStats(ctx, p.ID, a.ID, base, base.Add(10*time.Minute), time.Minute)
		if err != nil || len(ser.Series) != 10 {
			t.Fatalf("series: %+v, %v", ser, err)
		}
		for i, pt := range ser.Series {
			wantOK := 0
			if codes[i] == 200 {
				wantOK = 1
			}
			if pt.Attempts != 1 || pt.Successes != wantOK || pt.P95Ms != int64(i+1) || !pt.At.Equal(base.Add(time.Duration(i)*time.Minute)) {
				t.Fatalf("point %d = %+v", i, pt)
			}
		}
		empty, err := s.AttemptStats(ctx, other.ID, "", since, until, 0)
		if err != nil || empty.Attempts != 0 || empty.LastFailure != nil || empty.P50Ms != 0 || !empty.LastSuccessAt.IsZero() {
			t.Fatalf("another project = %+v, %v", empty, err)
		}
	})
}

// Final hours come from rollups, made on the first read and used after:
// the stats are the same before and after, over a window that starts and
// ends inside hours, and the last failure is found in a rolled-up hour.
func TestAttemptStatsRollups(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "rollup")
		w := newWebhook(t, s, p.ID)
		now := time.Now()
		start := now.Add(-6 * time.Hour).Truncate(time.Hour).Add(20 * time.Minute) // mid-hour
		// An attempt every 10 minutes for five hours: 30 of them, every
		// seventh a 500 (the last at minute 270), durations 1..30 ms.
		const n = 30
		for range n {
			if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "a", Data: json.RawMessage(`1`)}}); err != nil {
				t.Fatal(err)
			}
		}
		// Claimed at the time after the last event (the 30 commits may
		// take more than a second on a loaded machine), not at now.
		due, lease, err := s.ClaimDue(ctx, "test-node", time.Now().Add(time.Second), 100, time.Minute)
		if err != nil || len(due) != n {
			t.Fatalf("claim: %d, %v", len(due), err)
		}
		var outs []hookgate.AttemptOutcome
		wantFail := time.Time{}
		for i, d := range due {
			at := start.Add(time.Duration(i) * 10 * time.Minute)
			code := 200
			if i%7 == 6 {
				code, wantFail = 500, at
			}
			outs = append(outs, hookgate.AttemptOutcome{ProjectID: p.ID, WebhookID: w.ID, LeaseUntil: lease, Status: hookgate.DeliverySucceeded,
				Attempt: hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, at), DeliveryID: d.ID, Attempt: 1, StartedAt: at, DurationMs: int64(i + 1), StatusCode: code}})
		}
		if err := s.RecordAttempts(ctx, now, outs); err != nil {
			t.Fatal(err)
		}
		since := start.Add(5 * time.Minute) // skips the first attempt
		until := now
		var first *hookgate.AttemptStats
		for round := range 2 {
			st, err := s.AttemptStats(ctx, p.ID, w.ID, since, until, 0)
			if err != nil {
				t.Fatal(err)
			}
			if st.Attempts != n-1 || st.Failures5xx != 4 || st.Successes != n-5 {
				t.Fatalf("round %d: %+v", round, st)
			}
			if st.P50Ms != 16 || st.P95Ms != 29 {
				t.Fatalf("round %d: p50 %d, p95 %d; want 16, 29", round, st.P50Ms, st.P95Ms)
			}
			if st.LastFailure == nil || !st.LastFailure.At.Equal(wantFail.Truncate(time.Microsecond)) {
				t.Fatalf("round %d: last failure %+v, want at %v", round, st.LastFailure, wantFail)
			}
			if first != nil && (st.LastSuccessAt != first.LastSuccessAt || st.P95Ms != first.P95Ms) {
				t.Fatalf("the rollups changed the answer: %+v, then %+v", first, st)
			}
			first = st
		}
		// A purge of everything older than now drops the rollups too: the
		// attempts are gone, and so are their sums.
		if _, err := s.Purge(ctx, now, now); err != nil {
			t.Fatal(err)
		}
		if st, err := s.AttemptStats(ctx, p.ID, w.ID, since, until, 0); err != nil || st.Attempts != 0 {
			t.Fatalf("after the purge: %+v, %v", st, err)
		}
	})
}
