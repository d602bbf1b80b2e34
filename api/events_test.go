package api_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
)

// event posts one event and returns the answer, which must be 202.
func (e *env) event(project, key, typ string, data any) resp {
	e.t.Helper()
	return e.req("POST", "/api/v1/projects/"+project+"/events", key, map[string]any{"type": typ, "data": data}).must(e.t, 202)
}

func num(r resp, field string) int {
	f, _ := r.Body[field].(float64)
	return int(f)
}

// count lists path with the largest page and returns how many items it has.
func (e *env) count(path, key string) int {
	e.t.Helper()
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	r := e.req("GET", path+sep+"limit=250", key, nil).must(e.t, 200)
	if r.next(e.t) != "" {
		e.t.Fatalf("%s has more than one page", path)
	}
	return len(r.items(e.t))
}

func TestEventFanOut(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, pub := e.project("acme")
		_, ownerB, _ := e.project("beta")
		e.webhook("beta", ownerB, map[string]any{"url": "http://127.0.0.1:9/beta"}) // another project's webhook is not counted
		orders := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/orders", "events": []string{"order.*"}}).str("id")
		all := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/all", "events": []string{}}).str("id")
		off := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/off", "events": []string{"order.*"}}).str("id")
		users := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/users", "events": []string{"user.created", "user.deleted"}}).str("id")
		e.req("POST", "/api/v1/projects/acme/webhooks/"+off+"/deactivate", owner, nil).must(t, 200)

		before := time.Now().Add(-time.Minute)
		for _, c := range []struct {
			typ   string
			hooks []string
		}{
			{"order.created", []string{orders, all}},
			{"order.paid.twice", []string{orders, all}},
			{"user.created", []string{all, users}},
			{"user.updated", []string{all}},
			{"misc", []string{all}},
			{"order", []string{all}}, // "order.*" needs the dot
		} {
			r := e.event("acme", pub, c.typ, map[string]any{"id": 1})
			if !strings.HasPrefix(r.str("id"), "evt_") || r.str("type") != c.typ || num(r, "deliveries") != len(c.hooks) {
				t.Fatalf("%s: %s, want %d deliveries", c.typ, r.Raw, len(c.hooks))
			}
			if ts := parseTime(t, r, "createdAt"); ts.Before(before) || ts.After(time.Now().Add(time.Minute)) {
				t.Fatalf("createdAt %v", ts)
			}
			if len(r.Body) != 5 || r.Body["replayed"] != false {
				t.Fatalf("want exactly id, type, createdAt, deliveries, replayed false: %s", r.Raw)
			}
			d := e.req("GET", "/api/v1/projects/acme/events/"+r.str("id")+"/deliveries", owner, nil).must(t, 200)
			var got []string
			for _, it := range d.items(t) {
				got = append(got, it["webhookId"].(string))
				if it["eventId"] != r.str("id") || it["eventType"] != c.typ || it["status"] != "pending" || it["attempts"] != 0.0 {
					t.Fatalf("delivery %v", it)
				}
			}
			slices.Sort(got)
			want := slices.Clone(c.hooks)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("%s delivered to %v, want %v", c.typ, got, want)
			}
		}
		if n := e.count("/api/v1/projects/acme/deliveries?webhook="+off, owner); n != 0 {
			t.Fatalf("the deactivated webhook got %d deliveries", n)
		}
		if n := e.count("/api/v1/projects/beta/deliveries", ownerB); n != 0 {
			t.Fatalf("another project's webhook got %d deliveries", n)
		}
		// Without any webhook an event is still accepted.
		_, ownerC, _ := e.project("gamma")
		if r := e.event("gamma", ownerC, "a.b", 1); num(r, "deliveries") != 0 {
			t.Fatalf("no webhooks: %s", r.Raw)
		}
	})
}

