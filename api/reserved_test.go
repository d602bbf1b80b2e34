package api_test

import (
	"testing"
)

// Issue 21, item 11: a trigger's caller may not set the headers that frame
// or encode the body, forward someone's address, or carry a credential; a
// registration may not set the framing and forwarding ones either (a
// Cookie it may: it is its credential, kept sealed and answered redacted).
// Each is refused naming headers.<Name>, and nothing is sent.
func TestReservedHeadersAreRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, pub := e.project("reserved")
		recv, got := receiver(t, jsonAnswer(200, `{}`))
		id := e.webhook("reserved", owner, map[string]any{"url": recv.URL}).str("id")
		reserved := []string{"Forwarded", "X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto", "x-forwarded-port", "X-Real-IP",
			"X-Client-IP", "True-Client-IP", "Via", "Content-Encoding", "Expect", "Content-Length", "Transfer-Encoding"}
		for _, name := range append([]string{"Cookie"}, reserved...) {
			e.trigger("reserved", id, pub, map[string]any{"headers": map[string]string{name: "1.2.3.4"}}).
				problem(t, 400, "invalid_parameter", "headers."+name)
			e.req("POST", "/api/v1/projects/reserved/webhooks", owner, map[string]any{"url": recv.URL,
				"then": map[string]any{"webhook": id, "map": map[string]any{"headers": map[string]string{name: "/a"}}}}).
				problem(t, 400, "invalid_parameter", "then.map.headers."+name)
		}
		for _, name := range reserved {
			e.req("POST", "/api/v1/projects/reserved/webhooks", owner, map[string]any{"url": recv.URL, "headers": map[string]string{name: "x"}}).
				problem(t, 400, "invalid_parameter", "headers."+name)
			e.req("PATCH", "/api/v1/projects/reserved/webhooks/"+id, owner, map[string]any{"headers": map[string]string{name: "x"}}).
				problem(t, 400, "invalid_parameter", "headers."+name)
		}
		if n := len(got()); n != 0 {
			t.Fatalf("%d requests sent for refused input", n)
		}
		e.webhook("reserved", owner, map[string]any{"url": recv.URL, "headers": map[string]string{"Cookie": "session=s3cr3t"}})
		e.trigger("reserved", id, pub, map[string]any{"headers": map[string]string{"X-Request-Id": "r-1"}}).must(t, 200)
	})
}
