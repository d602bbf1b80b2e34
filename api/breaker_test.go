package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api"
)

// Issue 24, item 2: a webhook's breaker settings override its project's,
// field by field, and the read answers those in force with where each
// comes from; failures 0 turns the breaker off, null takes the next
// level's again.
func TestWebhookBreakerSettings(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("acme")
		const path = "/api/v1/projects/acme/webhooks"
		w := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h", "breaker": map[string]any{"failures": 5}})
		id := w.str("id")
		jsonEq(t, "breaker", w.Body["breaker"], map[string]any{"failures": 5})
		jsonEq(t, "in force", w.Body["delivery"].(map[string]any)["breaker"], map[string]any{
			"failures": map[string]any{"value": 5, "from": "webhook"}, "cooldown": map[string]any{"value": "30s", "from": "server"}})
		jsonEq(t, "circuit", w.Body["circuit"], map[string]any{"state": "closed", "since": nil, "consecutiveFailures": 0,
			"nextProbeAt": nil, "openedAt": nil, "cooldown": nil})

		p := e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"breaker": map[string]any{"failures": 20, "cooldown": "1m"}}).must(t, 200)
		jsonEq(t, "project breaker", p.Body["breaker"], map[string]any{"failures": 20, "cooldown": "1m"})
		got := e.req("GET", path+"/"+id, owner, nil).must(t, 200)
		jsonEq(t, "in force under the project's", got.Body["delivery"].(map[string]any)["breaker"], map[string]any{
			"failures": map[string]any{"value": 5, "from": "webhook"}, "cooldown": map[string]any{"value": "1m", "from": "project"}})

		got = e.req("PATCH", path+"/"+id, owner, map[string]any{"breaker": map[string]any{"failures": 0, "cooldown": "10s"}}).must(t, 200)
		jsonEq(t, "off", got.Body["breaker"], map[string]any{"failures": 0, "cooldown": "10s"})
		jsonEq(t, "off in force", got.Body["delivery"].(map[string]any)["breaker"], map[string]any{
			"failures": map[string]any{"value": 0, "from": "webhook"}, "cooldown": map[string]any{"value": "10s", "from": "webhook"}})
		got = e.req("PATCH", path+"/"+id, owner, map[string]any{"breaker": map[string]any{"failures": nil}}).must(t, 200)
		jsonEq(t, "failures cleared", got.Body["breaker"], map[string]any{"cooldown": "10s"})
		got = e.req("PATCH", path+"/"+id, owner, map[string]any{"breaker": nil}).must(t, 200)
		jsonEq(t, "cleared", got.Body["breaker"], nil)
		jsonEq(t, "the project's", got.Body["delivery"].(map[string]any)["breaker"], map[string]any{
			"failures": map[string]any{"value": 20, "from": "project"}, "cooldown": map[string]any{"value": "1m", "from": "project"}})
		p = e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"breaker": nil}).must(t, 200)
		jsonEq(t, "project breaker cleared", p.Body["breaker"], nil)
	})
}

// The server's breaker (serve --breaker-failures, --breaker-cooldown) is
// answered as the one in force where neither the webhook nor its project
// sets a field; failures 0 (hookgate.BreakerOff) is answered off, from the
// server, and a webhook's own failures still apply.
func TestWebhookBreakerServerSettings(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		for _, tc := range []struct {
			name    string
			server  hookgate.Breaker
			in, own map[string]any // in force for a webhook without, and with, failures 5 of its own
		}{
			{"Configured", hookgate.Breaker{Failures: 3, Cooldown: time.Minute},
				map[string]any{"failures": map[string]any{"value": 3, "from": "server"}, "cooldown": map[string]any{"value": "1m", "from": "server"}},
				map[string]any{"failures": map[string]any{"value": 5, "from": "webhook"}, "cooldown": map[string]any{"value": "1m", "from": "server"}}},
			{"Off", hookgate.Breaker{Failures: hookgate.BreakerOff},
				map[string]any{"failures": map[string]any{"value": 0, "from": "server"}, "cooldown": map[string]any{"value": "30s", "from": "server"}},
				map[string]any{"failures": map[string]any{"value": 5, "from": "webhook"}, "cooldown": map[string]any{"value": "30s", "from": "server"}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				e := setup(t, engine, allowLoopback, func(c *api.Config) { c.Breaker = tc.server })
				_, owner, _ := e.project("acme")
				w := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h"})
				jsonEq(t, "in force", w.Body["delivery"].(map[string]any)["breaker"], tc.in)
				got := e.req("GET", "/api/v1/projects/acme/webhooks/"+w.str("id"), owner, nil).must(t, 200)
				jsonEq(t, "read", got.Body["delivery"].(map[string]any)["breaker"], tc.in)
				own := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/own", "breaker": map[string]any{"failures": 5}})
				jsonEq(t, "its own failures", own.Body["delivery"].(map[string]any)["breaker"], tc.own)
			})
		}
	})
}

