package api_test

import (
	"net/url"
	"testing"

	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// fuzzTarget is one decoder of outside input, reached through real HTTP on
// every engine under test.
type fuzzTarget struct {
	envs []*env
	keys []string
}

// newFuzzTarget starts an API per engine, each with a project "fuzz", a
// webhook (uid "w") and an event type, and returns them with the keys of
// the given role.
func newFuzzTarget(f *testing.F, role string) *fuzzTarget {
	ft := &fuzzTarget{}
	for _, engine := range sqltest.Engines(f) {
		e := setup(f, engine, allowLoopback)
		_, owner, pub := e.project("fuzz")
		e.webhook("fuzz", owner, map[string]any{"url": "http://127.0.0.1:9/hook", "uid": "w", "headers": map[string]string{"X-A": "1"}})
		e.req("POST", "/api/v1/projects/fuzz/event-types", owner, map[string]any{"name": "typed.event", "schema": map[string]any{"type": "object"}}).must(f, 201)
		key := owner
		if role == "publisher" {
			key = pub
		}
		ft.envs, ft.keys = append(ft.envs, e), append(ft.keys, key)
	}
	return ft
}

// check sends one input to every engine: each answer is one of ok or a
// 4xx problem, never a 5xx, and every engine answers with the same status.
func (ft *fuzzTarget) check(t *testing.T, method, path string, body []byte, ok ...int) {
	status := 0
	for i, e := range ft.envs {
		e.t = t
		var b any
		if body != nil {
			b = body
		}
		r := e.req(method, path, ft.keys[i], b)
		good := r.Status >= 400 && r.Status < 500
		for _, s := range ok {
			good = good || r.Status == s
		}
		if !good {
			t.Fatalf("%s %s %q: status %d: %s", method, path, body, r.Status, r.Raw)
		}
		if r.Status >= 400 && (r.Header.Get("Content-Type") != "application/problem+json" || r.str("code") == "") {
			t.Fatalf("%d is not a problem: %s", r.Status, r.Raw)
		}
		if i > 0 && r.Status != status {
			t.Fatalf("%s %s %q: the engines answer %d and %d", method, path, body, status, r.Status)
		}
		status = r.Status
	}
}

// Seeds shared by the body decoders: the input classes a probe tries.
var hostileBodies = []string{
	`[]`, `null`, `{`, ``, `{"a":"\u0000"}`, "{\"a\":\"\xff\xfe\"}", "{\"\xff\":1}", `{"data":` + `[[[[[[[[[[` + `]]]]]]]]]]}`,
	`{"type":"a.b","data":1e309}`, `{"type":"` + "\u0000" + `"}`, `{"url":"http://0x7f000001/"}`, `{"url":"http://a.invalid:99999/"}`,
}

// FuzzCreateWebhook: the webhook registration decoder. Run long with
// `make fuzz`; plain `go test` runs the seeds on both engines.
func FuzzCreateWebhook(f *testing.F) {
	ft := newFuzzTarget(f, "owner")
	for _, seed := range append([]string{
		`{"url":"http://127.0.0.1:9/hook"}`,
		`{"url":"https://example.invalid/h","events":["order.*"],"secret":"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw","method":"PUT","payloadEncoding":"base64","rateLimit":10}`,
		`{"url":"http://127.0.0.1:9/","auth":{"type":"basic","username":"u","password":"p"},"headers":{"X-A":"1"}}`,
		`{"url":"http://127.0.0.1:9/","auth":{"type":"client_credential","clientID":"a","clientSecret":"b","tokenURL":"http://127.0.0.1:9/t","scopes":["x"]}}`,
		`{"url":"http://[::1]:9/","queryParams":["page"],"metadata":{"k":"v"}}`, `{"url":"http://127.0.0.1:9/","then":{"webhook":"w"}}`,
		`{"url":"http://10.0.0.1/"}`, `{"url":5}`, `{"url":null}`, `{"url":"http://127.0.0.1:9/","headers":{"":""}}`,
		`{"url":"http://127.0.0.1:9/","events":["*a*b*c*d"],"rateLimit":1e309}`, `{"url":"http://%zz/"}`,
	}, hostileBodies...) {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) { ft.check(t, "POST", "/api/v1/projects/fuzz/webhooks", body, 201) })
}

