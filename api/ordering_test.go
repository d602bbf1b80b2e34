package api_test

import (
	"testing"
)

// Issue 24, item 1: ordering and orderingKey are kept and read back, PATCH
// changes them, bad values get a 400 naming the field and change nothing,
// and a FIFO webhook's deliveries name their key.
func TestWebhookOrdering(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("acme")
		const path = "/api/v1/projects/acme/webhooks"
		for _, c := range []struct {
			name  string
			body  map[string]any
			param string
		}{
			{"unknown ordering", map[string]any{"ordering": "lifo"}, "ordering"},
			{"key without fifo", map[string]any{"orderingKey": "/data/id"}, "orderingKey"},
			{"key not a pointer", map[string]any{"ordering": "fifo", "orderingKey": "data.id"}, "orderingKey"},
			{"bad escape", map[string]any{"ordering": "fifo", "orderingKey": "/data/a~2b"}, "orderingKey"},
			{"fifo trigger-only", map[string]any{"ordering": "fifo", "triggerOnly": true}, "ordering"},
		} {
			t.Run(c.name, func(t *testing.T) {
				c.body["url"] = "http://127.0.0.1:9/h"
				e.req("POST", path, owner, c.body).problem(t, 400, "invalid_parameter", c.param)
			})
		}
		plain := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/plain"})
		jsonEq(t, "default ordering", plain.Body["ordering"], "none")
		w := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h", "ordering": "fifo", "orderingKey": "/data/customerId"})
		id := w.str("id")
		jsonEq(t, "ordering", w.Body["ordering"], "fifo")
		jsonEq(t, "orderingKey", w.Body["orderingKey"], "/data/customerId")

		e.req("PATCH", path+"/"+id, owner, map[string]any{"orderingKey": "nope"}).problem(t, 400, "invalid_parameter", "orderingKey")
		jsonEq(t, "orderingKey after a refused PATCH", e.req("GET", path+"/"+id, owner, nil).must(t, 200).Body["orderingKey"], "/data/customerId")

		ev := e.req("POST", "/api/v1/projects/acme/events", owner, map[string]any{"type": "order.paid", "data": map[string]any{"customerId": "c_42"}}).must(t, 202)
		ds := e.req("GET", "/api/v1/projects/acme/deliveries?event="+ev.str("id"), owner, nil).must(t, 200).Body["data"].([]any)
		if len(ds) != 2 {
			t.Fatalf("%d deliveries, want 2", len(ds))
		}
		for _, d := range ds {
			d := d.(map[string]any)
			switch d["webhookId"] {
			case id:
				jsonEq(t, "the FIFO delivery's key", d["orderingKey"], "c_42")
			default:
				if _, ok := d["orderingKey"]; ok {
					t.Fatalf("an unordered delivery has an orderingKey: %v", d)
				}
			}
		}

		// ordering none drops the key with it.
		after := e.req("PATCH", path+"/"+id, owner, map[string]any{"ordering": "none"}).must(t, 200)
		jsonEq(t, "ordering", after.Body["ordering"], "none")
		jsonEq(t, "orderingKey", after.Body["orderingKey"], "")
	})
}