// Issue 24, item 2: bad breaker settings are a 400 naming the field, on
// webhooks and projects, at creation and in a PATCH; nothing is stored.
func TestBreakerSettingsRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("acme")
		const path = "/api/v1/projects/acme/webhooks"
		bad := []struct {
			breaker any
			param   string
		}{
			{map[string]any{"failures": 1001}, "breaker.failures"},
			{map[string]any{"failures": -1}, "breaker.failures"},
			{map[string]any{"failures": "ten"}, "breaker.failures"},
			{map[string]any{"cooldown": "soon"}, "breaker.cooldown"},
			{map[string]any{"cooldown": "500ms"}, "breaker.cooldown"},
			{map[string]any{"cooldown": "11m"}, "breaker.cooldown"},
			{map[string]any{"cooldown": 30}, "breaker.cooldown"},
		}
		for _, c := range bad {
			e.req("POST", path, owner, map[string]any{"url": "http://127.0.0.1:9/h", "breaker": c.breaker}).problem(t, 400, "invalid_parameter", c.param)
			e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "B", "slug": "b", "breaker": c.breaker}).problem(t, 400, "invalid_parameter", c.param)
		}
		id := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h"}).str("id")
		for _, c := range append(bad, struct {
			breaker any
			param   string
		}{"10", "breaker"}) {
			e.req("PATCH", path+"/"+id, owner, map[string]any{"breaker": c.breaker}).problem(t, 400, "invalid_parameter", c.param)
			e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"breaker": c.breaker}).problem(t, 400, "invalid_parameter", c.param)
		}
		jsonEq(t, "webhook breaker", e.req("GET", path+"/"+id, owner, nil).must(t, 200).Body["breaker"], nil)
		jsonEq(t, "project breaker", e.req("GET", "/api/v1/projects/acme", adminKey, nil).must(t, 200).Body["breaker"], nil)
		if n := len(e.req("GET", "/api/v1/projects", adminKey, nil).must(t, 200).Body["data"].([]any)); n != 1 {
			t.Fatalf("%d projects, want 1", n)
		}
	})
}

// Issue 24, item 2: an open circuit is in the webhook's read, in the list
// and in its stats, with its failures and next probe.
func TestCircuitInReadsAndStats(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		pid, owner, _ := e.project("acme")
		const path = "/api/v1/projects/acme/webhooks"
		id := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h"}).str("id")
		at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
		if _, err := e.store.RecordCircuits(context.Background(), at, []hookgate.CircuitReport{{ProjectID: pid, WebhookID: id,
			Breaker: hookgate.DefaultBreaker, Failures: 10}}); err != nil {
			t.Fatal(err)
		}
		want := map[string]any{"state": "open", "since": "2026-12-01T10:00:00Z", "consecutiveFailures": 10,
			"nextProbeAt": "2026-12-01T10:00:30Z", "openedAt": "2026-12-01T10:00:00Z", "cooldown": "30s"}
		jsonEq(t, "read", e.req("GET", path+"/"+id, owner, nil).must(t, 200).Body["circuit"], want)
		jsonEq(t, "list", e.req("GET", path, owner, nil).must(t, 200).items(t)[0]["circuit"], want)
		jsonEq(t, "stats", e.req("GET", path+"/"+id+"/stats", owner, nil).must(t, 200).Body["circuit"], want)
		if _, ok := e.req("GET", "/api/v1/projects/acme/stats", owner, nil).must(t, 200).Body["circuit"]; ok {
			t.Fatal("the project's stats have a circuit")
		}
	})
}
