package redisstream_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/destinations/redisstream"
	"github.com/hookgate/hookgate/internal/testredis"
	"github.com/hookgate/hookgate/signing"
)

// webhook returns a redis-stream webhook on srv's stream, with maxLen
// when it is not 0.
func webhook(srv *testredis.Server, stream string, maxLen int) *hookgate.Webhook {
	fields := map[string]json.RawMessage{"stream": json.RawMessage(strconv.Quote(stream))}
	if maxLen > 0 {
		fields["maxLen"] = json.RawMessage(strconv.Itoa(maxLen))
	}
	w := &hookgate.Webhook{ID: "wh_test", ProjectID: "prj_test", Secret: hookgate.NewSecret(), Destination: redisstream.Name,
		URL: srv.URL(), DestinationConfig: hookgate.DestinationConfig{URL: srv.URL(), Fields: fields}}
	w.ApplyDefaults()
	return w
}

func message(id string) hookgate.DeliveryMessage {
	return hookgate.DeliveryMessage{ID: id, EventType: "order.created", EventTime: time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC),
		Data: json.RawMessage(`{"id": 42,  "total": "9.90"}`)}
}

// reader is an independent client for the test to read streams with.
func reader(t *testing.T, srv *testredis.Server) *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func newDestination(t *testing.T) *redisstream.Destination {
	d := &redisstream.Destination{SendTimeout: 5 * time.Second}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// An event lands in the stream as one entry with the Standard Webhooks
// fields, the content type, the trace context and the body unchanged; a
// consumer verifies the signature from the fields with the webhook's
// secret, as a receiver verifies the headers.
func TestSendAppendsSignedEntry(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	d := newDestination(t)
	w := webhook(srv, "orders", 0)
	m := message("dlv_1")
	m.Trace = hookgate.TraceContext{TraceID: [16]byte{1, 2, 3}, SpanID: [8]byte{4, 5, 6}, Sampled: true, State: "vendor=1"}
	o := d.Send(context.Background(), w, m)
	if o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("outcome %+v", o)
	}
	entries, err := reader(t, srv).XRange(context.Background(), "orders", "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("XRANGE: %v, %v", entries, err)
	}
	e := entries[0]
	if o.Attempt.ResponseBody != e.ID {
		t.Fatalf("attempt records entry %q, the stream has %q", o.Attempt.ResponseBody, e.ID)
	}
	want := `{"type":"order.created","timestamp":"2026-12-06T20:00:00Z","data":{"id": 42,  "total": "9.90"}}`
	if e.Values["body"] != want || e.Values["content-type"] != "application/json" || e.Values["webhook-id"] != "dlv_1" {
		t.Fatalf("entry %v", e.Values)
	}
	if e.Values["traceparent"] != m.Trace.Traceparent() || e.Values["tracestate"] != "vendor=1" {
		t.Fatalf("trace fields %v", e.Values)
	}
	h := http.Header{}
	for _, k := range []string{signing.HeaderID, signing.HeaderTimestamp, signing.HeaderSignature} {
		h.Set(k, e.Values[k].(string))
	}
	verifier, err := signing.NewSigner(w.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifier.Verify(h, []byte(e.Values["body"].(string)), time.Now()); err != nil {
		t.Fatalf("signature: %v", err)
	}
	other, _ := signing.NewSigner(hookgate.NewSecret())
	if other.Verify(h, []byte(e.Values["body"].(string)), time.Now()) == nil {
		t.Fatal("another secret verifies the entry")
	}
	if o.Attempt.RequestMethod != "XADD" || o.Attempt.RequestURL != srv.URL()+"#orders" || o.Attempt.RequestHeaders["webhook-id"] != "dlv_1" {
		t.Fatalf("attempt %+v", o.Attempt)
	}
}

// maxLen bounds the stream, approximately (MAXLEN ~): Redis trims whole
// nodes of the stream, here of 5 entries.
func TestMaxLenTrims(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	if _, err := srv.Do("CONFIG", "SET", "stream-node-max-entries", "5"); err != nil {
		t.Fatal(err)
	}
	d := newDestination(t)
	w := webhook(srv, "trimmed", 10)
	for i := range 100 {
		if o := d.Send(context.Background(), w, message("dlv_"+strconv.Itoa(i))); o.Class != hookgate.OutcomeSuccess {
			t.Fatalf("send %d: %+v", i, o)
		}
	}
	n, err := reader(t, srv).XLen(context.Background(), "trimmed").Result()
	if err != nil || n < 10 || n > 15 {
		t.Fatalf("XLEN %d, %v; want 10 to 15 of 100", n, err)
	}
}

// A broker that is down makes the attempt fail, retryable; once it is back
// on the same address, the pooled client reconnects by itself.
func TestBrokerDownIsRetryable(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	d := newDestination(t)
	w := webhook(srv, "orders", 0)
	if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("first send: %+v", o)
	}
	srv.Stop()
	o := d.Send(context.Background(), w, message("dlv_2"))
	if o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "Redis server") {
		t.Fatalf("while down: %+v", o)
	}
	srv.Restart()
	if o := d.Send(context.Background(), w, message("dlv_2")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("after the restart: %+v", o)
	}
}

