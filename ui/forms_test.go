package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
)

var (
	postForm = regexp.MustCompile(`<form method="post" action="([^"]+)"`)
	anID     = regexp.MustCompile(`/(wh|msg|plat|evt)_[a-z0-9]+`)
)

// formsOn lists the actions of the POST forms of page, their IDs written
// as {wh}, {msg}, {plat}.
func formsOn(page string) []string {
	var out []string
	for _, m := range postForm.FindAllStringSubmatch(page, -1) {
		out = append(out, anID.ReplaceAllString(m[1], "/{$1}"))
	}
	return out
}

// shop makes project shop, which retries an hour after a failure, with a
// webhook (uid orders) that nothing answers, and returns an admin client
// of it and the webhook.
func shop(t *testing.T, srv *apitest.Server) (*client.Client, *client.Webhook) {
	t.Helper()
	admin, _ := client.New(srv.URL, apitest.AdminKey)
	ctx := context.Background()
	if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop", RetrySchedule: []string{"1h"}}); err != nil {
		t.Fatal(err)
	}
	wh, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/x", UID: "orders"})
	if err != nil {
		t.Fatal(err)
	}
	return admin, wh
}

// Issue 22, item 4: every form of the dashboard that changes something
// answers a success with a redirect (303), so that reloading the page it
// lands on sends nothing again: registering a webhook and reloading
// registers one webhook. The forms are found on every page, so a form
// added later without a case here fails the test.
func TestEveryFormRedirects(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, wh := shop(t, srv)
		ctx := context.Background()
		d, err := admin.TestWebhook(ctx, "shop", wh.ID)
		if err != nil {
			t.Fatal(err)
		}
		tg := apitest.NewFakeTelegram(t)
		creds := fmt.Sprintf(`{"botToken": %q}`, apitest.BotToken)
		p, err := admin.CreatePlatform(ctx, "shop", client.PlatformCreate{Provider: "telegram", Name: "bot", Credentials: json.RawMessage(creds), APIBaseURL: tg.URL})
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, srv.URL)
		b.signIn(apitest.AdminKey)

		// Every form on every page.
		seen := map[string]bool{}
		var token string
		for _, path := range []string{"/ui/projects", "/ui/p/shop/webhooks", "/ui/p/shop/webhooks/" + wh.ID, "/ui/p/shop/webhooks/" + wh.ID + "/secret",
			"/ui/p/shop/webhooks/" + wh.ID + "/edit", "/ui/p/shop/webhooks/" + wh.ID + "/delete", "/ui/p/shop/deliveries", "/ui/p/shop/deliveries/" + d.ID,
			"/ui/p/shop/events", "/ui/p/shop/platforms", "/ui/p/shop/live", "/ui/p/shop/deliveries/redrive?status=succeeded"} {
			st, _, page := b.get(path)
			if st != http.StatusOK {
				t.Fatalf("%s: %d", path, st)
			}
			token = csrfOf(t, page)
			for _, f := range formsOn(page) {
				seen[f] = true
			}
		}
		_, _, signIn := newBrowser(t, srv.URL).get("/ui/sign-in")
		for _, f := range formsOn(signIn) {
			seen[f] = true
		}

		since := time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")
		posted := map[string]bool{}
		for _, tc := range []struct {
			action string
			form   url.Values
		}{
			{"/ui/p/shop/webhooks", url.Values{"url": {"http://127.0.0.1:9/new"}, "uid": {"billing"}}},
			{"/ui/p/shop/webhooks/" + wh.ID + "/edit", url.Values{"url": {wh.URL}, "uid": {"orders"}, "description": {"edited"}}},
			{"/ui/p/shop/webhooks/" + wh.ID + "/test", nil},
			{"/ui/p/shop/webhooks/" + wh.ID + "/rotate-secret", nil},
			{"/ui/p/shop/webhooks/" + wh.ID + "/recover", url.Values{"since": {since}}},
			{"/ui/p/shop/webhooks/" + wh.ID + "/deactivate", nil},
			{"/ui/p/shop/webhooks/" + wh.ID + "/activate", nil},
			{"/ui/p/shop/deliveries/" + d.ID + "/retry", nil},
			{"/ui/p/shop/deliveries/redrive", url.Values{"status": {"succeeded"}, "webhook": {"orders"}}},
			{"/ui/p/shop/platforms", url.Values{"provider": {"generic"}, "credentials": {`{"preset": "github", "secret": "gh-secret-0123456789"}`}}},
			{"/ui/p/shop/platforms/" + p.ID + "/register-webhook", nil},
			{"/ui/p/shop/webhooks/" + wh.ID + "/delete", nil},
			{"/ui/sign-out", nil},
		} {
			form := url.Values{"csrf": {token}}
			for k, v := range tc.form {
				form[k] = v
			}
			st, loc, body := b.post(tc.action, form, srv.URL)
			if st != http.StatusSeeOther || loc == "" {
				t.Fatalf("POST %s: %d %q, want 303 and a Location\n%s", tc.action, st, loc, body)
			}
			posted[anID.ReplaceAllString(tc.action, "/{$1}")] = true
			if tc.action == "/ui/p/shop/webhooks" {
				// Reloading the page it lands on registers nothing more.
				for range 2 {
					if st, _, _ := b.get(loc); st != http.StatusOK {
						t.Fatalf("GET %s after registering: %d", loc, st)
					}
				}
				if hooks, _ := gather(admin.Webhooks(ctx, "shop")); len(hooks) != 2 {
					t.Fatalf("after registering one webhook and reloading twice: %d webhooks", len(hooks))
				}
			}
		}
		if st, loc, _ := b.post("/ui/sign-in", url.Values{"key": {apitest.AdminKey}}, srv.URL); st != http.StatusSeeOther || loc == "" {
			t.Fatalf("POST /ui/sign-in: %d %q", st, loc)
		}
		posted["/ui/sign-in"] = true
		for f := range seen {
			if !posted[f] {
				t.Errorf("the form posting to %s is not tested here", f)
			}
		}
	})
}

