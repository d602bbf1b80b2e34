package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testredis"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 28: a webhook that delivers to a Redis stream shows its kind,
// stream and user on its page, never its password.
func TestWebhookPageShowsDestination(t *testing.T) {
	rd := testredis.Start(t)
	store := sqltest.Open(t, "sqlite")
	srv := apitest.Start(store)
	t.Cleanup(srv.Close)
	admin, _ := client.New(srv.URL, apitest.AdminKey)
	ctx := context.Background()
	if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop"}); err != nil {
		t.Fatal(err)
	}
	wh, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{UID: "orders-stream", Destination: &client.Destination{
		Kind: client.DestinationRedisStream, URL: "redis://" + rd.Addr() + "/0", Stream: "orders", MaxLen: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv.URL)
	b.signIn(apitest.AdminKey)
	st, _, page := b.get("/ui/p/shop/webhooks/" + wh.ID)
	if st != http.StatusOK || !strings.Contains(page, "redis-stream: stream <code>orders</code>, trimmed to about 1000 entries") ||
		strings.Contains(page, "POST redis://") {
		t.Fatalf("the webhook's page: %d\n%s", st, page)
	}
}
