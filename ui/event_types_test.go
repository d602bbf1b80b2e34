package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// catalog gives project shop two event types with a description and a
// schema, and one with neither.
func catalog(t *testing.T, admin *client.Client, project string) {
	t.Helper()
	ctx := context.Background()
	for _, et := range []client.EventTypeCreate{
		{Name: "order.paid", Description: "An order was paid in full.",
			Schema: json.RawMessage(`{"type":"object","required":["orderId","amount"],"properties":{"amount":{"type":"integer","minimum":1},"orderId":{"type":"string"},"paidAt":{"type":"string","format":"date-time"}}}`)},
		{Name: "order.refunded", Description: "An order was refunded, in part or in full.",
			Schema: json.RawMessage(`{"type":"object","properties":{"reason":{"enum":["damaged","late"]}}}`)},
		{Name: "user.created"},
	} {
		if _, err := admin.CreateEventType(ctx, project, et); err != nil {
			t.Fatal(err)
		}
	}
}

// Issue 25, item 2: the event types page shows each type of the
// project's catalog with its description, its schema and an example, and
// pages as the API pages.
func TestEventTypesPage(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, _ := shop(t, srv)
		b := newSignedIn(t, srv.URL)

		st, _, page := b.get("/ui/p/shop/event-types")
		if st != 200 || !strings.Contains(page, "No event type in this project's catalog.") {
			t.Fatalf("an empty catalog: %d\n%s", st, page)
		}
		catalog(t, admin, "shop")
		st, _, page = b.get("/ui/p/shop/event-types")
		if st != 200 {
			t.Fatalf("the event types page: %d\n%s", st, page)
		}
		for _, want := range []string{
			`<a href="/ui/p/shop/event-types">Event types</a>`,
			`<h2 id="et-order.paid"><code>order.paid</code></h2>`,
			`<p>An order was paid in full.</p>`,
			"<pre>{\n  &#34;type&#34;: &#34;object&#34;,\n  &#34;required&#34;: [\n    &#34;orderId&#34;,",
			"<pre>{\n  &#34;orderId&#34;: &#34;string&#34;,\n  &#34;amount&#34;: 1,\n  &#34;paidAt&#34;: &#34;2026-01-01T00:00:00Z&#34;\n}</pre>",
			"<p>An order was refunded, in part or in full.</p>",
			"<pre>{\n  &#34;reason&#34;: &#34;damaged&#34;\n}</pre>",
			`<h2 id="et-user.created"><code>user.created</code></h2>`,
			"No description.",
			"No schema: its events may carry any data.",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the event types page lacks %q\n%s", want, page)
			}
		}
		if strings.Contains(page, "More event types") {
			t.Error("three types have a next page")
		}

		// Paged as the API pages: 50, then the rest.
		ctx := context.Background()
		for i := range 50 {
			if _, err := admin.CreateEventType(ctx, "shop", client.EventTypeCreate{Name: fmt.Sprintf("z.%02d", i)}); err != nil {
				t.Fatal(err)
			}
		}
		_, _, page = b.get("/ui/p/shop/event-types")
		if n := strings.Count(page, `<section class="card catalog"`); n != 50 {
			t.Fatalf("the first page lists %d types", n)
		}
		i := strings.Index(page, `<a rel="next" href="`)
		if i < 0 {
			t.Fatalf("no next page\n%s", page)
		}
		next := strings.ReplaceAll(strings.SplitN(page[i+len(`<a rel="next" href="`):], `"`, 2)[0], "&amp;", "&")
		_, _, page = b.get(next)
		if n := strings.Count(page, `<section class="card catalog"`); n != 3 || !strings.Contains(page, "z.49") || strings.Contains(page, "More event types") {
			t.Fatalf("the second page (%s) lists %d types\n%s", next, n, page)
		}
	})
}