func TestEventInvalid(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, pub := e.project("acme")
		e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h"})
		path := "/api/v1/projects/acme/events"
		for _, c := range []struct {
			body        any
			code, param string
		}{
			{map[string]any{"data": 1}, "missing_parameter", "type"},
			{map[string]any{"type": "a.b"}, "missing_parameter", "data"},
			{map[string]any{"type": "a.b", "data": nil}, "missing_parameter", "data"},
			{map[string]any{"type": "", "data": 1}, "missing_parameter", "type"},
			{map[string]any{"type": "order created", "data": 1}, "invalid_parameter", "type"},
			{map[string]any{"type": "order.*", "data": 1}, "invalid_parameter", "type"},
			{map[string]any{"type": "ordér", "data": 1}, "invalid_parameter", "type"},
			{map[string]any{"type": strings.Repeat("t", 257), "data": 1}, "invalid_parameter", "type"},
			{map[string]any{"type": "hookgate.webhook.disabled", "data": 1}, "invalid_parameter", "type"},
			{map[string]any{"type": 5, "data": 1}, "invalid_parameter", "type"},
			{map[string]any{"type": "a.b", "data": 1, "extra": 1}, "invalid_parameter", "extra"},
			{map[string]any{}, "missing_parameter", ""},
		} {
			r := e.req("POST", path, pub, c.body)
			r.problem(t, 400, c.code, c.param)
			if c.param == "" && r.Body["parameter_name"] != "type" && r.Body["parameter_name"] != "data" {
				t.Fatalf("empty body names %v", r.Body["parameter_name"])
			}
		}
		e.req("POST", path, pub, nil).problem(t, 400, "missing_parameter", "body")
		e.reqH("POST", path, map[string]string{"Authorization": "Bearer " + pub, "Idempotency-Key": strings.Repeat("k", 257)},
			map[string]any{"type": "a.b", "data": 1}).problem(t, 400, "invalid_parameter", "Idempotency-Key")
		if n := e.count(path, owner); n != 0 {
			t.Fatalf("%d events stored by bad requests", n)
		}
		if n := e.count("/api/v1/projects/acme/deliveries", owner); n != 0 {
			t.Fatalf("%d deliveries stored by bad requests", n)
		}
		// Any JSON value but null is data.
		for _, d := range []any{0, false, "", []any{}, map[string]any{}, "text", 1.5, []any{nil}} {
			e.event("acme", pub, "a.b", d)
		}
		if n := e.count(path, owner); n != 8 {
			t.Fatalf("%d events, want 8", n)
		}
	})
}

func TestEventIdempotencyKey(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, pub := e.project("acme")
		_, ownerB, _ := e.project("beta")
		e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h"})
		send := func(project, key, idem string, data any) resp {
			return e.reqH("POST", "/api/v1/projects/"+project+"/events", map[string]string{"Authorization": "Bearer " + key, "Idempotency-Key": idem},
				map[string]any{"type": "order.created", "data": data})
		}
		post := func(project, key, idem string, data any) resp { return send(project, key, idem, data).must(t, 202) }
		first := post("acme", pub, "order-42", map[string]any{"n": 1})
		if first.Header.Get("Idempotent-Replayed") != "" {
			t.Fatal("a first send says it is replayed")
		}
		again := post("acme", pub, "order-42", map[string]any{"n": 1})
		if again.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("a replay without Idempotent-Replayed: %v", again.Header)
		}
		if again.str("id") != first.str("id") || num(again, "deliveries") != 1 || again.str("type") != "order.created" ||
			!parseTime(t, again, "createdAt").Truncate(time.Microsecond).Equal(parseTime(t, first, "createdAt").Truncate(time.Microsecond)) {
			t.Fatalf("replay %s, first %s", again.Raw, first.Raw)
		}
		// Through another key of the project too; other data is a conflict.
		if r := post("acme", owner, "order-42", map[string]any{"n": 1}); r.str("id") != first.str("id") {
			t.Fatalf("replay through another key: %s", r.Raw)
		}
		send("acme", pub, "order-42", map[string]any{"n": 2}).problem(t, 409, "idempotency_conflict", "Idempotency-Key")
		if n := e.count("/api/v1/projects/acme/events", owner); n != 1 {
			t.Fatalf("%d events, want 1", n)
		}
		if n := e.count("/api/v1/projects/acme/deliveries", owner); n != 1 {
			t.Fatalf("%d deliveries, want 1", n)
		}
		ev := e.req("GET", "/api/v1/projects/acme/events/"+first.str("id"), owner, nil).must(t, 200)
		if ev.str("idempotencyKey") != "order-42" {
			t.Fatalf("event: %s", ev.Raw)
		}
		jsonEq(t, "data", ev.Body["data"], map[string]any{"n": 1})

		// Another key, or no key, makes a new event; keys are per project.
		if r := post("acme", pub, "order-43", 1); r.str("id") == first.str("id") {
			t.Fatal("another key replayed")
		}
		if r := e.event("acme", pub, "order.created", 1); r.str("id") == first.str("id") {
			t.Fatal("no key replayed")
		}
		if r := post("beta", ownerB, "order-42", 1); r.str("id") == first.str("id") {
			t.Fatal("a key of another project replayed")
		}
		if n := e.count("/api/v1/projects/acme/events", owner); n != 3 {
			t.Fatalf("%d events, want 3", n)
		}
		if n := e.count("/api/v1/projects/beta/events", ownerB); n != 1 {
			t.Fatalf("beta: %d events, want 1", n)
		}
	})
}

