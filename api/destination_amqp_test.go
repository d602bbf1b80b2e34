package api_test

import (
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/hookgate/hookgate/internal/testamqp"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/signing"
)

// amqpQueue declares a durable queue on v with a connection of the test's
// own, and returns a function that takes its next message (false when
// there is none).
func amqpQueue(t *testing.T, v *testamqp.VHost, name string) func() (amqp091.Delivery, bool) {
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
	if _, err := ch.QueueDeclare(name, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	return func() (amqp091.Delivery, bool) {
		m, ok, err := ch.Get(name, true)
		if err != nil {
			t.Fatalf("basic.get %s: %v", name, err)
		}
		return m, ok
	}
}

// Issue 28: an amqp webhook, registered with its broker's credentials
// (answered redacted), receives events as messages that a consumer
// verifies with the webhook's secret; while the broker is down (the
// loopback proxy in front of it stopped) the attempts fail and the
// delivery is retried on schedule, and succeeds once it is back on the
// same port.
func TestAMQPDestination(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		v := testamqp.New(t)
		v.AddUser("hookgate", "broker-pass-1", ".*", ".*", ".*")
		next := amqpQueue(t, v, "orders")
		proxy := testamqp.StartProxy(t)
		e := setupDelivering(t, engine)
		_, owner, _ := e.project("amq")
		url := v.URL(proxy.Addr())
		dest := map[string]any{"kind": "amqp", "url": url, "exchange": "", "routingKey": "orders",
			"auth": map[string]any{"username": v.UserName("hookgate"), "password": "broker-pass-1"}}
		created := e.req("POST", "/api/v1/projects/amq/webhooks", owner, map[string]any{"destination": dest, "retrySchedule": []string{"1s"}}).must(t, 201)
		wh, secret := created.str("id"), created.str("secret")
		for _, r := range []resp{created, e.req("GET", "/api/v1/projects/amq/webhooks/"+wh, owner, nil).must(t, 200)} {
			d := r.Body["destination"].(map[string]any)
			if d["kind"] != "amqp" || d["url"] != url || d["exchange"] != "" || d["routingKey"] != "orders" || r.str("url") != url {
				t.Fatalf("answered %s", r.Raw)
			}
			if a := d["auth"].(map[string]any); a["username"] != v.UserName("hookgate") || a["password"] != "********" || strings.Contains(string(r.Raw), "broker-pass-1") {
				t.Fatalf("auth answered %s", r.Raw)
			}
		}

		e.req("POST", "/api/v1/projects/amq/events", owner, map[string]any{"type": "order.created", "data": map[string]any{"id": 1}}).must(t, 202)
		var msg amqp091.Delivery
		testwait.For(t, "the message in the queue", func() bool {
			m, ok := next()
			msg = m
			return ok
		})
		h := http.Header{}
		for _, k := range []string{signing.HeaderID, signing.HeaderTimestamp, signing.HeaderSignature} {
			s, _ := msg.Headers[k].(string)
			h.Set(k, s)
		}
		verifier, err := signing.NewSigner(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifier.Verify(h, msg.Body, time.Now()); err != nil || !strings.Contains(string(msg.Body), `"type":"order.created"`) {
			t.Fatalf("message %+v: %v", msg, err)
		}
		dl := h.Get(signing.HeaderID)
		if msg.MessageId != dl || msg.ContentType != "application/json" || msg.Type != "order.created" {
			t.Fatalf("properties %+v", msg)
		}
		attempts := func(dl string) []any {
			return e.req("GET", "/api/v1/projects/amq/deliveries/"+dl+"/attempts", owner, nil).must(t, 200).Body["data"].([]any)
		}
		testwait.For(t, "the attempt recorded", func() bool { return len(attempts(dl)) == 1 })
		if a := attempts(dl)[0].(map[string]any); a["responseBody"] != "basic.ack" || a["requestMethod"] != "PUBLISH" || a["requestUrl"] != url+"#/orders" ||
			a["error"] != nil && a["error"] != "" {
			t.Fatalf("attempt %v", a)
		}

		// The broker goes down: the attempt fails, retryable; it comes back
		// on the same port: the retry lands.
		proxy.Stop()
		ev := e.req("POST", "/api/v1/projects/amq/events", owner, map[string]any{"type": "order.paid", "data": 2}).must(t, 202).str("id")
		dl2 := e.req("GET", "/api/v1/projects/amq/events/"+ev+"/deliveries", owner, nil).must(t, 200).Body["data"].([]any)[0].(map[string]any)["id"].(string)
		testwait.For(t, "a failed attempt while the broker is down", func() bool { return len(attempts(dl2)) >= 1 })
		if a := attempts(dl2)[0].(map[string]any); !strings.Contains(a["error"].(string), "AMQP broker") {
			t.Fatalf("attempt while down: %v", a)
		}
		if d := e.req("GET", "/api/v1/projects/amq/deliveries/"+dl2, owner, nil).must(t, 200); d.str("status") == "failed" || d.str("status") == "succeeded" || d.Body["nextAttemptAt"] == nil {
			t.Fatalf("delivery while down: %s", d.Raw)
		}
		proxy.Start()
		testwait.For(t, "the delivery to succeed once the broker is back", func() bool {
			return e.req("GET", "/api/v1/projects/amq/deliveries/"+dl2, owner, nil).must(t, 200).str("status") == "succeeded"
		})
		if m, ok := next(); !ok || m.MessageId != dl2 {
			t.Fatalf("after the restart the queue holds %+v", m)
		}
		if m, ok := next(); ok {
			t.Fatalf("a message more: %+v", m)
		}
	})
}

