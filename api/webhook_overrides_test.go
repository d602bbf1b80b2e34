package api_test

import (
	"testing"
)

// Issue 24, item 4: a webhook's retrySchedule, timeout and maxAttempts are
// refused with a 400 naming the field when invalid, and nothing is stored.
func TestWebhookOverridesRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("acme")
		const path = "/api/v1/projects/acme/webhooks"
		for _, c := range []struct {
			name  string
			field string
			value any
			param string
		}{
			{"schedule not a duration", "retrySchedule", []string{"1s", "5m", "soon"}, "retrySchedule[2]"},
			{"schedule wait too short", "retrySchedule", []string{"10ms"}, "retrySchedule[0]"},
			{"schedule wait too long", "retrySchedule", []string{"1s", "169h"}, "retrySchedule[1]"},
			{"timeout not a duration", "timeout", "fast", "timeout"},
			{"timeout zero", "timeout", "0s", "timeout"},
			{"timeout negative", "timeout", "-1s", "timeout"},
			{"timeout above the send timeout", "timeout", "16s", "timeout"},
			{"maxAttempts zero", "maxAttempts", 0, "maxAttempts"},
			{"maxAttempts negative", "maxAttempts", -2, "maxAttempts"},
		} {
			t.Run(c.name, func(t *testing.T) {
				e.req("POST", path, owner, map[string]any{"url": "http://127.0.0.1:9/h", c.field: c.value}).
					problem(t, 400, "invalid_parameter", c.param)
			})
		}
		w := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h"})
		id := w.str("id")
		for _, c := range []struct {
			field string
			value any
			param string
		}{
			{"retrySchedule", []string{"1s", "1s", "x"}, "retrySchedule[2]"},
			{"retrySchedule", "1s", "retrySchedule"},
			{"timeout", "1h", "timeout"},
			{"timeout", 5, "timeout"},
			{"maxAttempts", 0, "maxAttempts"},
			{"maxAttempts", "2", "maxAttempts"},
		} {
			e.req("PATCH", path+"/"+id, owner, map[string]any{c.field: c.value}).problem(t, 400, "invalid_parameter", c.param)
		}
		after := e.req("GET", path+"/"+id, owner, nil).must(t, 200)
		jsonEq(t, "retrySchedule", after.Body["retrySchedule"], []string{})
		jsonEq(t, "timeout", after.Body["timeout"], nil)
		jsonEq(t, "maxAttempts", after.Body["maxAttempts"], nil)
		if n := len(e.req("GET", path, owner, nil).must(t, 200).Body["data"].([]any)); n != 1 {
			t.Fatalf("%d webhooks stored, want the one valid", n)
		}
	})
}

// Issue 24, item 4: the read answers the delivery settings in force, each
// with where it comes from: the webhook, then the project, then the
// server; PATCH sets them and null clears them.
func TestWebhookOverridesPrecedence(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("acme")
		const path = "/api/v1/projects/acme/webhooks"
		w := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h"})
		id := w.str("id")
		jsonEq(t, "server's", w.Body["delivery"], map[string]any{
			"retrySchedule": map[string]any{"value": []string{"5s", "5m", "30m", "2h", "5h", "10h", "10h"}, "from": "server"},
			"timeout":       map[string]any{"value": "15s", "from": "server"},
			"maxAttempts":   map[string]any{"value": 8, "from": "server"},
			"autoRecover":   map[string]any{"value": true, "from": "server"},
			"breaker":       serverBreaker,
		})
		e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"retrySchedule": []string{"10s", "1m"}}).must(t, 200)
		r := e.req("GET", path+"/"+id, owner, nil).must(t, 200)
		jsonEq(t, "project's", r.Body["delivery"], map[string]any{
			"retrySchedule": map[string]any{"value": []string{"10s", "1m"}, "from": "project"},
			"timeout":       map[string]any{"value": "15s", "from": "server"},
			"maxAttempts":   map[string]any{"value": 3, "from": "project"},
			"autoRecover":   map[string]any{"value": true, "from": "server"},
			"breaker":       serverBreaker,
		})
		r = e.req("PATCH", path+"/"+id, owner, map[string]any{"retrySchedule": []string{"1s", "2s", "3s"}, "timeout": "5s", "maxAttempts": 2}).must(t, 200)
		want := map[string]any{
			"retrySchedule": map[string]any{"value": []string{"1s", "2s", "3s"}, "from": "webhook"},
			"timeout":       map[string]any{"value": "5s", "from": "webhook"},
			"maxAttempts":   map[string]any{"value": 2, "from": "webhook"},
			"autoRecover":   map[string]any{"value": true, "from": "server"},
			"breaker":       serverBreaker,
		}
		jsonEq(t, "webhook's, in the PATCH's answer", r.Body["delivery"], want)
		r = e.req("GET", path+"/"+id, owner, nil).must(t, 200)
		jsonEq(t, "webhook's, read back", r.Body["delivery"], want)
		jsonEq(t, "own retrySchedule", r.Body["retrySchedule"], []string{"1s", "2s", "3s"})
		jsonEq(t, "own timeout", r.Body["timeout"], "5s")
		jsonEq(t, "own maxAttempts", r.Body["maxAttempts"], 2)
		list := e.req("GET", path, owner, nil).must(t, 200).Body["data"].([]any)
		jsonEq(t, "listed", list[0].(map[string]any)["delivery"], want)

		// Another field's PATCH keeps them; null clears each.
		e.req("PATCH", path+"/"+id, owner, map[string]any{"description": "x"}).must(t, 200)
		r = e.req("PATCH", path+"/"+id, owner, map[string]any{"retrySchedule": nil, "timeout": nil, "maxAttempts": nil}).must(t, 200)
		jsonEq(t, "cleared", r.Body["delivery"], map[string]any{
			"retrySchedule": map[string]any{"value": []string{"10s", "1m"}, "from": "project"},
			"timeout":       map[string]any{"value": "15s", "from": "server"},
			"maxAttempts":   map[string]any{"value": 3, "from": "project"},
			"autoRecover":   map[string]any{"value": true, "from": "server"},
			"breaker":       serverBreaker,
		})
		jsonEq(t, "own timeout cleared", r.Body["timeout"], nil)

		// A creation with all three.
		c := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h", "retrySchedule": []string{"1s"}, "timeout": "1s", "maxAttempts": 1})
		jsonEq(t, "created", c.Body["delivery"], map[string]any{
			"retrySchedule": map[string]any{"value": []string{"1s"}, "from": "webhook"},
			"timeout":       map[string]any{"value": "1s", "from": "webhook"},
			"maxAttempts":   map[string]any{"value": 1, "from": "webhook"},
			"autoRecover":   map[string]any{"value": true, "from": "server"},
			"breaker":       serverBreaker,
		})
	})
}

// Issue 24, item 4: maxAttempts is at most the longest schedule's attempts
// (MaxRetries waits plus the first attempt).
func TestWebhookMaxAttemptsBound(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("acme")
		e.req("POST", "/api/v1/projects/acme/webhooks", owner, map[string]any{"url": "http://127.0.0.1:9/h", "maxAttempts": 52}).
			problem(t, 400, "invalid_parameter", "maxAttempts")
		e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h", "maxAttempts": 51})
	})
}
