package amqp_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/destinations/amqp"
	"github.com/hookgate/hookgate/internal/testamqp"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/netguard"
	"github.com/hookgate/hookgate/signing"
)

// webhook returns an amqp webhook publishing to exchange with key, on the
// broker at url.
func webhook(url, exchange, key string) *hookgate.Webhook {
	fields := map[string]json.RawMessage{"exchange": json.RawMessage(strconv.Quote(exchange)), "routingKey": json.RawMessage(strconv.Quote(key))}
	w := &hookgate.Webhook{ID: "wh_test", ProjectID: "prj_test", Secret: hookgate.NewSecret(), Destination: amqp.Name,
		URL: url, DestinationConfig: hookgate.DestinationConfig{URL: url, Fields: fields}}
	w.ApplyDefaults()
	return w
}

func message(id string) hookgate.DeliveryMessage {
	return hookgate.DeliveryMessage{ID: id, EventType: "order.created", EventTime: time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC),
		Data: json.RawMessage(`{"id": 42,  "total": "9.90"}`)}
}

func newDestination(t testing.TB) *amqp.Destination {
	d := &amqp.Destination{SendTimeout: 5 * time.Second}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// channel is a channel of the test's own on v, as guest, to declare
// queues and exchanges and read messages with.
func channel(t testing.TB, v *testamqp.VHost) *amqp091.Channel {
	t.Helper()
	conn, err := amqp091.Dial("amqp://guest:guest@" + testamqp.Addr + "/" + v.Name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// queue declares a durable queue named name, with args.
func queue(t testing.TB, ch *amqp091.Channel, name string, args amqp091.Table) {
	t.Helper()
	if _, err := ch.QueueDeclare(name, true, false, false, false, args); err != nil {
		t.Fatal(err)
	}
}

// get takes the next message of q, failing when there is none.
func get(t testing.TB, ch *amqp091.Channel, q string) amqp091.Delivery {
	t.Helper()
	m, ok, err := ch.Get(q, true)
	if err != nil || !ok {
		t.Fatalf("basic.get %s: %v, %v", q, ok, err)
	}
	return m
}

// count is how many messages wait in q.
func count(t testing.TB, ch *amqp091.Channel, q string) int {
	t.Helper()
	s, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s.Messages
}

// An event lands in the queue as one persistent message whose headers are
// the Standard Webhooks headers and the trace context, whose properties
// carry the content type, the delivery's ID and the event type, and whose
// body is unchanged; a consumer verifies the signature with the webhook's
// secret, as a receiver verifies a request.
func TestSendPublishesSignedMessage(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	queue(t, ch, "orders", nil)
	d := newDestination(t)
	w := webhook(v.URL(testamqp.Addr), "", "orders")
	m := message("dlv_1")
	m.Trace = hookgate.TraceContext{TraceID: [16]byte{1, 2, 3}, SpanID: [8]byte{4, 5, 6}, Sampled: true, State: "vendor=1"}
	o := d.Send(context.Background(), w, m)
	if o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("outcome %+v", o)
	}
	got := get(t, ch, "orders")
	want := `{"type":"order.created","timestamp":"2026-12-06T20:00:00Z","data":{"id": 42,  "total": "9.90"}}`
	if string(got.Body) != want || got.ContentType != "application/json" || got.MessageId != "dlv_1" || got.Type != "order.created" ||
		got.DeliveryMode != amqp091.Persistent || got.Timestamp.IsZero() {
		t.Fatalf("message %+v", got)
	}
	if got.Headers["traceparent"] != m.Trace.Traceparent() || got.Headers["tracestate"] != "vendor=1" || got.Headers["webhook-id"] != "dlv_1" {
		t.Fatalf("headers %v", got.Headers)
	}
	h := http.Header{}
	for _, k := range []string{signing.HeaderID, signing.HeaderTimestamp, signing.HeaderSignature} {
		h.Set(k, got.Headers[k].(string))
	}
	verifier, err := signing.NewSigner(w.Secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifier.Verify(h, got.Body, time.Now()); err != nil {
		t.Fatalf("signature: %v", err)
	}
	other, _ := signing.NewSigner(hookgate.NewSecret())
	if other.Verify(h, got.Body, time.Now()) == nil {
		t.Fatal("another secret verifies the message")
	}
	a := o.Attempt
	if a.RequestMethod != "PUBLISH" || a.RequestURL != v.URL(testamqp.Addr)+"#/orders" || a.RequestHeaders["webhook-id"] != "dlv_1" ||
		a.RequestHeaders["content-type"] != "application/json" || a.ResponseBody != "basic.ack" || a.StatusCode != 0 {
		t.Fatalf("attempt %+v", a)
	}
}

// A named exchange routes by the routing key to the queues bound to it.
func TestSendToNamedExchange(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	if err := ch.ExchangeDeclare("events", "topic", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	queue(t, ch, "orders", nil)
	if err := ch.QueueBind("orders", "order.*", "events", false, nil); err != nil {
		t.Fatal(err)
	}
	d := newDestination(t)
	w := webhook(v.URL(testamqp.Addr), "events", "order.created")
	for i := range 3 {
		if o := d.Send(context.Background(), w, message("dlv_"+strconv.Itoa(i))); o.Class != hookgate.OutcomeSuccess {
			t.Fatalf("send %d: %+v", i, o)
		}
	}
	if n := count(t, ch, "orders"); n != 3 {
		t.Fatalf("%d messages in the queue, want 3", n)
	}
	if o := d.Send(context.Background(), w, message("dlv_x")); o.Attempt.RequestURL != v.URL(testamqp.Addr)+"#events/order.created" {
		t.Fatalf("attempt %+v", o.Attempt)
	}
}

// A message no queue takes comes back (mandatory): the attempt fails,
// retryable, saying so; once a queue is bound, the retry lands.
func TestUnroutableIsRetryable(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	d := newDestination(t)
	w := webhook(v.URL(testamqp.Addr), "", "later")
	o := d.Send(context.Background(), w, message("dlv_1"))
	if o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "unroutable") || !strings.Contains(o.Attempt.Error, "bound later") {
		t.Fatalf("unroutable: %+v", o)
	}
	queue(t, ch, "later", nil)
	if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("once the queue is there: %+v", o)
	}
	if got := get(t, ch, "later"); got.MessageId != "dlv_1" {
		t.Fatalf("message %+v", got)
	}
}

// An exchange that does not exist closes the channel with NOT_FOUND: the
// attempt fails, retryable (it may be declared later), and the next
// publish, on another channel, lands once it is.
func TestExchangeNotFoundIsRetryable(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	d := newDestination(t)
	w := webhook(v.URL(testamqp.Addr), "later", "k")
	o := d.Send(context.Background(), w, message("dlv_1"))
	if o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "NOT_FOUND") {
		t.Fatalf("missing exchange: %+v", o)
	}
	if err := ch.ExchangeDeclare("later", "direct", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	queue(t, ch, "q", nil)
	if err := ch.QueueBind("q", "k", "later", false, nil); err != nil {
		t.Fatal(err)
	}
	if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("once the exchange is there: %+v", o)
	}
}

// A queue that refuses more messages (reject-publish) makes the broker
// nack the publish: retryable.
func TestNackIsRetryable(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	queue(t, ch, "small", amqp091.Table{"x-max-length": int32(1), "x-overflow": "reject-publish"})
	d := newDestination(t)
	w := webhook(v.URL(testamqp.Addr), "", "small")
	if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("first: %+v", o)
	}
	o := d.Send(context.Background(), w, message("dlv_2"))
	if o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "basic.nack") {
		t.Fatalf("full queue: %+v", o)
	}
	get(t, ch, "small")
	if o := d.Send(context.Background(), w, message("dlv_2")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("once there is room: %+v", o)
	}
}