// Issue 22, item 3: a repeat with the same Idempotency-Key is compared by
// its JSON value, not its bytes: spacing and key order are not a new
// event, a number written otherwise (1.0 for 1) is. The event keeps the
// bytes its first send had.
func TestEventIdempotencyComparesJSONValues(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("idem")
		send := func(key, body string) resp {
			return e.reqH("POST", "/api/v1/projects/idem/events", map[string]string{"Authorization": "Bearer " + pub, "Idempotency-Key": key}, body)
		}
		first := send("k1", `{"type":"order.created","data":{"id":1001,"total":9.50,"items":["a","b"]}}`).must(t, 202)
		for _, again := range []string{
			`{"type": "order.created", "data": {"id": 1001, "total": 9.50, "items": ["a", "b"]}}`,
			"{\n  \"data\": {\n    \"items\": [\"a\", \"b\"],\n    \"total\": 9.50,\n    \"id\": 1001\n  },\n  \"type\": \"order.created\"\n}\n",
			`{"type":"order.created","data":{"\u0069d":1001,"total":9.50,"items":["\u0061","b"]}}`,
		} {
			r := send("k1", again).must(t, 202)
			if r.str("id") != first.str("id") || r.Header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("%s: answered %s, want the replay of %s", again, r.Raw, first.Raw)
			}
		}
		for _, other := range []string{
			`{"type":"order.created","data":{"id":1001.0,"total":9.50,"items":["a","b"]}}`,
			`{"type":"order.created","data":{"id":1001,"total":9.5,"items":["a","b"]}}`,
			`{"type":"order.created","data":{"id":1001,"total":9.50,"items":["b","a"]}}`,
			`{"type":"order.updated","data":{"id":1001,"total":9.50,"items":["a","b"]}}`,
		} {
			send("k1", other).problem(t, 409, "idempotency_conflict", "Idempotency-Key")
		}
		ev := e.req("GET", "/api/v1/projects/idem/events/"+first.str("id"), owner, nil).must(t, 200)
		if !strings.Contains(string(ev.Raw), `"data":{"id":1001,"total":9.50,"items":["a","b"]}`) {
			t.Fatalf("the event's data is not the first send's bytes: %s", ev.Raw)
		}
	})
}

// Issue 22, item 3: a key claimed before repeats were compared by
// canonical JSON holds the digest of the data as it was sent; a retry of
// that very request within the key's 24 hours still replays.
func TestIdempotencyKeysOfOlderDigestsStillReplay(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		pid, _, pub := e.project("old")
		data := `{"id": 7,  "total": 1.50}`
		h := sha256.Sum256([]byte("order.created\x00" + data))
		got, err := e.store.CreateEvents(context.Background(), pid, []hookgate.EventInput{{Type: "order.created", Data: []byte(data),
			IdempotencyKey: "before", BodyHash: hex.EncodeToString(h[:])}})
		if err != nil {
			t.Fatal(err)
		}
		r := e.reqH("POST", "/api/v1/projects/old/events", map[string]string{"Authorization": "Bearer " + pub, "Idempotency-Key": "before"},
			`{"type":"order.created","data":`+data+`}`).must(t, 202)
		if r.str("id") != got[0].ID || r.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("the retry answered %s, want the replay of %s", r.Raw, got[0].ID)
		}
		e.reqH("POST", "/api/v1/projects/old/events", map[string]string{"Authorization": "Bearer " + pub, "Idempotency-Key": "before"},
			`{"type":"order.created","data":{"id":8}}`).problem(t, 409, "idempotency_conflict", "Idempotency-Key")
	})
}

