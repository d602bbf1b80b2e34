package ui_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
)

// Issue 21, item 11: the dashboard and the SDK show a webhook URL's
// credential query values as ********, on the list and on the webhook's
// page; "Reveal secret" (and GetWebhookSecret) show the URL in full.
func TestWebhookURLRedactedOnTheDashboard(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, _ := client.New(srv.URL, apitest.AdminKey)
		ctx := context.Background()
		if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop"}); err != nil {
			t.Fatal(err)
		}
		owner, err := admin.CreateKey(ctx, "shop", client.KeyCreate{Name: "o", Role: client.RoleOwner})
		if err != nil {
			t.Fatal(err)
		}
		const full = "https://hooks.example.invalid/h?sig=S1GNATURE"
		wh, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: full, UID: "chat"})
		if err != nil || wh.URL != "https://hooks.example.invalid/h?sig=********" {
			t.Fatalf("CreateWebhook: %+v, %v", wh, err)
		}
		if got, err := admin.GetWebhook(ctx, "shop", "chat"); err != nil || strings.Contains(got.URL, "S1GNATURE") {
			t.Fatalf("GetWebhook: %+v, %v", got, err)
		}
		if sec, err := admin.GetWebhookSecret(ctx, "shop", "chat"); err != nil || sec.URL != full {
			t.Fatalf("GetWebhookSecret: %+v, %v", sec, err)
		}

		b := newBrowser(t, srv.URL)
		b.signIn(owner.Key)
		for _, path := range []string{"/ui/p/shop/webhooks", "/ui/p/shop/webhooks/" + wh.ID} {
			st, _, page := b.get(path)
			if st != 200 || strings.Contains(page, "S1GNATURE") || !strings.Contains(page, "sig=********") {
				t.Fatalf("%s: %d, the URL shown %v", path, st, strings.Contains(page, "S1GNATURE"))
			}
		}
		_, _, page := b.get("/ui/p/shop/webhooks/" + wh.ID)
		if !strings.Contains(page, `<form method="get" action="/ui/p/shop/webhooks/`+wh.ID+`/secret">`) {
			t.Fatal("no Reveal secret button")
		}
		if _, _, page := b.get("/ui/p/shop/webhooks/" + wh.ID + "/secret"); !strings.Contains(page, full) {
			t.Fatal("Reveal secret does not show the URL in full")
		}
		// The edit form shows it redacted too, and sending it back so
		// keeps the stored one.
		_, _, page = b.get("/ui/p/shop/webhooks/" + wh.ID + "/edit")
		if strings.Contains(page, "S1GNATURE") || !strings.Contains(page, "sig=********") {
			t.Fatal("the edit form shows the URL in full")
		}
		form := url.Values{"csrf": {csrfOf(t, page)}, "url": {"https://hooks.example.invalid/h?sig=********"}, "uid": {"chat"}, "description": {"kept URL"}}
		if st, loc, body := b.post("/ui/p/shop/webhooks/"+wh.ID+"/edit", form, srv.URL); st != 303 || !strings.HasSuffix(loc, "?done=updated") {
			t.Fatalf("edit with the redacted URL: %d %q\n%s", st, loc, body)
		}
		if sec, err := admin.GetWebhookSecret(ctx, "shop", "chat"); err != nil || sec.URL != full {
			t.Fatalf("after the edit: %+v, %v", sec, err)
		}
	})
}
