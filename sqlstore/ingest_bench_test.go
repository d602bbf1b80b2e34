package sqlstore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// BenchmarkCreateEvent is the store's part of accepting one event at a
// time, as under moderate load: one CreateEvents of one event of about
// 300 bytes for a project with one webhook, each call waiting for its
// commit. allocs/op includes the database driver's. On PostgreSQL the
// store listens, as serve's does, so that it caches the subscribers.
//
//	go test -run '^$' -bench CreateEvent -benchmem -benchtime 2000x ./sqlstore/
func BenchmarkCreateEvent(b *testing.B) {
	for _, engine := range sqltest.Engines(b) {
		b.Run(engine, func(b *testing.B) {
			s := sqltest.Open(b, engine)
			ctx := context.Background()
			if engine == sqlstore.EnginePostgres {
				connected := make(chan struct{}, 1)
				lctx, cancel := context.WithCancel(ctx)
				done := make(chan struct{})
				go func() {
					s.Listen(lctx, sqlstore.Listeners{Wake: func() {
						select {
						case connected <- struct{}{}:
						default:
						}
					}})
					close(done)
				}()
				b.Cleanup(func() { cancel(); <-done })
				<-connected
			}
			now := time.Now().UTC()
			p := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, now), Slug: "ce", Name: "ce", CreatedAt: now, UpdatedAt: now}
			if err := s.CreateProject(ctx, p); err != nil {
				b.Fatal(err)
			}
			w := &hookgate.Webhook{ID: hookgate.NewID(hookgate.PrefixWebhook, now), ProjectID: p.ID, URL: "http://127.0.0.1:9/hook",
				Events: []string{"*"}, Secret: hookgate.NewSecret(), CreatedAt: now, UpdatedAt: now}
			w.ApplyDefaults()
			if err := s.CreateWebhook(ctx, w); err != nil {
				b.Fatal(err)
			}
			in := []hookgate.EventInput{{Type: "order.created", Data: json.RawMessage(`{"id":"ord_1234567890","customer":{"id":"cus_42","email":"someone@example.invalid"},"items":[{"sku":"A-1","qty":2,"price":1250},{"sku":"B-7","qty":1,"price":990}],"total":3490,"currency":"EUR","region":"eu-west","paid":true,"note":"leave at the door, ring twice please"}`)}}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				if _, err := s.CreateEvents(ctx, p.ID, in); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
