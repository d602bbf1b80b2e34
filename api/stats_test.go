package api_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testwait"
)

// A webhook's and a project's stats over real attempts: a receiver that
// fails once then succeeds.
func TestStats(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setupDelivering(t, engine)

		var calls atomic.Int32
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) == 1 {
				http.Error(w, "not yet", http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusNoContent)
		}))
		defer recv.Close()
		_, owner, pub := e.project("st")
		e.req("PATCH", "/api/v1/projects/st", adminKey, map[string]any{"retrySchedule": []string{"1s"}}).must(t, 200)
		wh := e.req("POST", "/api/v1/projects/st/webhooks", owner, map[string]any{"url": recv.URL, "uid": "orders"}).must(t, 201).str("id")
		e.req("POST", "/api/v1/projects/st/events", owner, map[string]any{"type": "a", "data": 1}).must(t, 202)

		stats := func(path string) map[string]any {
			return e.req("GET", path, owner, nil).must(t, 200).Body
		}
		testwait.For(t, "the webhook's first success in its stats", func() bool { return stats("/api/v1/projects/st/webhooks/orders/stats")["successes"].(float64) == 1 })
		st := stats("/api/v1/projects/st/webhooks/orders/stats?window=1h")
		f := st["failures"].(map[string]any)
		if st["attempts"].(float64) != 2 || f["5xx"].(float64) != 1 || f["4xx"].(float64) != 0 || st["successRate"].(float64) != 0.5 || st["window"] != "1h" {
			t.Fatalf("stats = %v", st)
		}
		last := st["lastFailure"].(map[string]any)
		if last["statusCode"].(float64) != 503 || last["webhookId"] != wh || st["lastSuccessAt"] == nil {
			t.Fatalf("last failure = %v, last success %v", last, st["lastSuccessAt"])
		}
		if d := st["durationMs"].(map[string]any); d["p95"].(float64) < d["p50"].(float64) {
			t.Fatalf("durations = %v", d)
		}
		proj := stats("/api/v1/projects/st/stats")
		if proj["attempts"].(float64) != 2 || proj["window"] != "24h" {
			t.Fatalf("project stats = %v", proj)
		}

		for _, bad := range []string{"0s", "30s", "721h", "a+day"} {
			e.req("GET", "/api/v1/projects/st/stats?window="+bad, owner, nil).problem(t, 400, "invalid_parameter", "window")
		}
		series := e.req("GET", "/api/v1/projects/st/webhooks/orders/stats?window=1h&interval=1m", owner, nil).must(t, 200).Body["series"].([]any)
		sum := 0.0
		for _, p := range series {
			sum += p.(map[string]any)["attempts"].(float64)
		}
		if len(series) != 60 || sum != 2 {
			t.Fatalf("a series of %d points holding %v attempts, want 60 and 2", len(series), sum)
		}
		if _, ok := stats("/api/v1/projects/st/stats")["series"]; ok {
			t.Fatal("a series without an interval")
		}
		for _, bad := range []string{"1s", "25h", "0s", "x"} { // 1s: 86,400 points in 24h
			e.req("GET", "/api/v1/projects/st/stats?interval="+bad, owner, nil).problem(t, 400, "invalid_parameter", "interval")
		}
		e.req("GET", "/api/v1/projects/st/webhooks/nope/stats", owner, nil).problem(t, 404, "not_found", "")
		// The deliveries list's time range and event type.
		e.req("GET", "/api/v1/projects/st/deliveries?since=yesterday", owner, nil).problem(t, 400, "invalid_parameter", "since")
		e.req("GET", "/api/v1/projects/st/deliveries?until=2026-13-01T00:00:00Z", owner, nil).problem(t, 400, "invalid_parameter", "until")
		hour := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
		if n := len(e.req("GET", "/api/v1/projects/st/deliveries?eventType=a&since="+hour, owner, nil).must(t, 200).items(t)); n != 1 {
			t.Fatalf("%d deliveries of type a in the last hour", n)
		}
		if n := len(e.req("GET", "/api/v1/projects/st/deliveries?until="+hour, owner, nil).must(t, 200).items(t)); n != 0 {
			t.Fatalf("%d deliveries before an hour ago", n)
		}
		e.req("GET", "/api/v1/projects/st/stats", pub, nil).must(t, 403)
	})
}