// Issue 22, item 17: a batch's answer says of each event whether an
// idempotency key answered it with an event sent before, as a single
// send's does, so that a client can tell a resent file created nothing.
func TestBatchAnswerTellsReplays(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, _, pub := e.project("rep")
		batch := func(keys ...string) []map[string]any {
			var events []any
			for _, k := range keys {
				events = append(events, map[string]any{"type": "a.b", "data": map[string]any{"k": k}, "idempotencyKey": k})
			}
			return e.req("POST", "/api/v1/projects/rep/events/batch", pub, map[string]any{"events": events}).must(t, 202).items(t)
		}
		replays := func(items []map[string]any) (n int) {
			for _, it := range items {
				v, ok := it["replayed"].(bool)
				if !ok {
					t.Fatalf("no replayed field: %v", it)
				}
				if v {
					n++
				}
			}
			return n
		}
		if n := replays(batch("k1", "k2", "k3")); n != 0 {
			t.Fatalf("a first batch says %d replays", n)
		}
		if n := replays(batch("k1", "k2", "k3")); n != 3 {
			t.Fatalf("the batch sent again says %d replays, want 3", n)
		}
		if n := replays(batch("k3", "k4")); n != 1 {
			t.Fatalf("a batch of one old and one new event says %d replays, want 1", n)
		}
		one := e.req("POST", "/api/v1/projects/rep/events", pub, map[string]any{"type": "a.b", "data": map[string]any{"k": "k4"}, "idempotencyKey": "k4"}).must(t, 202)
		if one.Body["replayed"] != true || one.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("a single replay: %s", one.Raw)
		}
	})
}

func TestEventIdempotencyKeyConcurrent(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, pub := e.project("acme")
		e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h"})
		ids := make([]string, 20)
		var wg sync.WaitGroup
		for i := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.reqH("POST", "/api/v1/projects/acme/events", map[string]string{"Authorization": "Bearer " + pub, "Idempotency-Key": "same"},
					map[string]any{"type": "a.b", "data": 1})
				if r.Status == 202 {
					ids[i] = r.str("id")
				}
			}()
		}
		wg.Wait()
		for _, id := range ids {
			if id == "" || id != ids[0] {
				t.Fatalf("concurrent sends with one key answered %v", ids)
			}
		}
		if n := e.count("/api/v1/projects/acme/events", owner); n != 1 {
			t.Fatalf("%d events, want 1", n)
		}
		if n := e.count("/api/v1/projects/acme/deliveries", owner); n != 1 {
			t.Fatalf("%d deliveries, want 1", n)
		}
	})
}

func TestEventDataKeptAsSent(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("acme")
		// A number beyond float64 precision comes back exactly.
		r := e.req("POST", "/api/v1/projects/acme/events", pub, `{"type":"a.b","data":{"big":12345678901234567890,"s":"é <b>"}}`).must(t, 202)
		g := e.req("GET", "/api/v1/projects/acme/events/"+r.str("id"), owner, nil).must(t, 200)
		if !strings.Contains(string(g.Raw), `"big":12345678901234567890`) {
			t.Fatalf("data changed: %s", g.Raw)
		}
		jsonEq(t, "s", g.Body["data"].(map[string]any)["s"], "é <b>")
	})
}

func TestEventTooLarge(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("acme")
		big := strings.Repeat("x", 1100*1024)
		e.req("POST", "/api/v1/projects/acme/events", pub, map[string]any{"type": "a.b", "data": big}).problem(t, 413, "payload_too_large", "")
		e.req("POST", "/api/v1/projects/acme/events/batch", pub, map[string]any{"events": []any{
			map[string]any{"type": "a.b", "data": 1}, map[string]any{"type": "a.b", "data": big},
		}}).problem(t, 413, "payload_too_large", "events[1].data")
		// Just under the limit is fine.
		e.event("acme", pub, "a.b", strings.Repeat("x", 1000*1024))
		if n := e.count("/api/v1/projects/acme/events", owner); n != 1 {
			t.Fatalf("%d events, want 1", n)
		}
	})
}

