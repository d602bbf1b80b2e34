package mqtt_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/destinations/mqtt"
	"github.com/hookgate/hookgate/internal/testmqtt"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/signing"
)

// webhook returns an mqtt webhook publishing to srv's topic at qos (-1:
// the default).
func webhook(srv *testmqtt.Server, topic string, qos int) *hookgate.Webhook {
	fields := map[string]json.RawMessage{"topic": json.RawMessage(strconv.Quote(topic))}
	if qos >= 0 {
		fields["qos"] = json.RawMessage(strconv.Itoa(qos))
	}
	w := &hookgate.Webhook{ID: "wh_test", ProjectID: "prj_test", Secret: hookgate.NewSecret(), Destination: mqtt.Name,
		URL: srv.URL(), DestinationConfig: hookgate.DestinationConfig{URL: srv.URL(), Fields: fields}}
	w.ApplyDefaults()
	return w
}

func message(id string) hookgate.DeliveryMessage {
	return hookgate.DeliveryMessage{ID: id, EventType: "order.created", EventTime: time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC),
		Data: json.RawMessage(`{"id": 42,  "total": "9.90"}`)}
}

func newDestination(t testing.TB) *mqtt.Destination {
	d := &mqtt.Destination{SendTimeout: 5 * time.Second}
	t.Cleanup(func() { _ = d.Close() })
	return d
}

// subscribe is an independent MQTT 5 client of the test's, subscribed to
// filter at QoS 2 with a clean session: what it receives comes on the
// channel.
func subscribe(t testing.TB, srv *testmqtt.Server, filter string, user ...string) <-chan *paho.Publish {
	t.Helper()
	ch := make(chan *paho.Publish, 100)
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(r paho.PublishReceived) (bool, error) { ch <- r.Packet; return true, nil },
	}})
	cp := &paho.Connect{ClientID: "test-sub-" + strconv.FormatInt(time.Now().UnixNano(), 36), CleanStart: true, KeepAlive: 30}
	if len(user) == 2 {
		cp.Username, cp.UsernameFlag, cp.Password, cp.PasswordFlag = user[0], true, []byte(user[1]), true
	}
	if _, err := c.Connect(context.Background(), cp); err != nil {
		t.Fatalf("subscriber's CONNECT: %v", err)
	}
	t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
	if _, err := c.Subscribe(context.Background(), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: 2}}}); err != nil {
		t.Fatalf("SUBSCRIBE: %v", err)
	}
	return ch
}

