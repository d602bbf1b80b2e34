package api_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testwait"
)

// parseTime fails the test unless field of body is an RFC 3339 time.
func parseTime(t testing.TB, r resp, field string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, r.str(field))
	if err != nil {
		t.Fatalf("%s %q is not RFC 3339: %s", field, r.str(field), r.Raw)
	}
	return ts
}

// clockPast waits until the wall clock, at the microsecond the store keeps,
// is past ts: a write after it then gets a later time. A condition, not a
// sleep that hopes the clock has moved.
func clockPast(t testing.TB, ts time.Time) {
	t.Helper()
	testwait.For(t, "the clock to pass "+ts.Format(time.RFC3339Nano), func() bool {
		return time.Now().Truncate(time.Microsecond).After(ts)
	})
}

func TestProjectCreate(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		before := time.Now().Add(-time.Minute)
		r := e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "Acme Corp", "slug": "acme"}).must(t, 201)
		if !strings.HasPrefix(r.str("id"), "proj_") || r.str("slug") != "acme" || r.str("name") != "Acme Corp" {
			t.Fatalf("bad project: %s", r.Raw)
		}
		c, u := parseTime(t, r, "createdAt"), parseTime(t, r, "updatedAt")
		if c.Before(before) || c.After(time.Now().Add(time.Minute)) || !u.Equal(c) {
			t.Fatalf("createdAt %v updatedAt %v", c, u)
		}
		if len(r.Body) != 10 || r.Body["autoRecover"] != nil || r.Body["portal"] == nil || r.Body["traceHeaders"] != true {
			t.Fatalf("want exactly id, slug, name, retrySchedule, autoRecover (null), breaker, portal, traceHeaders (true), createdAt, updatedAt: %s", r.Raw)
		}
		g := e.req("GET", "/api/v1/projects/"+r.str("id"), adminKey, nil).must(t, 200)
		// Equality to the microsecond: the exact stamp is TestTimestampsStableOnReadBack's.
		if g.str("slug") != "acme" || g.str("name") != "Acme Corp" || !parseTime(t, g, "createdAt").Equal(c.Truncate(time.Microsecond)) {
			t.Fatalf("read back %s, created %s", g.Raw, r.Raw)
		}
	})
}

// TestTimestampsStableOnReadBack checks that a resource reads back with the
// createdAt and updatedAt that its creation answered.
func TestTimestampsStableOnReadBack(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		p := e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "Acme", "slug": "acme"}).must(t, 201)
		w := e.webhook("acme", adminKey, map[string]any{"url": "http://127.0.0.1:9/h"})
		et := e.req("POST", "/api/v1/projects/acme/event-types", adminKey, map[string]any{"name": "a.b"}).must(t, 201)
		k := e.req("POST", "/api/v1/projects/acme/keys", adminKey, map[string]any{"name": "k", "role": "owner"}).must(t, 201)
		for _, c := range []struct {
			created resp
			path    string
		}{
			{p, "/api/v1/projects/acme"},
			{w, "/api/v1/projects/acme/webhooks/" + w.str("id")},
			{et, "/api/v1/projects/acme/event-types/a.b"},
		} {
			g := e.req("GET", c.path, adminKey, nil).must(t, 200)
			for _, f := range []string{"createdAt", "updatedAt"} {
				if g.str(f) != c.created.str(f) {
					t.Errorf("%s %s: created %s, read back %s", c.path, f, c.created.str(f), g.str(f))
				}
			}
		}
		for _, c := range []struct{ path, body string }{
			{"/api/v1/projects/acme", `{"name":"Renamed"}`},
			{"/api/v1/projects/acme/webhooks/" + w.str("id"), `{"description":"d"}`},
			{"/api/v1/projects/acme/event-types/a.b", `{"description":"d"}`},
		} {
			p := e.req("PATCH", c.path, adminKey, c.body).must(t, 200)
			if g := e.req("GET", c.path, adminKey, nil).must(t, 200); g.str("updatedAt") != p.str("updatedAt") {
				t.Errorf("PATCH %s answered updatedAt %s, read back %s", c.path, p.str("updatedAt"), g.str("updatedAt"))
			}
		}
		l := e.req("GET", "/api/v1/projects/acme/keys", adminKey, nil).must(t, 200).items(t)
		if len(l) != 1 || l[0]["createdAt"] != k.str("createdAt") {
			t.Errorf("key created %s, listed %v", k.str("createdAt"), l)
		}
	})
}