// gather collects an iterator's items.
func gather[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// Issue 22, item 7: registering a platform whose provider takes no URL
// from Hookgate (a generic source) says so, with the API's instructions
// and the inbound URL to give it, instead of "Registered"; a registered
// platform is offered "Register again", not "Register webhook". The
// instructions travel in a cookie signed for the session, so neither a
// link nor another session's cookie can put words there.
func TestPlatformRegistrationSaysWhatTheAPIAnswered(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, _ := shop(t, srv)
		ctx := context.Background()
		gen, err := admin.CreatePlatform(ctx, "shop", client.PlatformCreate{Provider: "generic", Name: "github",
			Credentials: map[string]any{"preset": "github", "secret": "gh-secret-0123456789"}})
		if err != nil {
			t.Fatal(err)
		}
		tg := apitest.NewFakeTelegram(t)
		bot, err := admin.CreatePlatform(ctx, "shop", client.PlatformCreate{Provider: "telegram", Name: "bot",
			Credentials: map[string]any{"botToken": apitest.BotToken}, APIBaseURL: tg.URL})
		if err != nil {
			t.Fatal(err)
		}
		b := newBrowser(t, srv.URL)
		b.signIn(apitest.AdminKey)
		_, _, page := b.get("/ui/p/shop/platforms")
		token := csrfOf(t, page)

		st, loc, _ := b.post("/ui/p/shop/platforms/"+gen.ID+"/register-webhook", url.Values{"csrf": {token}}, srv.URL)
		if st != http.StatusSeeOther || loc != "/ui/p/shop/platforms?done=not-registered" {
			t.Fatalf("register a generic platform: %d %q", st, loc)
		}
		_, _, page = b.get(loc)
		for _, want := range []string{
			"generic: github is not registered",
			"this provider does not take its inbound URL from Hookgate.",
			"Configure the source to POST to inboundUrl, signing as the platform&#39;s credentials say.",
			"Inbound URL: <code>" + gen.InboundURL + "</code>",
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the page after registering a generic platform does not say %q", want)
			}
		}
		if strings.Contains(page, "Registered Hookgate") {
			t.Errorf("the page says the generic platform was registered:\n%s", page)
		}
		if got, _ := admin.GetPlatform(ctx, "shop", gen.ID); got.Registered {
			t.Fatal("the generic platform reads as registered")
		}

		// Another session's notice, or none, shows only the fixed text.
		other := newBrowser(t, srv.URL)
		other.signIn(apitest.AdminKey)
		u, _ := url.Parse(srv.URL + "/ui/")
		for _, c := range b.hc.Jar.Cookies(u) {
			if c.Name == "hookgate_notice" {
				other.hc.Jar.SetCookies(u, []*http.Cookie{c})
			}
		}
		for name, c := range map[string]*browser{"another session's notice": other, "no notice": newSignedIn(t, srv.URL)} {
			_, _, page := c.get(loc)
			if !strings.Contains(page, "Not registered") || strings.Contains(page, "Configure the source") {
				t.Errorf("%s: the page shows the instructions or no status", name)
			}
		}

		// Registered: no "Register webhook" on its row, "Register again".
		if st, loc, _ := b.post("/ui/p/shop/platforms/"+bot.ID+"/register-webhook", url.Values{"csrf": {token}}, srv.URL); st != http.StatusSeeOther || loc != "/ui/p/shop/platforms?done=registered" {
			t.Fatalf("register the telegram platform: %d %q", st, loc)
		}
		_, _, page = b.get("/ui/p/shop/platforms")
		rows := map[string]string{}
		for _, row := range strings.Split(page, "<tr>")[2:] {
			for _, id := range []string{gen.ID, bot.ID} {
				if strings.Contains(row, id) {
					rows[id] = row
				}
			}
		}
		if r := rows[bot.ID]; strings.Contains(r, "Register webhook") || !strings.Contains(r, "Register again") || !strings.Contains(r, `<span class="badge active">yes</span>`) {
			t.Errorf("the registered platform's row:\n%s", r)
		}
		if r := rows[gen.ID]; !strings.Contains(r, "Register webhook") || strings.Contains(r, "Register again") {
			t.Errorf("the unregistered platform's row:\n%s", r)
		}
	})
}

