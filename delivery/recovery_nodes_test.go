package delivery_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/testlog"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 24, item 3: two nodes on one PostgreSQL database, both looking for
// due probes every 10 ms on one clock, send one probe per step: after each
// step the receiver has had as many probes as steps, and the recovery
// counts as many. (The compare-and-set that makes it so is tested
// step by step in sqlstore's TestTwoNodesClaimOneProbePerStep.)
func TestTwoNodesSendOneProbePerStep(t *testing.T) {
	t.Parallel()
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("PostgreSQL only: SQLite has no other nodes")
	}
	ctx := context.Background()
	cfg := sqltest.Config(t, sqlstore.EnginePostgres)
	a, b := sqltest.OpenConfig(t, cfg), sqltest.OpenConfig(t, cfg)
	clk := newClock(time.Now().Add(time.Minute).UTC().Truncate(time.Millisecond))
	sched := hookgate.Schedule{time.Minute, time.Minute}
	for _, s := range []*sqlstore.Store{a, b} {
		c := delivery.Config{Queue: s, Poll: 50 * time.Millisecond, ProbePoll: 10 * time.Millisecond, RecoverySchedule: sched, Logger: testlog.Logger(t)}
		clocked(&c, clk)
		d := delivery.New(c)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { d.Run(runCtx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
	}
	now := clk.Now()
	p := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, now), Slug: "two", Name: "two", CreatedAt: now, UpdatedAt: now}
	if err := a.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	var w *hookgate.Webhook
	rcv := newProbeReceiver(t, func() string { return w.Secret })
	w = webhook(rcv.srv.URL)
	w.ID, w.ProjectID = hookgate.NewID(hookgate.PrefixWebhook, now), p.ID
	if err := a.CreateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SetWebhookStatus(ctx, p.ID, w.ID, hookgate.StatusDisabled, now); err != nil {
		t.Fatal(err)
	}
	const steps = 6
	for n := 1; n <= steps; n++ {
		clk.Advance(time.Minute)
		testwait.For(t, "the step's probe made and counted", func() bool {
			got, err := b.FindRecoveries(ctx, p.ID, []string{w.ID})
			return err == nil && got[w.ID] != nil && got[w.ID].Probes >= n && rcv.count(hookgate.EventPing) >= n
		})
		got, _ := b.FindRecoveries(ctx, p.ID, []string{w.ID})
		if sent := rcv.count(hookgate.EventPing); got[w.ID].Probes != n || sent != n {
			t.Fatalf("after step %d: %d probes counted, %d sent; want %d of each", n, got[w.ID].Probes, sent, n)
		}
	}
}
