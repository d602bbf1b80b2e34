package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
)

// shopRetrying creates the project "shop", retrying failed attempts after
// retry, and returns an admin client and a browser signed in as admin.
func shopRetrying(t *testing.T, srv *apitest.Server, retry string) (*client.Client, *browser) {
	t.Helper()
	admin, _ := client.New(srv.URL, apitest.AdminKey)
	if _, err := admin.CreateProject(context.Background(), client.ProjectCreate{Name: "Shop", Slug: "shop", RetrySchedule: []string{retry}}); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t, srv.URL)
	b.signIn(apitest.AdminKey)
	return admin, b
}

// attempted waits until every delivery of event ev has made at least one
// attempt, and returns them.
func attempted(t *testing.T, admin *client.Client, ev string) []client.Delivery {
	t.Helper()
	var list []client.Delivery
	testwait.For(t, "an attempt of each delivery of "+ev, func() bool {
		page, err := admin.ListEventDeliveries(context.Background(), "shop", ev, nil)
		if err != nil {
			t.Fatal(err)
		}
		list = page.Data
		for _, d := range list {
			if d.Attempts == 0 {
				return false
			}
		}
		return len(list) > 0
	})
	return list
}

// shortened is how the dashboard's lists show an ID: its prefix, an
// ellipsis and the last 8 characters of its random part (of each part,
// for a delivery of an event).
func shortened(id string) string {
	prefix, rest, _ := strings.Cut(id, "_")
	if len(rest) == 52 {
		return prefix + "_…" + rest[18:26] + "…" + rest[48:]
	}
	return prefix + "_…" + rest[len(rest)-8:]
}

// Issue 22, item 11: the deliveries explorer and a webhook's recent
// deliveries name a webhook by its uid (else by its ID shortened, in full
// in a title), show delivery IDs shortened (in full in the link and its
// title) instead of 58 characters over several lines, and say when the
// next attempt is due.
func TestDeliveryListsShowUIDsShortIDsAndNextAttempt(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, b := shopRetrying(t, srv, "1h")
		ctx := context.Background()
		named, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/named", UID: "orders"})
		if err != nil {
			t.Fatal(err)
		}
		bare, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/bare"})
		if err != nil {
			t.Fatal(err)
		}
		ev, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]any{"id": 1}})
		if err != nil {
			t.Fatal(err)
		}
		dls := attempted(t, admin, ev.ID)
		if len(dls) != 2 {
			t.Fatalf("%d deliveries", len(dls))
		}
		_, _, list := b.get("/ui/p/shop/deliveries")
		_, _, recent := b.get("/ui/p/shop/webhooks/" + bare.ID)
		for name, page := range map[string]string{"the explorer": list, "the webhook's page": recent} {
			for _, d := range dls {
				if d.WebhookID != bare.ID && name != "the explorer" {
					continue
				}
				if !strings.Contains(page, `href="/ui/p/shop/deliveries/`+d.ID+`"`) || !strings.Contains(page, `title="`+d.ID+`"`) ||
					!strings.Contains(page, ">"+shortened(d.ID)+"<") || strings.Contains(page, ">"+d.ID+"<") {
					t.Errorf("%s does not show delivery %s shortened, in full in its link and title:\n%s", name, d.ID, page)
				}
				if d.NextAttemptAt.IsZero() || d.Status != client.DeliveryPending {
					t.Fatalf("delivery %s: %s, next attempt %v", d.ID, d.Status, d.NextAttemptAt)
				}
				if !strings.Contains(page, `<th scope="col">Next attempt</th>`) || !strings.Contains(page, d.NextAttemptAt.UTC().Format("2006-01-02 15:04:05")+" UTC") {
					t.Errorf("%s does not say when the next attempt of %s is due (%v):\n%s", name, d.ID, d.NextAttemptAt, page)
				}
			}
		}
		if !strings.Contains(list, `title="`+named.ID+`"><code>orders</code>`) || strings.Contains(list, ">"+named.ID+"<") {
			t.Errorf("the explorer does not name webhook %s by its uid:\n%s", named.ID, list)
		}
		if !strings.Contains(list, `title="`+bare.ID+`"><code>`+shortened(bare.ID)+`</code>`) || strings.Contains(list, ">"+bare.ID+"<") {
			t.Errorf("the explorer does not show webhook %s shortened:\n%s", bare.ID, list)
		}
		for _, d := range dls {
			if d.WebhookID == named.ID {
				if _, _, page := b.get("/ui/p/shop/deliveries/" + d.ID); !strings.Contains(page, `title="`+named.ID+`"><code>orders</code>`) {
					t.Errorf("the delivery's page does not name its webhook by its uid:\n%s", page)
				}
			}
		}
		if _, _, hooks := b.get("/ui/p/shop/webhooks"); !strings.Contains(hooks, `title="`+bare.ID+`">`+shortened(bare.ID)+`<`) {
			t.Errorf("the webhooks page does not show the uid-less webhook shortened:\n%s", hooks)
		}
	})
}

