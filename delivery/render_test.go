package delivery_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/expressions"
)

// A webhook without a transform gets Payload's body, recorded nowhere.
func TestRenderWithoutTransform(t *testing.T) {
	t.Parallel()
	w := webhook("http://127.0.0.1:9/")
	b, err := delivery.Render(context.Background(), w, msg)
	want, ct, _ := delivery.Payload(w, msg)
	if err != nil || string(b.Bytes) != string(want) || b.ContentType != ct || b.Header != nil || b.Transformed || b.Recorded() != "" {
		t.Fatalf("render = %+v, %v", b, err)
	}
}

// A transform's map is the body as JSON, its string as text; the
// variables are the event's and metadata the webhook's; transformHeaders
// adds headers, and a Content-Type among them is the body's.
func TestRenderTransform(t *testing.T) {
	t.Parallel()
	m := msg
	m.EventID = "evt_1"
	m.Data = []byte(`{"id":1,"total":120.5,"region":"eu"}`)
	for _, c := range []struct {
		name, transform, headers string
		body, contentType        string
		header                   map[string]string
	}{
		{name: "map", transform: `{"order": data.id, "sum": data.total, "ev": id, "t": type, "team": metadata.team}`,
			body: `{"ev":"evt_1","order":1,"sum":120.5,"t":"order.created","team":"billing"}`, contentType: expressions.ContentTypeJSON},
		{name: "string", transform: `"order " + string(data.id) + " in " + data.region`,
			body: "order 1 in eu", contentType: expressions.ContentTypeText},
		{name: "headers only", headers: `{"X-Region": data.region}`,
			body: `{"type":"order.created","timestamp":"2026-11-23T12:00:00Z","data":{"id":1,"total":120.5,"region":"eu"}}`, contentType: "application/json",
			header: map[string]string{"X-Region": "eu"}},
		{name: "content type and own headers", transform: `"<order/>"`, headers: `{"content-type": "application/xml", "Traceparent": "x", "X-Team": metadata.team}`,
			body: "<order/>", contentType: "application/xml", header: map[string]string{"X-Team": "billing"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			w := webhook("http://127.0.0.1:9/")
			w.Transform, w.TransformHeaders, w.Metadata = c.transform, c.headers, map[string]string{"team": "billing"}
			b, err := delivery.Render(context.Background(), w, m)
			if err != nil {
				t.Fatal(err)
			}
			if string(b.Bytes) != c.body || b.ContentType != c.contentType || b.Transformed != (c.transform != "") {
				t.Fatalf("render = %q %q %v, want %q %q", b.Bytes, b.ContentType, b.Transformed, c.body, c.contentType)
			}
			if len(b.Header) != len(c.header) {
				t.Fatalf("headers = %v, want %v", b.Header, c.header)
			}
			for k, v := range c.header {
				if b.Header[k] != v {
					t.Fatalf("headers = %v, want %v", b.Header, c.header)
				}
			}
			if want := map[bool]string{true: c.body}[c.transform != ""]; b.Recorded() != want {
				t.Fatalf("recorded = %q, want %q", b.Recorded(), want)
			}
		})
	}
}