// newSignedIn is a browser signed in with the admin key.
func newSignedIn(t *testing.T, base string) *browser {
	b := newBrowser(t, base)
	b.signIn(apitest.AdminKey)
	return b
}

// fieldError is the HTML of the problem shown next to the input id.
func fieldError(id, problem string) string {
	return `<p class="field-error" id="` + id + `-error">` + problem
}

// Issue 22, item 10: a form the API refuses is shown again, with the
// API's problem next to the field it names and what was typed kept,
// instead of an error page that loses it.
func TestFormErrorsShowNextToTheField(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, _ := shop(t, srv)
		b := newSignedIn(t, srv.URL)
		_, _, page := b.get("/ui/p/shop/webhooks")
		token := csrfOf(t, page)

		st, _, page := b.post("/ui/p/shop/webhooks", url.Values{"csrf": {token}, "url": {"ftp://example.com/x"}, "uid": {"billing"},
			"events": {"invoice.*, refund.*"}, "description": {"Billing & co"}}, srv.URL)
		for _, want := range []string{
			fieldError("url", "url must be an absolute http or https URL"),
			`<input id="url" name="url" type="url" value="ftp://example.com/x" placeholder="https://example.com/hooks" required aria-invalid="true" aria-describedby="url-error" autofocus>`,
			`<input id="uid" name="uid" value="billing"`,
			`<input id="events" name="events" value="invoice.*, refund.*"`,
			`<input id="description" name="description" value="Billing &amp; co">`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("a bad URL: %d, the page lacks %s", st, want)
			}
		}
		if st != http.StatusBadRequest || strings.Contains(page, "data-back") || strings.Contains(page, `id="uid-error"`) {
			t.Errorf("a bad URL: %d\n%s", st, page)
		}
		if hooks, _ := gather(admin.Webhooks(context.Background(), "shop")); len(hooks) != 1 {
			t.Fatalf("%d webhooks after a refused form", len(hooks))
		}
		for field, v := range map[string]string{"uid": "has space", "events": "bad type!"} {
			form := url.Values{"csrf": {token}, "url": {"http://127.0.0.1:9/y"}, field: {v}}
			if st, _, page := b.post("/ui/p/shop/webhooks", form, srv.URL); st != http.StatusBadRequest || !strings.Contains(page, `<p class="field-error" id="`+field+`-error">`) ||
				!strings.Contains(page, `value="http://127.0.0.1:9/y"`) {
				t.Errorf("a bad %s: %d\n%s", field, st, page)
			}
		}

		// The platform form keeps the provider chosen and the credentials
		// typed (shown as typed: not a password field).
		st, _, page = b.post("/ui/p/shop/platforms", url.Values{"csrf": {token}, "provider": {"generic"}, "name": {"gh"},
			"credentials": {`{"preset": "nope"}`}}, srv.URL)
		for _, want := range []string{`<p class="field-error" id="credentials-error">`, `<option selected>generic</option>`,
			`<input id="name" name="name" value="gh">`, `value="{&#34;preset&#34;: &#34;nope&#34;}"`} {
			if !strings.Contains(page, want) {
				t.Errorf("bad credentials: %d, the page lacks %s\n%s", st, want, page)
			}
		}
	})
}