// Issue 22, item 11: "Retry now" is offered wherever the API retries: on
// a pending delivery (it is sent at once instead of at its next attempt)
// and on a trigger's record, besides finished deliveries; not on a
// delivery whose webhook is deactivated, which says to activate it.
func TestRetryNowWhereTheAPIRetries(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, b := shopRetrying(t, srv, "1h")
		ctx := context.Background()
		var healthy atomic.Bool
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !healthy.Load() {
				http.Error(w, "not yet", http.StatusServiceUnavailable)
				return
			}
			fmt.Fprint(w, `{"ok": true}`)
		}))
		defer recv.Close()
		if _, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: recv.URL + "/hook", UID: "orders", Events: []string{"order.*"}}); err != nil {
			t.Fatal(err)
		}
		ev, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]any{"id": 1}})
		if err != nil {
			t.Fatal(err)
		}
		d := attempted(t, admin, ev.ID)[0]
		if d.Status != client.DeliveryPending {
			t.Fatalf("after a failed attempt: %s", d.Status)
		}
		st, _, page := b.get("/ui/p/shop/deliveries/" + d.ID)
		if st != http.StatusOK || !strings.Contains(page, ">Retry now</button>") {
			t.Fatalf("a pending delivery's page offers no retry: %d\n%s", st, page)
		}
		if atts, err := admin.ListAttempts(ctx, "shop", d.ID, nil); err != nil || len(atts.Data) == 0 || atts.Data[0].Node == "" ||
			!strings.Contains(page, `sent by node <code class="id">`+atts.Data[0].Node+`</code>`) {
			t.Fatalf("the delivery's page does not name the node of its attempt (%v):\n%s", err, page)
		}
		token := csrfOf(t, page)
		healthy.Store(true)
		if st, loc, body := b.post("/ui/p/shop/deliveries/"+d.ID+"/retry", url.Values{"csrf": {token}}, srv.URL); st != http.StatusSeeOther || loc != "/ui/p/shop/deliveries/"+d.ID+"?done=retried" {
			t.Fatalf("retrying a pending delivery: %d %q\n%s", st, loc, body)
		}
		testwait.For(t, "the pending delivery to succeed at once", func() bool {
			got, err := admin.GetDelivery(ctx, "shop", d.ID)
			return err == nil && got.Status == client.DeliverySucceeded
		})

		// A trigger's record: the API runs it again at once (200).
		if _, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: recv.URL + "/lookup", UID: "lookup", TriggerOnly: true}); err != nil {
			t.Fatal(err)
		}
		res, err := admin.TriggerWebhook(ctx, "shop", "lookup", client.Trigger{Data: map[string]any{"q": 1}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, page := b.get("/ui/p/shop/deliveries/" + res.ReferenceID); !strings.Contains(page, ">Retry now</button>") ||
			!strings.Contains(page, "Runs the trigger again now, with the input it was made with.") || !strings.Contains(page, "</html>") {
			t.Fatalf("a trigger's page offers no retry:\n%s", page)
		}
		if _, _, page := b.get("/ui/p/shop/deliveries?webhook=lookup"); !strings.Contains(page, "<td>a trigger</td>") {
			t.Fatalf("the explorer does not tell a trigger's record:\n%s", page)
		}
		if st, loc, body := b.post("/ui/p/shop/deliveries/"+res.ReferenceID+"/retry", url.Values{"csrf": {token}}, srv.URL); st != http.StatusSeeOther || loc != "/ui/p/shop/deliveries/"+res.ReferenceID+"?done=retried" {
			t.Fatalf("retrying a trigger: %d %q\n%s", st, loc, body)
		}
		if got, _ := admin.GetDelivery(ctx, "shop", res.ReferenceID); got.Attempts != 2 {
			t.Fatalf("the trigger after its retry: %d attempts", got.Attempts)
		}

		// A deactivated webhook's delivery: activate first.
		if _, err := admin.DeactivateWebhook(ctx, "shop", "orders"); err != nil {
			t.Fatal(err)
		}
		if st, _, page := b.get("/ui/p/shop/deliveries/" + d.ID); st != http.StatusOK || strings.Contains(page, ">Retry now</button>") || !strings.Contains(page, "Activate the webhook to send it again") {
			t.Fatalf("a deactivated webhook's delivery: %d\n%s", st, page)
		}
	})
}