func TestEventBatch(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, pub := e.project("acme")
		e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/o", "events": []string{"order.*"}})
		e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/all"})
		path := "/api/v1/projects/acme/events/batch"
		r := e.req("POST", path, pub, map[string]any{"events": []any{
			map[string]any{"type": "order.created", "data": map[string]any{"i": 0}},
			map[string]any{"type": "user.created", "data": map[string]any{"i": 1}},
			map[string]any{"type": "order.paid", "data": map[string]any{"i": 2}, "idempotencyKey": "pay-1"},
		}}).must(t, 202)
		items := r.items(t)
		if len(items) != 3 {
			t.Fatalf("data has %d items: %s", len(items), r.Raw)
		}
		for i, c := range []struct {
			typ string
			n   float64
		}{{"order.created", 2}, {"user.created", 1}, {"order.paid", 2}} {
			if items[i]["type"] != c.typ || items[i]["deliveries"] != c.n || !strings.HasPrefix(items[i]["id"].(string), "evt_") {
				t.Fatalf("item %d: %v", i, items[i])
			}
			ev := e.req("GET", "/api/v1/projects/acme/events/"+items[i]["id"].(string), owner, nil).must(t, 200)
			jsonEq(t, "data", ev.Body["data"], map[string]any{"i": i})
		}
		if n := e.count("/api/v1/projects/acme/events", owner); n != 3 {
			t.Fatalf("%d events, want 3", n)
		}
		if n := e.count("/api/v1/projects/acme/deliveries", owner); n != 5 {
			t.Fatalf("%d deliveries, want 5", n)
		}
		// Idempotency keys hold across batches and within one.
		r = e.req("POST", path, pub, map[string]any{"events": []any{
			map[string]any{"type": "order.paid", "data": map[string]any{"i": 2}, "idempotencyKey": "pay-1"},
			map[string]any{"type": "order.paid", "data": 1, "idempotencyKey": "pay-2"},
			map[string]any{"type": "order.paid", "data": 1, "idempotencyKey": "pay-2"},
		}}).must(t, 202)
		items2 := r.items(t)
		if items2[0]["id"] != items[2]["id"] || items2[1]["id"] != items2[2]["id"] || items2[1]["id"] == items[2]["id"] {
			t.Fatalf("idempotent batch: %s", r.Raw)
		}
		if n := e.count("/api/v1/projects/acme/events", owner); n != 4 {
			t.Fatalf("%d events, want 4", n)
		}
		// A key reused for another event refuses the whole batch, naming the
		// item; nothing of it is stored.
		e.req("POST", path, pub, map[string]any{"events": []any{
			map[string]any{"type": "order.paid", "data": 7, "idempotencyKey": "pay-3"},
			map[string]any{"type": "order.paid", "data": 2, "idempotencyKey": "pay-2"},
		}}).problem(t, 409, "idempotency_conflict", "events[1].idempotencyKey")
		if n := e.count("/api/v1/projects/acme/events", owner); n != 4 {
			t.Fatalf("%d events after a refused batch, want 4", n)
		}
	})
}

func TestEventBatchInvalid(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, pub := e.project("acme")
		e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/h"})
		path := "/api/v1/projects/acme/events/batch"
		ev := func(typ string) map[string]any { return map[string]any{"type": typ, "data": 1} }
		many := make([]any, 1001)
		for i := range many {
			many[i] = ev("a.b")
		}
		e.req("POST", path, pub, map[string]any{"events": many}).problem(t, 400, "invalid_parameter", "events")
		e.req("POST", path, pub, map[string]any{"events": []any{}}).problem(t, 400, "invalid_parameter", "events")
		e.req("POST", path, pub, map[string]any{}).problem(t, 400, "missing_parameter", "events")
		e.req("POST", path, pub, map[string]any{"events": "a.b"}).problem(t, 400, "invalid_parameter", "events")
		e.req("POST", path, pub, map[string]any{"events": []any{ev("a.b"), ev("bad type"), ev("c.d")}}).problem(t, 400, "invalid_parameter", "events[1].type")
		e.req("POST", path, pub, map[string]any{"events": []any{ev("a.b"), ev("c.d"), map[string]any{"type": "e.f"}}}).problem(t, 400, "missing_parameter", "events[2].data")
		e.req("POST", path, pub, map[string]any{"events": []any{ev("a.b"), map[string]any{"type": "e.f", "data": nil}}}).problem(t, 400, "missing_parameter", "events[1].data")
		e.req("POST", path, pub, map[string]any{"events": []any{map[string]any{"data": 1}}}).problem(t, 400, "missing_parameter", "events[0].type")
		if n := e.count("/api/v1/projects/acme/events", owner); n != 0 {
			t.Fatalf("%d events stored by refused batches", n)
		}
		if n := e.count("/api/v1/projects/acme/deliveries", owner); n != 0 {
			t.Fatalf("%d deliveries stored by refused batches", n)
		}
		// Exactly 1,000 is taken.
		r := e.req("POST", path, pub, map[string]any{"events": many[:1000]}).must(t, 202)
		if n := len(r.items(t)); n != 1000 {
			t.Fatalf("%d accepted, want 1000", n)
		}
		d := e.req("GET", "/api/v1/projects/acme/deliveries?limit=250", owner, nil).must(t, 200)
		if len(d.items(t)) != 250 || d.next(t) == "" {
			t.Fatalf("1000 events made %d deliveries on the first page, next %q", len(d.items(t)), d.next(t))
		}
	})
}

