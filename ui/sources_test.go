package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testredis"
	"github.com/hookgate/hookgate/internal/testwait"
)

// Issue 28: the sources page lists the project's broker sources with
// their state (connected, node, counts, lag, the last error of a rejected
// message), never a password.
func TestSourcesPage(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		redisSrv := testredis.Start(t)
		srv := apitest.New(t, engine)
		admin, _ := shop(t, srv)
		b := newSignedIn(t, srv.URL)
		st, _, page := b.get("/ui/p/shop/sources")
		if st != 200 || !strings.Contains(page, "No source in this project.") || !strings.Contains(page, `<a href="/ui/p/shop/sources">Sources</a>`) {
			t.Fatalf("no source: %d\n%s", st, page)
		}
		ctx := context.Background()
		src, err := admin.CreateSource(ctx, "shop", client.SourceCreate{Name: "orders", Kind: "redis-stream",
			Config:    client.SourceConfig{URL: redisSrv.URL(), Stream: "orders"},
			EventType: client.SourceEventType{Pointer: "/type", Default: "order.created"}})
		if err != nil {
			t.Fatal(err)
		}
		rc := redis.NewClient(&redis.Options{Addr: redisSrv.Addr(), MaxRetries: -1})
		defer rc.Close()
		bad, err := rc.XAdd(ctx, &redis.XAddArgs{Stream: "orders", Values: []any{"body", "not json"}}).Result()
		if err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "the rejection in the state", func() bool {
			s, err := admin.GetSource(ctx, "shop", src.ID)
			return err == nil && s.State.Rejected == 1 && s.State.Connected
		})
		st, _, page = b.get("/ui/p/shop/sources")
		if st != 200 {
			t.Fatalf("the sources page: %d\n%s", st, page)
		}
		for _, want := range []string{"orders <small>(redis-stream)</small>", src.ID, `<span class="badge active">active</span>`,
			`<span class="badge active">yes</span>`, "body at /type, else order.created", "1 received, 0 accepted, 1 rejected",
			"message " + bad + " rejected: the body is not JSON"} {
			if !strings.Contains(page, want) {
				t.Errorf("the sources page lacks %q\n%s", want, page)
			}
		}
	})
}