// A user the broker refuses the exchange (no write permission) or the
// virtual host fails for good; a wrong password is retryable (a PATCH
// fixes it before the next attempt), and the right one delivers.
func TestPermissions(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	queue(t, ch, "orders", nil)
	v.AddUser("reader", "reader-pass-1", ".*", "^$", ".*")
	v.AddUser("outsider", "outsider-pass-1")
	v.AddUser("writer", "writer-pass-1", "", ".*", "")
	d := newDestination(t)
	as := func(user, pass string) *hookgate.Webhook {
		w := webhook(v.URL(testamqp.Addr), "", "orders")
		w.DestinationConfig.Auth = hookgate.DestinationAuth{Username: v.UserName(user), Password: pass}
		return w
	}
	if o := d.Send(context.Background(), as("reader", "reader-pass-1"), message("dlv_1")); o.Class != hookgate.OutcomePermanent || o.Reason != amqp.ReasonAccessRefused ||
		!strings.Contains(o.Attempt.Error, "ACCESS_REFUSED") {
		t.Fatalf("no write permission: %+v", o)
	}
	if o := d.Send(context.Background(), as("outsider", "outsider-pass-1"), message("dlv_1")); o.Class != hookgate.OutcomePermanent || o.Reason != amqp.ReasonVhostRefused {
		t.Fatalf("no access to the vhost: %+v", o)
	}
	if o := d.Send(context.Background(), as("writer", "wrong-pass"), message("dlv_1")); o.Class != hookgate.OutcomeRetryable {
		t.Fatalf("wrong password: %+v", o)
	}
	if o := d.Send(context.Background(), as("writer", "writer-pass-1"), message("dlv_1")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("right password: %+v", o)
	}
	if n := count(t, ch, "orders"); n != 1 {
		t.Fatalf("%d messages, want 1", n)
	}
}