// Issue 22, item 10: the refusal of a button (a form without fields)
// shows at the top of the button's own page, not on an error page.
func TestButtonRefusalShowsOnItsPage(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, wh := shop(t, srv)
		ctx := context.Background()
		d, err := admin.TestWebhook(ctx, "shop", wh.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := admin.DeactivateWebhook(ctx, "shop", wh.ID); err != nil {
			t.Fatal(err)
		}
		b := newSignedIn(t, srv.URL)
		_, _, page := b.get("/ui/p/shop/deliveries/" + d.ID)
		token := csrfOf(t, page)
		for _, tc := range []struct{ action, page, problem string }{
			{"/ui/p/shop/deliveries/" + d.ID + "/retry", "<h1>Delivery</h1>", "the delivery&#39;s webhook is deactivated; activate it first"},
			{"/ui/p/shop/webhooks/" + wh.ID + "/test", "<h1>Webhook orders</h1>", "deactivated"},
		} {
			st, _, page := b.post(tc.action, url.Values{"csrf": {token}}, srv.URL)
			if st != http.StatusConflict || !strings.Contains(page, tc.page) || !strings.Contains(page, `<p class="error" role="alert">`) ||
				!strings.Contains(page, tc.problem) || strings.Contains(page, "data-back") {
				t.Errorf("POST %s: %d\n%s", tc.action, st, page)
			}
		}
	})
}

// Issue 22, item 21: the sign-in form's problem shows inside its card,
// next to the key field, not in a banner wider than the card.
func TestSignInProblemIsInsideItsCard(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, "sqlite")
	b := newBrowser(t, srv.URL)
	st, _, page := b.post("/ui/sign-in", url.Values{"key": {"hgk_wrong"}}, srv.URL)
	card := page[strings.Index(page, `<form method="post" action="/ui/sign-in" class="card narrow">`):]
	card = card[:strings.Index(card, "</form>")]
	if st != http.StatusUnauthorized || !strings.Contains(card, fieldError("key", "That key is not valid.")) || strings.Count(page, "That key is not valid.") != 1 ||
		strings.Contains(card, "hgk_wrong") {
		t.Fatalf("a wrong key: %d\n%s", st, page)
	}
	st, _, page = b.post("/ui/sign-in", url.Values{"key": {apitest.AdminKey}}, "http://evil.invalid")
	card = page[strings.Index(page, `class="card narrow"`):]
	if st != http.StatusForbidden || !strings.Contains(card[:strings.Index(card, "</form>")], `<p class="error" role="alert">Sign in from this dashboard&#39;s own page.</p>`) {
		t.Fatalf("from another origin: %d\n%s", st, page)
	}
}

