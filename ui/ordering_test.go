package ui_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
)

// selected is the HTML of the ordering select's option for o, chosen.
func selected(o string) string { return `<option value="` + o + `" selected>` }

// Issue 24, item 1: a webhook's page shows its ordering in its delivery
// settings; its registration and edit forms choose it (Parallel or In
// order per key) and its key, the edit form sending only what changed,
// and the API's refusal shows next to the field it names, with what was
// typed kept.
func TestWebhookOrderingForms(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, wh := shop(t, srv)
		ctx := context.Background()
		b := newSignedIn(t, srv.URL)

		_, _, page := b.get("/ui/p/shop/webhooks/" + wh.ID)
		if want := `<dt>Ordering</dt><dd>Parallel</dd>`; !strings.Contains(page, want) {
			t.Errorf("the webhook's page lacks %s\n%s", want, page[strings.Index(page, "dlv"):][:1200])
		}

		_, _, page = b.get("/ui/p/shop/webhooks")
		for _, want := range []string{`<select id="ordering" name="ordering">`, selected("none") + `Parallel</option>`, `<option value="fifo">In order per key</option>`,
			`<input id="orderingKey" name="orderingKey" placeholder="/data/customerId" autocomplete="off">`} {
			if !strings.Contains(page, want) {
				t.Errorf("the registration form lacks %s", want)
			}
		}
		if i, j := strings.Index(page, "<legend>Delivery</legend>"), strings.Index(page, `id="ordering"`); i < 0 || j < i || j > i+strings.Index(page[i:], "</fieldset>") {
			t.Errorf("the ordering is not in the Delivery fieldset")
		}
		token := csrfOf(t, page)
		register := func(form url.Values) (int, string, string) {
			t.Helper()
			form.Set("csrf", token)
			form.Set("url", "http://127.0.0.1:9/billing")
			form.Set("uid", "billing")
			return b.post("/ui/p/shop/webhooks", form, srv.URL)
		}
		// Refused: the problem next to its field, what was typed kept.
		for _, tc := range []struct {
			ordering, key, field, problem string
		}{
			{"none", "/data/customerId", "orderingKey", "orderingKey needs ordering fifo"},
			{"fifo", "data.customerId", "orderingKey", "orderingKey is a JSON Pointer into the event, beginning with &#39;/&#39;, such as /data/customerId"},
			{"fifo", "/data/a~2b", "orderingKey", "in a JSON Pointer &#39;~&#39; is followed by 0 or 1"},
			{"fifo", "/" + strings.Repeat("k", 300), "orderingKey", "orderingKey: expected length &lt;= 256"},
			{"lifo", "", "ordering", "ordering: expected value to be one of"},
		} {
			st, _, page := register(url.Values{"ordering": {tc.ordering}, "orderingKey": {tc.key}, "timeout": {"3s"}})
			if st != http.StatusBadRequest || !strings.Contains(page, fieldError(tc.field, tc.problem)) {
				t.Errorf("%s %q: %d, no %q next to %s\n%s", tc.ordering, tc.key, st, tc.problem, tc.field, page)
				continue
			}
			if tc.key != "" && !strings.Contains(page, `name="orderingKey" value="`+tc.key+`"`) {
				t.Errorf("%s %q: the form lost the key", tc.ordering, tc.key)
			}
			if tc.ordering != "lifo" && !strings.Contains(page, selected(tc.ordering)) {
				t.Errorf("%s %q: the form lost the ordering", tc.ordering, tc.key)
			}
			if !strings.Contains(page, `value="billing"`) || !strings.Contains(page, `name="timeout" value="3s"`) {
				t.Errorf("%s %q: the form lost the other fields", tc.ordering, tc.key)
			}
		}
		if hooks, _ := gather(admin.Webhooks(ctx, "shop")); len(hooks) != 1 {
			t.Fatalf("%d webhooks after refused forms", len(hooks))
		}

		st, _, page := register(url.Values{"ordering": {"fifo"}, "orderingKey": {" /data/customerId "}})
		if st != http.StatusSeeOther {
			t.Fatalf("register in order per key: %d\n%s", st, page)
		}
		got, err := admin.GetWebhook(ctx, "shop", "billing")
		if err != nil {
			t.Fatal(err)
		}
		if got.Ordering != client.OrderingFIFO || got.OrderingKey != "/data/customerId" {
			t.Fatalf("registered: %q %q", got.Ordering, got.OrderingKey)
		}
		if _, _, page := b.get("/ui/p/shop/webhooks/billing"); !strings.Contains(page, `<dt>Ordering</dt><dd>In order per key: <code>/data/customerId</code> <small>`) {
			t.Errorf("the webhook's page does not show its ordering\n%s", page)
		}

		// The edit form shows the ordering, and sends only what changed.
		_, _, page = b.get("/ui/p/shop/webhooks/billing/edit")
		for _, want := range []string{selected("fifo") + "In order per key</option>", `<input id="orderingKey" name="orderingKey" value="/data/customerId"`} {
			if !strings.Contains(page, want) {
				t.Errorf("the edit form lacks %s", want)
			}
		}
		edit := func(form url.Values) (int, string, string) {
			t.Helper()
			form.Set("csrf", token)
			form.Set("url", got.URL)
			form.Set("uid", "billing")
			return b.post("/ui/p/shop/webhooks/"+got.ID+"/edit", form, srv.URL)
		}
		if _, loc, page := edit(url.Values{"ordering": {"fifo"}, "orderingKey": {"/data/customerId "}}); !strings.HasSuffix(loc, "?done=unchanged") {
			t.Errorf("the same ordering: %q, want unchanged\n%s", loc, page)
		}
		if st, _, page := edit(url.Values{"ordering": {"fifo"}, "orderingKey": {"customerId"}}); st != http.StatusBadRequest ||
			!strings.Contains(page, fieldError("orderingKey", "orderingKey is a JSON Pointer")) || !strings.Contains(page, `name="orderingKey" value="customerId"`) ||
			!strings.Contains(page, selected("fifo")) {
			t.Errorf("a bad key: %d\n%s", st, page)
		}
		if st, _, page := edit(url.Values{"ordering": {"none"}, "orderingKey": {"/data/orderId"}}); st != http.StatusBadRequest ||
			!strings.Contains(page, fieldError("orderingKey", "orderingKey needs ordering fifo")) || !strings.Contains(page, selected("none")) {
			t.Errorf("Parallel with a new key: %d\n%s", st, page)
		}
		if got, _ := admin.GetWebhook(ctx, "shop", "billing"); got.Ordering != client.OrderingFIFO || got.OrderingKey != "/data/customerId" {
			t.Fatalf("after refused edits: %q %q", got.Ordering, got.OrderingKey)
		}
		// Another key, alone.
		if st, loc, page := edit(url.Values{"ordering": {"fifo"}, "orderingKey": {"/data/orderId"}}); st != http.StatusSeeOther || !strings.HasSuffix(loc, "?done=updated") {
			t.Fatalf("another key: %d %q\n%s", st, loc, page)
		}
		if got, _ := admin.GetWebhook(ctx, "shop", "billing"); got.Ordering != client.OrderingFIFO || got.OrderingKey != "/data/orderId" {
			t.Fatalf("after another key: %q %q", got.Ordering, got.OrderingKey)
		}
		// Parallel, the key left as shown: the key goes with the ordering.
		if st, _, page := edit(url.Values{"ordering": {"none"}, "orderingKey": {"/data/orderId"}}); st != http.StatusSeeOther {
			t.Fatalf("Parallel: %d\n%s", st, page)
		}
		if got, _ := admin.GetWebhook(ctx, "shop", "billing"); got.Ordering != client.OrderingNone || got.OrderingKey != "" {
			t.Fatalf("after Parallel: %q %q", got.Ordering, got.OrderingKey)
		}
		// In order with no key: one key for the whole webhook.
		if st, _, page := edit(url.Values{"ordering": {"fifo"}, "orderingKey": {""}}); st != http.StatusSeeOther {
			t.Fatalf("in order, one key: %d\n%s", st, page)
		}
		if _, _, page := b.get("/ui/p/shop/webhooks/billing"); !strings.Contains(page, `<dt>Ordering</dt><dd>In order (one key) <small>`) {
			t.Errorf("the webhook's page does not show one key\n%s", page)
		}
		// A form without the ordering fields leaves it.
		if st, _, _ := edit(url.Values{"description": {"no ordering fields"}}); st != http.StatusSeeOther {
			t.Fatalf("an edit without the ordering fields: %d", st)
		}
		if got, _ := admin.GetWebhook(ctx, "shop", "billing"); got.Ordering != client.OrderingFIFO || got.OrderingKey != "" || got.Description != "no ordering fields" {
			t.Fatalf("an edit without the ordering fields: %q %q %q", got.Ordering, got.OrderingKey, got.Description)
		}

		// A trigger-only webhook receives no events to order: the API's
		// refusal shows next to the select, In order per key kept.
		trig, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/rpc", UID: "rpc", TriggerOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"csrf": {token}, "url": {trig.URL}, "uid": {"rpc"}, "ordering": {"fifo"}, "orderingKey": {""}}
		if st, _, page := b.post("/ui/p/shop/webhooks/"+trig.ID+"/edit", form, srv.URL); st != http.StatusBadRequest ||
			!strings.Contains(page, fieldError("ordering", "a triggerOnly webhook receives no events to order")) ||
			!strings.Contains(page, `<select id="ordering" name="ordering" aria-invalid="true" aria-describedby="ordering-error" autofocus>`) || !strings.Contains(page, selected("fifo")) {
			t.Errorf("In order per key on a trigger-only webhook: %d\n%s", st, page)
		}
	})
}