// A transform or transformHeaders that fails on the event is a
// *TransformError naming the field and saying why; a probe sends the
// envelope instead.
func TestRenderTransformFails(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ transform, headers, param, why string }{
		{transform: `{"t": data.total}`, param: "transform", why: "no such key: total"},
		{transform: `data.id`, param: "transform", why: "not a map, a list or a string"},
		{headers: `{"X-Total": data.total}`, param: "transformHeaders", why: "no such key: total"},
		{transform: `{"id": data.id}`, headers: `{"webhook-id": "x"}`, param: "transformHeaders", why: "set by Hookgate"},
	} {
		w := webhook("http://127.0.0.1:9/")
		w.Transform, w.TransformHeaders = c.transform, c.headers
		_, err := delivery.Render(context.Background(), w, msg)
		var te *delivery.TransformError
		if !errors.As(err, &te) || te.Param != c.param || !errors.Is(err, expressions.ErrTransform) ||
			!strings.HasPrefix(err.Error(), c.param+": ") || !strings.Contains(err.Error(), c.why) {
			t.Fatalf("%s/%s: err = %v, want %s failing with %q", c.transform, c.headers, err, c.param, c.why)
		}
		probe := msg
		probe.Probe = true
		b, err := delivery.Render(context.Background(), w, probe)
		want, _, _ := delivery.Payload(w, msg)
		if err != nil || string(b.Bytes) != string(want) || b.Transformed || b.Header != nil {
			t.Fatalf("%s/%s: probe = %q %v, %v", c.transform, c.headers, b.Bytes, b.Header, err)
		}
	}
	// Stopped at its cost: a transform error too.
	w := webhook("http://127.0.0.1:9/")
	w.Transform = `data.items.map(i, {'n': i})`
	m := msg
	data, _ := json.Marshal(map[string]any{"items": make([]int, 300_000)})
	m.Data = data
	_, err := delivery.Render(context.Background(), w, m)
	if !errors.Is(err, expressions.ErrCostLimit) || !delivery.IsTransformError(err) || !strings.HasPrefix(err.Error(), "transform: ") {
		t.Fatalf("err = %v", err)
	}
	// Stopped by its context: no fault of the transform's.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := delivery.Render(ctx, w, m); !errors.Is(err, context.Canceled) || delivery.IsTransformError(err) {
		t.Fatalf("err = %v", err)
	}
}

// What an attempt keeps of a transform's body is its first 64 KiB, cut
// on a character's boundary.
func TestRenderRecordedBounded(t *testing.T) {
	t.Parallel()
	w := webhook("http://127.0.0.1:9/")
	w.Transform = `data.s`
	m := msg
	m.Data = []byte(`{"s":"` + strings.Repeat("é", delivery.MaxRequestBody) + `"}`)
	b, err := delivery.Render(context.Background(), w, m)
	if err != nil {
		t.Fatal(err)
	}
	r := b.Recorded()
	if len(r) != delivery.MaxRequestBody || !utf8.ValidString(r) || !strings.HasPrefix(string(b.Bytes), r) {
		t.Fatalf("recorded %d bytes (valid %v)", len(r), utf8.ValidString(r))
	}
	m.Data = []byte(`{"s":"a` + strings.Repeat("é", delivery.MaxRequestBody) + `"}`)
	b, _ = delivery.Render(context.Background(), w, m)
	if r := b.Recorded(); len(r) != delivery.MaxRequestBody-1 || !utf8.ValidString(r) {
		t.Fatalf("recorded %d bytes (valid %v)", len(r), utf8.ValidString(r))
	}
}

// The HTTP sender sends the transform's body, signed, with its headers
// under the webhook's own; the attempt keeps the body. A transform that
// fails is a permanent failure that says so.
func TestSendTransformed(t *testing.T) {
	t.Parallel()
	type got struct {
		body             string
		ct, region, team string
		verr             error
	}
	seen := make(chan got, 1)
	var w *hookgate.Webhook
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		wh, _ := standardwebhooks.NewWebhook(w.Secret)
		seen <- got{string(b), r.Header.Get("Content-Type"), r.Header.Get("X-Region"), r.Header.Get("X-Team"), wh.Verify(b, r.Header)}
		rw.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	w = webhook(srv.URL)
	w.Transform = `{"order": data.id}`
	w.TransformHeaders = `{"X-Region": "eu", "X-Team": "from-transform"}`
	w.Headers = map[string]string{"X-Team": "billing"}
	res := newSender().Send(context.Background(), w, msg)
	if !res.OK() {
		t.Fatal(res.Err)
	}
	g := <-seen
	if g.verr != nil || g.body != `{"order":1}` || g.ct != "application/json" || g.region != "eu" || g.team != "billing" {
		t.Fatalf("received %+v", g)
	}
	if a := res.Attempt("msg_abc", 1); a.RequestBody != `{"order":1}` {
		t.Fatalf("attempt's request body = %q", a.RequestBody)
	}

	w.Transform = `{"t": data.total}`
	res = newSender().Send(context.Background(), w, msg)
	a := res.Attempt("msg_abc", 1)
	if res.Method != "" || delivery.UnsendableReason(res.Err, "other") != delivery.ReasonTransform || !strings.HasPrefix(a.Error, "transform: ") ||
		!strings.Contains(a.Error, "no such key: total") || a.RequestBody != "" {
		t.Fatalf("result = %+v, attempt = %+v", res, a)
	}
}
