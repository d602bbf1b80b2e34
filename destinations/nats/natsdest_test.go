package natsdest_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate"
	natsdest "github.com/hookgate/hookgate/destinations/nats"
	"github.com/hookgate/hookgate/internal/testcert"
	"github.com/hookgate/hookgate/internal/testnats"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/signing"
)

// webhook returns a nats webhook publishing to subject on srv.
func webhook(srv *testnats.Server, subject string) *hookgate.Webhook {
	fields := map[string]json.RawMessage{"subject": json.RawMessage(strconv.Quote(subject))}
	w := &hookgate.Webhook{ID: "wh_test", ProjectID: "prj_test", Secret: hookgate.NewSecret(), Destination: natsdest.Name,
		URL: srv.URL(), DestinationConfig: hookgate.DestinationConfig{URL: srv.URL(), Fields: fields}}
	w.ApplyDefaults()
	return w
}

func message(id string) hookgate.DeliveryMessage {
	return hookgate.DeliveryMessage{ID: id, EventType: "order.created", EventTime: time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC),
		Data: json.RawMessage(`{"id": 42,  "total": "9.90"}`)}
}

func newDestination(t testing.TB, timeout time.Duration) *natsdest.Destination {
	d := &natsdest.Destination{SendTimeout: timeout}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// stored reads the message of a stream at seq with a client of the test's
// own.
func stored(t *testing.T, srv *testnats.Server, stream string, seq uint64) *jetstream.RawStreamMsg {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := srv.JetStream().Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetMsg(ctx, seq)
	if err != nil {
		t.Fatalf("message %d of %s: %v", seq, stream, err)
	}
	return m
}

// messages counts the messages of a stream.
func messages(t *testing.T, srv *testnats.Server, stream string) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := srv.JetStream().Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// ack is the attempt's response body.
type ack struct {
	Stream    string `json:"stream"`
	Seq       uint64 `json:"seq"`
	Duplicate bool   `json:"duplicate"`
}

func ackOf(t *testing.T, o hookgate.Outcome) ack {
	t.Helper()
	var a ack
	if err := json.Unmarshal([]byte(o.Attempt.ResponseBody), &a); err != nil {
		t.Fatalf("response body %q: %v", o.Attempt.ResponseBody, err)
	}
	return a
}

// An event lands in the stream as one message whose headers are the
// Standard Webhooks headers, the content type, the trace context and the
// message ID, and whose body is the event unchanged; a consumer verifies
// the signature with the webhook's secret, as a receiver verifies a
// request. The attempt records the stream's ack.
func TestSendPublishesSignedMessage(t *testing.T) {
	t.Parallel()
	srv := testnats.Start(t)
	srv.CreateStream("ORDERS", "orders.>")
	d := newDestination(t, 5*time.Second)
	w := webhook(srv, "orders.created")
	m := message("dlv_1")
	m.Trace = hookgate.TraceContext{TraceID: [16]byte{1, 2, 3}, SpanID: [8]byte{4, 5, 6}, Sampled: true, State: "vendor=1"}
	o := d.Send(context.Background(), w, m)
	if o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("outcome %+v", o)
	}
	if a := ackOf(t, o); a != (ack{Stream: "ORDERS", Seq: 1}) || !strings.Contains(o.Attempt.ResponseBody, `"duplicate":false`) {
		t.Fatalf("ack %q", o.Attempt.ResponseBody)
	}
	msg := stored(t, srv, "ORDERS", 1)
	want := `{"type":"order.created","timestamp":"2026-12-06T20:00:00Z","data":{"id": 42,  "total": "9.90"}}`
	if string(msg.Data) != want || msg.Subject != "orders.created" || msg.Header.Get("content-type") != "application/json" ||
		msg.Header.Get("webhook-id") != "dlv_1" || msg.Header.Get("Nats-Msg-Id") != "dlv_1" {
		t.Fatalf("message %s %q %v", msg.Subject, msg.Data, msg.Header)
	}
	if msg.Header.Get("traceparent") != m.Trace.Traceparent() || msg.Header.Get("tracestate") != "vendor=1" {
		t.Fatalf("trace headers %v", msg.Header)
	}
	h := http.Header{}
	for _, k := range []string{signing.HeaderID, signing.HeaderTimestamp, signing.HeaderSignature} {
		h.Set(k, msg.Header.Get(k))
	}
	verifier, err := signing.NewSigner(w.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifier.Verify(h, msg.Data, time.Now()); err != nil {
		t.Fatalf("signature: %v", err)
	}
	other, _ := signing.NewSigner(hookgate.NewSecret())
	if other.Verify(h, msg.Data, time.Now()) == nil {
		t.Fatal("another secret verifies the message")
	}
	if o.Attempt.RequestMethod != "PUBLISH" || o.Attempt.RequestURL != srv.URL()+"#orders.created" ||
		o.Attempt.RequestHeaders["webhook-id"] != "dlv_1" || o.Attempt.RequestHeaders["Nats-Msg-Id"] != "dlv_1" || o.Attempt.StatusCode != 0 {
		t.Fatalf("attempt %+v", o.Attempt)
	}
}

// A retry of a delivery the stream already holds is dropped by the stream
// (the same Nats-Msg-Id within its duplicate window) and acknowledged as a
// duplicate of the same sequence.
func TestRetryIsDeduplicated(t *testing.T) {
	t.Parallel()
	srv := testnats.Start(t)
	srv.CreateStream("ORDERS", "orders.>")
	d := newDestination(t, 5*time.Second)
	w := webhook(srv, "orders.created")
	first := d.Send(context.Background(), w, message("dlv_1"))
	again := d.Send(context.Background(), w, message("dlv_1"))
	other := d.Send(context.Background(), w, message("dlv_2"))
	if ackOf(t, first) != (ack{"ORDERS", 1, false}) || ackOf(t, again) != (ack{"ORDERS", 1, true}) || ackOf(t, other) != (ack{"ORDERS", 2, false}) {
		t.Fatalf("acks %s, %s, %s", first.Attempt.ResponseBody, again.Attempt.ResponseBody, other.Attempt.ResponseBody)
	}
	if n := messages(t, srv, "ORDERS"); n != 2 {
		t.Fatalf("the stream holds %d messages", n)
	}
}

// A broker that is down makes the attempt fail, retryable, without
// waiting for its timeout; once it is back on the same address, the
// pooled connection reconnects by itself. A broker that was never reached
// is connected to once it answers.
func TestBrokerDownIsRetryable(t *testing.T) {
	t.Parallel()
	srv := testnats.Start(t)
	srv.CreateStream("ORDERS", "orders.>")
	d := newDestination(t, 5*time.Second)
	w := webhook(srv, "orders.created")
	if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("first send: %+v", o)
	}
	srv.Stop()
	o := d.Send(context.Background(), w, message("dlv_2"))
	if o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "NATS server") {
		t.Fatalf("while down: %+v", o)
	}
	srv.Start()
	testwait.For(t, "a send to succeed once the broker is back", func() bool {
		return d.Send(context.Background(), w, message("dlv_2")).Class == hookgate.OutcomeSuccess
	})
	if n := messages(t, srv, "ORDERS"); n != 2 {
		t.Fatalf("after the restart the stream holds %d messages", n)
	}

	fresh := newDestination(t, 5*time.Second)
	srv.Stop()
	if o := fresh.Send(context.Background(), w, message("dlv_3")); o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "NATS server") {
		t.Fatalf("never connected: %+v", o)
	}
	srv.Start()
	testwait.For(t, "a first connection once the broker answers", func() bool {
		return fresh.Send(context.Background(), w, message("dlv_3")).Class == hookgate.OutcomeSuccess
	})
}

