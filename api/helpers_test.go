package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/app"
	"github.com/hookgate/hookgate/internal/testlog"
	"github.com/hookgate/hookgate/netguard"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

const adminKey = "test-admin-key"

// env is a running API on a real store, reached through real HTTP.
type env struct {
	t     testing.TB
	srv   *httptest.Server
	store *sqlstore.Store
}

// envOption changes the API configuration of setup.
type envOption func(*api.Config)

// allowLoopback lets webhook URLs point at 127.0.0.0/8, as tests' receivers do.
func allowLoopback(c *api.Config) {
	c.Policy = netguard.New([]netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")})
}

// setup starts an API on a new store of the given engine.
func setup(t testing.TB, engine string, opts ...envOption) *env {
	t.Helper()
	store := sqltest.Open(t, engine)
	return serveEnv(t, store, api.New(apiConfig(t, store, opts...)))
}

// apiConfig is setup's API configuration on store, with opts applied.
func apiConfig(t testing.TB, store *sqlstore.Store, opts ...envOption) api.Config {
	cfg := api.Config{
		Store:    store,
		AdminKey: adminKey,
		Policy:   netguard.New(nil),
		Logger:   testlog.Logger(t),
	}
	for _, o := range opts {
		o(&cfg)
	}
	return cfg
}

// serveEnv serves h over HTTP until t ends.
func serveEnv(t testing.TB, store *sqlstore.Store, h *api.Server) *env {
	srv := httptest.NewServer(sentStatuses.wrap(h))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, store: store}
}

// setupDelivering starts an API, as setup does, with a delivery dispatcher
// sending to loopback (allowLoopback is applied), woken by the API, wired
// as serve wires them (internal/app); both stop when t ends.
func setupDelivering(t testing.TB, engine string, opts ...envOption) *env {
	t.Helper()
	store := sqltest.Open(t, engine)
	cfg := apiConfig(t, store, append([]envOption{allowLoopback}, opts...)...)
	parts := app.New(app.Config{Store: store, Policy: cfg.Policy, UserAgent: "Hookgate/test", API: cfg,
		Delivery: delivery.Config{Poll: 50 * time.Millisecond, Logger: testlog.Logger(t)}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { parts.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return serveEnv(t, store, parts.API)
}

// eachEngine runs fn on every engine under test (sqltest.EachEngine).
func eachEngine(t *testing.T, fn func(t *testing.T, engine string)) { sqltest.EachEngine(t, fn) }

// resp is an answer with its body decoded.
type resp struct {
	Status int
	Header http.Header
	Raw    []byte
	Body   map[string]any
}

// req sends a request. body may be nil, a string (sent as is) or a value
// (sent as JSON). key is sent as a bearer token unless empty.
func (e *env) req(method, path, key string, body any) resp {
	e.t.Helper()
	var h map[string]string
	if key != "" {
		h = map[string]string{"Authorization": "Bearer " + key}
	}
	return e.reqH(method, path, h, body)
}

func (e *env) send(r *http.Request) resp {
	e.t.Helper()
	res, err := e.srv.Client().Do(r)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	out := resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
	if len(raw) > 0 && strings.Contains(res.Header.Get("Content-Type"), "json") {
		_ = json.Unmarshal(raw, &out.Body) // a list or scalar body leaves Body nil
	}
	return out
}

// must fails the test unless the answer has the status.
func (r resp) must(t testing.TB, status int) resp {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d: %s", r.Status, status, r.Raw)
	}
	return r
}

// problem checks that r is a problem+json answer with status and code, and
// with the parameter name when param is not empty.
func (r resp) problem(t testing.TB, status int, code, param string) resp {
	t.Helper()
	r.must(t, status)
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json: %s", ct, r.Raw)
	}
	for _, f := range []string{"type", "title", "detail", "errorId"} {
		if s, _ := r.Body[f].(string); s == "" {
			t.Fatalf("problem has no %s: %s", f, r.Raw)
		}
	}
	if got, _ := r.Body["status"].(float64); int(got) != status {
		t.Fatalf("problem status %v, want %d", r.Body["status"], status)
	}
	if r.Body["code"] != code {
		t.Fatalf("code %v, want %s: %s", r.Body["code"], code, r.Raw)
	}
	if param != "" && r.Body["parameter_name"] != param {
		t.Fatalf("parameter_name %v, want %s: %s", r.Body["parameter_name"], param, r.Raw)
	}
	return r
}

func (r resp) str(field string) string {
	s, _ := r.Body[field].(string)
	return s
}

// project creates a project with the admin key and returns its ID and an
// owner key and a publisher key of it.
func (e *env) project(slug string) (id, owner, publisher string) {
	e.t.Helper()
	p := e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "Project " + slug, "slug": slug}).must(e.t, 201)
	o := e.req("POST", "/api/v1/projects/"+slug+"/keys", adminKey, map[string]any{"name": "owner", "role": "owner"}).must(e.t, 201)
	pub := e.req("POST", "/api/v1/projects/"+slug+"/keys", adminKey, map[string]any{"name": "pub", "role": "publisher"}).must(e.t, 201)
	return p.str("id"), o.str("key"), pub.str("key")
}

// reqH sends a request like req, with the given headers instead of a bearer
// key. A Content-Type among headers overrides the JSON default.
func (e *env) reqH(method, path string, headers map[string]string, body any) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	r, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	return e.send(r)
}

// items returns the data array of a list answer.
func (r resp) items(t testing.TB) []map[string]any {
	t.Helper()
	raw, ok := r.Body["data"].([]any)
	if !ok {
		t.Fatalf("no data array: %s", r.Raw)
	}
	out := make([]map[string]any, len(raw))
	for i, v := range raw {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("data[%d] is not an object: %s", i, r.Raw)
		}
		out[i] = m
	}
	return out
}

// next returns the nextCursor of a list answer, failing unless the field is
// present; "" means null.
func (r resp) next(t testing.TB) string {
	t.Helper()
	v, ok := r.Body["nextCursor"]
	if !ok {
		t.Fatalf("no nextCursor: %s", r.Raw)
	}
	s, _ := v.(string)
	return s
}

// ids returns the id field of every item of a list answer.
func (r resp) ids(t testing.TB) []string {
	t.Helper()
	var out []string
	for _, it := range r.items(t) {
		s, _ := it["id"].(string)
		out = append(out, s)
	}
	return out
}

// webhook registers a webhook in project (ID or slug) and returns the answer.
func (e *env) webhook(project, key string, body map[string]any) resp {
	e.t.Helper()
	return e.req("POST", "/api/v1/projects/"+project+"/webhooks", key, body).must(e.t, 201)
}