// verify checks p's signature from its user properties with secret, as a
// receiver checks the headers.
func verify(t testing.TB, secret string, p *paho.Publish) {
	t.Helper()
	h := http.Header{}
	for _, k := range []string{signing.HeaderID, signing.HeaderTimestamp, signing.HeaderSignature} {
		h.Set(k, p.Properties.User.Get(k))
	}
	verifier, err := signing.NewSigner(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := verifier.Verify(h, p.Payload, time.Now()); err != nil {
		t.Fatalf("signature: %v", err)
	}
	other, _ := signing.NewSigner(hookgate.NewSecret())
	if other.Verify(h, p.Payload, time.Now()) == nil {
		t.Fatal("another secret verifies the message")
	}
}

// An event lands on the topic as one message: the body unchanged, the
// content type property, and the Standard Webhooks headers and the trace
// context as user properties, from which a subscriber verifies the
// signature with the webhook's secret. Each QoS is acknowledged as it
// says.
func TestSendPublishesSignedMessage(t *testing.T) {
	t.Parallel()
	srv := testmqtt.Start(t)
	d := newDestination(t)
	msgs := subscribe(t, srv, "orders/#")
	for _, c := range []struct {
		qos  int
		body string
	}{{-1, "PUBACK 0x00 success"}, {0, "written (QoS 0: the broker confirms nothing)"}, {1, "PUBACK 0x00 success"}, {2, "PUBCOMP 0x00 success"}} {
		w := webhook(srv, "orders/created", c.qos)
		m := message("dlv_" + strconv.Itoa(c.qos))
		m.Trace = hookgate.TraceContext{TraceID: [16]byte{1, 2, 3}, SpanID: [8]byte{4, 5, 6}, Sampled: true, State: "vendor=1"}
		o := d.Send(context.Background(), w, m)
		if o.Class != hookgate.OutcomeSuccess || o.Attempt.ResponseBody != c.body {
			t.Fatalf("qos %d: outcome %+v", c.qos, o)
		}
		p := testwait.Recv(t, "the message at qos "+strconv.Itoa(c.qos), msgs)
		want := `{"type":"order.created","timestamp":"2026-12-06T20:00:00Z","data":{"id": 42,  "total": "9.90"}}`
		u := p.Properties.User
		if string(p.Payload) != want || p.Properties.ContentType != "application/json" || u.Get("webhook-id") != m.ID || p.Topic != "orders/created" || p.Retain {
			t.Fatalf("qos %d: message %+v %+v", c.qos, p, p.Properties)
		}
		if u.Get("traceparent") != m.Trace.Traceparent() || u.Get("tracestate") != "vendor=1" {
			t.Fatalf("trace properties %v", u)
		}
		verify(t, w.Secret, p)
		a := o.Attempt
		if a.RequestMethod != "PUBLISH" || a.RequestURL != srv.URL()+"#orders/created" || a.RequestHeaders["webhook-id"] != m.ID ||
			a.RequestHeaders["content-type"] != "application/json" || a.StatusCode != 0 {
			t.Fatalf("attempt %+v", a)
		}
	}
}

// A topic nobody subscribes to is a success at QoS 1 all the same: the
// broker took the message, and said 0x10, no matching subscribers, which
// the attempt records.
func TestNoSubscribersIsSuccess(t *testing.T) {
	t.Parallel()
	srv := testmqtt.Start(t)
	d := newDestination(t)
	o := d.Send(context.Background(), webhook(srv, "nobody/listens", 1), message("dlv_1"))
	if o.Class != hookgate.OutcomeSuccess || o.Attempt.ResponseBody != "PUBACK 0x10 no matching subscribers" {
		t.Fatalf("outcome %+v", o)
	}
}

// A broker that is down makes the attempt fail, retryable; once it is back
// on the same address, the pool connects again by itself.
func TestBrokerDownIsRetryable(t *testing.T) {
	t.Parallel()
	srv := testmqtt.Start(t)
	d := newDestination(t)
	w := webhook(srv, "orders", 1)
	if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("first send: %+v", o)
	}
	srv.Stop()
	o := d.Send(context.Background(), w, message("dlv_2"))
	if o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "MQTT") {
		t.Fatalf("while down: %+v", o)
	}
	srv.Restart()
	msgs := subscribe(t, srv, "orders")
	if o := d.Send(context.Background(), w, message("dlv_2")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("after the restart: %+v", o)
	}
	if p := testwait.Recv(t, "the message after the restart", msgs); p.Properties.User.Get("webhook-id") != "dlv_2" {
		t.Fatalf("got %v", p.Properties.User)
	}
}

// Credentials in destination.auth reach the broker; a wrong password is
// retryable (a PATCH may fix it before the next attempt); a topic the
// user's ACL forbids is permanent (0x87), at QoS 1 and at QoS 2.
func TestAuthAndACL(t *testing.T) {
	t.Parallel()
	srv := testmqtt.StartWith(t, testmqtt.Options{
		Users: map[string]string{"hookgate": "broker-pass-1", "reader": "reader-pass-1"},
		ACL:   "user hookgate\ntopic readwrite orders/#\ntopic read secret/#\nuser reader\ntopic read #\n",
	})
	d := newDestination(t)
	msgs := subscribe(t, srv, "orders/#", "reader", "reader-pass-1")
	w := webhook(srv, "orders/created", 1)
	w.DestinationConfig.Auth = hookgate.DestinationAuth{Username: "hookgate", Password: "wrong-pass"}
	if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeRetryable || !strings.Contains(o.Attempt.Error, "CONNACK") {
		t.Fatalf("wrong password: %+v", o)
	}
	w.DestinationConfig.Auth.Password = "broker-pass-1"
	if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("right password: %+v", o)
	}
	verify(t, w.Secret, testwait.Recv(t, "the message", msgs))
	for _, qos := range []int{1, 2} {
		denied := webhook(srv, "secret/plans", qos)
		denied.DestinationConfig.Auth = w.DestinationConfig.Auth
		if o := d.Send(context.Background(), denied, message("dlv_2")); o.Class != hookgate.OutcomePermanent || o.Reason != mqtt.ReasonNotAuthorized {
			t.Fatalf("qos %d, a topic the ACL forbids: %+v\n%s", qos, o, srv.Log())
		}
	}
}

