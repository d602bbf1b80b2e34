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

// Issue 24, item 3: the SDK sets and clears autoRecover on a webhook and
// on a project, and reads the one in force.
func TestAutoRecoverThroughTheSDK(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		_, admin := setup(t, engine)
		ctx := context.Background()
		if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop", AutoRecover: client.Ptr(false)}); err != nil {
			t.Fatal(err)
		}
		w, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/x"})
		if err != nil || w.AutoRecover != nil || w.Delivery.AutoRecover.Value || w.Delivery.AutoRecover.From != "project" {
			t.Fatalf("created %+v (%v); want the project's autoRecover false in force", w, err)
		}
		w, err = admin.UpdateWebhook(ctx, "shop", w.ID, client.WebhookUpdate{AutoRecover: client.Ptr(true)})
		if err != nil || w.AutoRecover == nil || !*w.AutoRecover || w.Delivery.AutoRecover.From != "webhook" {
			t.Fatalf("updated %+v (%v); want its own true", w, err)
		}
		w, err = admin.UpdateWebhook(ctx, "shop", w.ID, client.WebhookUpdate{ClearAutoRecover: true})
		if err != nil || w.AutoRecover != nil || w.Delivery.AutoRecover.From != "project" {
			t.Fatalf("cleared %+v (%v)", w, err)
		}
		p, err := admin.UpdateProject(ctx, "shop", client.ProjectUpdate{ClearAutoRecover: true})
		if err != nil || p.AutoRecover != nil {
			t.Fatalf("project cleared %+v (%v)", p, err)
		}
		if w, err = admin.GetWebhook(ctx, "shop", w.ID); err != nil || !w.Delivery.AutoRecover.Value || w.Delivery.AutoRecover.From != "server" || w.Recovery != nil {
			t.Fatalf("read %+v (%v); want the server's autoRecover, no recovery", w, err)
		}
	})
}
