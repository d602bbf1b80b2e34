package api_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Every operation has a decision for portal sessions, so that a new one
// is not opened to them, or left shut, by accident.
func TestEveryOperationHasAPortalDecision(t *testing.T) {
	e := setup(t, "sqlite", withPlatforms)
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(e.req("GET", "/openapi.json", "", nil).must(t, 200).Raw, &doc); err != nil {
		t.Fatal(err)
	}
	ops := map[string]bool{}
	for path, m := range doc.Paths {
		for method, o := range m {
			ops[o.OperationID] = true
			if _, ok := api.PortalAccess[o.OperationID]; !ok {
				t.Errorf("%s %s (%s) has no entry in portalAccess (api/routes.go): decide which capability, if any, lets a portal session call it",
					method, path, o.OperationID)
			}
		}
	}
	for id := range api.PortalAccess {
		if !ops[id] {
			t.Errorf("portalAccess names %s, which is no operation", id)
		}
	}
}

// portalEnv serves e's API to a portal session of projectID with caps.
func portalEnv(t *testing.T, h *api.Server, projectID string, caps ...string) *env {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeAsPortal(w, r, projectID, caps)
	}))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv}
}

// A portal session acts in its own project only, and may call only the
// operations its capabilities grant; anything else answers 404, as a route
// that does not exist would.
func TestPortalIdentity(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		store := sqltest.Open(t, engine)
		h := api.New(apiConfig(t, store))
		e := serveEnv(t, store, h)
		acme, owner, _ := e.project("acme")
		_, globexOwner, _ := e.project("globex")
		theirs := e.webhook("globex", globexOwner, map[string]any{"url": "https://globex.example/hook"}).str("id")
		mine := e.webhook("acme", owner, map[string]any{"url": "https://acme.example/hook"}).str("id")
		e.req("POST", "/api/v1/projects/acme/event-types", owner, map[string]any{"name": "order.paid", "description": "An order was paid"}).must(t, 201)

		all := portalEnv(t, h, acme, hookgate.PortalCapabilities...)
		wh := "/api/v1/projects/acme/webhooks"
		all.req("GET", wh, "", nil).must(t, 200)
		created := all.req("POST", wh, "", map[string]any{"url": "https://customer.example/in", "events": []string{"order.paid"}}).must(t, 201).str("id")
		all.req("PATCH", wh+"/"+created, "", map[string]any{"description": "mine"}).must(t, 200)
		all.req("POST", wh+"/"+created+"/deactivate", "", nil).must(t, 200)
		all.req("POST", wh+"/"+created+"/activate", "", nil).must(t, 200)
		all.req("GET", wh+"/"+mine+"/stats", "", nil).must(t, 200)
		all.req("GET", wh+"/"+mine+"/secret", "", nil).must(t, 200)
		all.req("POST", wh+"/"+mine+"/secret/rotate", "", nil).must(t, 200)
		all.req("GET", "/api/v1/projects/acme/deliveries", "", nil).must(t, 200)
		all.req("GET", "/api/v1/projects/"+acme+"/event-types", "", nil).must(t, 200)
		all.req("GET", "/api/v1/projects/acme/event-types/order.paid", "", nil).must(t, 200)
		all.req("POST", wh, "", map[string]any{"url": "http://127.0.0.1:1/"}).must(t, 400) // the same network policy
		all.req("DELETE", wh+"/"+created, "", nil).must(t, 204)

		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/projects"},
			{"POST", "/api/v1/projects"},
			{"GET", "/api/v1/projects/acme"},
			{"PATCH", "/api/v1/projects/acme"},
			{"DELETE", "/api/v1/projects/acme"},
			{"GET", "/api/v1/projects/acme/stats"},
			{"GET", "/api/v1/projects/acme/keys"},
			{"POST", "/api/v1/projects/acme/keys"},
			{"POST", "/api/v1/projects/acme/event-types"},
			{"DELETE", "/api/v1/projects/acme/event-types/order.paid"},
			{"POST", "/api/v1/projects/acme/events"},
			{"GET", "/api/v1/projects/acme/events"},
			{"POST", "/api/v1/projects/acme/webhooks/" + mine + "/trigger"},
			{"GET", "/api/v1/projects/acme/platforms"},
			{"GET", "/api/v1/projects/acme/messages"},
			// Another project's paths and IDs.
			{"GET", "/api/v1/projects/globex/webhooks"},
			{"GET", "/api/v1/projects/globex/webhooks/" + theirs},
			{"GET", wh + "/" + theirs},
			{"GET", wh + "/" + theirs + "/secret"},
			{"DELETE", wh + "/" + theirs},
		} {
			r := all.req(c.method, c.path, "", map[string]any{"name": "x"})
			if r.Status != 404 || r.str("code") != hookgate.ENotFound {
				t.Errorf("%s %s as a portal session: %d %s, want 404 not_found", c.method, c.path, r.Status, r.Raw)
			}
		}
		e.req("GET", "/api/v1/projects/globex/webhooks/"+theirs, globexOwner, nil).must(t, 200)

		only := portalEnv(t, h, acme, hookgate.CapWebhooks)
		only.req("GET", wh, "", nil).must(t, 200)
		for _, path := range []string{
			"/api/v1/projects/acme/deliveries",
			wh + "/" + mine + "/secret",
			"/api/v1/projects/acme/event-types",
			"/api/v1/projects/acme/event-types/order.paid",
		} {
			if r := only.req("GET", path, "", nil); r.Status != 404 || r.str("code") != hookgate.ENotFound {
				t.Errorf("GET %s as a webhooks-only portal session: %d %s, want 404", path, r.Status, r.Raw)
			}
		}
		if r := only.req("POST", wh+"/"+mine+"/secret/rotate", "", nil); r.Status != 404 {
			t.Errorf("rotate as a webhooks-only portal session: %d, want 404", r.Status)
		}
	})
}

