package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 29: a webhook's page tells how many events its filter kept from it.
func TestWebhookPageShowsFilterCounts(t *testing.T) {
	store := sqltest.Open(t, "sqlite")
	srv := apitest.Start(store)
	t.Cleanup(srv.Close)
	admin, _ := client.New(srv.URL, apitest.AdminKey)
	ctx := context.Background()
	if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop"}); err != nil {
		t.Fatal(err)
	}
	wh, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/h", Filter: "data.total > 100"})
	if err != nil {
		t.Fatal(err)
	}
	for _, total := range []string{`{"total": 5}`, `{"total": 500}`, `{"sum": 1}`} {
		if _, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: json.RawMessage(total)}); err != nil {
			t.Fatal(err)
		}
	}
	b := newBrowser(t, srv.URL)
	b.signIn(apitest.AdminKey)
	st, _, page := b.get("/ui/p/shop/webhooks/" + wh.ID)
	if st != http.StatusOK || !strings.Contains(page, "1 events rejected, 1 on which it failed") {
		t.Fatalf("the webhook's page: %d\n%s", st, page)
	}
}
