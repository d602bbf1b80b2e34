package api_test

import (
	"testing"
)

// Text either engine would take differently is refused at the edge, the
// same on both: a NUL anywhere, invalid UTF-8 anywhere, a malformed cursor
// or Content-Type. Never a 500, never stored.
func TestEdgeRefusesWhatEnginesTakeDifferently(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("edge")
		wh := e.webhook("edge", owner, map[string]any{"url": "https://a.example.invalid/"}).str("id")
		e.req("POST", "/api/v1/projects/edge/event-types", owner, map[string]any{"name": "a.b"}).must(t, 201)

		nul := func(method, path, key, body, param string) {
			t.Helper()
			e.req(method, path, key, body).problem(t, 400, "invalid_parameter", param)
		}
		nul("POST", "/api/v1/projects", adminKey, `{"name":"a\u0000b","slug":"nul"}`, "name")
		nul("POST", "/api/v1/projects/edge/keys", owner, `{"name":"k\u0000","role":"owner"}`, "name")
		nul("PATCH", "/api/v1/projects/edge/webhooks/"+wh, owner, `{"description":"d\u0000"}`, "description")
		nul("POST", "/api/v1/projects/edge/event-types", owner, `{"name":"c.d","description":"\u0000"}`, "description")
		nul("POST", "/api/v1/projects/edge/events", pub, `{"type":"a.b","data":1,"idempotencyKey":"k\u0000"}`, "idempotencyKey")
		nul("POST", "/api/v1/projects/edge/events/batch", pub, `{"events":[{"type":"a.b","data":1},{"type":"a.b","data":{"x":"\u0000"}}]}`, "events[1].data.x")

		utf := func(path string, body []byte, param string) {
			t.Helper()
			e.reqH("POST", path, map[string]string{"Authorization": "Bearer " + pub}, body).problem(t, 400, "invalid_json", param)
		}
		utf("/api/v1/projects/edge/events", []byte("{\"type\":\"a.b\",\"data\":{\"x\":\"\xff\xfe\"}}"), "data.x")
		utf("/api/v1/projects/edge/events", []byte("{\"type\":\"a.b\",\"data\":{\"\xff\":1}}"), "data.\ufffd")

		for _, list := range []string{"/api/v1/projects", "/api/v1/projects/edge/keys", "/api/v1/projects/edge/webhooks", "/api/v1/projects/edge/event-types",
			"/api/v1/projects/edge/events", "/api/v1/projects/edge/deliveries", "/api/v1/projects/edge/platforms", "/api/v1/projects/edge/messages"} {
			key := owner
			if list == "/api/v1/projects" {
				key = adminKey
			}
			for _, c := range []string{"%00", "%ff%fe", "a%20b"} {
				e.req("GET", list+"?cursor="+c, key, nil).problem(t, 400, "invalid_parameter", "cursor")
			}
		}
		e.req("GET", "/api/v1/projects/edge/events?type=%00", owner, nil).problem(t, 400, "invalid_parameter", "type")
		e.req("GET", "/api/v1/projects/edge/deliveries?webhook=%00", owner, nil).problem(t, 400, "invalid_parameter", "webhook")
		e.req("GET", "/api/v1/projects/edge/deliveries?event=%ff%fe", owner, nil).problem(t, 400, "invalid_parameter", "event")
		e.req("GET", "/api/v1/projects/edge/events/%00", owner, nil).problem(t, 400, "invalid_parameter", "id")
		e.req("GET", "/api/v1/projects/edge/webhooks/%ff", owner, nil).problem(t, 400, "invalid_parameter", "id")

		for _, path := range []string{"/api/v1/projects/edge/events", "/api/v1/projects/edge/webhooks", "/api/v1/projects/edge/events/batch"} {
			e.reqH("POST", path, map[string]string{"Authorization": "Bearer " + owner, "Content-Type": ";;;=="}, `{}`).problem(t, 415, "unsupported_media_type", "")
		}
		if n := e.count("/api/v1/projects/edge/events", owner); n != 0 {
			t.Fatalf("%d events stored from refused input", n)
		}
	})
}