// Issue 25, item 2: the webhook forms offer the catalog's types as
// checkboxes beside the events field; what is checked is added to what is
// typed, a refusal keeps what was checked, and the edit form shows the
// webhook's catalog types checked and the rest typed.
func TestWebhookFormsOfferTheCatalog(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, _ := shop(t, srv)
		ctx := context.Background()
		b := newSignedIn(t, srv.URL)

		_, _, page := b.get("/ui/p/shop/webhooks")
		if strings.Contains(page, `name="eventType"`) {
			t.Fatal("a project without a catalog gets checkboxes")
		}
		catalog(t, admin, "shop")
		_, _, page = b.get("/ui/p/shop/webhooks")
		for _, want := range []string{
			`<input type="checkbox" id="et-0" name="eventType" value="order.paid">`,
			`<span><code>order.paid</code><br><small>An order was paid in full.</small></span>`,
			`<input type="checkbox" id="et-2" name="eventType" value="user.created">`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the register form lacks %s", want)
			}
		}
		token := csrfOf(t, page)

		// Refused: the problem next to the events field, the boxes still checked.
		st, _, page := b.post("/ui/p/shop/webhooks", url.Values{"csrf": {token}, "url": {"http://127.0.0.1:9/x"}, "events": {"bad event"},
			"eventType": {"order.paid", "user.created"}}, srv.URL)
		if st != http.StatusBadRequest || !strings.Contains(page, `<p class="field-error" id="events-error">`) ||
			!strings.Contains(page, `value="order.paid" checked>`) || !strings.Contains(page, `value="user.created" checked>`) ||
			strings.Contains(page, `value="order.refunded" checked>`) {
			t.Fatalf("a refused registration: %d\n%s", st, page)
		}

		st, loc, page := b.post("/ui/p/shop/webhooks", url.Values{"csrf": {token}, "url": {"http://127.0.0.1:9/billing"}, "uid": {"billing"},
			"events": {"invoice.*"}, "eventType": {"order.paid", "user.created"}}, srv.URL)
		if st != http.StatusSeeOther {
			t.Fatalf("registering with two checked types: %d\n%s", st, page)
		}
		wh, err := admin.GetWebhook(ctx, "shop", "billing")
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"invoice.*", "order.paid", "user.created"}; !slices.Equal(wh.Events, want) {
			t.Fatalf("registered with events %q, want %q (redirected to %s)", wh.Events, want, loc)
		}

		edit := "/ui/p/shop/webhooks/" + wh.ID + "/edit"
		_, _, page = b.get(edit)
		for _, want := range []string{`id="events" name="events" value="invoice.*"`, `value="order.paid" checked>`, `value="user.created" checked>`} {
			if !strings.Contains(page, want) {
				t.Errorf("the edit form lacks %s\n%s", want, page)
			}
		}
		if strings.Contains(page, `value="order.refunded" checked>`) {
			t.Error("the edit form checks a type the webhook does not have")
		}
		base := url.Values{"csrf": {csrfOf(t, page)}, "url": {wh.URL}, "uid": {"billing"}, "description": {""}, "events": {"invoice.*"}}
		form := url.Values{"eventType": {"user.created", "order.paid"}}
		for k, v := range base {
			form[k] = v
		}
		if st, loc, _ := b.post(edit, form, srv.URL); st != http.StatusSeeOther || !strings.Contains(loc, "done=unchanged") {
			t.Fatalf("the edit form as shown: %d to %s", st, loc)
		}
		form["eventType"] = []string{"order.refunded"}
		if st, loc, _ := b.post(edit, form, srv.URL); st != http.StatusSeeOther || !strings.Contains(loc, "done=updated") {
			t.Fatalf("checking another type: %d to %s", st, loc)
		}
		if wh, err = admin.GetWebhook(ctx, "shop", "billing"); err != nil {
			t.Fatal(err)
		}
		if want := []string{"invoice.*", "order.refunded"}; !slices.Equal(wh.Events, want) {
			t.Fatalf("edited to events %q, want %q", wh.Events, want)
		}
		// Refused: the problem next to the events field, the box still checked.
		form["events"] = []string{"bad event"}
		st, _, page = b.post(edit, form, srv.URL)
		if st != http.StatusBadRequest || !strings.Contains(page, `<p class="field-error" id="events-error">`) || !strings.Contains(page, `value="order.refunded" checked>`) {
			t.Fatalf("a refused edit: %d\n%s", st, page)
		}
	})
}

// Issue 25, item 2: a portal session with eventTypes sees the catalog's
// page, its navigation link and the checkboxes; one without gets 404
// and neither.
func TestPortalEventTypes(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		store := sqltest.Open(t, engine)
		srv := apitest.Start(store)
		t.Cleanup(srv.Close)
		admin, _ := client.New(srv.URL, apitest.AdminKey)
		acme, err := admin.CreateProject(context.Background(), client.ProjectCreate{Name: "Acme", Slug: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		catalog(t, admin, "acme")
		now := time.Now()
		types := "/ui/p/" + acme.ID + "/event-types"

		_, path := portalLink(t, store, acme.ID, hookgate.PortalLinkInput{Capabilities: []string{hookgate.CapWebhooks, hookgate.CapEventTypes}}, now)
		b := newBrowser(t, srv.URL)
		openPortal(t, b, path)
		st, _, page := b.get(types)
		if st != 200 || !strings.Contains(page, `<a href="`+types+`">Event types</a>`) || !strings.Contains(page, "An order was paid in full.") ||
			!strings.Contains(page, "&#34;orderId&#34;: &#34;string&#34;") {
			t.Fatalf("the portal's event types: %d\n%s", st, page)
		}
		_, _, page = b.get("/ui/p/" + acme.ID + "/webhooks")
		if !strings.Contains(page, `value="order.paid">`) {
			t.Errorf("the portal's register form has no catalog\n%s", page)
		}
		if st, _, _ := b.get("/ui/p/acme/event-types"); st != http.StatusNotFound {
			t.Errorf("the portal's event types by another name: %d", st)
		}

		_, path = portalLink(t, store, acme.ID, hookgate.PortalLinkInput{Capabilities: []string{hookgate.CapWebhooks}}, now)
		b = newBrowser(t, srv.URL)
		openPortal(t, b, path)
		if st, _, page := b.get(types); st != http.StatusNotFound || strings.Contains(page, "order.paid") {
			t.Fatalf("the event types without eventTypes: %d\n%s", st, page)
		}
		_, _, page = b.get("/ui/p/" + acme.ID + "/webhooks")
		if strings.Contains(page, "Event types</a>") || strings.Contains(page, `name="eventType"`) {
			t.Errorf("a portal session without eventTypes is offered the catalog\n%s", page)
		}
	})
}