// A bad amqp configuration is refused at registration with a problem
// naming the field: by the kind, by a broker that does not answer or
// refuses the credentials, by an exchange that does not exist.
func TestAMQPRegistrationRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		v := testamqp.New(t)
		amqpQueue(t, v, "orders")
		e := setup(t, engine, allowLoopback, withDestinations)
		_, owner, _ := e.project("bad")
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = l.Close() })
		deaf := "amqp://" + l.Addr().String() + "/" + v.Name // accepts, never answers
		url := v.URL(testamqp.Addr)
		guest := map[string]any{"username": "guest", "password": "guest"}
		dest := func(fields ...any) map[string]any {
			d := map[string]any{"kind": "amqp", "url": url, "exchange": "", "routingKey": "orders", "auth": guest}
			for i := 0; i+1 < len(fields); i += 2 {
				if fields[i+1] == nil {
					delete(d, fields[i].(string))
				} else {
					d[fields[i].(string)] = fields[i+1]
				}
			}
			return map[string]any{"destination": d}
		}
		cases := []struct {
			name, code, param string
			body              map[string]any
			detail            string
		}{
			{"Credentials", "invalid_parameter", "destination.url", dest("url", "amqp://guest:secret-pw@"+testamqp.Addr+"/"+v.Name), "destination.auth"},
			{"Scheme", "invalid_parameter", "destination.url", dest("url", "redis://"+testamqp.Addr), "amqp://"},
			{"NoExchange", "missing_parameter", "destination.exchange", dest("exchange", nil), ""},
			{"NoRoutingKey", "missing_parameter", "destination.routingKey", dest("routingKey", nil), ""},
			{"UnknownField", "invalid_parameter", "destination.stream", dest("stream", "s"), "routingKey"},
			{"Token", "invalid_parameter", "destination.auth.token", dest("auth", map[string]any{"token": "secret-pw"}), ""},
			{"BrokerDeaf", "invalid_parameter", "destination.url", dest("url", deaf), "did not answer"},
			{"WrongPassword", "invalid_parameter", "destination.auth.password", dest("auth", map[string]any{"username": "guest", "password": "secret-pw"}), "refused the credentials"},
			{"NoSuchExchange", "invalid_parameter", "destination.exchange", dest("exchange", "missing"), "no exchange"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.req("POST", "/api/v1/projects/bad/webhooks", owner, c.body).problem(t, 400, c.code, c.param)
				if !strings.Contains(r.str("detail"), c.detail) || strings.Contains(string(r.Raw), "secret-pw") {
					t.Fatalf("detail %q, want it to mention %q: %s", r.str("detail"), c.detail, r.Raw)
				}
			})
		}
		e.req("POST", "/api/v1/projects/bad/webhooks", owner, dest()).must(t, 201)

		// Under the default network policy a loopback broker is refused.
		strict := setup(t, engine, withDestinations)
		_, owner2, _ := strict.project("strict")
		strict.req("POST", "/api/v1/projects/strict/webhooks", owner2, dest()).problem(t, 400, "invalid_parameter", "destination.url")
	})
}
