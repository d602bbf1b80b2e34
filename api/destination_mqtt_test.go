package api_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/hookgate/hookgate/internal/testmqtt"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/signing"
)

// mqttSubscriber is the test's own MQTT 5 client: a persistent session
// (so that the broker keeps its subscription and messages across a
// restart) subscribed to topic at QoS 1, as user; what it receives comes
// on the channel. connect connects it again, to the same session.
type mqttSubscriber struct {
	t        *testing.T
	srv      *testmqtt.Server
	id       string
	user     [2]string
	msgs     chan *paho.Publish
	client   *paho.Client
	subtopic string
}

func newMQTTSubscriber(t *testing.T, srv *testmqtt.Server, topic, user, pass string) *mqttSubscriber {
	s := &mqttSubscriber{t: t, srv: srv, id: "api-test-sub", user: [2]string{user, pass}, msgs: make(chan *paho.Publish, 10), subtopic: topic}
	s.connect()
	if _, err := s.client.Subscribe(context.Background(), &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: topic, QoS: 1}}}); err != nil {
		t.Fatalf("SUBSCRIBE: %v", err)
	}
	return s
}

func (s *mqttSubscriber) connect() {
	s.t.Helper()
	conn, err := net.Dial("tcp", s.srv.Addr())
	if err != nil {
		s.t.Fatal(err)
	}
	s.client = paho.NewClient(paho.ClientConfig{Conn: conn, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(r paho.PublishReceived) (bool, error) { s.msgs <- r.Packet; return true, nil },
	}})
	expiry := uint32(300)
	cp := &paho.Connect{ClientID: s.id, CleanStart: false, KeepAlive: 30, Properties: &paho.ConnectProperties{SessionExpiryInterval: &expiry},
		Username: s.user[0], UsernameFlag: true, Password: []byte(s.user[1]), PasswordFlag: true}
	if _, err := s.client.Connect(context.Background(), cp); err != nil {
		s.t.Fatalf("subscriber's CONNECT: %v", err)
	}
	c := s.client
	s.t.Cleanup(func() { _ = c.Disconnect(&paho.Disconnect{}) })
}

// Issue 28: an mqtt webhook, registered with its broker's credentials
// (answered redacted), receives events as MQTT 5 messages whose user
// properties a subscriber verifies with the webhook's secret; while the
// broker is down the attempts fail and the delivery is retried on
// schedule, and succeeds once the broker is back.
func TestMQTTDestination(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := testmqtt.StartWith(t, testmqtt.Options{Users: map[string]string{"hookgate": "broker-pass-1", "reader": "reader-pass-1"},
			ACL: "user hookgate\ntopic write orders/#\nuser reader\ntopic read orders/#\n"})
		sub := newMQTTSubscriber(t, srv, "orders/#", "reader", "reader-pass-1")
		e := setupDelivering(t, engine)
		_, owner, _ := e.project("mq")
		dest := map[string]any{"kind": "mqtt", "url": srv.URL(), "topic": "orders/created", "qos": 2,
			"auth": map[string]any{"username": "hookgate", "password": "broker-pass-1"}}
		created := e.req("POST", "/api/v1/projects/mq/webhooks", owner, map[string]any{"destination": dest, "retrySchedule": []string{"1s"}}).must(t, 201)
		wh, secret := created.str("id"), created.str("secret")
		for _, r := range []resp{created, e.req("GET", "/api/v1/projects/mq/webhooks/"+wh, owner, nil).must(t, 200)} {
			d := r.Body["destination"].(map[string]any)
			if d["kind"] != "mqtt" || d["url"] != srv.URL() || d["topic"] != "orders/created" || d["qos"].(float64) != 2 {
				t.Fatalf("answered %s", r.Raw)
			}
			if a := d["auth"].(map[string]any); a["username"] != "hookgate" || a["password"] != "********" || strings.Contains(string(r.Raw), "broker-pass-1") {
				t.Fatalf("auth answered %s", r.Raw)
			}
		}

		e.req("POST", "/api/v1/projects/mq/events", owner, map[string]any{"type": "order.created", "data": map[string]any{"id": 1}}).must(t, 202)
		p := testwait.Recv(t, "the message on the topic", sub.msgs)
		h := http.Header{}
		for _, k := range []string{signing.HeaderID, signing.HeaderTimestamp, signing.HeaderSignature} {
			h.Set(k, p.Properties.User.Get(k))
		}
		verifier, err := signing.NewSigner(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifier.Verify(h, p.Payload, time.Now()); err != nil || !strings.Contains(string(p.Payload), `"type":"order.created"`) || p.Properties.ContentType != "application/json" {
			t.Fatalf("message %s %+v: %v", p.Payload, p.Properties, err)
		}
		dl := p.Properties.User.Get(signing.HeaderID)
		attempts := func(dl string) []any {
			return e.req("GET", "/api/v1/projects/mq/deliveries/"+dl+"/attempts", owner, nil).must(t, 200).Body["data"].([]any)
		}
		testwait.For(t, "the attempt recorded", func() bool { return len(attempts(dl)) == 1 })
		a := attempts(dl)[0].(map[string]any)
		if a["responseBody"] != "PUBCOMP 0x00 success" || a["requestMethod"] != "PUBLISH" || a["requestUrl"] != srv.URL()+"#orders/created" || a["error"] != nil && a["error"] != "" {
			t.Fatalf("attempt %v", a)
		}

		// The broker goes down: the attempt fails, retryable; it comes back
		// on the same port: the retry lands, and the subscriber's session
		// kept by the broker receives it.
		srv.Stop()
		ev := e.req("POST", "/api/v1/projects/mq/events", owner, map[string]any{"type": "order.paid", "data": 2}).must(t, 202).str("id")
		dl2 := e.req("GET", "/api/v1/projects/mq/events/"+ev+"/deliveries", owner, nil).must(t, 200).Body["data"].([]any)[0].(map[string]any)["id"].(string)
		testwait.For(t, "a failed attempt while the broker is down", func() bool { return len(attempts(dl2)) >= 1 })
		if a := attempts(dl2)[0].(map[string]any); !strings.Contains(a["error"].(string), "MQTT broker") {
			t.Fatalf("attempt while down: %v", a)
		}
		if d := e.req("GET", "/api/v1/projects/mq/deliveries/"+dl2, owner, nil).must(t, 200); d.str("status") == "failed" || d.str("status") == "succeeded" {
			t.Fatalf("delivery while down: %s", d.Raw)
		}
		srv.Restart()
		testwait.For(t, "the delivery to succeed once the broker is back", func() bool {
			return e.req("GET", "/api/v1/projects/mq/deliveries/"+dl2, owner, nil).must(t, 200).str("status") == "succeeded"
		})
		sub.connect()
		if p := testwait.Recv(t, "the retried message", sub.msgs); p.Properties.User.Get(signing.HeaderID) != dl2 {
			t.Fatalf("after the restart the subscriber got %v", p.Properties.User)
		}
	})
}