// Concurrent sends share the pool's one connection, and each is
// acknowledged on its own.
func TestConcurrentSends(t *testing.T) {
	t.Parallel()
	srv := testmqtt.Start(t)
	d := newDestination(t)
	msgs := subscribe(t, srv, "orders")
	w := webhook(srv, "orders", 1)
	const n = 50
	errs := make(chan string, n)
	for i := range n {
		go func() {
			o := d.Send(context.Background(), w, message("dlv_"+strconv.Itoa(i)))
			if o.Class != hookgate.OutcomeSuccess {
				errs <- o.Attempt.Error
				return
			}
			errs <- ""
		}()
	}
	seen := map[string]bool{}
	for range n {
		if e := <-errs; e != "" {
			t.Fatal(e)
		}
		seen[testwait.Recv(t, "a message", msgs).Properties.User.Get("webhook-id")] = true
	}
	if len(seen) != n {
		t.Fatalf("%d distinct messages of %d", len(seen), n)
	}
}

// A broker whose maximum QoS is below the webhook's is refused at
// registration naming destination.qos, and an attempt at that QoS fails
// for good: no wait changes the broker's maximum.
func TestQoSAboveBrokerMaximum(t *testing.T) {
	t.Parallel()
	srv := testmqtt.StartWith(t, testmqtt.Options{Conf: []string{"max_qos 1"}})
	d := newDestination(t)
	w := webhook(srv, "orders", 2)
	if err := d.Probe(context.Background(), w); !isParam(err, "destination.qos") {
		t.Fatalf("probe at QoS 2: %v", err)
	}
	if o := d.Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomePermanent || o.Reason != mqtt.ReasonQoS {
		t.Fatalf("send at QoS 2: %+v", o)
	}
	if err := d.Probe(context.Background(), webhook(srv, "orders", 1)); err != nil {
		t.Fatalf("probe at QoS 1: %v", err)
	}
}

// A transform's body and content type are the message's, signed as sent,
// with transformHeaders' headers as user properties; the attempt keeps
// the body. A transform that fails on the event is permanent and says
// why.
func TestSendTransformed(t *testing.T) {
	t.Parallel()
	srv := testmqtt.Start(t)
	d := newDestination(t)
	msgs := subscribe(t, srv, "orders/#")
	w := webhook(srv, "orders/created", 1)
	w.Transform = `"order " + string(data.id)`
	w.TransformHeaders = `{"X-Order": string(data.id)}`
	o := d.Send(context.Background(), w, message("dlv_1"))
	if o.Class != hookgate.OutcomeSuccess || o.Attempt.RequestBody != "order 42" || o.Attempt.RequestHeaders["X-Order"] != "42" {
		t.Fatalf("outcome %+v", o)
	}
	p := testwait.Recv(t, "the message", msgs)
	if string(p.Payload) != "order 42" || p.Properties.ContentType != "text/plain; charset=utf-8" || p.Properties.User.Get("X-Order") != "42" {
		t.Fatalf("message %+v %+v", p, p.Properties)
	}
	verify(t, w.Secret, p)
	w.Transform = `{"t": data.missing}`
	o = d.Send(context.Background(), w, message("dlv_2"))
	if o.Class != hookgate.OutcomePermanent || !strings.HasPrefix(o.Attempt.Error, "transform: ") || !strings.Contains(o.Attempt.Error, "missing") {
		t.Fatalf("outcome %+v", o)
	}
}