func TestProjectSlugDerivedFromName(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		for _, c := range []struct{ name, slug string }{
			{"My Shop!", "my-shop"},
			{"  Hello,   World 2  ", "hello-world-2"},
			{"simple", "simple"},
			{strings.Repeat("ab ", 40), strings.TrimRight(strings.Repeat("ab-", 21), "-")},
		} {
			r := e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": c.name}).must(t, 201)
			if r.str("slug") != c.slug || r.str("name") != c.name {
				t.Fatalf("name %q: slug %q, want %q", c.name, r.str("slug"), c.slug)
			}
			e.req("GET", "/api/v1/projects/"+c.slug, adminKey, nil).must(t, 200)
		}
		// A second project with the same name gets a conflict on the derived slug.
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "My Shop?"}).problem(t, 409, "conflict", "slug")
		// A name with nothing to derive a slug from asks for one.
		r := e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "!!!"})
		if r.Status != 400 || r.Body["parameter_name"] != "slug" {
			t.Fatalf("want 400 naming slug: %d %s", r.Status, r.Raw)
		}
	})
}

func TestProjectDuplicateSlug(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "A", "slug": "acme"}).must(t, 201)
		r := e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "B", "slug": "acme"}).problem(t, 409, "conflict", "slug")
		if r.Body["parameter_value"] != "acme" {
			t.Fatalf("parameter_value %v", r.Body["parameter_value"])
		}
		if n := len(e.req("GET", "/api/v1/projects", adminKey, nil).must(t, 200).items(t)); n != 1 {
			t.Fatalf("%d projects, want 1", n)
		}
	})
}

func TestProjectInvalid(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		for _, slug := range []string{"Bad Slug", "UPPER", "-dash", "a_b", "proj_x", "a/b", "ü", strings.Repeat("a", 64)} {
			r := e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "X", "slug": slug}).problem(t, 400, "invalid_parameter", "slug")
			if r.Body["parameter_value"] != slug {
				t.Fatalf("slug %q: parameter_value %v", slug, r.Body["parameter_value"])
			}
		}
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "X", "slug": strings.Repeat("a", 63)}).must(t, 201)
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"slug": "acme"}).problem(t, 400, "missing_parameter", "name")
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "", "slug": "acme"}).problem(t, 400, "missing_parameter", "name")
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{}).problem(t, 400, "missing_parameter", "name")
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": strings.Repeat("n", 201)}).problem(t, 400, "invalid_parameter", "name")
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": 5}).problem(t, 400, "invalid_parameter", "name")
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "X", "slug": "ok", "extra": true}).problem(t, 400, "invalid_parameter", "extra")
		if n := len(e.req("GET", "/api/v1/projects", adminKey, nil).must(t, 200).items(t)); n != 1 {
			t.Fatalf("%d projects, want 1", n)
		}
	})
}

func TestProjectGet(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		id, owner, _ := e.project("acme")
		for _, ref := range []string{id, "acme"} {
			for _, key := range []string{adminKey, owner} {
				r := e.req("GET", "/api/v1/projects/"+ref, key, nil).must(t, 200)
				if r.str("id") != id || r.str("slug") != "acme" || r.str("name") != "Project acme" {
					t.Fatalf("GET %s: %s", ref, r.Raw)
				}
			}
		}
		e.req("GET", "/api/v1/projects/nope", adminKey, nil).problem(t, 404, "not_found", "")
		e.req("GET", "/api/v1/projects/proj_01aaaaaaaaaaaaaaaaaaaaaaaa", adminKey, nil).problem(t, 404, "not_found", "")
	})
}

