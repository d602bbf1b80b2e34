package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testredis"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 28: a webhook that delivers to a Redis stream shows its kind,
// stream and user on its page, never its password.
func TestWebhookPageShowsDestination(t *testing.T) {
	rd := testredis.Start(t)
	store := sqltest.Open(t, "sqlite")
	srv := apitest.Start(store)
	t.Cleanup(srv.Close)
	admin, _ := client.New(srv.URL, apitest.AdminKey)
	ctx := context.Background()
	if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop"}); err != nil {
		t.Fatal(err)
	}
	wh, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{UID: "orders-stream", Destination: &client.Destination{
		Kind: client.DestinationRedisStream, URL: "redis://" + rd.Addr() + "/0", Stream: "orders", MaxLen: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv.URL)
	b.signIn(apitest.AdminKey)
	st, _, page := b.get("/ui/p/shop/webhooks/" + wh.ID)
	if st != http.StatusOK || !strings.Contains(page, "redis-stream: stream <code>orders</code>, trimmed to about 1000 entries") ||
		strings.Contains(page, "POST redis://") {
		t.Fatalf("the webhook's page: %d\n%s", st, page)
	}
}

// The dashboard registers and edits a broker destination: the kind and its
// fields in the forms, refusals next to their field with the password
// never echoed, the stored password kept when its field is left empty,
// and the way back to HTTP.
func TestWebhookDestinationForms(t *testing.T) {
	rd := testredis.Start(t)
	if _, err := rd.Do("ACL", "SETUSER", "hookgate", "on", ">broker-pass-1", "~*", "+@all"); err != nil {
		t.Fatal(err)
	}
	store := sqltest.Open(t, "sqlite")
	srv := apitest.Start(store)
	t.Cleanup(srv.Close)
	admin, _ := client.New(srv.URL, apitest.AdminKey)
	ctx := context.Background()
	if _, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Shop", Slug: "shop"}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv.URL)
	b.signIn(apitest.AdminKey)
	_, _, page := b.get("/ui/p/shop/webhooks")
	if !strings.Contains(page, `<select id="destKind" name="destKind">`) || !strings.Contains(page, `<option value="http" selected>`) {
		t.Fatalf("the registration form has no destination kind:\n%s", page)
	}
	token := csrfOf(t, page)
	register := func(form url.Values) (int, string, string) {
		t.Helper()
		form.Set("csrf", token)
		form.Set("url", rd.URL())
		form.Set("uid", "orders")
		return b.post("/ui/p/shop/webhooks", form, srv.URL)
	}
	for _, tc := range []struct {
		form           url.Values
		field, problem string
	}{
		{url.Values{"destKind": {"redis-stream"}, "destPassword": {"broker-pass-1"}, "destUsername": {"hookgate"}}, "destStream", "destination.stream"},
		{url.Values{"destKind": {"redis-stream"}, "destStream": {"orders"}, "destMaxLen": {"-3"}}, "destMaxLen", "destination.maxLen must be a whole number"},
		{url.Values{"destKind": {"redis-stream"}, "destStream": {"orders"}, "destUsername": {"hookgate"}, "destPassword": {"wrong-pass"}}, "url", "did not answer a PING"},
	} {
		st, _, page := register(tc.form)
		if st != http.StatusBadRequest || !strings.Contains(page, fieldError(tc.field, "")) || !strings.Contains(page, tc.problem) {
			t.Errorf("%v: %d, no %q next to %s\n%s", tc.form, st, tc.problem, tc.field, page)
		}
		if strings.Contains(page, "broker-pass-1") || strings.Contains(page, "wrong-pass") || !strings.Contains(page, selected("redis-stream")) {
			t.Errorf("%v: the form echoed the password or lost the kind", tc.form)
		}
	}
	st, _, page := register(url.Values{"destKind": {"redis-stream"}, "destStream": {"orders"}, "destMaxLen": {"500"},
		"destUsername": {"hookgate"}, "destPassword": {"broker-pass-1"}, "destSubject": {"ignored: another kind's"}})
	if st != http.StatusSeeOther {
		t.Fatalf("register: %d\n%s", st, page)
	}
	wh, err := admin.GetWebhook(ctx, "shop", "orders")
	if err != nil {
		t.Fatal(err)
	}
	if d := wh.Destination; d == nil || d.Kind != client.DestinationRedisStream || d.Stream != "orders" || d.MaxLen != 500 || d.Subject != "" ||
		d.Auth == nil || d.Auth.Username != "hookgate" || d.Auth.Password != "********" {
		t.Fatalf("registered %+v", wh.Destination)
	}

	// The edit form shows it, the password never; a new stream with the
	// password left empty keeps the stored password (the entry lands).
	_, _, page = b.get("/ui/p/shop/webhooks/" + wh.ID + "/edit")
	if !strings.Contains(page, selected("redis-stream")) || !strings.Contains(page, `name="destStream" value="orders"`) || strings.Contains(page, "********") {
		t.Fatalf("the edit form:\n%s", page)
	}
	edit := func(form url.Values) (int, string, string) {
		t.Helper()
		form.Set("csrf", csrfOf(t, page))
		return b.post("/ui/p/shop/webhooks/"+wh.ID+"/edit", form, srv.URL)
	}
	st, _, out := edit(url.Values{"url": {rd.URL()}, "uid": {"orders"}, "destKind": {"redis-stream"}, "destStream": {"orders-2"}, "destUsername": {"hookgate"}})
	if st != http.StatusSeeOther {
		t.Fatalf("edit: %d\n%s", st, out)
	}
	if got, _ := admin.GetWebhook(ctx, "shop", "orders"); got.Destination.Stream != "orders-2" || got.Destination.MaxLen != 0 || got.Destination.Auth.Password != "********" {
		t.Fatalf("after the edit: %+v", got.Destination)
	}
	if _, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.created", Data: map[string]any{"id": 1}}); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "the entry in the new stream", func() bool {
		n, err := rd.Do("XLEN", "orders-2")
		return err == nil && n == ":1"
	})
	// Back to HTTP: the URL then is the receiver's.
	st, _, out = edit(url.Values{"url": {"http://127.0.0.1:9/hook"}, "uid": {"orders"}, "destKind": {"http"}})
	if st != http.StatusSeeOther {
		t.Fatalf("back to HTTP: %d\n%s", st, out)
	}
	if got, _ := admin.GetWebhook(ctx, "shop", "orders"); got.Destination.Kind != client.DestinationHTTP || got.URL != "http://127.0.0.1:9/hook" {
		t.Fatalf("back to HTTP: %+v, %s", got.Destination, got.URL)
	}
}
