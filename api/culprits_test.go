package api_test

import (
	"strings"
	"testing"
)

// Issue 22, item 19: errors name the culprit. An unknown project names
// the parameter project, the same for a project that does not exist and
// another's; an unknown body field is told before the field it leaves
// missing; a key revoked twice is told it may have been revoked already.
func TestErrorsNameTheCulprit(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("mine")
		e.project("theirs")

		r := e.req("GET", "/api/v1/projects/nope/webhooks", adminKey, nil).problem(t, 404, "not_found", "project")
		if r.Body["parameter_value"] != "nope" || !strings.Contains(r.str("detail"), `"nope"`) {
			t.Fatalf("an unknown project: %s", r.Raw)
		}
		missing := e.req("GET", "/api/v1/projects/nope/webhooks", owner, nil).problem(t, 404, "not_found", "project")
		other := e.req("GET", "/api/v1/projects/theirs/webhooks", owner, nil).problem(t, 404, "not_found", "project")
		if strings.ReplaceAll(missing.str("detail"), "nope", "X") != strings.ReplaceAll(other.str("detail"), "theirs", "X") {
			t.Fatalf("another's project and no project answer apart: %q and %q", missing.str("detail"), other.str("detail"))
		}

		r = e.req("POST", "/api/v1/projects/mine/events", pub, `{"eventType":"order.created","data":{"id":1}}`).problem(t, 400, "invalid_parameter", "eventType")
		if d := r.str("detail"); !strings.Contains(d, "eventType is not a field of this request") || !strings.Contains(d, "type is required") {
			t.Fatalf("an unknown field in place of type: %s", r.Raw)
		}
		r = e.req("POST", "/api/v1/projects/mine/webhooks", owner, `{"url":"https://a.example.invalid/","auth":{"kind":"basic"}}`).problem(t, 400, "invalid_parameter", "auth.kind")
		if d := r.str("detail"); !strings.Contains(d, "auth.kind is not a field of this request; auth.type is required") {
			t.Fatalf("an unknown nested field: %s", r.Raw)
		}

		k := e.req("POST", "/api/v1/projects/mine/keys", owner, map[string]any{"name": "ci", "role": "publisher"}).must(t, 201).str("id")
		e.req("DELETE", "/api/v1/projects/mine/keys/"+k, owner, nil).must(t, 204)
		r = e.req("DELETE", "/api/v1/projects/mine/keys/"+k, owner, nil).problem(t, 404, "not_found", "id")
		if d := r.str("detail"); !strings.Contains(d, k) || !strings.Contains(d, "revoked already") {
			t.Fatalf("a key revoked twice: %s", r.Raw)
		}
	})
}