// A bad mqtt configuration is refused at registration with a problem
// naming the field: by the kind, by the network policy, and by a broker
// that does not answer the CONNECT or refuses the credentials.
func TestMQTTRegistrationRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := testmqtt.StartWith(t, testmqtt.Options{Users: map[string]string{"hookgate": "broker-pass-1"}})
		e := setup(t, engine, allowLoopback, withDestinations)
		_, owner, _ := e.project("bad")
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		deaf := "mqtt://" + l.Addr().String() // accepts, never answers
		t.Cleanup(func() { _ = l.Close() })
		auth := map[string]any{"username": "hookgate", "password": "broker-pass-1"}
		cases := []struct {
			name, code, param string
			dest              map[string]any
			detail            string
		}{
			{"Credentials", "invalid_parameter", "destination.url", map[string]any{"url": "mqtt://u:secret-pw@" + srv.Addr(), "topic": "t"}, "destination.auth"},
			{"NoTopic", "missing_parameter", "destination.topic", map[string]any{"url": srv.URL(), "auth": auth}, ""},
			{"Wildcard", "invalid_parameter", "destination.topic", map[string]any{"url": srv.URL(), "topic": "orders/#", "auth": auth}, "wildcards"},
			{"QoS", "invalid_parameter", "destination.qos", map[string]any{"url": srv.URL(), "topic": "t", "qos": 3, "auth": auth}, "0, 1 or 2"},
			{"UnknownField", "invalid_parameter", "destination.stream", map[string]any{"url": srv.URL(), "topic": "t", "stream": "x", "auth": auth}, ""},
			{"Token", "invalid_parameter", "destination.auth.token", map[string]any{"url": srv.URL(), "topic": "t", "auth": map[string]any{"token": "secret-pw"}}, ""},
			{"WrongPassword", "invalid_parameter", "destination.auth.password", map[string]any{"url": srv.URL(), "topic": "t", "auth": map[string]any{"username": "hookgate", "password": "secret-pw"}}, "refused the credentials"},
			{"BrokerDeaf", "invalid_parameter", "destination.url", map[string]any{"url": deaf, "topic": "t"}, "did not answer an MQTT 5 CONNECT"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				c.dest["kind"] = "mqtt"
				r := e.req("POST", "/api/v1/projects/bad/webhooks", owner, map[string]any{"destination": c.dest}).problem(t, 400, c.code, c.param)
				if !strings.Contains(r.str("detail"), c.detail) || strings.Contains(string(r.Raw), "secret-pw") {
					t.Fatalf("detail %q, want it to mention %q: %s", r.str("detail"), c.detail, r.Raw)
				}
			})
		}
		e.req("POST", "/api/v1/projects/bad/webhooks", owner, map[string]any{"destination": map[string]any{"kind": "mqtt", "url": srv.URL(), "topic": "t", "auth": auth}}).must(t, 201)

		// Under the default network policy a loopback broker is refused.
		strict := setup(t, engine, withDestinations)
		_, owner2, _ := strict.project("strict")
		strict.req("POST", "/api/v1/projects/strict/webhooks", owner2, map[string]any{"destination": map[string]any{"kind": "mqtt", "url": srv.URL(), "topic": "t", "auth": auth}}).
			problem(t, 400, "invalid_parameter", "destination.url")
	})
}
