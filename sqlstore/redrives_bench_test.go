package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// BenchmarkExpiredRedrives is what every node pays every 30 s to find the
// redrives a stopped node left: ExpiredRedrives over a store holding
// 10,000 redrives that ended (redrives are never purged) and 10 running
// within their lease, none expired (the steady state).
//
//	go test -run '^$' -bench ExpiredRedrives -benchtime 200x ./sqlstore/
func BenchmarkExpiredRedrives(b *testing.B) {
	for _, engine := range sqltest.Engines(b) {
		b.Run(engine, func(b *testing.B) {
			s := sqltest.Open(b, engine)
			ctx := context.Background()
			now := time.Now().UTC()
			p := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, now), Slug: "rb", Name: "rb", CreatedAt: now, UpdatedAt: now}
			if err := s.CreateProject(ctx, p); err != nil {
				b.Fatal(err)
			}
			const ended, running = 10000, 10
			for i := range ended + running {
				r := &hookgate.Redrive{ID: hookgate.NewID(hookgate.PrefixRedrive, now), ProjectID: p.ID, State: hookgate.RedriveRunning,
					Selection: hookgate.RedriveSelection{Status: hookgate.DeliveryFailed}, StartedAt: now}
				if _, _, err := s.CreateRedrive(ctx, r, now.Add(hookgate.RedriveLease)); err != nil {
					b.Fatal(err)
				}
				if i < ended {
					if err := s.FailRedrive(ctx, p.ID, r.ID, "ended", now); err != nil {
						b.Fatal(err)
					}
				}
			}
			if got, err := s.ExpiredRedrives(ctx, now, 100); err != nil || len(got) != 0 {
				b.Fatalf("expired %d (%v), want none", len(got), err)
			}
			for b.Loop() {
				if _, err := s.ExpiredRedrives(ctx, now, 100); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
