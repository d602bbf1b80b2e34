package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Issue 22, item 16: data that does not match a schema is answered with
// sentences that name the field and what the schema expects, not the
// schema library's report.
func TestSchemaMismatchNamesTheFieldInASentence(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, pub := e.project("sch")
		schema := map[string]any{
			"type": "object", "required": []string{"id", "amount"}, "additionalProperties": false,
			"properties": map[string]any{
				"id":     map[string]any{"type": "string"},
				"amount": map[string]any{"type": "number", "minimum": 0},
				"status": map[string]any{"enum": []string{"new", "paid"}},
				"items": map[string]any{"type": "array", "items": map[string]any{
					"type": "object", "required": []string{"sku"},
					"properties": map[string]any{"sku": map[string]any{"type": "string", "minLength": 2}},
				}},
			},
		}
		e.req("POST", "/api/v1/projects/sch/event-types", owner, map[string]any{"name": "order.created", "schema": schema}).must(t, 201)
		readable := func(r resp, want string) {
			t.Helper()
			d := r.str("detail")
			if !strings.Contains(d, want) {
				t.Errorf("detail %q does not say %q", d, want)
			}
			for _, lib := range []string{"jsonschema", "urn:hookgate", "'/", "got ", "want "} {
				if strings.Contains(d, lib) {
					t.Errorf("detail %q holds the schema library's %q", d, lib)
				}
			}
		}
		for _, c := range []struct {
			data any
			want string
		}{
			{map[string]any{"id": 5, "amount": 1}, "data.id must be a string, not 5"},
			{map[string]any{"amount": 1}, "data.id is required"},
			{map[string]any{}, "data.id and data.amount are required"},
			{map[string]any{"id": "x", "amount": -1}, "data.amount must be at least 0, not -1"},
			{map[string]any{"id": "x", "amount": 1, "status": "gone"}, `data.status must be one of "new", "paid", not "gone"`},
			{map[string]any{"id": "x", "amount": 1, "items": []any{map[string]any{"sku": "ab"}, map[string]any{"sku": "a"}}},
				"data.items[1].sku must be at least 2 characters long, not 1"},
			{map[string]any{"id": "x", "amount": 1, "extra": true}, "data.extra is not allowed"},
			{"text", `data must be an object, not "text"`},
		} {
			r := e.req("POST", "/api/v1/projects/sch/events", pub, map[string]any{"type": "order.created", "data": c.data}).problem(t, 400, "invalid_parameter", "data")
			readable(r, "data does not match the schema of event type order.created: "+c.want)
		}
		r := e.req("POST", "/api/v1/projects/sch/events/batch", pub, map[string]any{"events": []any{
			map[string]any{"type": "order.created", "data": map[string]any{"id": "ok", "amount": 1}},
			map[string]any{"type": "order.created", "data": map[string]any{"id": 1, "amount": 1}},
		}}).problem(t, 400, "invalid_parameter", "events[1].data")
		readable(r, "events[1].data.id must be a string, not 1")

		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
		t.Cleanup(recv.Close)
		e.webhook("sch", owner, map[string]any{"url": recv.URL, "uid": "typed", "triggerOnly": true,
			"schema": map[string]any{"type": "object", "properties": map[string]any{"name": map[string]any{"type": "string"}}}})
		r = e.req("POST", "/api/v1/projects/sch/webhooks/typed/trigger", pub, map[string]any{"data": map[string]any{"name": 1}}).problem(t, 400, "invalid_parameter", "data")
		readable(r, "data does not match the webhook's schema: data.name must be a string, not 1")
	})
}
