package ui_test

import (
	"context"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
)

// Issue 24, item 2: the webhooks list and a webhook's page show its
// circuit breaker: closed for a healthy one; open, with its failures and
// next probe, once its attempts failed, and the settings in force.
func TestWebhookPagesShowTheCircuit(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, b := shopRetrying(t, srv, "1h")
		ctx := context.Background()
		one := 1
		// Nothing listens on port 9: each attempt fails.
		w, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/dead", UID: "dead", Breaker: &client.Breaker{Failures: &one}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, page := b.get("/ui/p/shop/webhooks/" + w.ID); !strings.Contains(page, `<span class="badge circuit-closed">closed</span>, 0 consecutive failures`) ||
			!strings.Contains(page, "opens after 1 failed attempts in a row (webhook); first cooldown 30s (server)") {
			t.Fatalf("a healthy webhook's page:\n%s", page)
		}
		if _, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]any{"id": 1}}); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "the circuit open", func() bool {
			got, err := admin.GetWebhook(ctx, "shop", w.ID)
			return err == nil && got.Circuit.State == client.CircuitOpen
		})
		got, _ := admin.GetWebhook(ctx, "shop", w.ID)
		_, _, page := b.get("/ui/p/shop/webhooks/" + w.ID)
		want := "deliveries wait, with no attempt counted, until the probe at " + got.Circuit.NextProbeAt.UTC().Format("2006-01-02 15:04:05") + " UTC"
		if !strings.Contains(page, `<span class="badge circuit-open">open</span> since `) || !strings.Contains(page, "1 consecutive failure;") || !strings.Contains(page, want) {
			t.Fatalf("an open circuit's page, want %q:\n%s", want, page)
		}
		if _, _, list := b.get("/ui/p/shop/webhooks"); !strings.Contains(list, `<span class="badge circuit-open" title="1 consecutive failures">open</span>`) {
			t.Fatalf("the list does not show the open circuit:\n%s", list)
		}
	})
}