// Issue 22, item 21: a webhook's URL, uid, description and event types
// are edited from its page; moving the URL to another origin needs its
// stored credentials typed again, and the API's refusal shows next to
// the credential's field, with the rest of what was typed kept.
func TestEditWebhook(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, _ := shop(t, srv)
		ctx := context.Background()
		wh, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/a", UID: "billing", Events: []string{"invoice.*"},
			Auth: &client.Auth{Type: client.AuthBasic, Username: "hooks", Password: "pw-one"}, Headers: map[string]string{"X-Api-Key": "key-one", "X-Team": "web"},
			PublicHeaders: []string{"X-Team"}})
		if err != nil {
			t.Fatal(err)
		}
		b := newSignedIn(t, srv.URL)
		if _, _, page := b.get("/ui/p/shop/webhooks/billing"); !strings.Contains(page, `<a class="button secondary" href="/ui/p/shop/webhooks/`+wh.ID+`/edit">Edit</a>`) {
			t.Fatal("no Edit link on the webhook's page")
		}
		st, _, page := b.get("/ui/p/shop/webhooks/billing/edit")
		for _, want := range []string{
			`<form method="post" action="/ui/p/shop/webhooks/` + wh.ID + `/edit"`,
			`value="http://127.0.0.1:9/a"`, `<input id="uid" name="uid" value="billing"`, `<input id="events" name="events" value="invoice.*"`,
			`<label for="secret-0">Password (basic auth, user hooks)</label>`, `<input id="secret-0" name="password" type="password" autocomplete="new-password">`,
			`<label for="secret-1">Header X-Api-Key</label>`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the edit page: %d, lacks %s", st, want)
			}
		}
		if strings.Contains(page, "Header X-Team") || strings.Contains(page, "pw-one") || strings.Contains(page, "key-one") {
			t.Errorf("the edit page shows a public header as a credential, or a credential:\n%s", page)
		}
		token := csrfOf(t, page)
		edit := func(form url.Values) (int, string, string) {
			t.Helper()
			form.Set("csrf", token)
			return b.post("/ui/p/shop/webhooks/"+wh.ID+"/edit", form, srv.URL)
		}

		// The same origin: no credential needed; no event type is all.
		if st, loc, page := edit(url.Values{"url": {"http://127.0.0.1:9/b"}, "uid": {"billing"}, "description": {"Invoices"}, "events": {""}}); st != http.StatusSeeOther ||
			loc != "/ui/p/shop/webhooks/"+wh.ID+"?done=updated" {
			t.Fatalf("edit: %d %q\n%s", st, loc, page)
		}
		got, _ := admin.GetWebhook(ctx, "shop", wh.ID)
		if got.URL != "http://127.0.0.1:9/b" || got.Description != "Invoices" || len(got.Events) != 0 || got.UID != "billing" {
			t.Fatalf("after the edit: %+v", got)
		}
		if _, _, page := b.get("/ui/p/shop/webhooks/" + wh.ID + "?done=updated"); !strings.Contains(page, "Saved") || !strings.Contains(page, "Invoices") {
			t.Fatal("the webhook's page after the edit does not say so")
		}
		if st, loc, _ := edit(url.Values{"url": {got.URL}, "uid": {"billing"}, "description": {"Invoices"}}); st != http.StatusSeeOther || !strings.HasSuffix(loc, "?done=unchanged") {
			t.Fatalf("an edit that changes nothing: %d %q", st, loc)
		}

		// Another origin (port): the password first, then the header.
		moved := url.Values{"url": {"http://127.0.0.1:10/c"}, "uid": {"billing"}, "description": {"Moved"}, "events": {"invoice.paid"}}
		st, _, page = edit(moved)
		if st != http.StatusBadRequest || !strings.Contains(page, fieldError("secret-0", "url moves to another origin")) ||
			!strings.Contains(page, `value="http://127.0.0.1:10/c"`) || !strings.Contains(page, `value="Moved"`) || !strings.Contains(page, `value="invoice.paid"`) {
			t.Fatalf("a move without the password: %d\n%s", st, page)
		}
		moved.Set("password", "pw-two")
		st, _, page = edit(moved)
		if st != http.StatusBadRequest || !strings.Contains(page, fieldError("secret-1", "url moves to another origin")) || strings.Contains(page, "pw-two") {
			t.Fatalf("a move without the header: %d\n%s", st, page)
		}
		if got, _ := admin.GetWebhook(ctx, "shop", wh.ID); got.URL != "http://127.0.0.1:9/b" {
			t.Fatalf("a refused edit changed the URL: %s", got.URL)
		}
		moved.Set("header:X-Api-Key", "key-two")
		if st, _, page := edit(moved); st != http.StatusSeeOther {
			t.Fatalf("a move with the credentials: %d\n%s", st, page)
		}
		got, _ = admin.GetWebhook(ctx, "shop", wh.ID)
		if got.URL != "http://127.0.0.1:10/c" || got.Headers["X-Team"] != "web" || got.Headers["X-Api-Key"] != "********" || got.Auth.Username != "hooks" ||
			!slices.Equal(got.Events, []string{"invoice.paid"}) {
			t.Fatalf("after the move: %+v", got)
		}

		// A bad URL shows next to its field.
		if st, _, page := edit(url.Values{"url": {"http://127.0.0.1:10/c#frag"}, "uid": {"billing"}}); st != http.StatusBadRequest ||
			!strings.Contains(page, `<p class="field-error" id="url-error">`) {
			t.Fatalf("a bad URL: %d\n%s", st, page)
		}
	})
}