// Portal links: created by an owner or the admin, with errors naming the
// parameter; listed without their URL, with who made each; revoked with
// 204; another project's are not found.
func TestPortalLinks(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, publisher := e.project("acme")
		_, globexOwner, _ := e.project("globex")
		path := "/api/v1/projects/acme/portal-links"

		r := e.req("POST", path, owner, map[string]any{}).must(t, 201)
		url, _ := r.Body["url"].(string)
		if !strings.HasPrefix(url, "http://127.0.0.1:8080/ui/portal/") || len(url) != len("http://127.0.0.1:8080/ui/portal/")+43 {
			t.Fatalf("url = %q", url)
		}
		created, _ := time.Parse(time.RFC3339Nano, r.str("createdAt"))
		expires, _ := time.Parse(time.RFC3339Nano, r.str("expiresAt"))
		if expires.Sub(created) != time.Hour || fmt.Sprint(r.Body["capabilities"]) != "[webhooks deliveries secrets eventTypes]" ||
			!strings.HasPrefix(r.str("id"), "prtl_") || r.str("createdBy") == "admin" || r.Body["usedAt"] != nil {
			t.Fatalf("a default link: %s", r.Raw)
		}
		first := r.str("id")
		r = e.req("POST", path, adminKey, map[string]any{"expiresIn": "2h", "capabilities": []string{"deliveries", "webhooks"}, "returnUrl": "https://app.example/back"}).must(t, 201)
		created, _ = time.Parse(time.RFC3339Nano, r.str("createdAt"))
		expires, _ = time.Parse(time.RFC3339Nano, r.str("expiresAt"))
		if expires.Sub(created) != 2*time.Hour || fmt.Sprint(r.Body["capabilities"]) != "[webhooks deliveries]" ||
			r.str("createdBy") != "admin" || r.str("returnUrl") != "https://app.example/back" {
			t.Fatalf("a link with options: %s", r.Raw)
		}

		for _, c := range []struct {
			body  map[string]any
			param string
		}{
			{map[string]any{"expiresIn": "169h"}, "expiresIn"},
			{map[string]any{"expiresIn": "soon"}, "expiresIn"},
			{map[string]any{"expiresIn": "-1h"}, "expiresIn"},
			{map[string]any{"capabilities": []string{"webhooks", "keys"}}, "capabilities[1]"},
			{map[string]any{"returnUrl": "/relative"}, "returnUrl"},
			{map[string]any{"returnUrl": "javascript:alert(1)"}, "returnUrl"},
			{map[string]any{"returnUrl": "https://app.example/" + strings.Repeat("a", 2048)}, "returnUrl"},
		} {
			r := e.req("POST", path, owner, c.body)
			if r.Status != 400 || r.str("parameter_name") != c.param {
				t.Errorf("%v: %d %s, want 400 naming %s", c.body, r.Status, r.Raw, c.param)
			}
		}
		e.req("POST", path, publisher, map[string]any{}).must(t, 403)
		e.req("POST", path, globexOwner, map[string]any{}).must(t, 404)

		list := e.req("GET", path, owner, nil).must(t, 200)
		if ids := list.ids(t); len(ids) != 2 || ids[1] != first || strings.Contains(string(list.Raw), "/ui/portal/") || strings.Contains(string(list.Raw), `"url"`) {
			t.Fatalf("list: %s", list.Raw)
		}
		e.req("GET", path, globexOwner, nil).must(t, 404)
		e.req("GET", "/api/v1/projects/globex/portal-links", globexOwner, nil).must(t, 200)

		e.req("DELETE", "/api/v1/projects/globex/portal-links/"+first, globexOwner, nil).must(t, 404)
		e.req("DELETE", path+"/"+first, owner, nil).must(t, 204)
		e.req("DELETE", path+"/prtl_nosuchlink", owner, nil).must(t, 404)
		list = e.req("GET", path+"?limit=1", owner, nil).must(t, 200)
		if list.Body["nextCursor"] == nil {
			t.Fatalf("a page of 1 of 2 links has no next cursor: %s", list.Raw)
		}
	})
}
