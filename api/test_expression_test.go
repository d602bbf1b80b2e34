package api_test

import (
	"strings"
	"testing"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// order is the sample event of the test-expression tests.
var sampleOrder = map[string]any{
	"type":      "order.created",
	"id":        "evt_sample",
	"timestamp": "2026-12-01T10:30:00Z",
	"data":      map[string]any{"total": 149.5, "region": "eu", "items": []any{map[string]any{"sku": "A1"}}},
}

// Issue 29, item 3: test-expression runs expressions on an event without
// saving them, and answers each result with its cost and time.
func TestTestWebhookExpression(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, publisher := e.project("acme")
		path := "/api/v1/projects/acme/webhooks/test-expression"
		try := func(body map[string]any) resp {
			t.Helper()
			return e.req("POST", path, owner, body).must(t, 200)
		}
		result := func(r resp, name string) map[string]any {
			t.Helper()
			m, _ := r.Body[name].(map[string]any)
			if m == nil {
				t.Fatalf("no %s in %s", name, r.Raw)
			}
			if c, _ := m["cost"].(float64); c <= 0 {
				t.Errorf("%s: cost %v, want > 0: %s", name, m["cost"], r.Raw)
			}
			if _, ok := m["durationUs"].(float64); !ok {
				t.Errorf("%s: no durationUs: %s", name, r.Raw)
			}
			return m
		}

		t.Run("filter", func(t *testing.T) {
			for _, tt := range []struct {
				src, err string
				matched  bool
			}{
				{`data.total > 100.0 && metadata.region == data.region`, "", true},
				{`data.total > 200.0`, "", false},
				{`data.country == 'fr'`, "the filter failed on this event", false},
				{`id == 'evt_sample' && timestamp.getHours() == 10 && type == 'order.created'`, "", true},
			} {
				r := try(map[string]any{"filter": tt.src, "event": sampleOrder, "metadata": map[string]string{"region": "eu"}})
				f := result(r, "filter")
				if f["matched"] != tt.matched || !strings.Contains(f["error"].(string), tt.err) || (tt.err == "") != (f["error"] == "") {
					t.Errorf("%s: %s", tt.src, r.Raw)
				}
				if _, ok := r.Body["transform"]; ok {
					t.Errorf("a transform result when none was given: %s", r.Raw)
				}
			}
		})

		t.Run("transform and headers", func(t *testing.T) {
			r := try(map[string]any{"transform": `{"amount": data.total, "sku": data.items[0].sku}`, "transformHeaders": `{"X-Region": data.region}`, "event": sampleOrder})
			tr := result(r, "transform")
			jsonEq(t, "body", tr["body"], map[string]any{"amount": 149.5, "sku": "A1"})
			if tr["contentType"] != "application/json" || tr["error"] != "" {
				t.Errorf("transform: %s", r.Raw)
			}
			h := result(r, "transformHeaders")
			jsonEq(t, "headers", h["headers"], map[string]string{"X-Region": "eu"})

			r = try(map[string]any{"transform": `"order " + id`, "event": sampleOrder})
			if tr := result(r, "transform"); tr["body"] != "order evt_sample" || tr["contentType"] != "text/plain; charset=utf-8" {
				t.Errorf("a string transform: %s", r.Raw)
			}
			r = try(map[string]any{"transform": `{"x": data.missing}`, "event": sampleOrder})
			if tr := result(r, "transform"); tr["body"] != nil || !strings.Contains(tr["error"].(string), "the transform failed on this event") {
				t.Errorf("a failing transform: %s", r.Raw)
			}
		})

		t.Run("cost limit", func(t *testing.T) {
			items := make([]int, 200_000)
			r := try(map[string]any{"filter": `data.items.exists(i, i < 0)`, "event": map[string]any{"type": "bulk", "data": map[string]any{"items": items}}})
			f := result(r, "filter")
			if f["matched"] != false || !strings.Contains(f["error"].(string), "cost limit") || f["cost"].(float64) <= 1_000_000 {
				t.Errorf("over the cost limit: %.300s", r.Raw)
			}
		})

		t.Run("stored event", func(t *testing.T) {
			id := e.req("POST", "/api/v1/projects/acme/events", publisher, map[string]any{"type": "order.paid", "data": map[string]any{"total": 20}}).must(t, 202).str("id")
			r := try(map[string]any{"filter": `id == '` + id + `' && type == 'order.paid' && data.total == 20`, "eventId": id})
			if result(r, "filter")["matched"] != true {
				t.Errorf("stored event: %s", r.Raw)
			}
			e.req("POST", path, owner, map[string]any{"filter": "true", "eventId": "evt_missing"}).problem(t, 404, "not_found", "eventId")
		})

		t.Run("compile errors", func(t *testing.T) {
			for name, src := range map[string]string{"filter": `data.total >`, "transform": `{"a": }`, "transformHeaders": `{"X": data.}`} {
				r := e.req("POST", path, owner, map[string]any{name: src, "event": sampleOrder}).problem(t, 400, "invalid_parameter", name)
				if d := r.str("detail"); !strings.Contains(d, "line 1, column") {
					t.Errorf("%s: %s", name, d)
				}
			}
			e.req("POST", path, owner, map[string]any{"filter": `data.total`, "event": sampleOrder}).problem(t, 400, "invalid_parameter", "filter")
		})

		t.Run("malformed", func(t *testing.T) {
			e.req("POST", path, owner, map[string]any{"event": sampleOrder}).problem(t, 400, "missing_parameter", "filter")
			e.req("POST", path, owner, map[string]any{"filter": "true"}).problem(t, 400, "missing_parameter", "event")
			e.req("POST", path, owner, map[string]any{"filter": "true", "event": sampleOrder, "eventId": "evt_x"}).problem(t, 400, "invalid_parameter", "eventId")
			e.req("POST", path, owner, map[string]any{"filter": "true", "event": map[string]any{"type": "bad type!"}}).problem(t, 400, "invalid_parameter", "event.type")
			e.req("POST", path, owner, map[string]any{"filter": "true", "event": sampleOrder, "metadata": map[string]string{"": "x"}}).problem(t, 400, "invalid_parameter", "metadata.")
			e.req("POST", path, owner, `{"filter": "true", "event": `).must(t, 400)
		})

		t.Run("publisher", func(t *testing.T) {
			e.req("POST", path, publisher, map[string]any{"filter": "true", "event": sampleOrder}).must(t, 403)
		})
	})
}

// A portal session that may edit webhooks may try expressions, on an event
// given in full: it sees no stored events.
func TestTestWebhookExpressionPortal(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		store := sqltest.Open(t, engine)
		h := api.New(apiConfig(t, store))
		e := serveEnv(t, store, h)
		acme, _, publisher := e.project("acme")
		id := e.req("POST", "/api/v1/projects/acme/events", publisher, map[string]any{"type": "order.paid", "data": map[string]any{"total": 20}}).must(t, 202).str("id")
		path := "/api/v1/projects/acme/webhooks/test-expression"

		portal := portalEnv(t, h, acme, hookgate.CapWebhooks)
		r := portal.req("POST", path, "", map[string]any{"filter": "data.total > 100.0", "event": sampleOrder}).must(t, 200)
		if f, _ := r.Body["filter"].(map[string]any); f["matched"] != true {
			t.Errorf("portal: %s", r.Raw)
		}
		portal.req("POST", path, "", map[string]any{"filter": "true", "eventId": id}).problem(t, 400, "invalid_parameter", "eventId")
		portalEnv(t, h, acme, hookgate.CapDeliveries).req("POST", path, "", map[string]any{"filter": "true", "event": sampleOrder}).must(t, 404)
	})
}
