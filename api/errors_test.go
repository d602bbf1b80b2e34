package api_test

import (
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/internal/testwait"
)

func TestUnknownRoute(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, _ := e.project("acme")
		for _, c := range []struct{ method, path, key string }{
			{"GET", "/api/v1/nope", ""},
			{"GET", "/api/v1/nope", adminKey},
			{"GET", "/nope", ""},
			{"POST", "/api/v2/projects", adminKey},
			{"GET", "/api/v1/projects/acme/unknown", owner},
			{"GET", "/api/v1/projects/acme/webhooks/wh_x/nothing", owner},
			{"DELETE", "/api/v1/projects/acme/events/evt_x/deliveries/x", owner},
		} {
			r := e.req(c.method, c.path, c.key, nil).problem(t, 404, "not_found", "")
			if !strings.HasPrefix(r.str("errorId"), "err_") {
				t.Fatalf("errorId %q", r.str("errorId"))
			}
		}
	})
}

func TestMethodNotAllowed(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, _ := e.project("acme")
		for _, c := range []struct{ method, path, allow string }{
			{"PUT", "/api/v1/projects/acme/events", "GET, POST"},
			{"DELETE", "/api/v1/projects/acme/events", "GET, POST"},
			{"DELETE", "/api/v1/projects", "GET, POST"},
			{"PUT", "/api/v1/projects/acme", "GET, PATCH, DELETE"},
			{"PUT", "/api/v1/projects/acme/webhooks/wh_x", "GET, PATCH, DELETE"},
			{"GET", "/api/v1/projects/acme/webhooks/wh_x/activate", "POST"},
			{"POST", "/healthz", "GET"},
		} {
			for _, key := range []string{owner, ""} {
				r := e.req(c.method, c.path, key, nil).problem(t, 405, "method_not_allowed", "")
				if got := r.Header.Get("Allow"); got != c.allow {
					t.Fatalf("%s %s: Allow %q, want %q", c.method, c.path, got, c.allow)
				}
			}
		}
		e.req("PUT", "/api/v1/projects/acme/events", owner, map[string]any{"type": "a.b", "data": 1}).problem(t, 405, "method_not_allowed", "")
		if n := e.count("/api/v1/projects/acme/events", owner); n != 0 {
			t.Fatalf("%d events stored by PUT", n)
		}
	})
}

func TestUnsupportedMediaType(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("acme")
		for _, ct := range []string{"text/plain", "application/xml", "application/x-www-form-urlencoded"} {
			e.reqH("POST", "/api/v1/projects", map[string]string{"Authorization": "Bearer " + adminKey, "Content-Type": ct},
				`{"name":"X","slug":"x"}`).problem(t, 415, "unsupported_media_type", "")
			e.reqH("POST", "/api/v1/projects/acme/events", map[string]string{"Authorization": "Bearer " + pub, "Content-Type": ct},
				`{"type":"a.b","data":1}`).problem(t, 415, "unsupported_media_type", "")
		}
		if n := e.count("/api/v1/projects/acme/events", owner); n != 0 {
			t.Fatalf("%d events stored", n)
		}
		// JSON with a charset is JSON.
		e.reqH("POST", "/api/v1/projects", map[string]string{"Authorization": "Bearer " + adminKey, "Content-Type": "application/json; charset=utf-8"},
			`{"name":"X","slug":"x"}`).must(t, 201)
	})
}

func TestInvalidJSON(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("acme")
		for _, body := range []string{"{", `{"name": }`, `{"name": "x"`, "not json", `{'name': 'x'}`} {
			e.req("POST", "/api/v1/projects", adminKey, body).problem(t, 400, "invalid_json", "")
			e.req("POST", "/api/v1/projects/acme/events", pub, body).problem(t, 400, "invalid_json", "")
			e.req("POST", "/api/v1/projects/acme/webhooks", owner, body).problem(t, 400, "invalid_json", "")
		}
		// Valid JSON of the wrong shape is a bad parameter, not bad JSON.
		e.req("POST", "/api/v1/projects", adminKey, `[{"name":"x"}]`).problem(t, 400, "invalid_parameter", "")
		e.req("POST", "/api/v1/projects", adminKey, `"x"`).problem(t, 400, "invalid_parameter", "")
		// No body at all.
		e.req("POST", "/api/v1/projects", adminKey, nil).problem(t, 400, "missing_parameter", "body")
		if n := e.count("/api/v1/projects", adminKey); n != 1 {
			t.Fatalf("%d projects, want 1", n)
		}
	})
}