func TestProjectPatch(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		id, _, _ := e.project("acme")
		e.project("taken")
		orig := e.req("GET", "/api/v1/projects/acme", adminKey, nil).must(t, 200)
		clockPast(t, parseTime(t, orig, "updatedAt"))

		r := e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"name": "Renamed"}).must(t, 200)
		if r.str("name") != "Renamed" || r.str("slug") != "acme" || r.str("id") != id {
			t.Fatalf("patch name: %s", r.Raw)
		}
		if !parseTime(t, r, "updatedAt").After(parseTime(t, orig, "updatedAt")) || !parseTime(t, r, "createdAt").Equal(parseTime(t, orig, "createdAt")) {
			t.Fatalf("timestamps after patch: %s, before: %s", r.Raw, orig.Raw)
		}
		r = e.req("PATCH", "/api/v1/projects/"+id, adminKey, map[string]any{"slug": "acme-2"}).must(t, 200)
		if r.str("name") != "Renamed" || r.str("slug") != "acme-2" {
			t.Fatalf("patch slug: %s", r.Raw)
		}
		e.req("GET", "/api/v1/projects/acme", adminKey, nil).problem(t, 404, "not_found", "")
		g := e.req("GET", "/api/v1/projects/acme-2", adminKey, nil).must(t, 200)
		if g.str("id") != id || g.str("name") != "Renamed" {
			t.Fatalf("read back: %s", g.Raw)
		}
		r = e.req("PATCH", "/api/v1/projects/acme-2", adminKey, map[string]any{"name": "Both", "slug": "acme"}).must(t, 200)
		if r.str("name") != "Both" || r.str("slug") != "acme" {
			t.Fatalf("patch both: %s", r.Raw)
		}
		e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{}).must(t, 200)

		// Errors change nothing.
		e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"slug": "Bad Slug"}).problem(t, 400, "invalid_parameter", "slug")
		e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"slug": "taken"}).problem(t, 409, "conflict", "slug")
		e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"name": ""}).problem(t, 400, "missing_parameter", "name")
		e.req("PATCH", "/api/v1/projects/acme", adminKey, map[string]any{"name": "New", "slug": "taken"}).problem(t, 409, "conflict", "slug")
		e.req("PATCH", "/api/v1/projects/nope", adminKey, map[string]any{"name": "X"}).problem(t, 404, "not_found", "")
		g = e.req("GET", "/api/v1/projects/acme", adminKey, nil).must(t, 200)
		if g.str("name") != "Both" || g.str("id") != id {
			t.Fatalf("changed by failed patches: %s", g.Raw)
		}
	})
}

func TestProjectList(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		var want []string
		for i := range 5 {
			r := e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": fmt.Sprintf("P%d", i)}).must(t, 201)
			want = append(want, r.str("id"))
		}
		slices.Reverse(want) // newest first

		all := e.req("GET", "/api/v1/projects", adminKey, nil).must(t, 200)
		if got := all.ids(t); !slices.Equal(got, want) {
			t.Fatalf("list %v, want %v", got, want)
		}
		if all.next(t) != "" {
			t.Fatalf("nextCursor on the only page: %s", all.Raw)
		}
		var got []string
		cursor, pages := "", 0
		for {
			q := "/api/v1/projects?limit=2"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			r := e.req("GET", q, adminKey, nil).must(t, 200)
			page := r.ids(t)
			pages++
			if len(page) > 2 || len(page) == 0 {
				t.Fatalf("page of %d: %s", len(page), r.Raw)
			}
			got = append(got, page...)
			if cursor = r.next(t); cursor == "" {
				break
			}
			if pages > 5 {
				t.Fatal("endless pages")
			}
		}
		if pages != 3 || !slices.Equal(got, want) {
			t.Fatalf("%d pages %v, want 3 pages %v", pages, got, want)
		}
		// A page that ends exactly at the last item has no next cursor.
		r := e.req("GET", "/api/v1/projects?limit=5", adminKey, nil).must(t, 200)
		if len(r.ids(t)) != 5 || r.next(t) != "" {
			t.Fatalf("limit=5: %s", r.Raw)
		}
		for _, bad := range []string{"0", "251", "-1", "abc"} {
			e.req("GET", "/api/v1/projects?limit="+bad, adminKey, nil).problem(t, 400, "invalid_parameter", "limit")
		}
		e.req("GET", "/api/v1/projects?limit=250", adminKey, nil).must(t, 200)
	})
}