func TestEventPublisherMayOnlySend(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, _, pub := e.project("acme")
		id := e.event("acme", pub, "a.b", 1).str("id")
		e.req("POST", "/api/v1/projects/acme/events/batch", pub, map[string]any{"events": []any{map[string]any{"type": "a.b", "data": 1}}}).must(t, 202)
		e.req("GET", "/api/v1/projects/acme/events", pub, nil).problem(t, 403, "forbidden", "")
		e.req("GET", "/api/v1/projects/acme/events/"+id, pub, nil).problem(t, 403, "forbidden", "")
		e.req("GET", "/api/v1/projects/acme/events/"+id+"/deliveries", pub, nil).problem(t, 403, "forbidden", "")
		e.req("GET", "/api/v1/projects/acme/deliveries", pub, nil).problem(t, 403, "forbidden", "")
	})
}

func TestEventList(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("acme")
		var all, orders []string
		for i := range 7 {
			typ := "user.created"
			if i%2 == 0 {
				typ = "order.created"
			}
			id := e.event("acme", pub, typ, map[string]any{"i": i, "nested": []any{"x", map[string]any{"y": nil}}}).str("id")
			all = append(all, id)
			if typ == "order.created" {
				orders = append(orders, id)
			}
		}
		slices.Reverse(all)
		slices.Reverse(orders)
		path := "/api/v1/projects/acme/events"
		r := e.req("GET", path, owner, nil).must(t, 200)
		if got := r.ids(t); !slices.Equal(got, all) || r.next(t) != "" {
			t.Fatalf("list %v, want %v", got, all)
		}
		for _, it := range r.items(t) {
			for _, f := range []string{"id", "type", "data", "deliveries", "createdAt"} {
				if _, ok := it[f]; !ok {
					t.Fatalf("event without %s: %v", f, it)
				}
			}
		}
		page := func(q string) []string {
			var got []string
			cursor := ""
			for i := 0; ; i++ {
				u := path + "?limit=3" + q
				if cursor != "" {
					u += "&cursor=" + cursor
				}
				r := e.req("GET", u, owner, nil).must(t, 200)
				if len(r.ids(t)) > 3 {
					t.Fatalf("page of %d", len(r.ids(t)))
				}
				got = append(got, r.ids(t)...)
				if cursor = r.next(t); cursor == "" {
					return got
				}
				if i > 10 {
					t.Fatal("endless pages")
				}
			}
		}
		if got := page(""); !slices.Equal(got, all) {
			t.Fatalf("paged %v, want %v", got, all)
		}
		if got := page("&type=order.created"); !slices.Equal(got, orders) {
			t.Fatalf("paged orders %v, want %v", got, orders)
		}
		if n := e.count(path+"?type=nothing", owner); n != 0 {
			t.Fatalf("%d events of type nothing", n)
		}
		e.req("GET", path+"?limit=0", owner, nil).problem(t, 400, "invalid_parameter", "limit")
		e.req("GET", path+"?limit=251", owner, nil).problem(t, 400, "invalid_parameter", "limit")

		// One event, with its data as sent.
		g := e.req("GET", path+"/"+all[len(all)-1], owner, nil).must(t, 200)
		if g.str("id") != all[len(all)-1] || g.str("type") != "order.created" || num(g, "deliveries") != 0 {
			t.Fatalf("event: %s", g.Raw)
		}
		jsonEq(t, "data", g.Body["data"], map[string]any{"i": 0, "nested": []any{"x", map[string]any{"y": nil}}})
		parseTime(t, g, "createdAt")
		e.req("GET", path+"/evt_01aaaaaaaaaaaaaaaaaaaaaaaa", owner, nil).problem(t, 404, "not_found", "")
		e.req("GET", path+"/evt_01aaaaaaaaaaaaaaaaaaaaaaaa/deliveries", owner, nil).problem(t, 404, "not_found", "")
	})
}

