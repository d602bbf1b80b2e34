package api_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookgate/hookgate/internal/testredis"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/signing"
)

// received is one request a receiver got.
type received struct {
	body   string
	header http.Header
}

// Issue 29, item 2: a webhook's transform makes the body sent (a map as
// JSON, a string as text), signed as sent, with the headers of its
// transformHeaders under the webhook's own; metadata is the webhook's;
// the attempt keeps the body. A transform that fails on an event fails
// the delivery at once, saying why.
func TestTransformAtSend(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setupDelivering(t, engine)
		var mu sync.Mutex
		got := map[string][]received{}
		recv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			b, _ := io.ReadAll(r.Body)
			mu.Lock()
			got[r.URL.Path] = append(got[r.URL.Path], received{string(b), r.Header.Clone()})
			mu.Unlock()
			rw.WriteHeader(http.StatusNoContent)
		}))
		defer recv.Close()
		requests := func(path string) []received {
			mu.Lock()
			defer mu.Unlock()
			return append([]received(nil), got[path]...)
		}
		_, owner, _ := e.project("tr")
		create := func(in map[string]any) resp {
			return e.req("POST", "/api/v1/projects/tr/webhooks", owner, in).must(t, 201)
		}
		mapped := create(map[string]any{"url": recv.URL + "/map", "events": []string{"order.*"}, "metadata": map[string]string{"team": "billing"},
			"transform":        `{"order": data.id, "team": metadata.team, "event": type}`,
			"transformHeaders": `{"X-Region": data.region, "X-Team": "from-transform", "X-Event": id}`,
			"headers":          map[string]string{"X-Team": "core"}})
		text := create(map[string]any{"url": recv.URL + "/text", "events": []string{"order.*"}, "transform": `"order " + string(data.id) + " in " + data.region`})
		failing := create(map[string]any{"url": recv.URL + "/failing", "events": []string{"order.*"}, "transform": `{"t": data.total}`,
			"retrySchedule": []string{"1s", "1s"}})
		create(map[string]any{"url": recv.URL + "/plain", "events": []string{"order.*"}})

		ev := e.req("POST", "/api/v1/projects/tr/events", owner, map[string]any{"type": "order.created", "data": map[string]any{"id": 7, "region": "eu"}}).must(t, 202).str("id")
		deliveries := map[string]map[string]any{}
		for _, d := range e.req("GET", "/api/v1/projects/tr/events/"+ev+"/deliveries", owner, nil).must(t, 200).Body["data"].([]any) {
			deliveries[d.(map[string]any)["webhookId"].(string)] = d.(map[string]any)
		}
		attempts := func(dl string) []any {
			return e.req("GET", "/api/v1/projects/tr/deliveries/"+dl+"/attempts", owner, nil).must(t, 200).Body["data"].([]any)
		}
		verify := func(secret string, r received) {
			t.Helper()
			wh, err := standardwebhooks.NewWebhook(secret)
			if err != nil {
				t.Fatal(err)
			}
			if err := wh.Verify([]byte(r.body), r.header); err != nil {
				t.Fatalf("the signature does not verify over the body received %q: %v", r.body, err)
			}
		}

		testwait.For(t, "the transformed requests", func() bool {
			return len(requests("/map")) == 1 && len(requests("/text")) == 1 && len(requests("/plain")) == 1
		})
		m := requests("/map")[0]
		verify(mapped.str("secret"), m)
		if m.body != `{"event":"order.created","order":7,"team":"billing"}` || m.header.Get("Content-Type") != "application/json" ||
			m.header.Get("X-Region") != "eu" || m.header.Get("X-Team") != "core" || m.header.Get("X-Event") != ev {
			t.Fatalf("the map transform's request: %q %v", m.body, m.header)
		}
		s := requests("/text")[0]
		verify(text.str("secret"), s)
		if s.body != "order 7 in eu" || s.header.Get("Content-Type") != "text/plain; charset=utf-8" {
			t.Fatalf("the string transform's request: %q %v", s.body, s.header)
		}
		if p := requests("/plain")[0]; !strings.HasPrefix(p.body, `{"type":"order.created","timestamp":`) {
			t.Fatalf("a webhook without a transform got %q", p.body)
		}

		for wh, body := range map[string]string{mapped.str("id"): m.body, text.str("id"): s.body} {
			dl := deliveries[wh]["id"].(string)
			testwait.For(t, "the attempt recorded", func() bool { return len(attempts(dl)) == 1 })
			if a := attempts(dl)[0].(map[string]any); a["requestBody"] != body {
				t.Fatalf("the attempt keeps %v, want %q", a["requestBody"], body)
			}
		}

		// The transform fails on the event: one attempt, no request, the
		// delivery failed with the transform's error.
		dl := deliveries[failing.str("id")]["id"].(string)
		testwait.For(t, "the failing transform's delivery to fail", func() bool {
			return e.req("GET", "/api/v1/projects/tr/deliveries/"+dl, owner, nil).must(t, 200).str("status") == "failed"
		})
		d := e.req("GET", "/api/v1/projects/tr/deliveries/"+dl, owner, nil).must(t, 200)
		as := attempts(dl)
		if len(as) != 1 || d.Body["attempts"].(float64) != 1 {
			t.Fatalf("a failing transform made %d attempts: %s", len(as), d.Raw)
		}
		a := as[0].(map[string]any)
		for _, msg := range []string{d.str("lastError"), a["error"].(string)} {
			if !strings.HasPrefix(msg, "transform: ") || !strings.Contains(msg, "no such key: total") {
				t.Fatalf("the error says %q", msg)
			}
		}
		if _, ok := a["requestBody"]; ok || len(requests("/failing")) != 0 {
			t.Fatalf("attempt %v; the receiver got %d requests", a, len(requests("/failing")))
		}
	})
}