// Issue 22, item 11: a ?webhook= (or ?event=) filter naming nothing in the
// project says so, with the filters kept to correct it, instead of "No
// delivery matches".
func TestDeliveryFilterNamesAnUnknownWebhook(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, b := shopRetrying(t, srv, "1h")
		if _, err := admin.CreateWebhook(context.Background(), "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/x", UID: "orders"}); err != nil {
			t.Fatal(err)
		}
		st, _, page := b.get("/ui/p/shop/deliveries?webhook=ordres&status=failed")
		if st != http.StatusNotFound || !strings.Contains(page, "No webhook “ordres” in this project") || strings.Contains(page, "No delivery matches") ||
			!strings.Contains(page, `<input id="webhook" name="webhook" value="ordres">`) || !strings.Contains(page, `<option value="failed" selected>`) {
			t.Fatalf("an unknown webhook: %d\n%s", st, page)
		}
		st, _, page = b.get("/ui/p/shop/deliveries?event=evt_01nosuchevent")
		if st != http.StatusNotFound || !strings.Contains(page, "No event “evt_01nosuchevent” in this project") || strings.Contains(page, "No delivery matches") {
			t.Fatalf("an unknown event: %d\n%s", st, page)
		}
		if st, _, page := b.get("/ui/p/shop/deliveries?webhook=orders"); st != http.StatusOK || !strings.Contains(page, "No delivery matches") {
			t.Fatalf("a webhook without deliveries: %d\n%s", st, page)
		}
	})
}

// received is what a receiver got: its last request's headers and body.
type received struct {
	mu     sync.Mutex
	header http.Header
	body   []byte
}

func (rc *received) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	rc.header, rc.body = r.Header.Clone(), b
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func (rc *received) last() (http.Header, []byte) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.header, rc.body
}

var requestPre = regexp.MustCompile(`(?s)<summary>Request</summary>(.*?)<pre>(.*?)</pre>`)

