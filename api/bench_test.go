package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// BenchmarkPostEvent measures events accepted per second through real HTTP
// on loopback, with 10 webhooks registered so that each event also writes 10
// delivery rows. Compare figures of one run only (see docs/performance.md).
func BenchmarkPostEvent(b *testing.B) {
	b.Run("baseline", benchBaseline)
	for _, engine := range sqltest.Engines(b) {
		b.Run(engine+"/single", func(b *testing.B) { benchIngest(b, engine, 1) })
		b.Run(engine+"/batch100", func(b *testing.B) { benchIngest(b, engine, 100) })
	}
}

// benchBaseline is the same client posting the same body, at the same
// concurrency, to a handler that only reads it and answers 202: the ceiling
// of this machine's HTTP on loopback, to compare the others with.
func benchBaseline(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusAccepted)
		_, _ = w.Write([]byte(`{"id":"evt_01m842yrbqdvf56cg2h59t3b5r","type":"order.created","createdAt":"2026-11-23T11:34:12.599012Z","deliveries":10}`))
	}))
	defer srv.Close()
	post(b, srv.URL+"/", "", []byte(`{"type":"order.created","data":{"id":12345,"amount":"19.99","currency":"EUR"}}`), 1)
}

func benchIngest(b *testing.B, engine string, perRequest int) {
	e := setup(b, engine, allowLoopback)
	_, owner, _ := e.project("bench")
	for i := range 10 {
		e.req("POST", "/api/v1/projects/bench/webhooks", owner, map[string]any{"url": fmt.Sprintf("http://127.0.0.1:9/hook%d", i)}).must(b, 201)
	}
	path, body := "/api/v1/projects/bench/events", []byte(`{"type":"order.created","data":{"id":12345,"amount":"19.99","currency":"EUR"}}`)
	if perRequest > 1 {
		events := make([]json.RawMessage, perRequest)
		for i := range events {
			events[i] = body
		}
		body, _ = json.Marshal(map[string]any{"events": events})
		path += "/batch"
	}
	post(b, e.srv.URL+path, owner, body, perRequest)
}

// post sends body from 32 goroutines per CPU until b.N requests are done and
// reports events per second.
func post(b *testing.B, url, key string, body []byte, perRequest int) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256, MaxConnsPerHost: 256}}
	b.SetParallelism(32) // many producers, as in production; group commit needs them
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r, _ := http.NewRequest("POST", url, bytes.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Authorization", "Bearer "+key)
			res, err := client.Do(r)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusAccepted {
				b.Fatalf("status %d", res.StatusCode)
			}
		}
	})
	b.ReportMetric(float64(b.N*perRequest)/time.Since(start).Seconds(), "events/s")
}

// BenchmarkIngestFilters measures the cost of filters at ingest (issue 29):
// 100 webhooks on one project, without filters (unfiltered), each with a
// filter of its own of four clauses (filtered: data.amount > i && …, for i
// from 0 to 99), and all with the same filter (shared, which runs once per
// event); every event passes every filter, so that all three write the same
// 100 delivery rows per event. The event is about 1 KiB. No dispatcher
// runs: this is the ingest alone. Compare them in one run.
func BenchmarkIngestFilters(b *testing.B) {
	items := make([]map[string]any, 8)
	for i := range items {
		items[i] = map[string]any{"sku": fmt.Sprintf("A%03d", i), "name": "A product with a long enough name", "qty": i + 1, "price": 19.99}
	}
	data, _ := json.Marshal(map[string]any{"id": 12345, "amount": 150.5, "currency": "EUR", "region": "eu",
		"customer": map[string]any{"id": "cus_123", "tier": "gold", "email": "ada@example.invalid"}, "items": items})
	body, _ := json.Marshal(map[string]any{"type": "order.created", "data": json.RawMessage(data)})
	const clauses = "data.region in ['eu', 'us'] && data.customer.tier == 'gold' && data.items.exists(i, i.sku.startsWith('A'))"
	filters := map[string]func(i int) string{
		"unfiltered": func(int) string { return "" },
		"filtered":   func(i int) string { return fmt.Sprintf("data.amount > %d && %s", i, clauses) },
		"shared":     func(int) string { return "data.amount > 100 && " + clauses },
	}
	for _, engine := range sqltest.Engines(b) {
		for _, name := range []string{"unfiltered", "filtered", "shared"} {
			b.Run(engine+"/"+name, func(b *testing.B) {
				e := setup(b, engine, allowLoopback)
				_, owner, _ := e.project("bench")
				for i := range 100 {
					e.req("POST", "/api/v1/projects/bench/webhooks", owner, map[string]any{"url": fmt.Sprintf("http://127.0.0.1:9/hook%d", i), "filter": filters[name](i)}).must(b, 201)
				}
				post(b, e.srv.URL+"/api/v1/projects/bench/events", owner, body, 1)
			})
		}
	}
}