// A broker that is down (the proxy in front of it stopped) makes the
// attempt fail, retryable; once it is back on the same address, the pool
// dials again by itself.
func TestBrokerDownIsRetryable(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	queue(t, ch, "orders", nil)
	proxy := testamqp.StartProxy(t)
	d := newDestination(t)
	w := webhook(v.URL(proxy.Addr()), "", "orders")
	if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("first send: %+v", o)
	}
	proxy.Stop()
	o := d.Send(context.Background(), w, message("dlv_2"))
	if o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "AMQP broker") {
		t.Fatalf("while down: %+v", o)
	}
	if o := d.Send(context.Background(), w, message("dlv_2")); o.Class != hookgate.OutcomeRetryable {
		t.Fatalf("while still down: %+v", o)
	}
	proxy.Start()
	if o := d.Send(context.Background(), w, message("dlv_2")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("after the restart: %+v", o)
	}
	if n := count(t, ch, "orders"); n != 2 {
		t.Fatalf("%d messages, want 2", n)
	}
}

// The broker closing the connection (as a restart does) loses nothing:
// a send in flight fails retryable at worst, and the pool reconnects.
func TestBrokerClosesConnection(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	queue(t, ch, "orders", nil)
	d := newDestination(t)
	w := webhook(v.URL(testamqp.Addr), "", "orders")
	if o := d.Send(context.Background(), w, message("dlv_0")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("first send: %+v", o)
	}
	before := v.Connections()
	if v.CloseConnections() != 2 { // the test's own and the pool's
		t.Fatalf("closed %v", before)
	}
	ch = channel(t, v)
	succeeded := 1
	testwait.For(t, "a send to succeed on a new connection", func() bool {
		o := d.Send(context.Background(), w, message("dlv_"+strconv.Itoa(succeeded)))
		if o.Class == hookgate.OutcomePermanent {
			t.Fatalf("after the close: %+v", o)
		}
		if o.Class == hookgate.OutcomeSuccess {
			succeeded++
			return true
		}
		return false
	})
	if n := count(t, ch, "orders"); n != succeeded {
		t.Fatalf("%d messages, %d sends succeeded", n, succeeded)
	}
	for _, name := range v.Connections() {
		for _, old := range before {
			if name == old {
				t.Fatalf("the closed connection %s is still listed", name)
			}
		}
	}
}

// Many sends at once share the pooled connection and its channels; each
// waits for its own confirm.
func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	queue(t, ch, "orders", nil)
	d := newDestination(t)
	w := webhook(v.URL(testamqp.Addr), "", "orders")
	var wg sync.WaitGroup
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if o := d.Send(context.Background(), w, message("dlv_"+strconv.Itoa(i))); o.Class != hookgate.OutcomeSuccess {
				t.Errorf("send %d: %+v", i, o)
			}
		}()
	}
	wg.Wait()
	if n := count(t, ch, "orders"); n != 64 {
		t.Fatalf("%d messages, want 64", n)
	}
	if n := len(v.Connections()); n != 2 { // the test's own and the pool's
		t.Fatalf("%d connections on the vhost, want 2", n)
	}
}

