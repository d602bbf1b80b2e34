package api_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testwait"
)

func TestAttemptsAndRetry(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setupDelivering(t, engine)

		var mu sync.Mutex
		var ids []string
		recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			mu.Lock()
			ids = append(ids, r.Header.Get("webhook-id"))
			mu.Unlock()
			rw.Header().Set("X-Receiver", "ok")
			_, _ = rw.Write([]byte("thanks"))
		}))
		defer recv.Close()
		_, owner, _ := e.project("att")
		wh := e.req("POST", "/api/v1/projects/att/webhooks", owner, map[string]any{"url": recv.URL + "/hook"}).must(t, 201).str("id")
		ev := e.req("POST", "/api/v1/projects/att/events", owner, map[string]any{"type": "a.b", "data": map[string]any{"x": 1}}).must(t, 202).str("id")
		list := e.req("GET", "/api/v1/projects/att/events/"+ev+"/deliveries", owner, nil).must(t, 200)
		dl := list.Body["data"].([]any)[0].(map[string]any)["id"].(string)

		attempts := func() []any {
			r := e.req("GET", "/api/v1/projects/att/deliveries/"+dl+"/attempts", owner, nil).must(t, 200)
			return r.Body["data"].([]any)
		}
		testwait.For(t, "the first attempt", func() bool { return len(attempts()) == 1 })
		a := attempts()[0].(map[string]any)
		if a["statusCode"].(float64) != 200 || a["responseBody"] != "thanks" || a["responseHeaders"].(map[string]any)["X-Receiver"] != "ok" {
			t.Fatalf("attempt = %v", a)
		}
		if d := e.req("GET", "/api/v1/projects/att/deliveries/"+dl, owner, nil).must(t, 200); d.str("status") != "succeeded" {
			t.Fatalf("delivery = %s", d.Raw)
		}

		e.req("POST", "/api/v1/projects/att/deliveries/"+dl+"/retry", owner, nil).must(t, 202)
		testwait.For(t, "the retry's attempt", func() bool { return len(attempts()) == 2 })
		mu.Lock()
		if len(ids) != 2 || ids[0] != dl || ids[1] != dl {
			t.Fatalf("webhook-ids received = %v, want %s twice", ids, dl)
		}
		mu.Unlock()

		t.Run("ErrRetryWhileDeactivated", func(t *testing.T) {
			e.req("POST", "/api/v1/projects/att/webhooks/"+wh+"/deactivate", owner, nil).must(t, 200)
			e.req("POST", "/api/v1/projects/att/deliveries/"+dl+"/retry", owner, nil).problem(t, 409, "conflict", "")
			e.req("POST", "/api/v1/projects/att/webhooks/"+wh+"/activate", owner, nil).must(t, 200)
		})
		t.Run("ErrNotFound", func(t *testing.T) {
			e.req("GET", "/api/v1/projects/att/deliveries/msg_nope/attempts", owner, nil).problem(t, 404, "not_found", "")
			e.req("POST", "/api/v1/projects/att/deliveries/msg_nope/retry", owner, nil).problem(t, 404, "not_found", "")
		})
	})
}

func TestWebhookTestEvent(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, pub := e.project("tst")
		target := e.req("POST", "/api/v1/projects/tst/webhooks", owner, map[string]any{"url": "http://127.0.0.1:9/a", "events": []string{"order.*"}}).must(t, 201).str("id")
		other := e.req("POST", "/api/v1/projects/tst/webhooks", owner, map[string]any{"url": "http://127.0.0.1:9/b"}).must(t, 201).str("id")
		d := e.req("POST", "/api/v1/projects/tst/webhooks/"+target+"/test", owner, nil).must(t, 202)
		if d.str("webhookId") != target || d.str("eventType") != "webhook.test" || d.str("status") != "pending" {
			t.Fatalf("delivery = %s", d.Raw)
		}
		if r := e.req("GET", "/api/v1/projects/tst/deliveries?webhook="+other, owner, nil).must(t, 200); len(r.Body["data"].([]any)) != 0 {
			t.Fatalf("the test event reached another webhook: %s", r.Raw)
		}
		ev := e.req("GET", "/api/v1/projects/tst/events/"+d.str("eventId"), owner, nil).must(t, 200)
		if ev.Body["data"].(map[string]any)["webhookId"] != target {
			t.Fatalf("event = %s", ev.Raw)
		}
		e.req("POST", "/api/v1/projects/tst/webhooks/"+target+"/test", pub, nil).problem(t, 403, "forbidden", "")
		e.req("POST", "/api/v1/projects/tst/webhooks/wh_nope/test", owner, nil).problem(t, 404, "not_found", "")
		e.req("POST", "/api/v1/projects/tst/webhooks/"+target+"/deactivate", owner, nil).must(t, 200)
		e.req("POST", "/api/v1/projects/tst/webhooks/"+target+"/test", owner, nil).problem(t, 409, "conflict", "")
	})
}

// Issue 22, item 5: the answer of POST …/webhooks/{id}/test says the kind
// of the delivery it made, as every later read of it does.
func TestWebhookTestAnswersItsDeliveryKind(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("kind")
		wh := e.webhook("kind", owner, map[string]any{"url": "http://127.0.0.1:9/a"}).str("id")
		d := e.req("POST", "/api/v1/projects/kind/webhooks/"+wh+"/test", owner, nil).must(t, 202)
		if d.str("kind") != "event" {
			t.Fatalf("the test answer says kind %q, want event: %s", d.str("kind"), d.Raw)
		}
		got := e.req("GET", "/api/v1/projects/kind/deliveries/"+d.str("id"), owner, nil).must(t, 200)
		if got.str("kind") != d.str("kind") {
			t.Fatalf("GET says kind %q, the test answer %q", got.str("kind"), d.str("kind"))
		}
	})
}

