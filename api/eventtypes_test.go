package api_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

var orderSchema = map[string]any{
	"type":       "object",
	"required":   []string{"id"},
	"properties": map[string]any{"id": map[string]any{"type": "string"}, "amount": map[string]any{"type": "number", "minimum": 0}},
}

func TestEventTypeSchemaValidatesData(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("acme")
		r := e.req("POST", "/api/v1/projects/acme/event-types", owner, map[string]any{
			"name": "order.created", "description": "An order was placed", "schema": orderSchema,
		}).must(t, 201)
		if r.str("name") != "order.created" || r.str("description") != "An order was placed" {
			t.Fatalf("event type: %s", r.Raw)
		}
		jsonEq(t, "schema", r.Body["schema"], orderSchema)
		parseTime(t, r, "createdAt")
		parseTime(t, r, "updatedAt")

		path := "/api/v1/projects/acme/events"
		for _, bad := range []any{map[string]any{}, map[string]any{"id": 5}, map[string]any{"id": "x", "amount": -1}, "text", []any{}} {
			r := e.req("POST", path, pub, map[string]any{"type": "order.created", "data": bad}).problem(t, 400, "invalid_parameter", "data")
			if !strings.Contains(r.str("detail"), "order.created") {
				t.Fatalf("detail does not name the type: %s", r.Raw)
			}
		}
		e.req("POST", path+"/batch", pub, map[string]any{"events": []any{
			map[string]any{"type": "order.created", "data": map[string]any{"id": "ok"}},
			map[string]any{"type": "order.created", "data": map[string]any{"id": 1}},
		}}).problem(t, 400, "invalid_parameter", "events[1].data")
		if n := e.count(path, owner); n != 0 {
			t.Fatalf("%d events stored that do not match", n)
		}
		e.event("acme", pub, "order.created", map[string]any{"id": "o-1", "amount": 9.5})
		e.event("acme", pub, "order.created", map[string]any{"id": "o-2", "extra": true})
		e.event("acme", pub, "order.updated", map[string]any{"id": 5}) // no schema for this type
		e.req("POST", path+"/batch", pub, map[string]any{"events": []any{
			map[string]any{"type": "order.created", "data": map[string]any{"id": "o-3"}},
		}}).must(t, 202)
		if n := e.count(path, owner); n != 4 {
			t.Fatalf("%d events, want 4", n)
		}
	})
}

func TestEventTypeInvalid(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, _ := e.project("acme")
		path := "/api/v1/projects/acme/event-types"
		for _, c := range []struct {
			body        any
			code, param string
		}{
			{map[string]any{"name": "a.b", "schema": map[string]any{"type": 5}}, "invalid_parameter", "schema"},
			{map[string]any{"name": "a.b", "schema": map[string]any{"type": "nonsense"}}, "invalid_parameter", "schema"},
			{map[string]any{"name": "a.b", "schema": map[string]any{"required": "id"}}, "invalid_parameter", "schema"},
			{map[string]any{"name": "a.b", "schema": map[string]any{"$ref": "file:///etc/passwd"}}, "invalid_parameter", "schema"},
			{map[string]any{"name": "a.b", "schema": map[string]any{"properties": map[string]any{"x": map[string]any{"$ref": "file:///etc/passwd#/x"}}}}, "invalid_parameter", "schema"},
			{map[string]any{"name": "a.b", "schema": map[string]any{"$ref": "http://127.0.0.1:9/schema.json"}}, "invalid_parameter", "schema"},
			{map[string]any{"name": "a.b", "schema": map[string]any{"$ref": "#/definitions/missing"}}, "invalid_parameter", "schema"},
			{map[string]any{"name": "a.b", "schema": 5}, "invalid_parameter", "schema"},
			{map[string]any{"name": "bad name"}, "invalid_parameter", "name"},
			{map[string]any{"name": "a.*"}, "invalid_parameter", "name"},
			{map[string]any{"name": ""}, "missing_parameter", "name"},
			{map[string]any{"description": "x"}, "missing_parameter", "name"},
			{map[string]any{"name": strings.Repeat("n", 257)}, "invalid_parameter", "name"},
			{map[string]any{"name": "a.b", "description": strings.Repeat("d", 1025)}, "invalid_parameter", "description"},
			{map[string]any{"name": "a.b", "other": 1}, "invalid_parameter", "other"},
		} {
			r := e.req("POST", path, owner, c.body).problem(t, 400, c.code, c.param)
			if strings.Contains(string(r.Raw), "root:") {
				t.Fatalf("a schema $ref read a file: %s", r.Raw)
			}
		}
		if n := e.count(path, owner); n != 0 {
			t.Fatalf("%d event types made by bad requests", n)
		}
		// Schemas may name their draft.
		for i, d := range []string{"http://json-schema.org/draft-07/schema#", "https://json-schema.org/draft/2020-12/schema"} {
			e.req("POST", path, owner, map[string]any{"name": fmt.Sprintf("draft.%d", i), "schema": map[string]any{"$schema": d, "type": "object"}}).must(t, 201)
		}
		// Local references within the document are fine.
		e.req("POST", path, owner, map[string]any{"name": "a.b", "schema": map[string]any{
			"$defs": map[string]any{"id": map[string]any{"type": "string"}},
			"type":  "object", "properties": map[string]any{"id": map[string]any{"$ref": "#/$defs/id"}},
		}}).must(t, 201)
		e.req("POST", "/api/v1/projects/acme/events", owner, map[string]any{"type": "a.b", "data": map[string]any{"id": 1}}).problem(t, 400, "invalid_parameter", "data")
		e.event("acme", owner, "a.b", map[string]any{"id": "1"})
	})
}

