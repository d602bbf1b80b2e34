package api_test

import (
	"strings"
	"testing"
)

// Issue 29, item 1: a webhook's filter, transform and transformHeaders are
// compiled at registration; what does not compile, has the wrong type, or
// is too long or too expensive is refused with a 400 naming the field, whose
// detail gives the compiler's message and its position, and nothing is
// stored.
func TestWebhookExpressionsRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("acme")
		const path = "/api/v1/projects/acme/webhooks"
		refused := []struct {
			name  string
			body  map[string]any
			param string
			want  string
		}{
			{"filter syntax", map[string]any{"filter": "data.total >"}, "filter", "filter: Syntax error: mismatched input '<EOF>'"},
			{"filter syntax position", map[string]any{"filter": "type == 'order.paid' &&\n  data.total > > 1"}, "filter", "at line 2, column 16"},
			{"filter undeclared", map[string]any{"filter": "event.type == 'a'"}, "filter", "filter: undeclared reference to 'event' at line 1, column 1"},
			{"filter not bool", map[string]any{"filter": "data.total"}, "filter", "filter: the expression must evaluate to bool, not dyn"},
			{"filter a string", map[string]any{"filter": "type"}, "filter", "must evaluate to bool, not string"},
			{"filter cost", map[string]any{"filter": "data.items.exists(a, data.items.exists(b, a.sku == b.sku && a != b))"}, "filter",
				"filter: the estimated cost of the expression is over the limit of 1000000 by a factor of more than 100x"},
			{"filter too long", map[string]any{"filter": "type == '" + strings.Repeat("a", 10_000) + "'"}, "filter",
				"filter: the expression has 10010 bytes, more than the limit of 10000"},
			{"filter too deep", map[string]any{"filter": strings.Repeat("(", 40) + "true" + strings.Repeat(")", 40)}, "filter",
				"filter: expression recursion limit exceeded: 32"},
			{"transform bool", map[string]any{"transform": "data.total > 100"}, "transform",
				"transform: the expression must evaluate to a map, a list or a string, not bool"},
			{"transform syntax", map[string]any{"transform": "{'text': }"}, "transform", "at line 1, column 10"},
			{"transform cost", map[string]any{"transform": "data.items.map(a, data.items.map(b, [a, b]))"}, "transform", "transform: the estimated cost"},
			{"transform with base64", map[string]any{"transform": "{'text': type}", "payloadEncoding": "base64"}, "transform", "payloadEncoding base64"},
			{"transformHeaders string", map[string]any{"transformHeaders": "'X-A: 1'"}, "transformHeaders",
				"transformHeaders: the expression must evaluate to a map of strings, not string"},
			{"transformHeaders undeclared", map[string]any{"transformHeaders": "{'X-Tenant': tenant}"}, "transformHeaders",
				"transformHeaders: undeclared reference to 'tenant' at line 1, column 14"},
			// Each field is named, whichever comes first in the body.
			{"good filter, bad transform", map[string]any{"filter": "data.total > 100", "transform": "true"}, "transform", "not bool"},
		}
		for _, c := range refused {
			t.Run("create "+c.name, func(t *testing.T) {
				body := map[string]any{"url": "http://127.0.0.1:9/h"}
				for k, v := range c.body {
					body[k] = v
				}
				r := e.req("POST", path, owner, body).problem(t, 400, "invalid_parameter", c.param)
				if d := r.str("detail"); !strings.Contains(d, c.want) {
					t.Errorf("detail %q does not say %q", d, c.want)
				}
			})
		}
		if n := len(e.req("GET", path, owner, nil).must(t, 200).items(t)); n != 0 {
			t.Fatalf("%d webhooks stored, want none", n)
		}

		// The same on PATCH, which leaves the webhook as it was.
		w := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h",
			"filter": "data.total > 100", "transform": "{'text': type}", "transformHeaders": "{'X-Type': type}"})
		id := w.str("id")
		for _, c := range refused {
			t.Run("patch "+c.name, func(t *testing.T) {
				r := e.req("PATCH", path+"/"+id, owner, c.body).problem(t, 400, "invalid_parameter", c.param)
				if d := r.str("detail"); !strings.Contains(d, c.want) {
					t.Errorf("detail %q does not say %q", d, c.want)
				}
			})
		}
		// A webhook with a transform cannot take payloadEncoding base64
		// either.
		e.req("PATCH", path+"/"+id, owner, map[string]any{"payloadEncoding": "base64"}).problem(t, 400, "invalid_parameter", "transform")
		after := e.req("GET", path+"/"+id, owner, nil).must(t, 200)
		for field, want := range map[string]string{"filter": "data.total > 100", "transform": "{'text': type}", "transformHeaders": "{'X-Type': type}", "payloadEncoding": "json"} {
			if got := after.str(field); got != want {
				t.Errorf("%s after the refused PATCHes = %q, want %q", field, got, want)
			}
		}
	})
}