// A broker that accepts connections and never answers holds one attempt
// no longer than the destination's timeout.
func TestSendWithinTimeout(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	d := newDestination(t, 500*time.Millisecond)
	w := webhook(&testnats.Server{}, "orders.created")
	w.DestinationConfig.URL = "nats://" + l.Addr().String()
	start := time.Now()
	o := d.Send(context.Background(), w, message("dlv_1"))
	if o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "NATS server") {
		t.Fatalf("outcome %+v", o)
	}
	if took := time.Since(start); took > d.Timeout()+2*time.Second {
		t.Fatalf("the send took %s, its timeout is %s", took, d.Timeout())
	}
}

// A subject no stream captures has no responder: retryable (a stream may
// be created), and said so.
func TestNoStreamIsRetryable(t *testing.T) {
	t.Parallel()
	srv := testnats.Start(t)
	d := newDestination(t, 5*time.Second)
	o := d.Send(context.Background(), webhook(srv, "nowhere.created"), message("dlv_1"))
	if o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "no responders") {
		t.Fatalf("outcome %+v", o)
	}
}

// A permissions violation on the subject fails for good at once, without
// waiting for the timeout; the same connection goes on publishing to the
// subjects the user may.
func TestPermissionViolationIsPermanent(t *testing.T) {
	t.Parallel()
	srv := testnats.Start(t, testnats.WithUsers(testnats.User{Name: "hookgate", Password: "broker-pass-1", DenyPublish: []string{"orders.secret"}}))
	srv.CreateStream("ORDERS", "orders.>")
	d := newDestination(t, time.Minute)
	w := webhook(srv, "orders.secret")
	w.DestinationConfig.Auth = hookgate.DestinationAuth{Username: "hookgate", Password: "broker-pass-1"}
	o := d.Send(context.Background(), w, message("dlv_1"))
	if o.Class != hookgate.OutcomePermanent || o.Reason != natsdest.ReasonNoPermission || !strings.Contains(o.Attempt.Error, "orders.secret") {
		t.Fatalf("outcome %+v", o)
	}
	if o.Attempt.DurationMs > 30_000 {
		t.Fatalf("the refusal waited %d ms", o.Attempt.DurationMs)
	}
	w.DestinationConfig.Fields["subject"] = json.RawMessage(`"orders.open"`)
	if o := d.Send(context.Background(), w, message("dlv_2")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("allowed subject: %+v", o)
	}
}

