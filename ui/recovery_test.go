package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 24, item 3: the edit form sets a webhook's autoRecover (on, off,
// or the project's), the webhook's page shows the one in force, and a
// webhook Hookgate disabled shows its recovery: "recovering: next probe
// at …", or why no probe comes.
func TestDashboardAutoRecover(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		store := sqltest.Open(t, engine)
		srv := apitest.Start(store)
		t.Cleanup(srv.Close)
		admin, wh := shop(t, srv)
		ctx := context.Background()
		b := newSignedIn(t, srv.URL)
		st, _, page := b.get("/ui/p/shop/webhooks/orders/edit")
		if st != http.StatusOK || !strings.Contains(page, `<select id="autoRecover" name="autoRecover">`) || !strings.Contains(page, `<option value="" selected>As the project says</option>`) {
			t.Fatalf("the edit page: %d\n%s", st, page)
		}
		token := csrfOf(t, page)
		edit := func(v string) {
			t.Helper()
			form := url.Values{"url": {wh.URL}, "uid": {"orders"}, "description": {""}, "events": {""}, "autoRecover": {v}, "csrf": {token}}
			if st, loc, page := b.post("/ui/p/shop/webhooks/"+wh.ID+"/edit", form, srv.URL); st != http.StatusSeeOther || !strings.HasSuffix(loc, "?done=updated") {
				t.Fatalf("edit autoRecover=%q: %d %q\n%s", v, st, loc, page)
			}
		}
		edit("false")
		got, _ := admin.GetWebhook(ctx, "shop", wh.ID)
		if got.AutoRecover == nil || *got.AutoRecover {
			t.Fatalf("after the edit: autoRecover %v, want false", got.AutoRecover)
		}
		if _, _, page := b.get("/ui/p/shop/webhooks/orders/edit"); !strings.Contains(page, `<option value="false" selected>Leave it disabled</option>`) {
			t.Fatalf("the edit page does not show the webhook's own setting:\n%s", page)
		}
		if _, err := store.SetWebhookStatus(ctx, wh.ProjectID, wh.ID, hookgate.StatusDisabled, time.Now()); err != nil {
			t.Fatal(err)
		}
		_, _, page = b.get("/ui/p/shop/webhooks/orders")
		if !strings.Contains(page, "<dt>Auto-recover</dt><dd>off (webhook's setting)</dd>") || !strings.Contains(page, "off: it stays disabled; 0 probes") {
			t.Fatalf("a disabled webhook with autoRecover off:\n%s", page)
		}
		edit("")
		_, _, page = b.get("/ui/p/shop/webhooks/orders")
		if !strings.Contains(page, "<dt>Auto-recover</dt><dd>on (server's setting)</dd>") || !strings.Contains(page, "recovering: next probe at ") {
			t.Fatalf("a disabled webhook recovering:\n%s", page)
		}
	})
}