// Check refuses a bad configuration naming the field; Probe refuses a
// broker that does not answer or refuses the credentials, and an exchange
// that does not exist, naming the field, publishing nothing.
func TestCheckAndProbe(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	queue(t, ch, "orders", nil)
	if err := ch.ExchangeDeclare("events", "fanout", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind("orders", "", "events", false, nil); err != nil {
		t.Fatal(err)
	}
	d := newDestination(t)
	url := v.URL(testamqp.Addr)
	cases := []struct {
		name, param string
		change      func(w *hookgate.Webhook)
	}{
		{"Credentials", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = "amqp://u:p@" + testamqp.Addr + "/" + v.Name }},
		{"Scheme", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = "http://" + testamqp.Addr }},
		{"Query", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = url + "?certfile=/etc/passwd" }},
		{"Port", "destination.url", func(w *hookgate.Webhook) { w.DestinationConfig.URL = "amqp://127.0.0.1:70000/x" }},
		{"NoExchange", "destination.exchange", func(w *hookgate.Webhook) { delete(w.DestinationConfig.Fields, "exchange") }},
		{"ExchangeNotString", "destination.exchange", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["exchange"] = json.RawMessage(`null`) }},
		{"NoRoutingKey", "destination.routingKey", func(w *hookgate.Webhook) { delete(w.DestinationConfig.Fields, "routingKey") }},
		{"EmptyRoutingKey", "destination.routingKey", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["routingKey"] = json.RawMessage(`""`) }},
		{"LongRoutingKey", "destination.routingKey", func(w *hookgate.Webhook) {
			w.DestinationConfig.Fields["routingKey"] = json.RawMessage(strconv.Quote(strings.Repeat("k", 256)))
		}},
		{"ControlInExchange", "destination.exchange", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["exchange"] = json.RawMessage(`"a\nb"`) }},
		{"UnknownField", "destination.stream", func(w *hookgate.Webhook) { w.DestinationConfig.Fields["stream"] = json.RawMessage(`"x"`) }},
		{"UserWithoutPassword", "destination.auth.password", func(w *hookgate.Webhook) { w.DestinationConfig.Auth.Username = "u" }},
		{"PasswordWithoutUser", "destination.auth.username", func(w *hookgate.Webhook) { w.DestinationConfig.Auth.Password = "p" }},
		{"Token", "destination.auth.token", func(w *hookgate.Webhook) { w.DestinationConfig.Auth.Token = "t" }},
	}
	for _, c := range cases {
		w := webhook(url, "events", "k")
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
	if err := d.Check(webhook("amqps://broker.example.com/", "", "q")); err != nil {
		t.Errorf("amqps with the default vhost: %v", err)
	}

	probe := func(w *hookgate.Webhook, param, detail string) {
		t.Helper()
		err := d.Probe(context.Background(), w)
		if param == "" {
			if err != nil {
				t.Errorf("probe: %v", err)
			}
			return
		}
		if he, ok := err.(*hookgate.Error); !ok || he.Param != param || !strings.Contains(he.Error(), detail) {
			t.Errorf("probe: %v, want %s (%s)", err, param, detail)
		}
	}
	probe(webhook(url, "events", "k"), "", "")
	probe(webhook(url, "", "orders"), "", "")
	probe(webhook(url, "missing", "k"), "destination.exchange", "no exchange")
	w := webhook(url, "events", "k")
	w.DestinationConfig.Auth = hookgate.DestinationAuth{Username: "guest", Password: "wrong"}
	probe(w, "destination.auth.password", "refused the credentials")
	probe(webhook(testamqp.URLOf("hg-no-such-vhost"), "", "k"), "destination.url", "virtual host")
	proxy := testamqp.StartProxy(t)
	proxy.Stop()
	probe(webhook(v.URL(proxy.Addr()), "", "k"), "destination.url", "did not answer")
	if n := count(t, ch, "orders"); n != 0 {
		t.Fatalf("the probes published %d messages", n)
	}
}

