package servertest_test

import (
	"context"
	"testing"

	"github.com/hookgate/hookgate/client"
)

// Issue 22, item 21: an empty slice or map in WebhookUpdate clears the
// field, as its doc says (the dashboard's edit form clears a webhook's
// event filters so), and a nil one leaves it alone.
func TestUpdateWebhookEmptyClearsNilKeeps(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		_, admin := setup(t, engine)
		ctx := context.Background()
		if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop"}); err != nil {
			t.Fatal(err)
		}
		if _, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/x", UID: "orders",
			Events: []string{"order.*"}, Metadata: map[string]string{"team": "web"}}); err != nil {
			t.Fatal(err)
		}
		got, err := admin.UpdateWebhook(ctx, "shop", "orders", client.WebhookUpdate{Description: client.Ptr("kept")})
		if err != nil || len(got.Events) != 1 || got.Metadata["team"] != "web" {
			t.Fatalf("an update of nil slices and maps: %+v, %v", got, err)
		}
		got, err = admin.UpdateWebhook(ctx, "shop", "orders", client.WebhookUpdate{Events: []string{}, Metadata: map[string]string{}})
		if err != nil || len(got.Events) != 0 || len(got.Metadata) != 0 || got.Description != "kept" {
			t.Fatalf("an update of empty slices and maps: %+v, %v", got, err)
		}
	})
}
