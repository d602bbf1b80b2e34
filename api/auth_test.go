package api_test

import (
	"strings"
	"testing"
)

func TestAuthMissingKey(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		e.project("acme")
		for _, c := range []struct{ method, path string }{
			{"GET", "/api/v1/projects"},
			{"POST", "/api/v1/projects"},
			{"GET", "/api/v1/projects/acme"},
			{"GET", "/api/v1/projects/acme/webhooks"},
			{"POST", "/api/v1/projects/acme/events"},
			{"GET", "/api/v1/projects/nope/webhooks"}, // 401 before any lookup
		} {
			e.req(c.method, c.path, "", nil).problem(t, 401, "unauthorized", "")
		}
		// A body is not even looked at without a key.
		e.req("POST", "/api/v1/projects/acme/events", "", "{not json").problem(t, 401, "unauthorized", "")
	})
}

func TestAuthBadKey(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, _ := e.project("acme")
		last := owner[len(owner)-1]
		flipped := "A"
		if last == 'A' {
			flipped = "B"
		}
		for _, key := range []string{
			"nope",
			adminKey + "x",
			"hgk_",
			"hgk_" + strings.Repeat("0", 26) + "secret",
			owner[:len(owner)-1] + flipped, // right key ID, wrong secret
			owner + "x",
			strings.TrimPrefix(owner, "hgk_"),
		} {
			e.req("GET", "/api/v1/projects/acme/webhooks", key, nil).problem(t, 401, "unauthorized", "")
		}
		// The real key still works afterwards.
		e.req("GET", "/api/v1/projects/acme/webhooks", owner, nil).must(t, 200)
	})
}

func TestAuthSchemes(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, _ := e.project("acme")
		path := "/api/v1/projects/acme/webhooks"
		e.reqH("GET", path, map[string]string{"Authorization": "Bearer " + owner}, nil).must(t, 200)
		e.reqH("GET", path, map[string]string{"X-API-Key": owner}, nil).must(t, 200)
		e.reqH("GET", path, map[string]string{"Authorization": "bearer " + owner}, nil).must(t, 200)
		e.reqH("GET", "/api/v1/projects", map[string]string{"X-API-Key": adminKey}, nil).must(t, 200)

		e.reqH("GET", path, map[string]string{"Authorization": "Basic " + owner}, nil).problem(t, 401, "unauthorized", "")
		e.reqH("GET", path, map[string]string{"Authorization": "Token " + owner}, nil).problem(t, 401, "unauthorized", "")
		e.reqH("GET", path, map[string]string{"Authorization": "Bearer"}, nil).problem(t, 401, "unauthorized", "")
		e.reqH("GET", path, map[string]string{"Authorization": owner}, nil).problem(t, 401, "unauthorized", "")
		e.reqH("GET", path, map[string]string{"X-API-Key": ""}, nil).problem(t, 401, "unauthorized", "")
	})
}

func TestAuthPublisherForbidden(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, _, pub := e.project("acme")
		wh := e.webhook("acme", adminKey, map[string]any{"url": "http://127.0.0.1:9/h"}).str("id")
		ev := e.req("POST", "/api/v1/projects/acme/events", pub, map[string]any{"type": "a.b", "data": map[string]any{}}).must(t, 202).str("id")

		p := "/api/v1/projects/acme"
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", p, nil},
			{"GET", p + "/webhooks", nil},
			{"POST", p + "/webhooks", map[string]any{"url": "http://127.0.0.1:9/h"}},
			{"GET", p + "/webhooks/" + wh, nil},
			{"PATCH", p + "/webhooks/" + wh, map[string]any{"description": "x"}},
			{"DELETE", p + "/webhooks/" + wh, nil},
			{"POST", p + "/webhooks/" + wh + "/deactivate", nil},
			{"POST", p + "/webhooks/" + wh + "/activate", nil},
			{"GET", p + "/webhooks/" + wh + "/secret", nil},
			{"POST", p + "/webhooks/" + wh + "/secret/rotate", nil},
			{"GET", p + "/keys", nil},
			{"POST", p + "/keys", map[string]any{"name": "k", "role": "owner"}},
			{"GET", p + "/events", nil},
			{"GET", p + "/events/" + ev, nil},
			{"GET", p + "/events/" + ev + "/deliveries", nil},
			{"GET", p + "/deliveries", nil},
			{"GET", p + "/event-types", nil},
			{"POST", p + "/event-types", map[string]any{"name": "a.b"}},
		} {
			r := e.req(c.method, c.path, pub, c.body)
			r.problem(t, 403, "forbidden", "")
			if strings.Contains(string(r.Raw), "127.0.0.1") {
				t.Fatalf("%s %s: a publisher saw the webhook URL: %s", c.method, c.path, r.Raw)
			}
		}
		// What a publisher may do.
		e.req("POST", p+"/events", pub, map[string]any{"type": "a.b", "data": 1}).must(t, 202)
		e.req("POST", p+"/events/batch", pub, map[string]any{"events": []any{map[string]any{"type": "a.b", "data": 1}}}).must(t, 202)
		// Nothing was changed by the refused calls.
		wr := e.req("GET", p+"/webhooks/"+wh, adminKey, nil).must(t, 200)
		if wr.str("status") != "active" || wr.str("description") != "" {
			t.Fatalf("webhook changed by a publisher: %s", wr.Raw)
		}
	})
}