// Credentials in destination.auth reach the broker, a token or a user and
// password; wrong ones are retryable (a PATCH can fix them before the next
// attempt).
func TestAuth(t *testing.T) {
	t.Parallel()
	t.Run("Token", func(t *testing.T) {
		t.Parallel()
		srv := testnats.Start(t, testnats.WithToken("broker-token-1"))
		srv.CreateStream("ORDERS", "orders.>")
		d := newDestination(t, 5*time.Second)
		w := webhook(srv, "orders.created")
		w.DestinationConfig.Auth = hookgate.DestinationAuth{Token: "wrong-token"}
		if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "credentials") {
			t.Fatalf("wrong token: %+v", o)
		}
		w.DestinationConfig.Auth.Token = "broker-token-1"
		if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeSuccess {
			t.Fatalf("right token: %+v", o)
		}
	})
	t.Run("UserPassword", func(t *testing.T) {
		t.Parallel()
		srv := testnats.Start(t, testnats.WithUsers(testnats.User{Name: "hookgate", Password: "broker-pass-1"}))
		srv.CreateStream("ORDERS", "orders.>")
		d := newDestination(t, 5*time.Second)
		w := webhook(srv, "orders.created")
		w.DestinationConfig.Auth = hookgate.DestinationAuth{Username: "hookgate", Password: "wrong-pass"}
		if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeRetryable {
			t.Fatalf("wrong password: %+v", o)
		}
		w.DestinationConfig.Auth.Password = "broker-pass-1"
		if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeSuccess {
			t.Fatalf("right password: %+v", o)
		}
	})
}

// After Close (the node drains) a send fails, retryable.
func TestClose(t *testing.T) {
	t.Parallel()
	srv := testnats.Start(t)
	srv.CreateStream("ORDERS", "orders.>")
	d := newDestination(t, 5*time.Second)
	w := webhook(srv, "orders.created")
	if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("before: %+v", o)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if o := d.Send(context.Background(), w, message("dlv_2")); o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "draining") {
		t.Fatalf("after Close: %+v", o)
	}
}