func TestDeliveries(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, pub := e.project("acme")
		w1 := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/1"}).str("id")
		w2 := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/2", "events": []string{"order.*"}}).str("id")
		var events []string
		for i := range 3 {
			events = append(events, e.event("acme", pub, fmt.Sprintf("order.e%d", i), i).str("id"))
		}
		user := e.event("acme", pub, "user.created", 1).str("id")
		path := "/api/v1/projects/acme/deliveries"

		r := e.req("GET", path, owner, nil).must(t, 200)
		all := r.items(t)
		if len(all) != 7 || r.next(t) != "" {
			t.Fatalf("%d deliveries, want 7: %s", len(all), r.Raw)
		}
		ids := r.ids(t)
		if !slices.IsSortedFunc(ids, func(a, b string) int { return strings.Compare(b, a) }) {
			t.Fatalf("not newest first: %v", ids)
		}
		for _, d := range all {
			if !strings.HasPrefix(d["id"].(string), "msg_") || d["status"] != "pending" || d["attempts"] != 0.0 ||
				d["lastStatusCode"] != 0.0 || d["lastError"] != "" || d["nextAttemptAt"] == nil {
				t.Fatalf("delivery %v", d)
			}
			for _, f := range []string{"eventId", "webhookId", "eventType", "createdAt", "updatedAt"} {
				if s, _ := d[f].(string); s == "" {
					t.Fatalf("delivery without %s: %v", f, d)
				}
			}
		}
		if n := e.count(path+"?webhook="+w1, owner); n != 4 {
			t.Fatalf("webhook 1: %d, want 4", n)
		}
		if n := e.count(path+"?webhook="+w2, owner); n != 3 {
			t.Fatalf("webhook 2: %d, want 3", n)
		}
		if n := e.count(path+"?event="+user, owner); n != 1 {
			t.Fatalf("user event: %d, want 1", n)
		}
		if n := e.count(path+"?event="+events[0]+"&webhook="+w2, owner); n != 1 {
			t.Fatalf("event and webhook: %d, want 1", n)
		}
		if n := e.count(path+"?status=pending", owner); n != 7 {
			t.Fatalf("pending: %d, want 7", n)
		}
		for _, st := range []string{"succeeded", "failed", "paused", "cancelled"} {
			if n := e.count(path+"?status="+st, owner); n != 0 {
				t.Fatalf("%s: %d, want 0", st, n)
			}
		}
		if n := e.count(path+"?webhook=wh_nope", owner); n != 0 {
			t.Fatalf("unknown webhook: %d", n)
		}
		e.req("GET", path+"?status=bogus", owner, nil).problem(t, 400, "invalid_parameter", "status")
		e.req("GET", path+"?limit=0", owner, nil).problem(t, 400, "invalid_parameter", "limit")
		e.req("GET", path+"?limit=251", owner, nil).problem(t, 400, "invalid_parameter", "limit")

		// Pages.
		p1 := e.req("GET", path+"?limit=4", owner, nil).must(t, 200)
		p2 := e.req("GET", path+"?limit=4&cursor="+p1.next(t), owner, nil).must(t, 200)
		if got := append(p1.ids(t), p2.ids(t)...); !slices.Equal(got, ids) || p2.next(t) != "" {
			t.Fatalf("paged %v, want %v", got, ids)
		}

		// One delivery.
		g := e.req("GET", path+"/"+ids[0], owner, nil).must(t, 200)
		jsonEq(t, "delivery", g.Body, all[0])
		e.req("GET", path+"/msg_01aaaaaaaaaaaaaaaaaaaaaaaa", owner, nil).problem(t, 404, "not_found", "")

		// An event's deliveries.
		ed := e.req("GET", "/api/v1/projects/acme/events/"+events[1]+"/deliveries", owner, nil).must(t, 200)
		if len(ed.items(t)) != 2 || ed.next(t) != "" {
			t.Fatalf("event deliveries: %s", ed.Raw)
		}
		p := e.req("GET", "/api/v1/projects/acme/events/"+events[1]+"/deliveries?limit=1", owner, nil).must(t, 200)
		if len(p.items(t)) != 1 || p.next(t) == "" {
			t.Fatalf("event deliveries page: %s", p.Raw)
		}
	})
}

