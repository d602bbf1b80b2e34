package ui_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 26, item 2: a delivery's page shows each attempt's trace and span,
// linked through serve's --trace-url for an operator; a portal session
// sees the IDs without the operator's link.
func TestAttemptTraceOnDeliveryPage(t *testing.T) {
	store := sqltest.Open(t, "sqlite")
	srv := apitest.Start(store)
	t.Cleanup(srv.Close)
	admin, _ := client.New(srv.URL, apitest.AdminKey)
	ctx := context.Background()
	p, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	recv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	t.Cleanup(recv.Close)
	rcv := recv.URL
	wh, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: rcv})
	if err != nil {
		t.Fatal(err)
	}
	ev, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "a", Data: json.RawMessage(`1`)})
	if err != nil {
		t.Fatal(err)
	}
	id := hookgate.DeliveryID(ev.ID, wh.ID)
	var a client.Attempt
	testwait.For(t, "the attempt", func() bool {
		list, err := admin.ListAttempts(ctx, "shop", id, nil)
		if err == nil && len(list.Data) == 1 {
			a = list.Data[0]
		}
		return a.ID != ""
	})
	if len(a.TraceID) != 32 || len(a.SpanID) != 16 {
		t.Fatalf("attempt trace %q span %q", a.TraceID, a.SpanID)
	}
	link := "https://tempo.example/trace/" + a.TraceID + "?span=" + a.SpanID

	b := newBrowser(t, srv.URL)
	b.signIn(apitest.AdminKey)
	st, _, page := b.get("/ui/p/shop/deliveries/" + id)
	if st != http.StatusOK || !strings.Contains(page, a.TraceID) || !strings.Contains(page, a.SpanID) || !strings.Contains(page, strings.ReplaceAll(link, "&", "&amp;")) {
		t.Fatalf("the operator's delivery page: %d, want %s\n%s", st, link, page)
	}

	_, path := portalLink(t, store, p.ID, hookgate.PortalLinkInput{}, time.Now())
	pb := newBrowser(t, srv.URL)
	openPortal(t, pb, path)
	st, _, page = pb.get("/ui/p/" + p.ID + "/deliveries/" + id)
	if st != http.StatusOK || !strings.Contains(page, a.TraceID) || strings.Contains(page, "tempo.example") {
		t.Fatalf("the portal's delivery page: %d\n%s", st, page)
	}
}