func TestProblemShape(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		seen := map[string]bool{}
		for _, r := range []resp{
			e.req("GET", "/api/v1/projects", "", nil).problem(t, 401, "unauthorized", ""),
			e.req("GET", "/api/v1/projects", "", nil).problem(t, 401, "unauthorized", ""),
			e.req("GET", "/api/v1/projects/nope", adminKey, nil).problem(t, 404, "not_found", ""),
			e.req("PUT", "/api/v1/projects", adminKey, nil).problem(t, 405, "method_not_allowed", ""),
			e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "X", "slug": "Bad Slug"}).problem(t, 400, "invalid_parameter", "slug"),
			e.req("POST", "/api/v1/projects", adminKey, "{").problem(t, 400, "invalid_json", ""),
		} {
			id := r.str("errorId")
			if !strings.HasPrefix(id, "err_") || seen[id] {
				t.Fatalf("errorId %q not unique or malformed", id)
			}
			seen[id] = true
			if r.str("title") == "" || !strings.HasPrefix(r.str("type"), "https://") {
				t.Fatalf("problem %s", r.Raw)
			}
		}
		r := e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "X", "slug": "Bad Slug"})
		if r.Body["parameter_value"] != "Bad Slug" || r.str("title") != "Bad Request" {
			t.Fatalf("problem %s", r.Raw)
		}
	})
}

// TestProblemTypeMatchesCode checks that a problem's type URI names the same
// problem as its code, whichever layer found the problem.
func TestProblemTypeMatchesCode(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		for _, r := range []resp{
			e.req("POST", "/api/v1/projects", adminKey, "{").problem(t, 400, "invalid_json", ""),
			e.req("POST", "/api/v1/projects", adminKey, map[string]any{}).problem(t, 400, "missing_parameter", "name"),
			e.req("POST", "/api/v1/projects", adminKey, nil).problem(t, 400, "missing_parameter", "body"),
			e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": ""}).problem(t, 400, "missing_parameter", "name"),
			e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "X", "slug": "Bad Slug"}).problem(t, 400, "invalid_parameter", "slug"),
			e.req("GET", "/api/v1/projects", "", nil).problem(t, 401, "unauthorized", ""),
		} {
			want := "https://hookgate.dev/problems/" + strings.ReplaceAll(r.str("code"), "_", "-")
			if r.str("type") != want {
				t.Errorf("code %s has type %s, want %s", r.str("code"), r.str("type"), want)
			}
		}
	})
}

// Every operation refuses a query parameter it does not take, naming it;
// deliveries also take the response's names webhookId and eventId.
func TestUnknownQueryParameter(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, _ := e.project("q")
		wh := e.webhook("q", owner, map[string]any{"url": "https://a.example.invalid/"}).str("id")
		e.webhook("q", owner, map[string]any{"url": "https://b.example.invalid/"})
		e.req("POST", "/api/v1/projects/q/events", owner, map[string]any{"type": "a.b", "data": 1}).must(t, 202)
		for _, path := range []string{"/api/v1/projects", "/api/v1/projects/q/webhooks", "/api/v1/projects/q/events", "/api/v1/projects/q/deliveries",
			"/api/v1/projects/q/keys", "/api/v1/projects/q/event-types", "/api/v1/projects/q/platforms", "/api/v1/projects/q/messages",
			"/api/v1/projects/q/webhooks/" + wh} {
			key := owner
			if path == "/api/v1/projects" {
				key = adminKey
			}
			q := "?limit=5&webhookID=x"
			if strings.Contains(path, "/webhooks/") {
				q = "?webhookID=x"
			}
			r := e.req("GET", path+q, key, nil).problem(t, 400, "invalid_parameter", "webhookID")
			if r.Body["parameter_value"] != "x" {
				t.Fatalf("%s: %s", path, r.Raw)
			}
		}
		if ids := e.req("GET", "/api/v1/projects/q/deliveries?webhookId="+wh, owner, nil).must(t, 200).ids(t); len(ids) != 1 {
			t.Fatalf("webhookId lists %d deliveries, want 1", len(ids))
		}
		e.req("GET", "/api/v1/projects/q/deliveries?webhookId="+wh+"&webhook=wh_other", owner, nil).problem(t, 400, "invalid_parameter", "webhookId")
	})
}