func TestDeliveriesPausedWhileDeactivated(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, pub := e.project("acme")
		w := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/w"}).str("id")
		other := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/other"}).str("id")
		e.event("acme", pub, "a.b", 1)
		e.event("acme", pub, "a.c", 2)
		path := "/api/v1/projects/acme/deliveries"
		wpath := "/api/v1/projects/acme/webhooks/" + w

		e.req("POST", wpath+"/deactivate", owner, nil).must(t, 200)
		r := e.req("GET", path+"?webhook="+w, owner, nil).must(t, 200)
		for _, d := range r.items(t) {
			if d["status"] != "paused" || d["nextAttemptAt"] != nil {
				t.Fatalf("after deactivate: %v", d)
			}
		}
		if len(r.items(t)) != 2 || e.count(path+"?status=paused", owner) != 2 || e.count(path+"?status=pending&webhook="+other, owner) != 2 {
			t.Fatalf("after deactivate: %s", r.Raw)
		}
		// While deactivated it gets no new deliveries.
		if n := num(e.event("acme", pub, "a.d", 3), "deliveries"); n != 1 {
			t.Fatalf("event while deactivated made %d deliveries, want 1", n)
		}
		e.req("POST", wpath+"/activate", owner, nil).must(t, 200)
		r = e.req("GET", path+"?webhook="+w, owner, nil).must(t, 200)
		for _, d := range r.items(t) {
			if d["status"] != "pending" || d["nextAttemptAt"] == nil {
				t.Fatalf("after activate: %v", d)
			}
		}
		if len(r.items(t)) != 2 || e.count(path+"?status=paused", owner) != 0 || e.count(path+"?status=pending", owner) != 5 {
			t.Fatalf("after activate: %s", r.Raw)
		}
	})
}

func TestDeliveriesCancelledWhenWebhookDeleted(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, owner, pub := e.project("acme")
		w := e.webhook("acme", owner, map[string]any{"url": "http://127.0.0.1:9/w"}).str("id")
		ev := e.event("acme", pub, "a.b", 1).str("id")
		e.req("DELETE", "/api/v1/projects/acme/webhooks/"+w, owner, nil).must(t, 204)
		r := e.req("GET", "/api/v1/projects/acme/deliveries?webhook="+w, owner, nil).must(t, 200)
		items := r.items(t)
		if len(items) != 1 || items[0]["status"] != "cancelled" || items[0]["eventId"] != ev {
			t.Fatalf("after delete: %s", r.Raw)
		}
		e.req("GET", "/api/v1/projects/acme/deliveries/"+items[0]["id"].(string), owner, nil).must(t, 200)
		e.req("GET", "/api/v1/projects/acme/events/"+ev, owner, nil).must(t, 200)
	})
}

// Hookgate's own events stay out of the event list unless asked for.
func TestEventListLeavesOutOperational(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		pid, owner, _ := e.project("ops")
		e.event("ops", owner, "order.created", 1).must(t, 202)
		e.event("ops", owner, "order_x.paid", 1).must(t, 202)
		if _, err := e.store.CreateEvents(context.Background(), pid, []hookgate.EventInput{{Type: hookgate.EventWebhookDisabled, Data: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
		types := func(q string) []string {
			var out []string
			for _, it := range e.req("GET", "/api/v1/projects/ops/events"+q, owner, nil).must(t, 200).items(t) {
				out = append(out, it["type"].(string))
			}
			return out
		}
		if got := types(""); len(got) != 2 {
			t.Fatalf("default list: %v", got)
		}
		if got := types("?include=operational"); len(got) != 3 {
			t.Fatalf("include=operational: %v", got)
		}
		if got := types("?type=hookgate.*"); len(got) != 1 || got[0] != hookgate.EventWebhookDisabled {
			t.Fatalf("type=hookgate.*: %v", got)
		}
		if got := types("?type=order.*"); len(got) != 1 || got[0] != "order.created" {
			t.Fatalf("type=order.* (no '_' wildcard): %v", got)
		}
		e.req("GET", "/api/v1/projects/ops/events?type=a*b", owner, nil).problem(t, 400, "invalid_parameter", "type")
	})
}