func TestProjectDelete(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		id, _, _ := e.project("acme")
		e.project("other")
		e.webhook("acme", adminKey, map[string]any{"url": "http://127.0.0.1:9/h"})
		e.req("POST", "/api/v1/projects/acme/events", adminKey, map[string]any{"type": "a.b", "data": 1}).must(t, 202)

		e.req("DELETE", "/api/v1/projects/acme", adminKey, nil).must(t, 204)
		e.req("GET", "/api/v1/projects/acme", adminKey, nil).problem(t, 404, "not_found", "")
		e.req("GET", "/api/v1/projects/"+id, adminKey, nil).problem(t, 404, "not_found", "")
		e.req("GET", "/api/v1/projects/acme/webhooks", adminKey, nil).problem(t, 404, "not_found", "")
		e.req("DELETE", "/api/v1/projects/acme", adminKey, nil).problem(t, 404, "not_found", "")
		if got := e.req("GET", "/api/v1/projects", adminKey, nil).must(t, 200).items(t); len(got) != 1 || got[0]["slug"] != "other" {
			t.Fatalf("projects left: %v", got)
		}
		// The slug is free again, and the new project is empty.
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "Acme", "slug": "acme"}).must(t, 201)
		if n := len(e.req("GET", "/api/v1/projects/acme/webhooks", adminKey, nil).must(t, 200).items(t)); n != 0 {
			t.Fatalf("new project has %d webhooks", n)
		}
		if n := len(e.req("GET", "/api/v1/projects/acme/events", adminKey, nil).must(t, 200).items(t)); n != 0 {
			t.Fatalf("new project has %d events", n)
		}
	})
}

func TestKeyCreateAndList(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "Acme", "slug": "acme"}).must(t, 201)
		var made []string
		for _, role := range []string{"owner", "publisher"} {
			r := e.req("POST", "/api/v1/projects/acme/keys", adminKey, map[string]any{"name": "k-" + role, "role": role}).must(t, 201)
			if !strings.HasPrefix(r.str("key"), "hgk_") || len(r.str("key")) < 40 {
				t.Fatalf("key %q", r.str("key"))
			}
			if !strings.HasPrefix(r.str("id"), "key_") || r.str("name") != "k-"+role || r.str("role") != role {
				t.Fatalf("bad key: %s", r.Raw)
			}
			parseTime(t, r, "createdAt")
			if strings.Contains(r.str("key"), r.str("id")) {
				t.Fatalf("the key is its id: %s", r.Raw)
			}
			made = append(made, r.str("id"))
			made = append(made, r.str("key"))
		}
		l := e.req("GET", "/api/v1/projects/acme/keys", adminKey, nil).must(t, 200)
		items := l.items(t)
		if len(items) != 2 || items[0]["id"] != made[2] || items[1]["id"] != made[0] {
			t.Fatalf("list newest first %v, want %s, %s", l.ids(t), made[2], made[0])
		}
		for _, it := range items {
			if _, ok := it["key"]; ok {
				t.Fatalf("a list shows the key: %s", l.Raw)
			}
		}
		if strings.Contains(string(l.Raw), made[1]) || strings.Contains(string(l.Raw), made[3]) || strings.Contains(string(l.Raw), "hgk_") {
			t.Fatalf("a list leaks a key: %s", l.Raw)
		}
		p := e.req("GET", "/api/v1/projects/acme/keys?limit=1", adminKey, nil).must(t, 200)
		if len(p.items(t)) != 1 || p.next(t) == "" {
			t.Fatalf("limit=1: %s", p.Raw)
		}
		p = e.req("GET", "/api/v1/projects/acme/keys?limit=1&cursor="+p.next(t), adminKey, nil).must(t, 200)
		if ids := p.ids(t); len(ids) != 1 || ids[0] != made[0] || p.next(t) != "" {
			t.Fatalf("second page: %s", p.Raw)
		}
		// The new owner key may itself make keys; the publisher may not.
		e.req("POST", "/api/v1/projects/acme/keys", made[1], map[string]any{"name": "by-owner", "role": "publisher"}).must(t, 201)
		e.req("POST", "/api/v1/projects/acme/keys", made[3], map[string]any{"name": "by-pub", "role": "owner"}).problem(t, 403, "forbidden", "")
	})
}