// BenchmarkSend measures one Send, publish and confirm, to the machine's
// RabbitMQ on loopback, over the pooled connection: to a durable queue
// (the broker writes the persistent message to disk before it confirms)
// and to a transient one (it confirms from memory).
func BenchmarkSend(b *testing.B) {
	v := testamqp.New(b)
	ch := channel(b, v)
	for _, durable := range []bool{true, false} {
		name := map[bool]string{true: "durable", false: "transient"}[durable]
		b.Run(name, func(b *testing.B) {
			if _, err := ch.QueueDeclare(name, durable, false, false, false, amqp091.Table{"x-max-length": int32(1000)}); err != nil {
				b.Fatal(err)
			}
			d := newDestination(b)
			w := webhook(v.URL(testamqp.Addr), "", name)
			m := message("dlv_bench")
			if o := d.Send(context.Background(), w, m); o.Class != hookgate.OutcomeSuccess {
				b.Fatalf("warm-up: %+v", o)
			}
			b.ReportAllocs()
			for b.Loop() {
				if o := d.Send(context.Background(), w, m); o.Class != hookgate.OutcomeSuccess {
					b.Fatalf("send: %+v", o)
				}
			}
		})
	}
}

// A broker that accepts connections and never answers: the attempt ends
// within the destination's timeout, retryable.
func TestDeafBrokerTimesOut(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	d := &amqp.Destination{SendTimeout: 200 * time.Millisecond}
	t.Cleanup(func() { _ = d.Close() })
	o := d.Send(context.Background(), webhook("amqp://"+l.Addr().String()+"/", "", "q"), message("dlv_1"))
	if o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "did not answer in time") {
		t.Fatalf("deaf broker: %+v", o)
	}
}

// A broker that closes its connections while sends go on loses nothing:
// each send that failed is retried, as the schedule would, until it
// succeeds, and the queue holds every message.
func TestRestartMidStream(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	queue(t, ch, "orders", nil)
	d := newDestination(t)
	w := webhook(v.URL(testamqp.Addr), "", "orders")
	const n = 40
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent, failed := 0, 0
	closed := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if i == n/2 {
				<-closed
			}
			for {
				o := d.Send(context.Background(), w, message("dlv_"+strconv.Itoa(i)))
				mu.Lock()
				if o.Class == hookgate.OutcomeSuccess {
					sent++
				} else {
					failed++
				}
				mu.Unlock()
				if o.Class == hookgate.OutcomePermanent {
					t.Errorf("send %d: %+v", i, o)
				}
				if o.Class != hookgate.OutcomeRetryable {
					return
				}
			}
		}()
	}
	testwait.For(t, "some sends done", func() bool { mu.Lock(); defer mu.Unlock(); return sent >= n/4 })
	v.CloseConnections()
	close(closed)
	wg.Wait()
	ch = channel(t, v)
	seen := map[string]bool{}
	for {
		m, ok, err := ch.Get("orders", true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			break
		}
		seen[m.MessageId] = true
	}
	for i := range n {
		if !seen["dlv_"+strconv.Itoa(i)] {
			t.Errorf("dlv_%d is not in the queue (%d sends succeeded, %d failed)", i, sent, failed)
		}
	}
}

// Connections are dialed with the dialer given, the network policy's in
// production: an address the policy denies is never reached, and the
// attempt fails, retryable.
func TestDialsUnderThePolicy(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	queue(t, channel(t, v), "orders", nil)
	d := &amqp.Destination{Dial: netguard.New(nil).Dialer(time.Second).DialContext, SendTimeout: 5 * time.Second}
	t.Cleanup(func() { _ = d.Close() })
	o := d.Send(context.Background(), webhook(v.URL(testamqp.Addr), "", "orders"), message("dlv_1"))
	if o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "refused by the network policy") {
		t.Fatalf("a denied address: %+v", o)
	}
	if len(v.Connections()) != 1 { // the test's own
		t.Fatalf("connections %v", v.Connections())
	}
}

// A transform that fails on the event is permanent and says why, before
// any connection to the broker.
func TestSendTransformFails(t *testing.T) {
	t.Parallel()
	w := webhook("amqp://127.0.0.1:9/", "events", "orders")
	w.Transform = `{"t": data.missing}`
	o := newDestination(t).Send(context.Background(), w, message("dlv_1"))
	if o.Class != hookgate.OutcomePermanent || o.Reason != delivery.ReasonTransform || !strings.HasPrefix(o.Attempt.Error, "transform: ") ||
		!strings.Contains(o.Attempt.Error, "missing") {
		t.Fatalf("outcome %+v", o)
	}
}
