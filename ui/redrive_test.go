package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

var redriveLink = regexp.MustCompile(`<a class="button secondary" href="(/ui/p/shop/deliveries/redrive[^"]*)">Redrive…</a>`)

// deadLetters gives project shop a webhook, dead, that nothing answers and
// that gives up after one attempt, and n events of type order.paid, and
// waits until their deliveries to it are exhausted.
func deadLetters(t *testing.T, admin *client.Client, n int) *client.Webhook {
	t.Helper()
	ctx := context.Background()
	dead, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/dead", UID: "dead", Events: []string{"order.*"}, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]any{"n": i}}); err != nil {
			t.Fatal(err)
		}
	}
	testwait.For(t, "the dead letters", func() bool {
		page, err := admin.ListDeliveries(ctx, "shop", &client.DeliveryListOptions{Webhook: dead.ID, Status: client.DeliveryExhausted})
		return err == nil && len(page.Data) == n
	})
	return dead
}

// Issue 24, item 5: the deliveries explorer filters the dead letters
// (status exhausted) and redrives its filter: a confirmation page says
// which filter and how many deliveries it covers, its button starts the
// redrive, and the redrive's page follows it, reloading itself while it
// runs.
func TestRedriveFromTheExplorer(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		store := sqltest.Open(t, engine)
		srv := apitest.Start(store)
		t.Cleanup(srv.Close)
		admin, _ := shop(t, srv)
		ctx := context.Background()
		dead := deadLetters(t, admin, 3)
		b := newSignedIn(t, srv.URL)

		// The explorer: exhausted among the statuses, and Redrive… with
		// its filter.
		st, _, page := b.get("/ui/p/shop/deliveries?status=exhausted&webhook=dead&eventType=order.paid")
		if st != http.StatusOK || !strings.Contains(page, `<option value="exhausted" selected>exhausted</option>`) || strings.Count(page, `<span class="badge failed">failed</span>`) != 3 {
			t.Fatalf("the explorer's dead letters: %d\n%s", st, page)
		}
		m := redriveLink.FindStringSubmatch(page)
		if m == nil || m[1] != "/ui/p/shop/deliveries/redrive?eventType=order.paid&amp;status=exhausted&amp;webhook=dead" {
			t.Fatalf("the explorer's Redrive… link: %q\n%s", m, page)
		}
		// A filter a redrive cannot take offers no link, and says why.
		for q, why := range map[string]string{
			"?status=pending":                "A redrive takes exhausted, failed or succeeded deliveries",
			"?event=" + firstEvent(t, admin): "A redrive does not filter by event",
		} {
			if _, _, page := b.get("/ui/p/shop/deliveries" + q); redriveLink.MatchString(page) || !strings.Contains(page, why) {
				t.Errorf("the explorer with %s: a Redrive… link, or no %q", q, why)
			}
		}
		// Without a status it redrives the exhausted ones.
		if _, _, page := b.get("/ui/p/shop/deliveries"); !strings.Contains(page, `href="/ui/p/shop/deliveries/redrive?status=exhausted">Redrive…</a>`) {
			t.Errorf("the explorer without a status: no Redrive… of the exhausted deliveries")
		}

		// The confirmation: the filter, the count, a form; nothing started.
		st, _, page = b.get(strings.ReplaceAll(m[1], "&amp;", "&"))
		for _, want := range []string{
			`<dt>Status</dt><dd>exhausted`, `<code title="dead">dead</code>`, `<code>order.paid</code>`, "3 deliveries match this filter now.",
			`<form method="post" action="/ui/p/shop/deliveries/redrive">`, `<input type="hidden" name="webhook" value="dead">`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the confirmation: %d, lacks %s", st, want)
			}
		}
		if st, _, page := b.get("/ui/p/shop/deliveries/redrive?status=exhausted&eventType=order.refunded"); !strings.Contains(page, "No delivery matches this filter now") ||
			strings.Contains(page, `action="/ui/p/shop/deliveries/redrive"`) {
			t.Errorf("the confirmation of an empty filter: %d\n%s", st, page)
		}
		form := url.Values{"csrf": {csrfOf(t, page)}, "key": {regexp.MustCompile(`name="key" value="([^"]+)"`).FindStringSubmatch(page)[1]},
			"status": {"exhausted"}, "webhook": {"dead"}, "eventType": {"order.paid"}}

		// Refused forms: no CSRF token, a filter the API refuses.
		if st, _, _ := b.post("/ui/p/shop/deliveries/redrive", url.Values{"status": {"exhausted"}}, srv.URL); st != http.StatusForbidden {
			t.Errorf("a redrive without the CSRF token: %d", st)
		}
		for field, v := range map[string]string{"status": "pending", "webhook": "nope", "since": "yesterday"} {
			bad := url.Values{}
			for k, vs := range form {
				bad[k] = vs
			}
			bad.Set(field, v)
			bad.Set("key", "refused-"+field)
			if st, _, page := b.post("/ui/p/shop/deliveries/redrive", bad, srv.URL); st < 400 || st >= 500 || !strings.Contains(page, `<p class="error" role="alert">`) ||
				!strings.Contains(page, "<h1>Redrive</h1>") || !strings.Contains(page, "("+field+")") {
				t.Errorf("a redrive with %s %q: %d\n%s", field, v, st, page)
			}
		}

		// Redrive: 303 to its page; the same form again is the same redrive.
		st, loc, page := b.post("/ui/p/shop/deliveries/redrive", form, srv.URL)
		if st != http.StatusSeeOther || !regexp.MustCompile(`^/ui/p/shop/redrives/rdr_[a-z0-9]+\?done=redriving$`).MatchString(loc) {
			t.Fatalf("redrive: %d %q\n%s", st, loc, page)
		}
		if _, again, _ := b.post("/ui/p/shop/deliveries/redrive", form, srv.URL); again != loc {
			t.Errorf("the same form sent twice: %q, then %q", loc, again)
		}
		testwait.For(t, "the redrive's page to say it finished", func() bool {
			_, _, page = b.get(loc)
			return strings.Contains(page, `<span class="badge finished">finished</span>`)
		})
		for _, want := range []string{"Redrive started", "<dt>Matched</dt><dd>3 ", "<dt>Requeued</dt><dd>3 ", "Finished: 3 queued again of 3 matched."} {
			if !strings.Contains(page, want) {
				t.Errorf("the finished redrive's page lacks %s\n%s", want, page)
			}
		}
		if strings.Contains(page, `http-equiv="refresh"`) {
			t.Error("the finished redrive's page reloads itself")
		}
		// Requeued, the deliveries were sent again: each has 2 attempts.
		testwait.For(t, "the requeued deliveries' second attempts", func() bool {
			page, err := admin.ListDeliveries(ctx, "shop", &client.DeliveryListOptions{Webhook: dead.ID, Status: client.DeliveryExhausted})
			if err != nil || len(page.Data) != 3 {
				return false
			}
			for _, d := range page.Data {
				if d.Attempts != 2 {
					return false
				}
			}
			return true
		})

		// A running redrive's page reloads itself.
		p, err := admin.GetProject(ctx, "shop")
		if err != nil {
			t.Fatal(err)
		}
		now := time.Now()
		running := &hookgate.Redrive{ID: hookgate.NewID(hookgate.PrefixRedrive, now), ProjectID: p.ID, State: hookgate.RedriveRunning,
			Selection: hookgate.RedriveSelection{Status: hookgate.DeliveryFailed}, StartedAt: now, BodyHash: "test"}
		if _, _, err := store.CreateRedrive(ctx, running, now.Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if _, _, page := b.get("/ui/p/shop/redrives/" + running.ID); !strings.Contains(page, `<meta http-equiv="refresh" content="2">`) ||
			!strings.Contains(page, `<span class="badge running">running</span>`) || !strings.Contains(page, "reloads every 2 seconds") {
			t.Errorf("a running redrive's page does not reload itself\n%s", page)
		}

		// The API's access rule: another project's owner sees none of it.
		other, err := admin.CreateProject(ctx, client.ProjectCreate{Name: "Other", Slug: "other"})
		if err != nil {
			t.Fatal(err)
		}
		key, err := admin.CreateKey(ctx, other.Slug, client.KeyCreate{Name: "o", Role: client.RoleOwner})
		if err != nil {
			t.Fatal(err)
		}
		o := newBrowser(t, srv.URL)
		o.signIn(key.Key)
		_, _, opage := o.get("/ui/p/other/deliveries")
		if st, _, _ := o.get(strings.ReplaceAll(m[1], "&amp;", "&")); st != http.StatusForbidden && st != http.StatusNotFound {
			t.Errorf("another project's owner: the confirmation answers %d", st)
		}
		of := url.Values{"csrf": {csrfOf(t, opage)}, "status": {"exhausted"}}
		if st, _, _ := o.post("/ui/p/shop/deliveries/redrive", of, srv.URL); st != http.StatusForbidden && st != http.StatusNotFound {
			t.Errorf("another project's owner: a redrive answers %d", st)
		}
		if st, _, _ := o.get(strings.Split(loc, "?")[0]); st != http.StatusForbidden && st != http.StatusNotFound {
			t.Errorf("another project's owner: the redrive's page answers %d", st)
		}
	})
}

// firstEvent is the ID of one of shop's events.
func firstEvent(t *testing.T, admin *client.Client) string {
	t.Helper()
	page, err := admin.ListEvents(context.Background(), "shop", &client.EventListOptions{ListOptions: client.ListOptions{Limit: 1}})
	if err != nil || len(page.Data) == 0 {
		t.Fatalf("no event: %v", err)
	}
	return page.Data[0].ID
}