// Issue 22, item 21: a webhook is deleted from the dashboard after a
// confirmation page (no script needed); its paused deliveries are
// cancelled.
func TestDeleteWebhook(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, wh := shop(t, srv)
		ctx := context.Background()
		if _, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]any{"id": 1}}); err != nil {
			t.Fatal(err)
		}
		// Its first attempt fails (nothing answers), the next is an hour
		// away; deactivated, the webhook's delivery waits, paused.
		var paused string
		testwait.For(t, "a failed first attempt", func() bool {
			page, err := admin.ListDeliveries(ctx, "shop", &client.DeliveryListOptions{Webhook: wh.ID})
			if err == nil && len(page.Data) == 1 && page.Data[0].Attempts >= 1 {
				paused = page.Data[0].ID
			}
			return paused != ""
		})
		if _, err := admin.DeactivateWebhook(ctx, "shop", wh.ID); err != nil {
			t.Fatal(err)
		}
		if d, err := admin.GetDelivery(ctx, "shop", paused); err != nil || d.Status != client.DeliveryPaused {
			t.Fatalf("the delivery of the deactivated webhook: %+v, %v", d, err)
		}

		b := newSignedIn(t, srv.URL)
		if _, _, page := b.get("/ui/p/shop/webhooks/orders"); !strings.Contains(page, `<a class="button danger" href="/ui/p/shop/webhooks/`+wh.ID+`/delete">Delete…</a>`) {
			t.Fatal("no Delete link on the webhook's page")
		}
		st, _, page := b.get("/ui/p/shop/webhooks/" + wh.ID + "/delete")
		if st != http.StatusOK || !strings.Contains(page, "Delete this webhook?") || !strings.Contains(page, `<form method="post" action="/ui/p/shop/webhooks/`+wh.ID+`/delete"`) ||
			!strings.Contains(page, "http://127.0.0.1:9/x") {
			t.Fatalf("the confirmation page: %d\n%s", st, page)
		}
		if _, err := admin.GetWebhook(ctx, "shop", wh.ID); err != nil {
			t.Fatalf("the confirmation page deleted the webhook: %v", err)
		}
		st, loc, _ := b.post("/ui/p/shop/webhooks/"+wh.ID+"/delete", url.Values{"csrf": {csrfOf(t, page)}}, srv.URL)
		if st != http.StatusSeeOther || loc != "/ui/p/shop/webhooks?done=deleted" {
			t.Fatalf("delete: %d %q", st, loc)
		}
		if _, err := admin.GetWebhook(ctx, "shop", wh.ID); !client.IsCode(err, client.CodeNotFound) {
			t.Fatalf("after delete, GetWebhook: %v", err)
		}
		if d, err := admin.GetDelivery(ctx, "shop", paused); err != nil || d.Status != client.DeliveryCancelled {
			t.Fatalf("the paused delivery after delete: %+v, %v", d, err)
		}
		if _, _, page := b.get(loc); !strings.Contains(page, "Deleted: the webhook is gone") || strings.Contains(page, "orders") {
			t.Fatalf("the webhooks page after delete:\n%s", page)
		}
		if st, _, _ := b.get("/ui/p/shop/webhooks/" + wh.ID + "/delete"); st != http.StatusNotFound {
			t.Fatalf("the confirmation page of a deleted webhook: %d", st)
		}
	})
}
