package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
)

// Issue 26, item 4: the figures the operator's gauges read count the
// webhooks by status, the nodes alive and missing, and the longest failure
// streaks, longest first and at most the limit asked.
func TestOpsStats(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "ops")
		now := time.Now().UTC().Truncate(time.Microsecond)

		counts, err := s.WebhookStatusCounts(ctx)
		if err != nil || counts[hookgate.StatusActive] != 0 || counts[hookgate.StatusDisabled] != 0 || len(counts) != 3 {
			t.Fatalf("no webhooks: %v, %v", counts, err)
		}
		ws := []*hookgate.Webhook{newWebhook(t, s, p.ID), newWebhook(t, s, p.ID), newWebhook(t, s, p.ID)}
		if _, err := s.SetWebhookStatus(ctx, p.ID, ws[2].ID, hookgate.StatusDisabled, now); err != nil {
			t.Fatal(err)
		}
		counts, err = s.WebhookStatusCounts(ctx)
		if err != nil || counts[hookgate.StatusActive] != 2 || counts[hookgate.StatusDisabled] != 1 || counts[hookgate.StatusDeactivated] != 0 {
			t.Fatalf("WebhookStatusCounts = %v, %v; want 2 active, 1 disabled", counts, err)
		}

		if err := s.Heartbeat(ctx, "fresh", "i1", now); err != nil {
			t.Fatal(err)
		}
		if err := s.Heartbeat(ctx, "silent", "i2", now.Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		if alive, missing, err := s.NodeCounts(ctx, now.Add(-15*time.Second)); err != nil || alive != 1 || missing != 1 {
			t.Fatalf("NodeCounts = %d alive, %d missing, %v; want 1, 1", alive, missing, err)
		}
		if nodes, _, err := s.TakeOver(ctx, "fresh", now.Add(-15*time.Second)); err != nil || nodes != 1 {
			t.Fatalf("TakeOver = %d nodes, %v", nodes, err)
		}
		if alive, missing, err := s.NodeCounts(ctx, now.Add(-15*time.Second)); err != nil || alive != 1 || missing != 0 {
			t.Fatalf("after the take-over: %d alive, %d missing, %v; want 1, 0", alive, missing, err)
		}

		if top, err := s.TopFailureStreaks(ctx, 20); err != nil || len(top) != 0 {
			t.Fatalf("no failures: %v, %v", top, err)
		}
		br := hookgate.Breaker{Failures: 100, Cooldown: time.Minute}
		if _, err := s.RecordCircuits(ctx, now, []hookgate.CircuitReport{
			{ProjectID: p.ID, WebhookID: ws[0].ID, Breaker: br, Failures: 2},
			{ProjectID: p.ID, WebhookID: ws[1].ID, Breaker: br, Failures: 5},
		}); err != nil {
			t.Fatal(err)
		}
		top, err := s.TopFailureStreaks(ctx, 20)
		want := []sqlstore.FailureStreak{{ProjectID: p.ID, WebhookID: ws[1].ID, Failures: 5}, {ProjectID: p.ID, WebhookID: ws[0].ID, Failures: 2}}
		if err != nil || len(top) != 2 || top[0] != want[0] || top[1] != want[1] {
			t.Fatalf("TopFailureStreaks = %+v, %v; want %+v", top, err, want)
		}
		if top, err := s.TopFailureStreaks(ctx, 1); err != nil || len(top) != 1 || top[0] != want[0] {
			t.Fatalf("TopFailureStreaks(1) = %+v, %v; want the longest only", top, err)
		}
		// A success ends a run.
		if _, err := s.RecordCircuits(ctx, now, []hookgate.CircuitReport{{ProjectID: p.ID, WebhookID: ws[1].ID, Breaker: br, Succeeded: true}}); err != nil {
			t.Fatal(err)
		}
		if top, err := s.TopFailureStreaks(ctx, 20); err != nil || len(top) != 1 || top[0] != want[1] {
			t.Fatalf("after a success: %+v, %v; want %+v", top, err, want[1])
		}
	})
}