// Check refuses a bad configuration naming the field; Probe refuses a
// broker that does not answer (destination.url), credentials it refuses
// (destination.auth.*) and a subject no stream captures
// (destination.subject), publishing nothing.
func TestCheckAndProbe(t *testing.T) {
	t.Parallel()
	srv := testnats.Start(t, testnats.WithToken("broker-token-1"))
	srv.CreateStream("ORDERS", "orders.>")
	d := newDestination(t, 5*time.Second)
	base := func() *hookgate.Webhook {
		w := webhook(srv, "orders.created")
		w.DestinationConfig.Auth.Token = "broker-token-1"
		return w
	}
	cases := []struct {
		name, param string
		change      func(w *hookgate.Webhook)
	}{
		{"Credentials", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = "nats://u:secret-pw@" + srv.Addr() }},
		{"Scheme", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = "http://" + srv.Addr() }},
		{"Query", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = srv.URL() + "?x=1" }},
		{"Path", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = srv.URL() + "/orders" }},
		{"Port", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = "nats://127.0.0.1:70000" }},
		{"NoURL", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = "" }},
		{"NoSubject", "destination.subject", func(w *hookgate.Webhook) { delete(w.DestinationConfig.Fields, "subject") }},
		{"SubjectNotString", "destination.subject", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["subject"] = json.RawMessage(`7`) }},
		{"SubjectWildcard", "destination.subject", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["subject"] = json.RawMessage(`"orders.*"`) }},
		{"SubjectTail", "destination.subject", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["subject"] = json.RawMessage(`"orders.>"`) }},
		{"SubjectSpace", "destination.subject", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["subject"] = json.RawMessage(`"orders created"`) }},
		{"SubjectEmptyToken", "destination.subject", func(w *hookgate.Webhook) {
			w.DestinationConfig.Fields["subject"] = json.RawMessage(`"orders..created"`)
		}},
		{"SubjectLong", "destination.subject", func(w *hookgate.Webhook) {
			w.DestinationConfig.Fields["subject"] = json.RawMessage(strconv.Quote(strings.Repeat("a", 257)))
		}},
		{"UnknownField", "destination.stream", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["stream"] = json.RawMessage(`"x"`) }},
		{"TokenAndUser", "destination.auth.token", func(w *hookgate.Webhook) {
			w.DestinationConfig.Auth.Username, w.DestinationConfig.Auth.Password = "u", "p"
		}},
		{"UserOnly", "destination.auth.password", func(w *hookgate.Webhook) {
			w.DestinationConfig.Auth = hookgate.DestinationAuth{Username: "u"}
		}},
		{"PasswordOnly", "destination.auth.username", func(w *hookgate.Webhook) {
			w.DestinationConfig.Auth = hookgate.DestinationAuth{Password: "p"}
		}},
	}
	for _, c := range cases {
		w := base()
		c.change(w)
		err := d.Check(w)
		he, ok := err.(*hookgate.Error)
		if !ok || he.Param != c.param || he.Code != hookgate.EInvalidParameter && he.Code != hookgate.EMissingParameter {
			t.Errorf("%s: %v, want an invalid %s", c.name, err, c.param)
			continue
		}
		if c.name == "Credentials" && strings.Contains(err.Error(), "secret-pw") {
			t.Errorf("the error repeats the password: %v", err)
		}
	}
	if err := d.Check(base()); err != nil {
		t.Fatalf("a good configuration: %v", err)
	}

	probe := func(w *hookgate.Webhook) *hookgate.Error {
		t.Helper()
		err := d.Probe(context.Background(), w)
		if err == nil {
			return nil
		}
		he, ok := err.(*hookgate.Error)
		if !ok {
			t.Fatalf("probe: %v is not a *hookgate.Error", err)
		}
		return he
	}
	if err := probe(base()); err != nil {
		t.Fatalf("probe of a live broker: %v", err)
	}
	if n := messages(t, srv, "ORDERS"); n != 0 {
		t.Fatalf("the probe published %d messages", n)
	}
	nowhere := base()
	nowhere.DestinationConfig.Fields["subject"] = json.RawMessage(`"nowhere.created"`)
	if err := probe(nowhere); err == nil || err.Param != "destination.subject" || !strings.Contains(err.Error(), "no JetStream stream captures") {
		t.Fatalf("probe of a subject no stream captures: %v", err)
	}
	wrong := base()
	wrong.DestinationConfig.Auth.Token = "wrong-token"
	if err := probe(wrong); err == nil || err.Param != "destination.auth.token" || strings.Contains(err.Error(), "wrong-token") {
		t.Fatalf("probe with a wrong token: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	deaf := base()
	deaf.DestinationConfig.URL = "nats://" + l.Addr().String()
	if err := probe(deaf); err == nil || err.Param != "destination.url" || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("probe of a broker that does not answer: %v", err)
	}
	srv.Stop()
	if err := probe(base()); err == nil || err.Param != "destination.url" {
		t.Fatalf("probe of a stopped broker: %v", err)
	}
}