func TestEventTypeCRUD(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("acme")
		_, ownerB, _ := e.project("beta")
		path := "/api/v1/projects/acme/event-types"
		c := e.req("POST", path, owner, map[string]any{"name": "order.created", "schema": orderSchema}).must(t, 201)
		e.req("POST", path, owner, map[string]any{"name": "order.created"}).problem(t, 409, "conflict", "name")
		// The same name in another project is another type.
		e.req("POST", "/api/v1/projects/beta/event-types", ownerB, map[string]any{"name": "order.created"}).must(t, 201)

		g := e.req("GET", path+"/order.created", owner, nil).must(t, 200)
		if g.str("name") != "order.created" || g.str("description") != "" {
			t.Fatalf("GET: %s", g.Raw)
		}
		jsonEq(t, "schema", g.Body["schema"], orderSchema)
		if !parseTime(t, g, "createdAt").Equal(parseTime(t, c, "createdAt").Truncate(time.Microsecond)) {
			t.Fatalf("createdAt %s, created %s", g.str("createdAt"), c.str("createdAt"))
		}
		e.req("GET", path+"/nope", owner, nil).problem(t, 404, "not_found", "")

		// PATCH the description only: the schema stays.
		p := e.req("PATCH", path+"/order.created", owner, map[string]any{"description": "Placed"}).must(t, 200)
		if p.str("description") != "Placed" {
			t.Fatalf("PATCH: %s", p.Raw)
		}
		jsonEq(t, "schema", p.Body["schema"], orderSchema)
		// A bad schema is refused and changes nothing.
		e.req("PATCH", path+"/order.created", owner, map[string]any{"schema": map[string]any{"type": 5}}).problem(t, 400, "invalid_parameter", "schema")
		e.req("PATCH", path+"/order.created", owner, map[string]any{"name": "x"}).problem(t, 400, "invalid_parameter", "name")
		jsonEq(t, "schema", e.req("GET", path+"/order.created", owner, nil).must(t, 200).Body["schema"], orderSchema)
		e.req("POST", "/api/v1/projects/acme/events", pub, map[string]any{"type": "order.created", "data": map[string]any{}}).problem(t, 400, "invalid_parameter", "data")
		// A new schema applies at once.
		e.req("PATCH", path+"/order.created", owner, map[string]any{"schema": map[string]any{"type": "array"}}).must(t, 200)
		e.event("acme", pub, "order.created", []any{1})
		e.req("POST", "/api/v1/projects/acme/events", pub, map[string]any{"type": "order.created", "data": map[string]any{"id": "x"}}).problem(t, 400, "invalid_parameter", "data")
		e.req("PATCH", path+"/nope", owner, map[string]any{"description": "x"}).problem(t, 404, "not_found", "")

		// DELETE: the catalog no longer checks the type.
		e.req("DELETE", path+"/order.created", owner, nil).must(t, 204)
		e.req("GET", path+"/order.created", owner, nil).problem(t, 404, "not_found", "")
		e.req("DELETE", path+"/order.created", owner, nil).problem(t, 404, "not_found", "")
		e.event("acme", pub, "order.created", map[string]any{"id": 5})
		if n := e.count("/api/v1/projects/beta/event-types", ownerB); n != 1 {
			t.Fatalf("beta has %d event types, want 1", n)
		}
	})
}