// Issue 22, item 11: an event delivery's "Request" shows the request as
// it was sent, not only its method and URL: the Standard Webhooks
// headers, the webhook's own headers and its auth (credentials hidden as
// the API hides them) and the body, the event's envelope, byte for byte,
// saying which parts were recorded and which are reconstructed.
func TestEventDeliveryShowsTheRequestSent(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, b := shopRetrying(t, srv, "1h")
		ctx := context.Background()
		rc := &received{}
		recv := httptest.NewServer(rc)
		defer recv.Close()
		if _, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: recv.URL + "/hook?src=shop", UID: "orders",
			Headers: map[string]string{"X-Env": "prod", "X-Tenant-Token": "tenant-s3cret"}, PublicHeaders: []string{"X-Env"},
			Auth: &client.Auth{Type: "basic", Username: "hookgate", Password: "basic-pa55word"}}); err != nil {
			t.Fatal(err)
		}
		data := json.RawMessage(`{"id": 1001, "note": "<b>fish & chips</b>", "items": [ 1, 2 ]}`)
		ev, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: data})
		if err != nil {
			t.Fatal(err)
		}
		d := attempted(t, admin, ev.ID)[0]
		got, body := rc.last()
		_, _, page := b.get("/ui/p/shop/deliveries/" + d.ID)
		m := requestPre.FindStringSubmatch(page)
		if m == nil {
			t.Fatalf("no request shown:\n%s", page)
		}
		note, shown := m[1], html.UnescapeString(m[2])
		head, sent, ok := strings.Cut(shown, "\n\n")
		// The API reads data back compacted; the receiver got it as sent.
		var compact bytes.Buffer
		if err := json.Compact(&compact, body); !ok || err != nil || sent != compact.String() {
			t.Errorf("the body shown is not the body sent:\nshown %q\nsent  %q", sent, body)
		}
		lines := strings.Split(head, "\n")
		if lines[0] != "POST "+recv.URL+"/hook?src=shop" {
			t.Errorf("request line %q", lines[0])
		}
		want := map[string]string{
			"Webhook-Id":        got.Get("Webhook-Id"),
			"Webhook-Timestamp": got.Get("Webhook-Timestamp"),
			"Webhook-Signature": "********",
			"Content-Type":      got.Get("Content-Type"),
			"User-Agent":        got.Get("User-Agent"),
			"X-Env":             "prod",
			"X-Tenant-Token":    "********",
			"Authorization":     "Basic ********",
		}
		for _, l := range lines[1:] {
			k, v, _ := strings.Cut(l, ": ")
			if w, ok := want[k]; !ok || w != v {
				t.Errorf("header %q: shown %q, want %q", k, v, w)
			}
			delete(want, k)
		}
		if len(want) > 0 {
			t.Errorf("headers not shown: %v\n%s", want, shown)
		}
		if want := d.ID; got.Get("Webhook-Id") != want {
			t.Errorf("the receiver got webhook-id %q, want %q", got.Get("Webhook-Id"), want)
		}
		if !strings.Contains(note, "Recorded") || !strings.Contains(note, "reconstructed") {
			t.Errorf("the page does not say what is recorded and what reconstructed: %q", note)
		}
		for _, secret := range []string{"tenant-s3cret", "basic-pa55word"} {
			if strings.Contains(page, secret) {
				t.Errorf("the page shows %q", secret)
			}
		}
	})
}

// Issue 22, item 12: the webhooks page tells a last failure as a kind and
// a sentence, not Go's error text; an HTTP failure with the beginning of
// the receiver's answer, not its status alone; a webhook called by
// triggers only is marked; "6 ms" and "33.3 %" stay on one line.
func TestWebhooksPageTellsFailures(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, b := shopRetrying(t, srv, "1h")
		ctx := context.Background()
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, "no hook here:\n   try /hooks/v2 instead")
		}))
		defer recv.Close()
		for _, in := range []client.WebhookCreate{
			{URL: "http://127.0.0.1:9/x", UID: "refused"},
			{URL: recv.URL + "/hook", UID: "missing"},
			{URL: recv.URL + "/lookup", UID: "lookup", TriggerOnly: true},
		} {
			if _, err := admin.CreateWebhook(ctx, "shop", in); err != nil {
				t.Fatal(err)
			}
		}
		ev, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]any{"id": 1}})
		if err != nil {
			t.Fatal(err)
		}
		attempted(t, admin, ev.ID)
		_, _, page := b.get("/ui/p/shop/webhooks")
		for _, want := range []string{
			"Connection refused: nothing accepts connections at 127.0.0.1:9",
			"HTTP 404 Not Found: “no hook here: try /hooks/v2 instead”",
			`lookup</a> <span class="badge trigger">trigger only</span>`,
			"\u00a0ms", "\u00a0%",
		} {
			if !strings.Contains(html.UnescapeString(page), want) {
				t.Errorf("the webhooks page does not show %q", want)
			}
		}
		for _, not := range []string{"dial tcp", "connect: connection refused", `Post "`, " ms<", " %<"} {
			if strings.Contains(html.UnescapeString(page), not) {
				t.Errorf("the webhooks page shows %q", not)
			}
		}
		if t.Failed() {
			t.Log(page)
		}
		_, _, page = b.get("/ui/p/shop/webhooks/missing")
		if !strings.Contains(html.UnescapeString(page), "HTTP 404 Not Found: “no hook here: try /hooks/v2 instead”") {
			t.Errorf("the webhook's page does not tell its last failure:\n%s", page)
		}
		_, _, page = b.get("/ui/p/shop/webhooks/lookup")
		if !strings.Contains(page, `<span class="badge trigger">trigger only</span>`) || strings.Contains(page, "<dd>all</dd>") {
			t.Errorf("the trigger-only webhook's page says it receives every event:\n%s", page)
		}
	})
}