// rowOf is the table row of page that begins with a link to delivery id.
func rowOf(page, id string) string {
	i := strings.Index(page, `<tr><td><a href="/ui/p/shop/deliveries/`+id+`"`)
	if i < 0 {
		return ""
	}
	end := strings.Index(page[i:], "</tr>")
	if end < 0 {
		return ""
	}
	return page[i : i+end]
}

// Issue 24, item 1: a FIFO webhook's deliveries show their ordering key,
// in the explorer, in the webhook's recent deliveries and on their page,
// and one that waits behind an older delivery of its key says so where
// its next attempt would be, instead of a blank.
func TestOrderedDeliveriesShowTheirKeyAndWait(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, plain := shop(t, srv) // retries after 1h: a failed head keeps its key waiting
		ctx := context.Background()
		b := newSignedIn(t, srv.URL)
		ledger, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/ledger", UID: "ledger",
			Ordering: client.OrderingFIFO, OrderingKey: "/data/customerId"})
		if err != nil {
			t.Fatal(err)
		}
		long := "customer-" + strings.Repeat("0123456789", 4)
		var evs []string
		for _, data := range []map[string]any{{"customerId": "c_42"}, {"customerId": "c_42"}, {"customerId": long}, {"orderId": 7}} {
			ev, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: data})
			if err != nil {
				t.Fatal(err)
			}
			evs = append(evs, ev.ID)
		}
		of := func(ev, webhook string) client.Delivery {
			t.Helper()
			page, err := admin.ListEventDeliveries(ctx, "shop", ev, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range page.Data {
				if d.WebhookID == webhook {
					return d
				}
			}
			t.Fatalf("no delivery of %s to %s", ev, webhook)
			return client.Delivery{}
		}
		var head, waiting client.Delivery
		testwait.For(t, "the head of c_42 failed and retrying in 1h, its successor waiting", func() bool {
			head, waiting = of(evs[0], ledger.ID), of(evs[1], ledger.ID)
			return head.Attempts == 1 && !head.NextAttemptAt.IsZero() && waiting.Status == client.DeliveryPending && waiting.Attempts == 0
		})
		if waiting.OrderingKey == nil || *waiting.OrderingKey != "c_42" || !waiting.NextAttemptAt.IsZero() {
			t.Fatalf("the waiting delivery: key %v, next attempt %v", waiting.OrderingKey, waiting.NextAttemptAt)
		}
		other, empty, unordered := of(evs[2], ledger.ID), of(evs[3], ledger.ID), of(evs[0], plain.ID)
		const wait = `<td>waiting behind an older delivery of its key</td>`

		_, _, list := b.get("/ui/p/shop/deliveries")
		_, _, recent := b.get("/ui/p/shop/webhooks/ledger")
		for name, page := range map[string]string{"the explorer": list, "the webhook's recent deliveries": recent} {
			if r := rowOf(page, waiting.ID); !strings.Contains(r, wait) || !strings.Contains(r, `order.paid<br><small>key <code title="c_42">c_42</code></small>`) {
				t.Errorf("%s: the waiting delivery's row:\n%s", name, r)
			}
			if r := rowOf(page, head.ID); strings.Contains(r, "waiting") || !strings.Contains(r, `<td class="when">`+head.NextAttemptAt.UTC().Format("2006-01-02 15:04:05")+" UTC</td>") ||
				!strings.Contains(r, `key <code title="c_42">c_42</code>`) {
				t.Errorf("%s: the head's row:\n%s", name, r)
			}
			if r := rowOf(page, other.ID); !strings.Contains(r, `key <code title="`+long+`">`+long[:31]+`…</code>`) {
				t.Errorf("%s: a long key is not shortened, whole in its title:\n%s", name, r)
			}
			if r := rowOf(page, empty.ID); !strings.Contains(r, `<small>key empty</small>`) {
				t.Errorf("%s: the empty key's row:\n%s", name, r)
			}
		}
		if r := rowOf(list, unordered.ID); r == "" || strings.Contains(r, "<small>key") || strings.Contains(r, "waiting") {
			t.Errorf("an unordered delivery's row:\n%s", r)
		}

		_, _, page := b.get("/ui/p/shop/deliveries/" + waiting.ID)
		for _, want := range []string{`<dt>Next attempt</dt><dd>waiting behind an older delivery of its key</dd>`, `<dt>Ordering key</dt><dd><code>c_42</code></dd>`,
			`<p class="hint">It waits behind an older delivery of its key and is sent once that one is done: Retry now would leave it where it is`} {
			if !strings.Contains(page, want) {
				t.Errorf("the waiting delivery's page lacks %s\n%s", want, page)
			}
		}
		// Retry now, which would leave it in line, is not offered; the
		// head's page offers it, which sends the head now.
		if strings.Contains(page, "/retry") {
			t.Errorf("the waiting delivery's page offers Retry now\n%s", page)
		}
		if _, _, page := b.get("/ui/p/shop/deliveries/" + head.ID); !strings.Contains(page, `action="/ui/p/shop/deliveries/`+head.ID+`/retry"`) || strings.Contains(page, "waiting behind") {
			t.Errorf("the head's page\n%s", page)
		}
		if _, _, page := b.get("/ui/p/shop/deliveries/" + other.ID); !strings.Contains(page, `<dt>Ordering key</dt><dd><code>`+long+`</code></dd>`) {
			t.Errorf("the long key is not whole on its delivery's page\n%s", page)
		}
		if _, _, page := b.get("/ui/p/shop/deliveries/" + empty.ID); !strings.Contains(page, `<dt>Ordering key</dt><dd>empty <small>`) {
			t.Errorf("the empty key on its delivery's page\n%s", page)
		}
		if _, _, page := b.get("/ui/p/shop/deliveries/" + unordered.ID); strings.Contains(page, "Ordering key") || strings.Contains(page, "waiting") {
			t.Errorf("an unordered delivery's page names a key or a wait\n%s", page)
		}
	})
}