// WRONGTYPE (the key is not a stream) and NOPERM (the ACL forbids XADD)
// fail for good: no wait mends them.
func TestBrokerRefusalsArePermanent(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	if _, err := srv.Do("SET", "notastream", "x"); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.Do("ACL", "SETUSER", "reader", "on", ">reader-pass-1", "~*", "+@all", "-xadd"); err != nil {
		t.Fatal(err)
	}
	d := newDestination(t)
	if o := d.Send(context.Background(), webhook(srv, "notastream", 0), message("dlv_1")); o.Class != hookgate.OutcomePermanent || o.Reason != redisstream.ReasonWrongType {
		t.Fatalf("WRONGTYPE: %+v", o)
	}
	w := webhook(srv, "orders", 0)
	w.DestinationConfig.Auth = hookgate.DestinationAuth{Username: "reader", Password: "reader-pass-1"}
	if o := d.Send(context.Background(), w, message("dlv_2")); o.Class != hookgate.OutcomePermanent || o.Reason != redisstream.ReasonNoPermission {
		t.Fatalf("NOPERM: %+v", o)
	}
}

// Credentials in destination.auth reach the broker: a user that needs a
// password delivers with it, and a wrong password is retryable (it can be
// fixed by a PATCH before the next attempt).
func TestAuth(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	if _, err := srv.Do("ACL", "SETUSER", "hookgate", "on", ">broker-pass-1", "~*", "+@all"); err != nil {
		t.Fatal(err)
	}
	d := newDestination(t)
	w := webhook(srv, "orders", 0)
	w.DestinationConfig.Auth = hookgate.DestinationAuth{Username: "hookgate", Password: "wrong-pass"}
	if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeRetryable {
		t.Fatalf("wrong password: %+v", o)
	}
	w.DestinationConfig.Auth.Password = "broker-pass-1"
	if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("right password: %+v", o)
	}
}

