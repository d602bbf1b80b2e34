package ui_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// sample is a sample event as the preview's textarea takes it.
const sample = `{"type": "order.created", "data": {"total": 149.5, "region": "eu"}}`

// Issue 29, item 3: the registration and edit forms have the expressions,
// saved with the webhook, and a Preview that runs them on a sample event
// (or a stored one) and shows each result, its cost and its time, or a
// compile error next to its field, keeping what was typed.
func TestWebhookExpressionEditor(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, wh := shop(t, srv)
		ctx := context.Background()
		b := newSignedIn(t, srv.URL)

		_, _, page := b.get("/ui/p/shop/webhooks")
		for _, want := range []string{`<legend>Filter and transformation</legend>`, `<textarea id="filter" name="filter" class="code" rows="2"`,
			`<textarea id="transform" name="transform"`, `<textarea id="transformHeaders" name="transformHeaders"`,
			`<textarea id="sampleEvent" name="sampleEvent" class="code" rows="8"`, html.EscapeString(`"type": "order.created"`),
			`<input id="sampleEventId" name="sampleEventId"`, `<button type="submit" name="preview" value="1" class="secondary" formnovalidate>Preview</button>`} {
			if !strings.Contains(page, want) {
				t.Errorf("the registration form lacks %s", want)
			}
		}
		token := csrfOf(t, page)
		post := func(path string, form url.Values) (int, string, string) {
			t.Helper()
			form.Set("csrf", token)
			return b.post(path, form, srv.URL)
		}

		// Preview on the registration form: the results, the values kept,
		// nothing registered.
		st, _, page := post("/ui/p/shop/webhooks", url.Values{"url": {"http://127.0.0.1:9/big"}, "uid": {"big"}, "filter": {"data.total > 100.0"},
			"transform": {`{"amount": data.total}`}, "transformHeaders": {`{"X-Region": data.region}`}, "sampleEvent": {sample}, "preview": {"1"}})
		for _, want := range []string{`<dt>Filter</dt><dd><strong>matched: true</strong>`, `<small class="cost">cost `, ` of 1,000,000, in `,
			"<dt>Transform</dt>", "<small>application/json</small><pre>{\n  &#34;amount&#34;: 149.5\n}</pre>", "<pre>X-Region: eu</pre>",
			`value="http://127.0.0.1:9/big"`, ">data.total &gt; 100.0</textarea>", html.EscapeString(sample)} {
			if !strings.Contains(page, want) {
				t.Errorf("the preview: %d, lacks %s", st, want)
			}
		}
		if st != http.StatusOK || strings.Contains(page, "cost 0 of") {
			t.Errorf("the preview: %d", st)
		}
		if list, err := admin.ListWebhooks(ctx, "shop", nil); err != nil || len(list.Data) != 1 {
			t.Fatalf("a preview registered a webhook: %v", err)
		}
		_, _, page = post("/ui/p/shop/webhooks", url.Values{"url": {"http://127.0.0.1:9/big"}, "filter": {"data.total > 200.0"}, "sampleEvent": {sample}, "preview": {"1"}})
		if !strings.Contains(page, "<strong>matched: false</strong>") {
			t.Errorf("a filter that does not match:\n%s", page)
		}
		_, _, page = post("/ui/p/shop/webhooks", url.Values{"url": {"http://127.0.0.1:9/big"}, "filter": {"data.country == 'fr'"}, "sampleEvent": {sample}, "preview": {"1"}})
		if !strings.Contains(page, `<span class="field-error">the filter failed on this event: no such key: country (counted as no match`) {
			t.Errorf("a filter that fails on the event:\n%s", page)
		}

		// Refused: next to the field, what was typed kept.
		for _, tc := range []struct {
			form           url.Values
			field, problem string
		}{
			{url.Values{"filter": {"data.total >"}, "sampleEvent": {sample}}, "filter", "filter: Syntax error: "},
			{url.Values{"transform": {"1 + 2"}, "filter": {"true"}, "sampleEvent": {sample}}, "transform", "transform: the expression must evaluate to"},
			{url.Values{"filter": {"true"}, "sampleEvent": {"{not json"}}, "sampleEvent", "The sample event is not a JSON object"},
			{url.Values{"filter": {"true"}, "sampleEvent": {`{"type": "bad type!"}`}}, "sampleEvent", "event.type"},
			{url.Values{"filter": {"true"}, "sampleEventId": {"evt_missing"}}, "sampleEventId", "event not found"},
			{url.Values{"sampleEvent": {sample}}, "filter", "Type a filter, a transform or transform headers"},
		} {
			tc.form.Set("preview", "1")
			tc.form.Set("url", "http://127.0.0.1:9/big")
			st, _, page := post("/ui/p/shop/webhooks", tc.form)
			if st != http.StatusBadRequest && st != http.StatusNotFound || !strings.Contains(page, fieldError(tc.field, "")+html.EscapeString(tc.problem)) {
				t.Errorf("%v: %d, want %q next to %s\n%s", tc.form, st, tc.problem, tc.field, page)
			}
			if !strings.Contains(page, `value="http://127.0.0.1:9/big"`) {
				t.Errorf("%v: the URL typed is lost", tc.form)
			}
		}

		// A compile error when registering shows next to its field too.
		st, _, page = post("/ui/p/shop/webhooks", url.Values{"url": {"http://127.0.0.1:9/big"}, "filter": {"data.total >"}})
		if st != http.StatusBadRequest || !strings.Contains(page, fieldError("filter", "filter: Syntax error")) {
			t.Errorf("registering with a compile error: %d\n%s", st, page)
		}
		// Registered with the expressions; its page shows them.
		st, loc, page := post("/ui/p/shop/webhooks", url.Values{"url": {"http://127.0.0.1:9/big"}, "uid": {"big"}, "filter": {"data.total > 100.0\r\n  && data.region == 'eu'"},
			"transform": {`{"amount": data.total}`}, "sampleEvent": {sample}})
		if st != http.StatusSeeOther {
			t.Fatalf("registering: %d\n%s", st, page)
		}
		big, err := admin.GetWebhook(ctx, "shop", "big")
		if err != nil || big.Filter != "data.total > 100.0\n  && data.region == 'eu'" || big.Transform != `{"amount": data.total}` || big.TransformHeaders != "" {
			t.Fatalf("registered %+v (%v), from %s", big, err, loc)
		}
		_, _, page = b.get("/ui/p/shop/webhooks/big")
		if want := "<dt>Filter</dt><dd><pre class=\"expression\">data.total &gt; 100.0\n  &amp;&amp; data.region == &#39;eu&#39;</pre></dd>"; !strings.Contains(page, want) {
			t.Errorf("the webhook's page lacks %s", want)
		}

		// The edit form shows them; Preview runs on a stored event with the
		// webhook's metadata.
		if _, err := admin.UpdateWebhook(ctx, "shop", "big", client.WebhookUpdate{Metadata: map[string]string{"region": "eu"}}); err != nil {
			t.Fatal(err)
		}
		ev, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]any{"total": 300, "region": "eu"}})
		if err != nil {
			t.Fatal(err)
		}
		_, _, page = b.get("/ui/p/shop/webhooks/big/edit")
		if want := `<datalist id="recent-events"><option value="` + ev.ID + `">order.paid, `; !strings.Contains(page, want) {
			t.Errorf("the edit form does not offer the latest event: lacks %s", want)
		}
		if !strings.Contains(page, `autocomplete="off" list="recent-events"`) {
			t.Errorf("the stored event's field does not offer the latest events")
		}
		if !strings.Contains(page, ">data.total &gt; 100.0\n  &amp;&amp; data.region == &#39;eu&#39;</textarea>") || !strings.Contains(page, `<textarea id="sampleEvent"`) {
			t.Errorf("the edit form lacks the filter or the sample:\n%s", page)
		}
		edit := "/ui/p/shop/webhooks/" + big.ID + "/edit"
		st, _, page = post(edit, url.Values{"url": {big.URL}, "uid": {"big"}, "filter": {"data.region == metadata.region && type == 'order.paid'"}, "sampleEventId": {ev.ID}, "preview": {"1"}})
		if st != http.StatusOK || !strings.Contains(page, "<strong>matched: true</strong>") {
			t.Errorf("a preview on a stored event: %d\n%s", st, page)
		}
		if got, _ := admin.GetWebhook(ctx, "shop", "big"); got.Filter != big.Filter {
			t.Errorf("a preview saved the filter: %q", got.Filter)
		}
		// Saving: a changed filter, an emptied transform.
		st, _, page = post(edit, url.Values{"url": {big.URL}, "uid": {"big"}, "filter": {"data.total > 500.0"}, "transform": {""}, "transformHeaders": {""}})
		if st != http.StatusSeeOther {
			t.Fatalf("saving: %d\n%s", st, page)
		}
		if got, _ := admin.GetWebhook(ctx, "shop", "big"); got.Filter != "data.total > 500.0" || got.Transform != "" {
			t.Errorf("after saving: filter %q, transform %q", got.Filter, got.Transform)
		}
		st, _, page = post(edit, url.Values{"url": {big.URL}, "uid": {"big"}, "filter": {"data."}})
		if st != http.StatusBadRequest || !strings.Contains(page, fieldError("filter", "filter: Syntax error")) {
			t.Errorf("saving a compile error: %d\n%s", st, page)
		}
		_ = wh
	})
}

