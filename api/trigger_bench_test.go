package api_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// BenchmarkTrigger measures one caller's trigger round trip through real
// HTTP on loopback: the API checks the input, makes the request to a local
// receiver and commits the delivery and its attempt before answering.
// "direct" is the same client calling the same receiver itself, in the same
// run. p50-us is the median round trip.
func BenchmarkTrigger(b *testing.B) {
	recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write([]byte(`{"id":12345,"status":"created"}`))
	}))
	defer recv.Close()
	body := []byte(`{"data":{"id":12345,"amount":"19.99"}}`)
	b.Run("direct", func(b *testing.B) {
		roundTrips(b, recv.URL+"/api", "", []byte(`{"id":12345,"amount":"19.99"}`))
	})
	for _, engine := range sqltest.Engines(b) {
		b.Run(engine, func(b *testing.B) {
			e := setup(b, engine, allowLoopback)
			_, owner, pub := e.project("bench")
			e.webhook("bench", owner, map[string]any{"url": recv.URL + "/api", "uid": "call", "triggerOnly": true,
				"headers": map[string]string{"X-Api-Key": "k"}})
			roundTrips(b, e.srv.URL+"/api/v1/projects/bench/webhooks/call/trigger", pub, body)
		})
	}
}

func roundTrips(b *testing.B, url, key string, body []byte) {
	client := &http.Client{}
	took := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		r, _ := http.NewRequest("POST", url, bytes.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if key != "" {
			r.Header.Set("Authorization", "Bearer "+key)
		}
		res, err := client.Do(r)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
		took = append(took, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-us")
}