// Check refuses a bad configuration naming the field; Probe refuses a
// broker that does not answer, naming destination.url.
func TestCheckAndProbe(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	d := newDestination(t)
	cases := []struct {
		name, param string
		change      func(w *hookgate.Webhook)
	}{
		{"Credentials", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = "redis://u:p@" + srv.Addr() + "/0" }},
		{"Scheme", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = "http://" + srv.Addr() }},
		{"Query", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = srv.URL() + "?dial_timeout=1s" }},
		{"Database", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = "redis://" + srv.Addr() + "/x" }},
		{"NoStream", "destination.stream", func(w *hookgate.Webhook) { delete(w.DestinationConfig.Fields, "stream") }},
		{"StreamNotString", "destination.stream", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["stream"] = json.RawMessage(`7`) }},
		{"MaxLenZero", "destination.maxLen", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["maxLen"] = json.RawMessage(`0`) }},
		{"MaxLenFraction", "destination.maxLen", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["maxLen"] = json.RawMessage(`1.5`) }},
		{"UnknownField", "destination.subject", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["subject"] = json.RawMessage(`"x"`) }},
		{"PasswordOnlyUser", "destination.auth.password", func(w *hookgate.Webhook) { w.DestinationConfig.Auth.Username = "u" }},
	}
	for _, c := range cases {
		w := webhook(srv, "orders", 100)
		c.change(w)
		err := d.Check(w)
		he, ok := err.(*hookgate.Error)
		if !ok || he.Param != c.param || he.Code != hookgate.EInvalidParameter && he.Code != hookgate.EMissingParameter {
			t.Errorf("%s: %v, want an invalid %s", c.name, err, c.param)
		}
		if c.name == "Credentials" && strings.Contains(err.Error(), ":p@") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
	w := webhook(srv, "orders", 100)
	if err := d.Probe(context.Background(), w); err != nil {
		t.Fatalf("probe of a live broker: %v", err)
	}
	if n, _ := reader(t, srv).Exists(context.Background(), "orders").Result(); n != 0 {
		t.Fatal("the probe published to the stream")
	}
	srv.Stop()
	err := d.Probe(context.Background(), w)
	if he, ok := err.(*hookgate.Error); !ok || he.Param != "destination.url" || !strings.Contains(he.Error(), "did not answer a PING") {
		t.Fatalf("probe of a stopped broker: %v", err)
	}
}

// A transform's body and content type land in the entry, signed as sent,
// with transformHeaders' fields before it (but one named body); the
// attempt keeps the body, and hides a credential's value; a transform
// that fails on the event is permanent and appends nothing.
func TestSendTransformed(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	d := newDestination(t)
	w := webhook(srv, "orders", 0)
	w.Transform = `"order " + string(data.id)`
	w.TransformHeaders = `{"X-Api-Key": "k-1", "X-Order": string(data.id), "Body": "x"}`
	o := d.Send(context.Background(), w, message("dlv_1"))
	if o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("outcome %+v", o)
	}
	entries, err := reader(t, srv).XRange(context.Background(), "orders", "-", "+").Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("XRANGE: %v, %v", entries, err)
	}
	e := entries[0].Values
	if e["body"] != "order 42" || e["content-type"] != "text/plain; charset=utf-8" || e["X-Order"] != "42" || e["X-Api-Key"] != "k-1" || e["Body"] != nil {
		t.Fatalf("entry %v", e)
	}
	h := http.Header{}
	for _, k := range []string{signing.HeaderID, signing.HeaderTimestamp, signing.HeaderSignature} {
		h.Set(k, e[k].(string))
	}
	verifier, _ := signing.NewSigner(w.Secret)
	if err := verifier.Verify(h, []byte("order 42"), time.Now()); err != nil {
		t.Fatalf("signature: %v", err)
	}
	if a := o.Attempt; a.RequestBody != "order 42" || a.RequestHeaders["X-Order"] != "42" || a.RequestHeaders["X-Api-Key"] != "********" {
		t.Fatalf("attempt %+v", a)
	}

	w.Transform = `{"t": data.missing}`
	o = d.Send(context.Background(), w, message("dlv_2"))
	if o.Class != hookgate.OutcomePermanent || !strings.HasPrefix(o.Attempt.Error, "transform: ") || !strings.Contains(o.Attempt.Error, "missing") {
		t.Fatalf("outcome %+v", o)
	}
	if n, _ := reader(t, srv).XLen(context.Background(), "orders").Result(); n != 1 {
		t.Fatalf("the stream holds %d entries", n)
	}
}