func TestKeyInvalid(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "Acme", "slug": "acme"}).must(t, 201)
		p := "/api/v1/projects/acme/keys"
		for _, role := range []string{"admin", "OWNER", "", "reader"} {
			e.req("POST", p, adminKey, map[string]any{"name": "k", "role": role}).problem(t, 400, "invalid_parameter", "role")
		}
		e.req("POST", p, adminKey, map[string]any{"name": "k"}).problem(t, 400, "missing_parameter", "role")
		e.req("POST", p, adminKey, map[string]any{"role": "owner"}).problem(t, 400, "missing_parameter", "name")
		e.req("POST", p, adminKey, map[string]any{"name": "", "role": "owner"}).problem(t, 400, "missing_parameter", "name")
		e.req("POST", "/api/v1/projects/nope/keys", adminKey, map[string]any{"name": "k", "role": "owner"}).problem(t, 404, "not_found", "")
		if n := len(e.req("GET", p, adminKey, nil).must(t, 200).items(t)); n != 0 {
			t.Fatalf("%d keys made by bad requests", n)
		}
	})
}

func TestKeyDelete(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "Acme", "slug": "acme"}).must(t, 201)
		k := e.req("POST", "/api/v1/projects/acme/keys", adminKey, map[string]any{"name": "k", "role": "owner"}).must(t, 201)
		e.req("DELETE", "/api/v1/projects/acme/keys/"+k.str("id"), adminKey, nil).must(t, 204)
		e.req("DELETE", "/api/v1/projects/acme/keys/"+k.str("id"), adminKey, nil).problem(t, 404, "not_found", "")
		e.req("DELETE", "/api/v1/projects/acme/keys/key_01aaaaaaaaaaaaaaaaaaaaaaaa", adminKey, nil).problem(t, 404, "not_found", "")
		e.req("DELETE", "/api/v1/projects/acme/keys/nope", adminKey, nil).problem(t, 404, "not_found", "")
		if n := len(e.req("GET", "/api/v1/projects/acme/keys", adminKey, nil).must(t, 200).items(t)); n != 0 {
			t.Fatalf("%d keys left", n)
		}
		e.req("GET", "/api/v1/projects/acme", k.str("key"), nil).problem(t, 401, "unauthorized", "")
	})
}

func TestProjectRetrySchedule(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		r := e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "S", "retrySchedule": []string{"10s", "90s", "2h"}}).must(t, 201)
		if got := fmt.Sprint(r.Body["retrySchedule"]); got != "[10s 1m30s 2h]" {
			t.Fatalf("retrySchedule = %s: %s", got, r.Raw)
		}
		id := r.str("id")
		e.req("PATCH", "/api/v1/projects/"+id, adminKey, map[string]any{"name": "T"}).must(t, 200)
		if got := fmt.Sprint(e.req("GET", "/api/v1/projects/"+id, adminKey, nil).must(t, 200).Body["retrySchedule"]); got != "[10s 1m30s 2h]" {
			t.Fatalf("a patch without retrySchedule changed it: %s", got)
		}
		for _, c := range []struct {
			sched []string
			param string
		}{
			{[]string{"10s", "soon"}, "retrySchedule[1]"},
			{[]string{"500ms"}, "retrySchedule[0]"},
			{[]string{"1s", "169h"}, "retrySchedule[1]"},
		} {
			e.req("PATCH", "/api/v1/projects/"+id, adminKey, map[string]any{"retrySchedule": c.sched}).problem(t, 400, "invalid_parameter", c.param)
			e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "U", "retrySchedule": c.sched}).problem(t, 400, "invalid_parameter", c.param)
		}
		long := make([]string, 51)
		for i := range long {
			long[i] = "1s"
		}
		e.req("PATCH", "/api/v1/projects/"+id, adminKey, map[string]any{"retrySchedule": long}).problem(t, 400, "invalid_parameter", "retrySchedule")
		if got := fmt.Sprint(e.req("GET", "/api/v1/projects/"+id, adminKey, nil).must(t, 200).Body["retrySchedule"]); got != "[10s 1m30s 2h]" {
			t.Fatalf("a refused patch changed retrySchedule: %s", got)
		}
		r = e.req("PATCH", "/api/v1/projects/"+id, adminKey, map[string]any{"retrySchedule": []string{}}).must(t, 200)
		if got := fmt.Sprint(r.Body["retrySchedule"]); got != "[]" {
			t.Fatalf("[] should restore the server's schedule: %s", r.Raw)
		}
	})
}