func TestAuthProjectKeyOnAdminOperations(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("acme")
		for _, key := range []string{owner, pub} {
			e.req("POST", "/api/v1/projects", key, map[string]any{"name": "Other"}).problem(t, 403, "forbidden", "")
			e.req("GET", "/api/v1/projects", key, nil).problem(t, 403, "forbidden", "")
			e.req("PATCH", "/api/v1/projects/acme", key, map[string]any{"name": "Renamed"}).problem(t, 403, "forbidden", "")
			e.req("DELETE", "/api/v1/projects/acme", key, nil).problem(t, 403, "forbidden", "")
		}
		// An owner may read its own project.
		r := e.req("GET", "/api/v1/projects/acme", owner, nil).must(t, 200)
		if r.str("name") != "Project acme" {
			t.Fatalf("project changed: %s", r.Raw)
		}
		if n := len(e.req("GET", "/api/v1/projects", adminKey, nil).must(t, 200).items(t)); n != 1 {
			t.Fatalf("%d projects, want 1", n)
		}
	})
}

func TestAuthCrossProject(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		_, ownerA, pubA := e.project("alpha")
		idB, ownerB, _ := e.project("beta")
		whB := e.webhook("beta", ownerB, map[string]any{"url": "http://127.0.0.1:9/beta-secret-path"}).str("id")
		evB := e.req("POST", "/api/v1/projects/beta/events", ownerB, map[string]any{"type": "a.b", "data": 1}).must(t, 202).str("id")
		dB := e.req("GET", "/api/v1/projects/beta/deliveries", ownerB, nil).must(t, 200).ids(t)
		if len(dB) != 1 {
			t.Fatalf("beta has %d deliveries, want 1", len(dB))
		}
		keysB := e.req("GET", "/api/v1/projects/beta/keys", ownerB, nil).must(t, 200).ids(t)

		for _, ref := range []string{"beta", idB} {
			p := "/api/v1/projects/" + ref
			for _, c := range []struct {
				method, path string
				body         any
			}{
				{"GET", p, nil},
				{"GET", p + "/webhooks", nil},
				{"POST", p + "/webhooks", map[string]any{"url": "http://127.0.0.1:9/h"}},
				{"GET", p + "/webhooks/" + whB, nil},
				{"PATCH", p + "/webhooks/" + whB, map[string]any{"url": "http://127.0.0.1:9/stolen"}},
				{"DELETE", p + "/webhooks/" + whB, nil},
				{"POST", p + "/webhooks/" + whB + "/deactivate", nil},
				{"GET", p + "/webhooks/" + whB + "/secret", nil},
				{"POST", p + "/webhooks/" + whB + "/secret/rotate", nil},
				{"GET", p + "/keys", nil},
				{"POST", p + "/keys", map[string]any{"name": "k", "role": "owner"}},
				{"DELETE", p + "/keys/" + keysB[0], nil},
				{"POST", p + "/events", map[string]any{"type": "a.b", "data": 1}},
				{"POST", p + "/events/batch", map[string]any{"events": []any{map[string]any{"type": "a.b", "data": 1}}}},
				{"GET", p + "/events", nil},
				{"GET", p + "/events/" + evB, nil},
				{"GET", p + "/deliveries/" + dB[0], nil},
				{"GET", p + "/event-types", nil},
			} {
				for _, key := range []string{ownerA, pubA} {
					r := e.req(c.method, c.path, key, c.body)
					r.problem(t, 404, "not_found", "")
					if strings.Contains(string(r.Raw), "beta-secret-path") {
						t.Fatalf("%s %s leaked beta's webhook: %s", c.method, c.path, r.Raw)
					}
				}
			}
		}
		// Alpha's own paths with beta's IDs find nothing either.
		pa := "/api/v1/projects/alpha"
		e.req("GET", pa+"/webhooks/"+whB, ownerA, nil).problem(t, 404, "not_found", "")
		e.req("PATCH", pa+"/webhooks/"+whB, ownerA, map[string]any{"description": "x"}).problem(t, 404, "not_found", "")
		e.req("DELETE", pa+"/webhooks/"+whB, ownerA, nil).problem(t, 404, "not_found", "")
		e.req("POST", pa+"/webhooks/"+whB+"/deactivate", ownerA, nil).problem(t, 404, "not_found", "")
		e.req("GET", pa+"/webhooks/"+whB+"/secret", ownerA, nil).problem(t, 404, "not_found", "")
		e.req("POST", pa+"/webhooks/"+whB+"/secret/rotate", ownerA, nil).problem(t, 404, "not_found", "")
		e.req("GET", pa+"/events/"+evB, ownerA, nil).problem(t, 404, "not_found", "")
		e.req("GET", pa+"/events/"+evB+"/deliveries", ownerA, nil).problem(t, 404, "not_found", "")
		e.req("GET", pa+"/deliveries/"+dB[0], ownerA, nil).problem(t, 404, "not_found", "")
		e.req("DELETE", pa+"/keys/"+keysB[0], ownerA, nil).problem(t, 404, "not_found", "")
		if n := len(e.req("GET", pa+"/deliveries?webhook="+whB, ownerA, nil).must(t, 200).items(t)); n != 0 {
			t.Fatalf("alpha lists %d of beta's deliveries", n)
		}

		// Beta is untouched.
		w := e.req("GET", "/api/v1/projects/beta/webhooks/"+whB, ownerB, nil).must(t, 200)
		if w.str("url") != "http://127.0.0.1:9/beta-secret-path" || w.str("status") != "active" {
			t.Fatalf("beta's webhook changed: %s", w.Raw)
		}
		if n := len(e.req("GET", "/api/v1/projects/beta/events", ownerB, nil).must(t, 200).items(t)); n != 1 {
			t.Fatalf("beta has %d events, want 1", n)
		}
		if n := len(e.req("GET", "/api/v1/projects/beta/keys", ownerB, nil).must(t, 200).items(t)); n != len(keysB) {
			t.Fatalf("beta has %d keys, want %d", n, len(keysB))
		}
	})
}

