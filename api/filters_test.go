package api_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/internal/testwait"
)

// Filters at ingest, end to end: only the events a webhook's filter lets
// through reach it; the others are counted in its stats (rejected apart
// from failed) and in the metrics; the batch and the single send alike.
func TestFiltersEndToEnd(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setupDelivering(t, engine, func(c *api.Config) { c.MetricsToken = "metrics-secret" })
		_, owner, pub := e.project("flt")
		recv, got := receiver(t, func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(204) })
		big := e.webhook("flt", owner, map[string]any{"url": recv.URL + "/big", "filter": "data.total > 100 && data.currency in ['EUR', 'USD']"}).str("id")
		vip := e.webhook("flt", owner, map[string]any{"url": recv.URL + "/vip", "filter": "data.customer.tier == metadata.tier",
			"metadata": map[string]string{"tier": "gold"}}).str("id")

		e.req("POST", "/api/v1/projects/flt/events", pub, map[string]any{"type": "order.paid", "data": map[string]any{"total": 150, "currency": "EUR"}}).must(t, 202)
		e.req("POST", "/api/v1/projects/flt/events/batch", pub, map[string]any{"events": []map[string]any{
			{"type": "order.paid", "data": map[string]any{"total": 99.5, "currency": "EUR", "customer": map[string]any{"tier": "gold"}}},
			{"type": "order.paid", "data": map[string]any{"total": 1000, "currency": "GBP", "customer": map[string]any{"tier": "silver"}}},
		}}).must(t, 202)

		// big gets the first; vip the second; the first fails vip's filter
		// (no customer), the third is rejected by both.
		testwait.For(t, "two deliveries", func() bool { return len(got()) == 2 })
		paths := map[string]string{}
		for _, g := range got() {
			paths[g.path] = string(g.body)
		}
		if !strings.Contains(paths["/big"], `"total":150`) || !strings.Contains(paths["/vip"], `"tier":"gold"`) {
			t.Fatalf("deliveries = %v", paths)
		}
		events := e.events(t, "flt", owner, "order.paid")
		if len(events) != 3 {
			t.Fatalf("%d events, want 3: the filters keep deliveries, never events", len(events))
		}

		stats := func(id string) map[string]any {
			return e.req("GET", "/api/v1/projects/flt/webhooks/"+id+"/stats?window=1h", owner, nil).must(t, 200).Body["filter"].(map[string]any)
		}
		if f := stats(big); f["rejected"] != 2.0 || f["failed"] != 0.0 {
			t.Fatalf("big's filter stats = %v, want 2 rejected", f)
		}
		if f := stats(vip); f["rejected"] != 1.0 || f["failed"] != 1.0 {
			t.Fatalf("vip's filter stats = %v, want 1 rejected, 1 failed", f)
		}
		proj := e.req("GET", "/api/v1/projects/flt/stats", owner, nil).must(t, 200).Body["filter"].(map[string]any)
		if proj["rejected"] != 3.0 || proj["failed"] != 1.0 {
			t.Fatalf("project's filter stats = %v", proj)
		}
		body := string(e.req("GET", "/metrics", "metrics-secret", nil).must(t, 200).Raw)
		for _, want := range []string{"hookgate_filter_rejected_total 3\n", "hookgate_filter_failed_total 1\n"} {
			if !strings.Contains(body, want) {
				t.Fatalf("metrics lack %q", want)
			}
		}
	})
}

// A filter reads an inbound platform's normalized fields in data.
func TestFilterOnInboundEvents(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setupDelivering(t, engine, withPlatforms)
		tg := apitest.NewFakeTelegram(t)
		_, owner, _ := e.project("tgf")
		recv, got := receiver(t, func(rw http.ResponseWriter, _ *http.Request) { rw.WriteHeader(204) })
		e.webhook("tgf", owner, map[string]any{"url": recv.URL, "events": []string{"message.*"},
			"filter": "data.platform.provider == 'telegram' && data.message.text.contains('urgent')"})
		id := e.req("POST", "/api/v1/projects/tgf/platforms", owner, map[string]any{"provider": "telegram",
			"credentials": map[string]any{"botToken": botToken}, "apiBaseUrl": tg.URL}).must(t, 201).str("id")
		e.req("POST", "/api/v1/projects/tgf/platforms/"+id+"/register-webhook", owner, nil).must(t, 200)
		signed := map[string]string{"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": tg.RegisteredSecret()}
		for i, text := range []string{"just saying hi", "urgent: the build is red"} {
			update := []byte(`{"update_id":` + string(rune('1'+i)) + `,"message":{"message_id":` + string(rune('1'+i)) + `,"date":1764590000,"text":"` + text + `",
				"chat":{"id":42,"type":"private"},"from":{"id":42,"first_name":"Ada","username":"ada"}}}`)
			e.post(inboundPath(id), signed, update).must(t, 200)
		}
		if n := len(e.events(t, "tgf", owner, "message.received")); n != 2 {
			t.Fatalf("%d events, want 2", n)
		}
		testwait.For(t, "the urgent message at the webhook", func() bool { return len(got()) == 1 })
		if g := got()[0]; !bytes.Contains(g.body, []byte("the build is red")) {
			t.Fatalf("the webhook got %s", g.body)
		}
		f := e.req("GET", "/api/v1/projects/tgf/stats", owner, nil).must(t, 200).Body["filter"].(map[string]any)
		if f["rejected"] != 1.0 {
			t.Fatalf("filter stats = %v, want 1 rejected", f)
		}
	})
}