func TestRecoverCreatesMissedDeliveries(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, _ := e.project("rec")
		wh := e.req("POST", "/api/v1/projects/rec/webhooks", owner, map[string]any{"url": "http://127.0.0.1:9/a", "events": []string{"order.*"}}).must(t, 201).str("id")
		since := time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)
		e.req("POST", "/api/v1/projects/rec/webhooks/"+wh+"/deactivate", owner, nil).must(t, 200)
		for _, typ := range []string{"order.created", "order.paid", "user.created"} {
			if r := e.req("POST", "/api/v1/projects/rec/events", owner, map[string]any{"type": typ, "data": 1}).must(t, 202); r.Body["deliveries"].(float64) != 0 {
				t.Fatalf("a deactivated webhook got a delivery: %s", r.Raw)
			}
		}
		e.req("POST", "/api/v1/projects/rec/webhooks/"+wh+"/recover", owner, map[string]any{"since": since}).problem(t, 409, "conflict", "")
		e.req("POST", "/api/v1/projects/rec/webhooks/"+wh+"/activate", owner, nil).must(t, 200)
		r := e.req("POST", "/api/v1/projects/rec/webhooks/"+wh+"/recover", owner, map[string]any{"since": since}).must(t, 202)
		if r.Body["created"].(float64) != 2 || r.Body["requeued"].(float64) != 0 {
			t.Fatalf("recover = %s, want 2 created", r.Raw)
		}
		again := e.req("POST", "/api/v1/projects/rec/webhooks/"+wh+"/recover", owner, map[string]any{"since": since}).must(t, 202)
		if again.Body["created"].(float64) != 0 {
			t.Fatalf("a second recover created deliveries again: %s", again.Raw)
		}
		list := e.req("GET", "/api/v1/projects/rec/deliveries?webhook="+wh+"&status=pending", owner, nil).must(t, 200)
		if n := len(list.Body["data"].([]any)); n != 2 {
			t.Fatalf("%d pending deliveries, want 2", n)
		}
		// Only what this webhook would have received: no direct event of
		// another webhook, nothing from before it existed.
		early := e.req("POST", "/api/v1/projects/rec/events", owner, map[string]any{"type": "order.early", "data": 1}).must(t, 202).str("id")
		earlyAt := parseTime(t, e.req("GET", "/api/v1/projects/rec/events/"+early, owner, nil).must(t, 200), "createdAt")
		clockPast(t, earlyAt)
		other := e.req("POST", "/api/v1/projects/rec/webhooks", owner, map[string]any{"url": "http://127.0.0.1:9/b", "events": []string{"order.*", "webhook.test"}}).must(t, 201).str("id")
		e.req("POST", "/api/v1/projects/rec/webhooks/"+wh+"/test", owner, nil).must(t, 202)
		e.req("POST", "/api/v1/projects/rec/webhooks/"+other+"/recover", owner, map[string]any{"since": since}).must(t, 202)
		if ids := e.req("GET", "/api/v1/projects/rec/deliveries?webhook="+other, owner, nil).must(t, 200).ids(t); len(ids) != 0 {
			t.Fatalf("recover gave the new webhook %d deliveries of events it never had (a direct test event, older events)", len(ids))
		}
		e.req("POST", "/api/v1/projects/rec/webhooks/"+wh+"/recover", owner, map[string]any{"since": "yesterday"}).problem(t, 400, "invalid_parameter", "since")
		e.req("POST", "/api/v1/projects/rec/webhooks/"+wh+"/recover", owner, map[string]any{"since": "2020-01-01T00:00:00Z"}).problem(t, 400, "invalid_parameter", "since")
		e.req("POST", "/api/v1/projects/rec/webhooks/"+wh+"/recover", owner, map[string]any{}).problem(t, 400, "missing_parameter", "since")
		e.req("POST", "/api/v1/projects/rec/webhooks/wh_nope/recover", owner, map[string]any{"since": since}).problem(t, 404, "not_found", "")
	})
}

// Attempts come in cursor pages like every list.
func TestAttemptsPaged(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, pub := e.project("pages")
		recv, _ := receiver(t, jsonAnswer(500, `{}`))
		e.webhook("pages", owner, map[string]any{"url": recv.URL, "uid": "t"})
		ref := e.trigger("pages", "t", pub, nil).must(t, 200).str("referenceId")
		for range 2 {
			e.req("POST", "/api/v1/projects/pages/deliveries/"+ref+"/retry", owner, nil).must(t, 200)
		}
		first := e.req("GET", "/api/v1/projects/pages/deliveries/"+ref+"/attempts?limit=2", owner, nil).must(t, 200)
		if len(first.items(t)) != 2 || first.next(t) == "" || first.items(t)[0]["attempt"].(float64) != 3 {
			t.Fatalf("first page: %s", first.Raw)
		}
		rest := e.req("GET", "/api/v1/projects/pages/deliveries/"+ref+"/attempts?limit=2&cursor="+first.next(t), owner, nil).must(t, 200)
		if len(rest.items(t)) != 1 || rest.next(t) != "" || rest.items(t)[0]["attempt"].(float64) != 1 {
			t.Fatalf("second page: %s", rest.Raw)
		}
	})
}
