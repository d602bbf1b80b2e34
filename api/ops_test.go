package api_test

import (
	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/sqlstore/sqltest"

	"encoding/json"
	"strings"
	"testing"
)

func TestHealthAndReadiness(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		r := e.req("GET", "/healthz", "", nil).must(t, 200)
		if r.str("status") != "ok" {
			t.Fatalf("healthz: %s", r.Raw)
		}
		r = e.req("GET", "/readyz", "", nil).must(t, 200)
		if r.str("status") != "ready" {
			t.Fatalf("readyz: %s", r.Raw)
		}
		// A store that no longer answers makes the node unready, not unhealthy.
		if err := e.store.Close(); err != nil {
			t.Fatal(err)
		}
		r = e.req("GET", "/readyz", "", nil).problem(t, 503, "unavailable", "")
		if r.Header.Get("Retry-After") == "" {
			t.Fatalf("503 without Retry-After: %v", r.Header)
		}
		e.req("GET", "/healthz", "", nil).must(t, 200)
	})
}

// A draining node is unready, and still alive and serving: orchestrators
// stop sending it traffic while its requests in flight finish.
func TestReadinessWhileDraining(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		store := sqltest.Open(t, engine)
		srv := api.New(apiConfig(t, store))
		e := serveEnv(t, store, srv)
		e.req("GET", "/readyz", "", nil).must(t, 200)
		srv.Drain()
		r := e.req("GET", "/readyz", "", nil).problem(t, 503, "unavailable", "")
		if !strings.Contains(r.str("detail"), "draining") {
			t.Fatalf("readyz while draining: %s", r.Raw)
		}
		if r.Header.Get("Retry-After") != "" {
			t.Fatalf("a draining node will not be ready again, yet it answers Retry-After: %v", r.Header)
		}
		e.req("GET", "/healthz", "", nil).must(t, 200)
		e.req("GET", "/api/v1/projects", adminKey, nil).must(t, 200)
	})
}

func TestMetrics(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, func(c *api.Config) { c.MetricsToken = "metrics-secret" })
		_, _, pub := e.project("acme")
		e.req("GET", "/healthz", "", nil).must(t, 200)
		e.req("GET", "/api/v1/nope", "", nil).must(t, 404)
		for range 2 { // an idempotent replay is not counted twice
			e.reqH("POST", "/api/v1/projects/acme/events", map[string]string{"Authorization": "Bearer " + pub, "Idempotency-Key": "k"},
				map[string]any{"type": "a.b", "data": 1}).must(t, 202)
		}
		e.event("acme", pub, "a.b", 2)
		e.req("GET", "/metrics", "", nil).problem(t, 401, "unauthorized", "")
		r := e.req("GET", "/metrics", "metrics-secret", nil).must(t, 200)
		body := string(r.Raw)
		for _, want := range []string{
			"hookgate_events_accepted_total 2\n",
			"hookgate_http_requests_total{",
			`hookgate_http_requests_total{route="GET /healthz",status="200"} 1`,
			`hookgate_http_requests_total{route="unmatched",status="404"} 1`,
			`status="202"} 3`,
			"hookgate_http_request_duration_seconds_bucket{",
		} {
			if !strings.Contains(body, want) {
				t.Fatalf("metrics lack %q:\n%s", want, body)
			}
		}
	})
}

func TestOpenAPI(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		r := e.req("GET", "/openapi.json", "", nil).must(t, 200)
		if !strings.Contains(r.Header.Get("Content-Type"), "json") {
			t.Fatalf("Content-Type %q", r.Header.Get("Content-Type"))
		}
		var doc struct {
			OpenAPI string                    `json:"openapi"`
			Paths   map[string]map[string]any `json:"paths"`
		}
		if err := json.Unmarshal(r.Raw, &doc); err != nil {
			t.Fatalf("not JSON: %v", err)
		}
		if !strings.HasPrefix(doc.OpenAPI, "3.1") {
			t.Fatalf("openapi %q, want 3.1.x", doc.OpenAPI)
		}
		for path, methods := range map[string][]string{
			"/api/v1/projects":                                {"get", "post"},
			"/api/v1/projects/{project}":                      {"get", "patch", "delete"},
			"/api/v1/projects/{project}/keys":                 {"get", "post"},
			"/api/v1/projects/{project}/webhooks":             {"get", "post"},
			"/api/v1/projects/{project}/webhooks/{id}":        {"get", "patch", "delete"},
			"/api/v1/projects/{project}/webhooks/{id}/secret": {"get"},
			"/api/v1/projects/{project}/events":               {"get", "post"},
			"/api/v1/projects/{project}/events/batch":         {"post"},
			"/api/v1/projects/{project}/deliveries/{id}":      {"get"},
			"/api/v1/projects/{project}/event-types/{name}":   {"get", "patch", "delete"},
		} {
			for _, m := range methods {
				if _, ok := doc.Paths[path][m]; !ok {
					t.Fatalf("openapi lacks %s %s", m, path)
				}
			}
		}
		// The document is public; nothing in it is a secret.
		if strings.Contains(string(r.Raw), adminKey) {
			t.Fatal("the admin key is in the OpenAPI document")
		}
	})
}