// A redis-stream webhook's entries carry the transform's body, signed as
// sent, and its transformHeaders' headers as fields.
func TestTransformRedisStream(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := testredis.Start(t)
		e := setupDelivering(t, engine)
		_, owner, _ := e.project("trs")
		created := e.req("POST", "/api/v1/projects/trs/webhooks", owner, map[string]any{
			"destination": map[string]any{"kind": "redis-stream", "url": srv.URL(), "stream": "orders"},
			"transform":   `{"order": data.id}`, "transformHeaders": `{"X-Region": data.region, "body": "not the body"}`,
		}).must(t, 201)
		e.req("POST", "/api/v1/projects/trs/events", owner, map[string]any{"type": "order.created", "data": map[string]any{"id": 7, "region": "eu"}}).must(t, 202)
		testwait.For(t, "the entry in the stream", func() bool { return len(streamEntries(t, srv, "orders")) == 1 })
		entry := streamEntries(t, srv, "orders")[0]
		body := entry.Values["body"].(string)
		h := http.Header{}
		for _, k := range []string{signing.HeaderID, signing.HeaderTimestamp, signing.HeaderSignature} {
			h.Set(k, entry.Values[k].(string))
		}
		verifier, err := signing.NewSigner(created.str("secret"))
		if err != nil {
			t.Fatal(err)
		}
		if err := verifier.Verify(h, []byte(body), time.Now()); err != nil || body != `{"order":7}` ||
			entry.Values["content-type"] != "application/json" || entry.Values["X-Region"] != "eu" {
			t.Fatalf("entry %v: %v", entry.Values, err)
		}
		dl := entry.Values[signing.HeaderID].(string)
		var a map[string]any
		testwait.For(t, "the attempt recorded", func() bool {
			as := e.req("GET", "/api/v1/projects/trs/deliveries/"+dl+"/attempts", owner, nil).must(t, 200).Body["data"].([]any)
			if len(as) == 1 {
				a = as[0].(map[string]any)
			}
			return a != nil
		})
		if a["requestBody"] != body || a["requestHeaders"].(map[string]any)["X-Region"] != "eu" {
			t.Fatalf("attempt %v", a)
		}
	})
}