func TestAuthRevokedKey(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, _ := e.project("acme")
		k := e.req("POST", "/api/v1/projects/acme/keys", owner, map[string]any{"name": "temp", "role": "publisher"}).must(t, 201)
		key, id := k.str("key"), k.str("id")
		e.req("POST", "/api/v1/projects/acme/events", key, map[string]any{"type": "a.b", "data": 1}).must(t, 202)
		e.req("DELETE", "/api/v1/projects/acme/keys/"+id, owner, nil).must(t, 204)
		e.req("POST", "/api/v1/projects/acme/events", key, map[string]any{"type": "a.b", "data": 1}).problem(t, 401, "unauthorized", "")

		// An owner key revoked by the admin stops working at once too.
		ownerID := ""
		for _, it := range e.req("GET", "/api/v1/projects/acme/keys", owner, nil).must(t, 200).items(t) {
			if it["name"] == "owner" {
				ownerID, _ = it["id"].(string)
			}
		}
		if ownerID == "" {
			t.Fatal("owner key not listed")
		}
		e.req("DELETE", "/api/v1/projects/acme/keys/"+ownerID, adminKey, nil).must(t, 204)
		e.req("GET", "/api/v1/projects/acme/webhooks", owner, nil).problem(t, 401, "unauthorized", "")
	})
}