// A broker that restarts while deliveries are being sent loses none: each
// delivery, retried while its attempts fail (retryable, never permanent),
// lands once in the stream, whose message IDs drop the retries of a
// delivery whose ack was lost. Half the deliveries start before the
// broker is killed, half while it is down.
func TestRestartMidStreamLosesNothing(t *testing.T) {
	t.Parallel()
	srv := testnats.Start(t)
	srv.CreateStream("ORDERS", "orders.>")
	d := newDestination(t, 2*time.Second)
	w := webhook(srv, "orders.created")
	const n = 40
	results := make(chan hookgate.Outcome, n)
	var failed atomic.Int64
	deliver := func(i int) {
		m := message("dlv_" + strconv.Itoa(i))
		for {
			o := d.Send(context.Background(), w, m)
			if o.Class != hookgate.OutcomeRetryable {
				results <- o
				return
			}
			failed.Add(1)
		}
	}
	for i := range n / 2 {
		go deliver(i)
	}
	testwait.For(t, "some deliveries to land", func() bool { return messages(t, srv, "ORDERS") > 0 })
	srv.Kill()
	for i := n / 2; i < n; i++ {
		go deliver(i)
	}
	testwait.For(t, "attempts to fail while the broker is down", func() bool { return failed.Load() >= n/2 })
	srv.Start()
	for range n {
		if o := testwait.Recv(t, "a delivery's outcome", results); o.Class != hookgate.OutcomeSuccess {
			t.Fatalf("outcome %+v", o)
		}
	}
	if got := messages(t, srv, "ORDERS"); got != n {
		t.Fatalf("the stream holds %d messages, want %d", got, n)
	}
}

// A tls:// broker is reached over TLS, its certificate checked against the
// system's roots: a certificate of the test's own CA is refused at
// registration, naming destination.url. A nats:// URL of a server that
// requires TLS is upgraded, and checked the same way.
func TestTLSChecksTheSystemRoots(t *testing.T) {
	t.Parallel()
	ca := testcert.NewCA(t, "nats test CA")
	pair := ca.Issue(t, testcert.Spec{CommonName: "127.0.0.1", Server: true})
	srv := testnats.Start(t, testnats.WithTLS(pair.CertPEM, pair.KeyPEM, ca.Pool()))
	srv.CreateStream("ORDERS", "orders.>")
	d := newDestination(t, 5*time.Second)
	for _, u := range []string{srv.URL(), "nats://" + srv.Addr()} {
		w := webhook(srv, "orders.created")
		w.DestinationConfig.URL = u
		err := d.Probe(context.Background(), w)
		if he, ok := err.(*hookgate.Error); !ok || he.Param != "destination.url" || !strings.Contains(he.Error(), "certificate") {
			t.Fatalf("probe of %s: %v", u, err)
		}
		if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "certificate") {
			t.Fatalf("send to %s: %+v", u, o)
		}
	}
}

// A transform's body and content type are the message's, signed as sent,
// with transformHeaders' headers (but one named as the message ID); the
// attempt keeps the body. A transform that fails on the event is
// permanent and says why.
func TestSendTransformed(t *testing.T) {
	t.Parallel()
	srv := testnats.Start(t)
	srv.CreateStream("ORDERS", "orders.>")
	d := newDestination(t, 5*time.Second)
	w := webhook(srv, "orders.created")
	w.Transform = `{"order": data.id}`
	w.TransformHeaders = `{"X-Order": string(data.id), "nats-msg-id": "x"}`
	o := d.Send(context.Background(), w, message("dlv_1"))
	if o.Class != hookgate.OutcomeSuccess || o.Attempt.RequestBody != `{"order":42}` {
		t.Fatalf("outcome %+v", o)
	}
	msg := stored(t, srv, "ORDERS", 1)
	if string(msg.Data) != `{"order":42}` || msg.Header.Get("content-type") != "application/json" || msg.Header.Get("X-Order") != "42" ||
		msg.Header.Get("Nats-Msg-Id") != "dlv_1" || len(msg.Header.Values("nats-msg-id")) != 0 {
		t.Fatalf("message %q %v", msg.Data, msg.Header)
	}
	h := http.Header{}
	for _, k := range []string{signing.HeaderID, signing.HeaderTimestamp, signing.HeaderSignature} {
		h.Set(k, msg.Header.Get(k))
	}
	verifier, _ := signing.NewSigner(w.Secret)
	if err := verifier.Verify(h, msg.Data, time.Now()); err != nil {
		t.Fatalf("signature: %v", err)
	}
	w.Transform = `{"t": data.missing}`
	o = d.Send(context.Background(), w, message("dlv_2"))
	if o.Class != hookgate.OutcomePermanent || !strings.HasPrefix(o.Attempt.Error, "transform: ") || !strings.Contains(o.Attempt.Error, "missing") {
		t.Fatalf("outcome %+v", o)
	}
}