// Issue 29, item 3: a portal session that may edit webhooks has the editor
// and its preview, on a sample event only (it sees no stored events).
func TestPortalExpressionEditor(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		store := sqltest.Open(t, engine)
		srv := apitest.Start(store)
		t.Cleanup(srv.Close)
		admin, _ := client.New(srv.URL, apitest.AdminKey)
		acme, err := admin.CreateProject(context.Background(), client.ProjectCreate{Name: "Acme", Slug: "acme"})
		if err != nil {
			t.Fatal(err)
		}
		_, path := portalLink(t, store, acme.ID, hookgate.PortalLinkInput{Capabilities: []string{hookgate.CapWebhooks}}, time.Now())
		b := newBrowser(t, srv.URL)
		home, _ := openPortal(t, b, path)
		_, _, page := b.get(home)
		if !strings.Contains(page, `<textarea id="filter"`) || !strings.Contains(page, `<textarea id="sampleEvent"`) || strings.Contains(page, `id="sampleEventId"`) || strings.Contains(page, "<datalist") {
			t.Fatalf("the portal's registration form:\n%s", page)
		}
		st, _, page := b.post(home, url.Values{"csrf": {csrfOf(t, page)}, "url": {"https://customer.example/in"}, "filter": {"data.total > 100.0"},
			"sampleEvent": {sample}, "sampleEventId": {"evt_x"}, "preview": {"1"}}, srv.URL)
		if st != http.StatusOK || !strings.Contains(page, "<strong>matched: true</strong>") {
			t.Fatalf("a preview in the portal: %d\n%s", st, page)
		}
	})
}
