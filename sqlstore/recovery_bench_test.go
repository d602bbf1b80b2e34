package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// BenchmarkDueRecoveries is what every node pays every 10 s for recovery
// probes: DueRecoveries over a store holding 1,000 disabled webhooks whose
// recoveries are scheduled and none due (the steady state).
//
//	go test -run '^$' -bench DueRecoveries -benchtime 200x ./sqlstore/
func BenchmarkDueRecoveries(b *testing.B) {
	for _, engine := range sqltest.Engines(b) {
		b.Run(engine, func(b *testing.B) {
			s := sqltest.Open(b, engine)
			ctx := context.Background()
			now := time.Now().UTC()
			p := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, now), Slug: "rb", Name: "rb", CreatedAt: now, UpdatedAt: now}
			if err := s.CreateProject(ctx, p); err != nil {
				b.Fatal(err)
			}
			for range 1000 {
				w := &hookgate.Webhook{ID: hookgate.NewID(hookgate.PrefixWebhook, now), ProjectID: p.ID, URL: "http://127.0.0.1:9/h",
					Secret: hookgate.NewSecret(), CreatedAt: now, UpdatedAt: now}
				w.ApplyDefaults()
				if err := s.CreateWebhook(ctx, w); err != nil {
					b.Fatal(err)
				}
				if _, err := s.SetWebhookStatus(ctx, p.ID, w.ID, hookgate.StatusDisabled, now); err != nil {
					b.Fatal(err)
				}
			}
			first, window := 5*time.Minute, 7*24*time.Hour
			if due, err := s.DueRecoveries(ctx, now, first, window, 64); err != nil || len(due) != 0 {
				b.Fatalf("due %d (%v), want none", len(due), err)
			}
			for b.Loop() {
				if _, err := s.DueRecoveries(ctx, now, first, window, 64); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