func TestAuthKeysOfDeletedProject(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("acme")
		e.req("GET", "/api/v1/projects/acme/webhooks", owner, nil).must(t, 200) // cache the key
		e.req("DELETE", "/api/v1/projects/acme", adminKey, nil).must(t, 204)
		e.req("GET", "/api/v1/projects/acme/webhooks", owner, nil).problem(t, 401, "unauthorized", "")
		e.req("POST", "/api/v1/projects/acme/events", pub, map[string]any{"type": "a.b", "data": 1}).problem(t, 401, "unauthorized", "")
		// A new project with the same slug does not accept the old keys.
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "Acme", "slug": "acme"}).must(t, 201)
		e.req("GET", "/api/v1/projects/acme/webhooks", owner, nil).problem(t, 401, "unauthorized", "")
	})
}

func TestAuthSlugChangeFollowsKeys(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		id, owner, _ := e.project("acme")
		e.req("GET", "/api/v1/projects/acme/webhooks", owner, nil).must(t, 200) // cache the key with the old slug
		e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"slug": "acme-two"}).must(t, 200)
		e.req("GET", "/api/v1/projects/acme-two/webhooks", owner, nil).must(t, 200)
		e.req("GET", "/api/v1/projects/"+id+"/webhooks", owner, nil).must(t, 200)
		e.req("GET", "/api/v1/projects/acme/webhooks", owner, nil).problem(t, 404, "not_found", "")
	})
}

func TestAuthAdminActsInAnyProject(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		idA, _, _ := e.project("alpha")
		e.project("beta")
		for _, ref := range []string{idA, "beta"} {
			p := "/api/v1/projects/" + ref
			wh := e.webhook(ref, adminKey, map[string]any{"url": "http://127.0.0.1:9/h"}).str("id")
			e.req("GET", p+"/webhooks/"+wh, adminKey, nil).must(t, 200)
			e.req("GET", p+"/webhooks/"+wh+"/secret", adminKey, nil).must(t, 200)
			ev := e.req("POST", p+"/events", adminKey, map[string]any{"type": "a.b", "data": 1}).must(t, 202)
			if d, _ := ev.Body["deliveries"].(float64); d != 1 {
				t.Fatalf("deliveries %v, want 1: %s", ev.Body["deliveries"], ev.Raw)
			}
			e.req("GET", p+"/events", adminKey, nil).must(t, 200)
			e.req("GET", p+"/deliveries", adminKey, nil).must(t, 200)
			e.req("GET", p+"/keys", adminKey, nil).must(t, 200)
			e.req("POST", p+"/event-types", adminKey, map[string]any{"name": "a.b"}).must(t, 201)
		}
		if n := len(e.req("GET", "/api/v1/projects/alpha/webhooks", adminKey, nil).must(t, 200).items(t)); n != 1 {
			t.Fatalf("alpha has %d webhooks, want 1", n)
		}
		e.req("GET", "/api/v1/projects/nope/webhooks", adminKey, nil).problem(t, 404, "not_found", "")
		e.req("GET", "/api/v1/projects/proj_00000000000000000000000000/webhooks", adminKey, nil).problem(t, 404, "not_found", "")
	})
}

// Failed authentications are limited per client address: after a burst, a
// wrong key is answered 429 with Retry-After; a right key still passes.
func TestFailedAuthRateLimited(t *testing.T) {
	t.Parallel()
	e := setup(t, "sqlite")
	_, owner, _ := e.project("rl")
	limited := 0
	for range 30 {
		r := e.req("GET", "/api/v1/projects/rl/webhooks", "hgk_wrong", nil)
		if r.Status == 429 {
			limited++
			if r.Header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
		}
	}
	if limited < 5 {
		t.Fatalf("%d of 30 bad keys were limited", limited)
	}
	e.req("GET", "/api/v1/projects/rl/webhooks", owner, nil).must(t, 200) // a right key still passes
}
