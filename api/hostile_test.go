package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/sqlstore/sqltest"
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

// Every operation of the OpenAPI document gets the hostile input classes
// (bodies that are not JSON, NUL and invalid UTF-8 text, deep nesting,
// huge numbers, a malformed Content-Type, bad cursors and path values):
// each answer is a 2xx or a 4xx problem, never a 5xx, and both engines
// answer alike.
func TestEveryOperationRefusesHostileInput(t *testing.T) {
	var targets []*env
	var keys []string
	for _, engine := range sqltest.Engines(t) {
		e := setup(t, engine, allowLoopback, withPlatforms)
		e.project("fuzz")
		targets, keys = append(targets, e), append(keys, adminKey)
	}
	spec := targets[0].req("GET", "/openapi.json", "", nil).must(t, 200)
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody any `json:"requestBody"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(spec.Raw, &doc); err != nil {
		t.Fatal(err)
	}
	values := strings.NewReplacer("{project}", "fuzz", "{id}", "%00", "{name}", "%ff%fe")
	sent := 0
	for path, ops := range doc.Paths {
		for method, o := range ops {
			method = strings.ToUpper(method)
			p := values.Replace(path)
			plain := strings.NewReplacer("{project}", "fuzz", "{id}", "x1", "{name}", "n1").Replace(path)
			var cases []struct {
				path, ct string
				body     []byte
			}
			add := func(path, ct string, body []byte) {
				cases = append(cases, struct {
					path, ct string
					body     []byte
				}{path, ct, body})
			}
			add(p, "", nil)
			add(plain+"?cursor=%00&limit=1", "", nil)
			add(plain+"?zzz=%ff", "", nil)
			if o.RequestBody != nil {
				for _, b := range hostileBodies {
					add(plain, "application/json", []byte(b))
				}
				add(plain, ";;;==", []byte(`{}`))
				add(plain, "application/json", []byte(`{"name":"`+strings.Repeat("a", 100000)+`"}`))
			}
			for _, c := range cases {
				status := 0
				for i, e := range targets {
					h := map[string]string{"Authorization": "Bearer " + keys[i]}
					if c.ct != "" {
						h["Content-Type"] = c.ct
					}
					var body any
					if c.body != nil {
						body = c.body
					}
					r := e.reqH(method, c.path, h, body)
					if r.Status >= 500 {
						t.Errorf("%s %s %q: %d %s", method, c.path, c.body, r.Status, r.Raw)
					}
					if r.Status >= 400 && r.Header.Get("Content-Type") != "application/problem+json" {
						t.Errorf("%s %s: %d is not a problem: %s", method, c.path, r.Status, r.Raw)
					}
					if i > 0 && r.Status != status {
						t.Errorf("%s %s %q: the engines answer %d and %d", method, c.path, c.body, status, r.Status)
					}
					status = r.Status
				}
				sent++
			}
		}
	}
	if sent < 200 {
		t.Fatalf("only %d requests sent", sent)
	}
	t.Logf("%d hostile requests on %d engines", sent, len(targets))
}