// Issue 29, item 1: the expressions are stored as given and read back;
// a PATCH without them keeps them, "" removes each.
func TestWebhookExpressionsStored(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("acme")
		const path = "/api/v1/projects/acme/webhooks"
		// Whitespace, new lines and quotes of both kinds survive the store.
		exprs := map[string]string{
			"filter":           "type.startsWith('order.') &&\n  data.total > 100 && data.region in [\"eu-west\", \"eu-central\"]",
			"transform":        "{\n  \"text\": \"Order \" + data.id + \" paid: \" + string(data.total) + \" \" + data.currency\n}",
			"transformHeaders": "has(data.tenant) ? {\"X-Tenant\": data.tenant} : {}",
		}
		body := map[string]any{"url": "http://127.0.0.1:9/h", "events": []string{"order.*"}}
		for k, v := range exprs {
			body[k] = v
		}
		created := e.webhook("acme", owner, body)
		id := created.str("id")
		check := func(what string, r resp, want map[string]string) {
			t.Helper()
			for _, field := range []string{"filter", "transform", "transformHeaders"} {
				got, ok := r.Body[field].(string)
				if !ok {
					t.Errorf("%s: %s is %v, not a string", what, field, r.Body[field])
				} else if got != want[field] {
					t.Errorf("%s: %s = %q, want %q", what, field, got, want[field])
				}
			}
		}
		check("created", created, exprs)
		check("read", e.req("GET", path+"/"+id, owner, nil).must(t, 200), exprs)
		listed := e.req("GET", path, owner, nil).must(t, 200).items(t)
		check("listed", resp{Body: listed[0]}, exprs)

		// Another field's PATCH keeps them.
		check("after a PATCH of the description", e.req("PATCH", path+"/"+id, owner, map[string]any{"description": "orders"}).must(t, 200), exprs)

		// A PATCH changes one and keeps the others.
		exprs["filter"] = "data.total > 200"
		check("filter changed", e.req("PATCH", path+"/"+id, owner, map[string]any{"filter": "data.total > 200"}).must(t, 200), exprs)

		// "" removes each.
		exprs["filter"] = ""
		check("filter removed", e.req("PATCH", path+"/"+id, owner, map[string]any{"filter": ""}).must(t, 200), exprs)
		exprs["transform"], exprs["transformHeaders"] = "", ""
		check("all removed", e.req("PATCH", path+"/"+id, owner, map[string]any{"transform": "", "transformHeaders": ""}).must(t, 200), exprs)
		check("read after removal", e.req("GET", path+"/"+id, owner, nil).must(t, 200), exprs)

		// Without a transform, payloadEncoding base64 is allowed again.
		e.req("PATCH", path+"/"+id, owner, map[string]any{"payloadEncoding": "base64"}).must(t, 200)

		// A webhook registered without them reads them as "".
		plain := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/other"})
		check("without expressions", plain, map[string]string{})
	})
}