// Issue 22, item 12: the live page's charts have a legend, and their
// labels are HTML text beside the drawing, which keeps its size on a
// phone, not SVG text, which shrinks with the drawing (to 7 px at 375 px).
func TestLiveChartsHaveALegendAndReadableLabels(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, b := shopRetrying(t, srv, "1h")
		ctx := context.Background()
		if _, err := admin.CreateWebhook(ctx, "shop", client.WebhookCreate{URL: "http://127.0.0.1:9/x", UID: "orders"}); err != nil {
			t.Fatal(err)
		}
		ev, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: map[string]any{"id": 1}})
		if err != nil {
			t.Fatal(err)
		}
		attempted(t, admin, ev.ID)
		st, _, page := b.get("/ui/p/shop/live")
		if st != http.StatusOK || strings.Count(page, `<svg class="chart"`) != 2 {
			t.Fatalf("live page: %d\n%s", st, page)
		}
		for _, want := range []string{
			`<li><span class="key ok"></span>succeeded</li><li><span class="key fail"></span>failed</li>`,
			`<li><span class="key p50"></span>p50 (solid)</li><li><span class="key p95"></span>p95 (dashed)</li>`,
			`<figcaption class="xaxis">`, `<span class="ymax">1</span>`,
		} {
			if !strings.Contains(page, want) {
				t.Errorf("the live page lacks %s", want)
			}
		}
		if strings.Contains(page, "<text") {
			t.Errorf("the charts draw their labels as SVG text:\n%s", page)
		}
	})
}

// Issue 22, item 21: events are rows of a table, many to a screen, each
// payload's beginning shown and the whole of it, indented, a click away
// (<details>), instead of a big card each.
func TestEventsAreATableWithExpandablePayloads(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := apitest.New(t, engine)
		admin, b := shopRetrying(t, srv, "1h")
		ctx := context.Background()
		var ids []string
		for i := range 3 {
			ev, err := admin.SendEvent(ctx, "shop", client.EventSend{Type: "order.paid", Data: json.RawMessage(fmt.Sprintf(`{"order": %d, "lines": [{"sku": "A-%d"}]}`, i, i)),
				IdempotencyKey: fmt.Sprintf("order-%d", i)})
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, ev.ID)
		}
		st, _, page := b.get("/ui/p/shop/events")
		if st != http.StatusOK || !strings.Contains(page, `<table class="events">`) || strings.Contains(page, `class="timeline"`) {
			t.Fatalf("events page: %d\n%s", st, page)
		}
		body := page[strings.Index(page, "<tbody>"):strings.Index(page, "</tbody>")]
		if n := strings.Count(body, "<tr>"); n != 3 {
			t.Errorf("%d rows for 3 events", n)
		}
		for i, id := range ids {
			for _, want := range []string{
				fmt.Sprintf(`<summary><code>{&#34;order&#34;:%d,&#34;lines&#34;:[{&#34;sku&#34;:&#34;A-%d&#34;}]}</code></summary>`, i, i),
				fmt.Sprintf("<pre>{\n  &#34;order&#34;: %d,\n  &#34;lines&#34;: [\n    {\n      &#34;sku&#34;: &#34;A-%d&#34;\n    }\n  ]\n}</pre>", i, i),
				`<code class="id" title="` + id + `">` + shortened(id) + `</code>`,
				`href="/ui/p/shop/deliveries?event=` + id + `">0&nbsp;deliveries</a>`,
				fmt.Sprintf("idempotency key <code>order-%d</code>", i),
			} {
				if !strings.Contains(body, want) {
					t.Errorf("event %d: the page lacks %s", i, want)
				}
			}
		}
		if t.Failed() {
			t.Log(body)
		}
	})
}
