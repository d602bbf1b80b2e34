package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
)

// Issue 24, item 4: a webhook's page shows the delivery settings in force
// and where each comes from; its registration and edit forms set its own,
// an emptied field clearing one, and the API's refusal of a bad value
// shows next to the field it names, with what was typed kept.
func TestWebhookDeliverySettings(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, wh := shop(t, srv)
		ctx := context.Background()
		b := newSignedIn(t, srv.URL)

		// orders takes its project's schedule (1h) and the server's timeout.
		_, _, page := b.get("/ui/p/shop/webhooks/" + wh.ID)
		for _, want := range []string{
			`<h2 id="dlv">Delivery settings</h2>`,
			`<dt>Retry schedule</dt><dd><code>1h</code> <small>(the project&#39;s)</small></dd>`,
			`<dt>Timeout</dt><dd><code>` + wh.Delivery.Timeout.Value + `</code> <small>(the server&#39;s)</small></dd>`,
			`<dt>Max attempts</dt><dd>2 <small>(as the project&#39;s retry schedule gives: the first attempt and one per wait)</small></dd>`,
			`<a href="/ui/p/shop/deliveries?status=exhausted&amp;webhook=` + wh.ID + `">Its dead letters</a>`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the webhook's page lacks %s\n%s", want, page[strings.Index(page, "dlv"):][:900])
			}
		}

		_, _, page = b.get("/ui/p/shop/webhooks")
		token := csrfOf(t, page)
		register := func(form url.Values) (int, string, string) {
			t.Helper()
			form.Set("csrf", token)
			form.Set("url", "http://127.0.0.1:9/billing")
			return b.post("/ui/p/shop/webhooks", form, srv.URL)
		}
		// Refused: each problem next to its field, everything typed kept.
		for _, tc := range []struct {
			field, value, problem string
		}{
			{"retrySchedule", "1s, soon", "retrySchedule[1] is not a duration such as 5s, 30m or 2h"},
			{"timeout", "10m", "timeout may be at most the server&#39;s send timeout, " + wh.Delivery.Timeout.Value},
			{"timeout", "fast", "timeout is not a duration such as 5s or 1m"},
			{"maxAttempts", "0", "maxAttempts must be at least 1"},
			{"maxAttempts", "-1", "maxAttempts: expected number &gt;= 1"},
			{"maxAttempts", "many", "maxAttempts is a whole number"},
		} {
			form := url.Values{"uid": {"billing"}, "retrySchedule": {"1s, 2s"}, "timeout": {"3s"}, "maxAttempts": {"2"}}
			form.Set(tc.field, tc.value)
			st, _, page := register(form)
			if st != http.StatusBadRequest || !strings.Contains(page, fieldError(tc.field, tc.problem)) || !strings.Contains(page, `value="billing"`) {
				t.Errorf("%s %q: %d, no %q next to the field\n%s", tc.field, tc.value, st, tc.problem, page)
			}
			for f, v := range form {
				if !strings.Contains(page, `name="`+f+`"`) || !strings.Contains(page, `value="`+v[0]+`"`) {
					t.Errorf("%s %q: the form lost %s %q", tc.field, tc.value, f, v[0])
				}
			}
		}
		if hooks, _ := gather(admin.Webhooks(ctx, "shop")); len(hooks) != 1 {
			t.Fatalf("%d webhooks after refused forms", len(hooks))
		}

		st, loc, page := register(url.Values{"uid": {"billing"}, "retrySchedule": {"1s, 2s"}, "timeout": {"3s"}, "maxAttempts": {"2"}})
		if st != http.StatusSeeOther {
			t.Fatalf("register with delivery settings: %d\n%s", st, page)
		}
		got, err := admin.GetWebhook(ctx, "shop", "billing")
		if err != nil {
			t.Fatal(err)
		}
		d := got.Delivery
		if !slices.Equal(d.RetrySchedule.Value, []string{"1s", "2s"}) || d.RetrySchedule.From != "webhook" || d.Timeout.Value != "3s" || d.Timeout.From != "webhook" ||
			d.MaxAttempts.Value != 2 || d.MaxAttempts.From != "webhook" {
			t.Fatalf("registered: %+v", d)
		}
		if _, _, page := b.get(strings.TrimSuffix(strings.Split(loc, "?")[0], "/secret")); !strings.Contains(page, `<dt>Timeout</dt><dd><code>3s</code> <small>(this webhook&#39;s own)</small></dd>`) {
			t.Errorf("the new webhook's page does not show its own timeout\n%s", page)
		}

		// The edit form shows its own settings and what is in force.
		_, _, page = b.get("/ui/p/shop/webhooks/billing/edit")
		for _, want := range []string{`<input id="retrySchedule" name="retrySchedule" value="1s, 2s"`, `<input id="timeout" name="timeout" value="3s"`,
			`<input id="maxAttempts" name="maxAttempts" type="number" value="2"`, `In force now: retry schedule <code>1s</code>, <code>2s</code> (this webhook&#39;s own)`} {
			if !strings.Contains(page, want) {
				t.Errorf("the edit form lacks %s", want)
			}
		}
		edit := func(form url.Values) (int, string, string) {
			t.Helper()
			form.Set("csrf", token)
			for k, v := range map[string]string{"url": got.URL, "uid": "billing"} {
				form.Set(k, v)
			}
			return b.post("/ui/p/shop/webhooks/"+got.ID+"/edit", form, srv.URL)
		}
		if st, _, page := edit(url.Values{"retrySchedule": {"1s, 2s"}, "timeout": {"3s"}, "maxAttempts": {"0"}}); st != http.StatusBadRequest ||
			!strings.Contains(page, fieldError("maxAttempts", "maxAttempts must be at least 1")) || !strings.Contains(page, `name="maxAttempts" type="number" value="0"`) {
			t.Errorf("maxAttempts 0: %d\n%s", st, page)
		}
		if st, _, page := edit(url.Values{"retrySchedule": {"1s, 2s"}, "timeout": {"3s"}, "maxAttempts": {"2"}}); st != http.StatusSeeOther {
			t.Errorf("the same settings: %d\n%s", st, page)
		} else if _, loc, _ := edit(url.Values{"retrySchedule": {"1s,2s"}, "timeout": {"3s"}, "maxAttempts": {"2"}}); !strings.HasSuffix(loc, "?done=unchanged") {
			t.Errorf("the same settings: %q, want unchanged", loc)
		}
		// Emptied: the project's schedule, the server's timeout again.
		if st, loc, page := edit(url.Values{"retrySchedule": {""}, "timeout": {""}, "maxAttempts": {"5"}}); st != http.StatusSeeOther || !strings.HasSuffix(loc, "?done=updated") {
			t.Fatalf("clear: %d %q\n%s", st, loc, page)
		}
		got, _ = admin.GetWebhook(ctx, "shop", "billing")
		if d := got.Delivery; len(got.RetrySchedule) != 0 || got.Timeout != nil || got.MaxAttempts == nil || *got.MaxAttempts != 5 ||
			d.RetrySchedule.From != "project" || d.Timeout.From != "server" || d.MaxAttempts.Value != 2 || d.MaxAttempts.From != "project" {
			t.Fatalf("after clearing: own %v %v %v, in force %+v", got.RetrySchedule, got.Timeout, got.MaxAttempts, d)
		}
		if st, _, _ := edit(url.Values{"maxAttempts": {""}}); st != http.StatusSeeOther {
			t.Fatalf("clear maxAttempts: %d", st)
		}
		if got, _ = admin.GetWebhook(ctx, "shop", "billing"); got.MaxAttempts != nil {
			t.Fatalf("maxAttempts after clearing it: %d", *got.MaxAttempts)
		}
		// A form without the delivery fields leaves them as they are.
		if _, err := admin.UpdateWebhook(ctx, "shop", "billing", client.WebhookUpdate{Timeout: ptr("4s")}); err != nil {
			t.Fatal(err)
		}
		if st, _, _ := edit(url.Values{"description": {"no delivery fields"}}); st != http.StatusSeeOther {
			t.Fatalf("an edit without the delivery fields: %d", st)
		}
		if got, _ = admin.GetWebhook(ctx, "shop", "billing"); got.Timeout == nil || *got.Timeout != "4s" {
			t.Fatalf("an edit without the delivery fields changed the timeout: %v", got.Timeout)
		}
	})
}

func ptr[T any](v T) *T { return &v }
