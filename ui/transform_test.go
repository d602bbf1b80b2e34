package ui_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
)

// Issue 29: a delivery's page shows as its request's body the body the
// webhook's transform made, as the attempt recorded it, with the
// transform's content type, and says so.
func TestDeliveryShowsTheTransformedBody(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, b := shopRetrying(t, srv, "1h")
		ctx := context.Background()
		rc := &received{}
		recv := httptest.NewServer(rc)
		defer recv.Close()
		if _, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: recv.URL + "/hook", UID: "orders",
			Transform: `{"order": data.id, "note": data.note}`, TransformHeaders: `{"X-Order": string(data.id)}`}); err != nil {
			t.Fatal(err)
		}
		ev, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: json.RawMessage(`{"id": 1001, "note": "<b>fish & chips</b>"}`)})
		if err != nil {
			t.Fatal(err)
		}
		d := attempted(t, admin, ev.ID)[0]
		got, body := rc.last()
		_, _, page := b.get("/ui/p/shop/deliveries/" + d.ID)
		m := requestPre.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no request shown:\n%s", page)
		}
		note, shown := m[1], html.UnescapeString(m[2])
		head, sent, _ := strings.Cut(shown, "\n\n")
		if sent != string(body) || sent != `{"note":"<b>fish & chips</b>","order":1001}` {
			t.Errorf("the body shown is not the body sent:\nshown %q\nsent  %q", sent, body)
		}
		if !strings.Contains(head, "\nContent-Type: "+got.Get("Content-Type")+"\n") || got.Get("Content-Type") != "application/json" {
			t.Errorf("content type shown in\n%s\nsent %q", head, got.Get("Content-Type"))
		}
		if !strings.Contains(note, "the body its transform made") || !strings.Contains(note, "transformHeaders") {
			t.Errorf("the page does not say the body is the transform's: %q", note)
		}
	})
}