// FuzzPatchWebhook: the webhook PATCH decoder.
func FuzzPatchWebhook(f *testing.F) {
	ft := newFuzzTarget(f, "owner")
	for _, seed := range append([]string{
		`{"description":"x"}`, `{"url":"http://127.0.0.1:10/"}`, `{"headers":{"X-A":"********"}}`, `{"then":null}`, `{"schema":{"type":"string"}}`,
		`{"status":"deactivated"}`, `{"publicHeaders":["X-A"]}`, `{"uid":"w2"}`,
	}, hostileBodies...) {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) { ft.check(t, "PATCH", "/api/v1/projects/fuzz/webhooks/w", body, 200) })
}

// FuzzSendEvent: event ingest.
func FuzzSendEvent(f *testing.F) {
	ft := newFuzzTarget(f, "publisher")
	for _, seed := range append([]string{
		`{"type":"a.b","data":{"x":1}}`, `{"type":"typed.event","data":1}`, `{"type":"typed.event","data":{}}`, `{"type":"hookgate.x","data":1}`,
		`{"type":"a.b","data":"<&> é"}`, `{"type":"a.b","data":null}`, `{"type":"a.b","data":1,"idempotencyKey":"k"}`,
	}, hostileBodies...) {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) { ft.check(t, "POST", "/api/v1/projects/fuzz/events", body, 202) })
}

// FuzzSendBatch: batch ingest.
func FuzzSendBatch(f *testing.F) {
	ft := newFuzzTarget(f, "publisher")
	for _, seed := range append([]string{
		`{"events":[{"type":"a.b","data":1}]}`, `{"events":[]}`, `{"events":[{"type":"a.b","data":1,"idempotencyKey":"k"},{"type":"a.b","data":2,"idempotencyKey":"k"}]}`,
		`{"events":[{"type":"typed.event","data":1}]}`, `{"events":{}}`,
	}, hostileBodies...) {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) { ft.check(t, "POST", "/api/v1/projects/fuzz/events/batch", body, 202) })
}

// FuzzEventTypeSchema: the event-type (and its JSON Schema) decoder.
func FuzzEventTypeSchema(f *testing.F) {
	ft := newFuzzTarget(f, "owner")
	for _, seed := range append([]string{
		`{"name":"n1","schema":{"type":"object","properties":{"a":{"type":"string"}}}}`, `{"name":"n2","schema":{"$ref":"http://example.invalid/s"}}`,
		`{"name":"n3","schema":{"type":"nope"}}`, `{"name":"n4","schema":true}`, `{"name":"n5","description":"d"}`,
	}, hostileBodies...) {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		ft.check(t, "POST", "/api/v1/projects/fuzz/event-types", body, 201, 409)
	})
}

// FuzzListCursor: the cursor and filters of the lists.
func FuzzListCursor(f *testing.F) {
	ft := newFuzzTarget(f, "owner")
	for _, seed := range []string{"", "evt_01m8", "%00", "\xff", "a b", "../../x", "'; DROP TABLE events; --", "wh_w"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, cursor string) {
		q := url.Values{"cursor": {cursor}}.Encode()
		for _, list := range []string{"events", "deliveries", "webhooks", "event-types", "messages", "platforms"} {
			ft.check(t, "GET", "/api/v1/projects/fuzz/"+list+"?"+q, nil, 200)
		}
		ft.check(t, "GET", "/api/v1/projects/fuzz/deliveries?webhook="+url.QueryEscape(cursor)+"&event="+url.QueryEscape(cursor), nil, 200)
	})
}