// When the database cannot answer, the API says 503 with Retry-After, so
// that clients try again, never 500.
func TestDatabaseDownIs503(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, func(c *api.Config) { c.MetricsToken = "metrics-secret" })
		_, owner, pub := e.project("down")
		counted := `hookgate_store_errors_total{component="api",op="request"} `
		if m := string(e.req("GET", "/metrics", "metrics-secret", nil).must(t, 200).Raw); !strings.Contains(m, counted+"0\n") {
			t.Fatalf("before the database goes: want %s0 in\n%s", counted, m)
		}
		if err := e.store.Close(); err != nil {
			t.Fatal(err)
		}
		for _, r := range []resp{
			e.req("GET", "/api/v1/projects", adminKey, nil),
			e.req("GET", "/api/v1/projects/down/webhooks", owner, nil),
			e.req("POST", "/api/v1/projects/down/events", pub, map[string]any{"type": "a.b", "data": 1}),
		} {
			r.problem(t, 503, "unavailable", "")
			if r.Header.Get("Retry-After") == "" {
				t.Fatalf("503 without Retry-After: %s", r.Raw)
			}
		}
		// Issue 26, item 4: each is counted as a store error.
		if m := string(e.req("GET", "/metrics", "metrics-secret", nil).must(t, 200).Raw); !strings.Contains(m, counted+"3\n") {
			t.Fatalf("want %s3 in\n%s", counted, m)
		}
	})
}

// The bytes of bodies being read at once are bounded, counted as they
// arrive: beyond the budget a request is answered 503 with Retry-After,
// and served once there is room. Not parallel: it runs before the
// package's parallel tests, so that its stalled request is read while the
// process is not busy with theirs (under that load the probe kept racing
// the stalled bytes, until the wait ran out).
func TestBodyBytesInFlightBounded(t *testing.T) {
	e := setup(t, "sqlite", func(c *api.Config) { c.BodyBytesInFlight = 1000 })
	_, _, pub := e.project("mem")
	body := `{"type":"a.b","data":"` + strings.Repeat("x", 700) + `"}`
	// The server holds what has arrived of a slow body...
	// ...and once those bytes are in, a second body does not fit beside them.
	var r resp
	slow := refusedBeside(t, "a body past the budget is refused", func() []*stalled {
		return []*stalled{e.stall("POST", "/api/v1/projects/mem/events", len(body), map[string]string{"Authorization": "Bearer " + pub, "Content-Type": "application/json"}, body[:len(body)-10])}
	}, func() bool {
		r = e.req("POST", "/api/v1/projects/mem/events", pub, body)
		return r.Status == 503
	})[0]
	r.problem(t, 503, "unavailable", "")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	slow.more(body[len(body)-10:])
	if res := slow.answer(); res.StatusCode != 202 {
		t.Fatalf("the slow request answered %d", res.StatusCode)
	}
	// The budget is given back when the slow request's handler has ended,
	// a moment after its client has the answer.
	testwait.For(t, "the budget is given back", func() bool {
		return e.req("POST", "/api/v1/projects/mem/events", pub, body).Status == 202
	})
}