func TestEventTypePatchSchemaNull(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("acme")
		path := "/api/v1/projects/acme/event-types"
		e.req("POST", path, owner, map[string]any{"name": "order.created", "description": "d", "schema": orderSchema}).must(t, 201)
		bad := map[string]any{"type": "order.created", "data": map[string]any{"id": 5}}
		e.req("POST", "/api/v1/projects/acme/events", pub, bad).problem(t, 400, "invalid_parameter", "data")

		p := e.req("PATCH", path+"/order.created", owner, `{"schema": null}`).must(t, 200)
		if v, ok := p.Body["schema"]; !ok || v != nil {
			t.Fatalf("PATCH schema null answered schema %v: %s", v, p.Raw)
		}
		if p.str("description") != "d" {
			t.Fatalf("description lost: %s", p.Raw)
		}
		if g := e.req("GET", path+"/order.created", owner, nil).must(t, 200); g.Body["schema"] != nil {
			t.Fatalf("schema still stored: %s", g.Raw)
		}
		e.req("POST", "/api/v1/projects/acme/events", pub, bad).must(t, 202)
	})
}

func TestEventTypeList(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, _ := e.project("acme")
		path := "/api/v1/projects/acme/event-types"
		names := []string{"user.created", "order.created", "a.first", "order.paid", "z.last"}
		for _, n := range names {
			e.req("POST", path, owner, map[string]any{"name": n}).must(t, 201)
		}
		slices.Sort(names)
		r := e.req("GET", path, owner, nil).must(t, 200)
		var got []string
		for _, it := range r.items(t) {
			got = append(got, it["name"].(string))
			if it["schema"] != nil {
				t.Fatalf("schema of a type without one: %v", it)
			}
		}
		if !slices.Equal(got, names) || r.next(t) != "" {
			t.Fatalf("list %v, want %v by name", got, names)
		}
		got = nil
		cursor := ""
		for i := 0; ; i++ {
			q := path + "?limit=2"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			r := e.req("GET", q, owner, nil).must(t, 200)
			for _, it := range r.items(t) {
				got = append(got, it["name"].(string))
			}
			if cursor = r.next(t); cursor == "" {
				break
			}
			if i > 5 {
				t.Fatal("endless pages")
			}
		}
		if !slices.Equal(got, names) {
			t.Fatalf("paged %v, want %v", got, names)
		}
		e.req("GET", path+"?limit=0", owner, nil).problem(t, 400, "invalid_parameter", "limit")
		e.req("GET", path+"?limit=251", owner, nil).problem(t, 400, "invalid_parameter", "limit")
	})
}

// A schema nested deep enough to cost the server seconds to compile is
// refused at once, for event types and for webhooks.
func TestSchemaDepthBounded(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, _ := e.project("deep")
		deep := strings.Repeat(`{"properties":{"a":`, 1000) + `{}` + strings.Repeat(`}}`, 1000)
		start := time.Now()
		e.req("POST", "/api/v1/projects/deep/event-types", owner, map[string]any{"name": "a.b", "schema": json.RawMessage(deep)}).problem(t, 400, "invalid_parameter", "schema")
		e.req("POST", "/api/v1/projects/deep/webhooks", owner, map[string]any{"url": "https://a.example.invalid/", "schema": json.RawMessage(deep)}).problem(t, 400, "invalid_parameter", "schema")
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("refusing took %s", d)
		}
		ok := strings.Repeat(`{"properties":{"a":`, 10) + `{"type":"string"}` + strings.Repeat(`}}`, 10)
		e.req("POST", "/api/v1/projects/deep/event-types", owner, map[string]any{"name": "a.c", "schema": json.RawMessage(ok)}).must(t, 201)
	})
}
