package api_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
)

// Issue 24, item 3: autoRecover is set on a webhook (create, PATCH; null
// clears it) and on a project (create, PATCH; null clears it); the read
// answers the webhook's own value and, under delivery, the one in force
// and where it comes from. A value that is not a boolean is a 400 naming
// autoRecover, and nothing changes.
func TestWebhookAutoRecover(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("acme")
		const path = "/api/v1/projects/acme/webhooks"
		inForce := func(r resp) any { return r.Body["delivery"].(map[string]any)["autoRecover"] }
		w := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h", "autoRecover": false})
		id := w.str("id")
		jsonEq(t, "own", w.Body["autoRecover"], false)
		jsonEq(t, "in force", inForce(w), map[string]any{"value": false, "from": "webhook"})

		r := e.req("PATCH", path+"/"+id, owner, map[string]any{"autoRecover": nil}).must(t, 200)
		jsonEq(t, "cleared", r.Body["autoRecover"], nil)
		jsonEq(t, "server's", inForce(r), map[string]any{"value": true, "from": "server"})

		p := e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"autoRecover": false}).must(t, 200)
		jsonEq(t, "project's own", p.Body["autoRecover"], false)
		jsonEq(t, "project's", inForce(e.req("GET", path+"/"+id, owner, nil).must(t, 200)), map[string]any{"value": false, "from": "project"})
		r = e.req("PATCH", path+"/"+id, owner, map[string]any{"autoRecover": true}).must(t, 200)
		jsonEq(t, "the webhook's wins", inForce(r), map[string]any{"value": true, "from": "webhook"})
		p = e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"autoRecover": nil}).must(t, 200)
		jsonEq(t, "project's cleared", p.Body["autoRecover"], nil)

		for _, v := range []any{"yes", 1, []bool{true}} {
			e.req("POST", path, owner, map[string]any{"url": "http://127.0.0.1:9/h", "autoRecover": v}).problem(t, 400, "invalid_parameter", "autoRecover")
			e.req("PATCH", path+"/"+id, owner, map[string]any{"autoRecover": v}).problem(t, 400, "invalid_parameter", "autoRecover")
			e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"autoRecover": v}).problem(t, 400, "invalid_parameter", "autoRecover")
			e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "Other", "autoRecover": v}).problem(t, 400, "invalid_parameter", "autoRecover")
		}
		jsonEq(t, "kept", e.req("GET", path+"/"+id, owner, nil).must(t, 200).Body["autoRecover"], true)
		created := e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "Quiet", "autoRecover": false}).must(t, 201)
		jsonEq(t, "project created with it", created.Body["autoRecover"], false)
	})
}

// Issue 24, item 3: a webhook Hookgate disabled answers its recovery: the
// next probe (5 minutes after the disabling by default), the end (7
// days after), the probes made; off when its autoRecover in force is
// false. A webhook a person deactivated has none. Probes are listed with
// kind=probe.
func TestWebhookRecoveryRead(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		pid, owner, _ := e.project("acme")
		const path = "/api/v1/projects/acme/webhooks"
		id := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h"}).str("id")
		other := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h"}).str("id")
		if r := e.req("GET", path+"/"+id, owner, nil).must(t, 200); r.Body["recovery"] != nil {
			t.Fatalf("an active webhook answered a recovery: %v", r.Body["recovery"])
		}
		at := time.Now().UTC().Truncate(time.Second)
		for _, w := range []string{id, other} {
			if _, err := e.store.SetWebhookStatus(context.Background(), pid, w, hookgate.StatusDisabled, at); err != nil {
				t.Fatal(err)
			}
		}
		r := e.req("GET", path+"/"+id, owner, nil).must(t, 200)
		want := map[string]any{
			"state": "probing", "disabledAt": at.Format(time.RFC3339), "nextProbeAt": at.Add(5 * time.Minute).Format(time.RFC3339),
			"endsAt": at.Add(7 * 24 * time.Hour).Format(time.RFC3339), "probes": 0, "lastProbeAt": nil, "lastStatusCode": 0, "lastError": "",
		}
		jsonEq(t, "recovery", r.Body["recovery"], want)
		list := e.req("GET", path, owner, nil).must(t, 200).items(t)
		for _, w := range list {
			if w["recovery"] == nil {
				t.Fatalf("listed without its recovery: %v", w)
			}
		}
		r = e.req("PATCH", path+"/"+id, owner, map[string]any{"autoRecover": false}).must(t, 200)
		want["state"], want["nextProbeAt"] = "off", nil
		jsonEq(t, "recovery off", r.Body["recovery"], want)
		r = e.req("POST", path+"/"+other+"/deactivate", owner, nil).must(t, 200)
		if r.Body["recovery"] != nil {
			t.Fatalf("a deactivated webhook answered a recovery: %v", r.Body["recovery"])
		}
		e.req("GET", "/api/v1/projects/acme/deliveries?kind=probe", owner, nil).must(t, 200)
	})
}
