package mqtt_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/destinations/mqtt"
	"github.com/hookgate/hookgate/internal/testmqtt"
	"github.com/hookgate/hookgate/internal/testwait"
)

// reporter keeps what a consumer reports.
type reporter struct {
	mu        sync.Mutex
	connected []error
	lag       []int64
}

func (r *reporter) Connected(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.connected = append(r.connected, err)
}

func (r *reporter) Lag(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lag = append(r.lag, n)
}

// counts returns how many connections were made and lost.
func (r *reporter) counts() (made, lost int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, err := range r.connected {
		if err == nil {
			made++
		} else {
			lost++
		}
	}
	return made, lost
}

func source(srv *testmqtt.Server, filter string, fields ...string) *hookgate.Source {
	f := map[string]json.RawMessage{"topic": json.RawMessage(strconv.Quote(filter))}
	for i := 0; i+1 < len(fields); i += 2 {
		f[fields[i]] = json.RawMessage(fields[i+1])
	}
	return &hookgate.Source{ID: "src_test" + strconv.FormatInt(time.Now().UnixNano(), 36), Kind: mqtt.Name,
		Config: hookgate.DestinationConfig{URL: srv.URL(), Fields: f}}
}

// consume runs the driver on s with handle until the test ends, or until
// the returned stop is called; its return comes on the channel.
func consume(t *testing.T, d *mqtt.Source, s *hookgate.Source, handle hookgate.SourceHandler, r *reporter) (stop func(), done <-chan error) {
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan error, 1)
	go func() { ch <- d.Consume(ctx, s, handle, r) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := testwait.Recv(t, "Consume to return", ch); err != nil {
				t.Errorf("Consume: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	testwait.For(t, "the consumer to subscribe", func() bool { made, _ := r.counts(); return made > 0 })
	return stop, ch
}

// publish publishes body to topic at QoS 1 with user properties (name,
// value, …), as another application would.
func publish(t testing.TB, srv *testmqtt.Server, topic, body string, props ...string) {
	t.Helper()
	conn, err := net.Dial("tcp", srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c := paho.NewClient(paho.ClientConfig{Conn: conn})
	if _, err := c.Connect(context.Background(), &paho.Connect{ClientID: "test-pub-" + strconv.FormatInt(time.Now().UnixNano(), 36), CleanStart: true}); err != nil {
		t.Fatalf("publisher's CONNECT: %v", err)
	}
	defer func() { _ = c.Disconnect(&paho.Disconnect{}) }()
	var user paho.UserProperties
	for i := 0; i+1 < len(props); i += 2 {
		user = append(user, paho.UserProperty{Key: props[i], Value: props[i+1]})
	}
	if _, err := c.Publish(context.Background(), &paho.Publish{Topic: topic, QoS: 1, Payload: []byte(body),
		Properties: &paho.PublishProperties{ContentType: "application/json", User: user}}); err != nil {
		t.Fatalf("PUBLISH: %v", err)
	}
}

// A webhook's delivery, taken by a source, keeps its ID, its signature
// headers and its body; a message of another application is identified by
// its message-id, or not at all.
func TestSourceTakesMessages(t *testing.T) {
	t.Parallel()
	srv := testmqtt.Start(t)
	got := make(chan hookgate.SourceMessage, 10)
	r := &reporter{}
	consume(t, &mqtt.Source{}, source(srv, "orders/+"), func(_ context.Context, m hookgate.SourceMessage) error { got <- m; return nil }, r)
	w := webhook(srv, "orders/created", 1)
	if o := newDestination(t).Send(context.Background(), w, message("dlv_1")); o.Class != hookgate.OutcomeSuccess {
		t.Fatalf("send: %+v", o)
	}
	m := testwait.Recv(t, "the delivery", got)
	if m.ID != "dlv_1" || m.Headers["content-type"] != "application/json" || m.Headers["webhook-signature"] == "" ||
		string(m.Body) != `{"type":"order.created","timestamp":"2026-12-06T20:00:00Z","data":{"id": 42,  "total": "9.90"}}` {
		t.Fatalf("message %+v", m)
	}
	publish(t, srv, "orders/shipped", `{"n":1}`, "message-id", "m-1", "event-type", "order.shipped")
	if m := testwait.Recv(t, "the other application's message", got); m.ID != "m-1" || m.Headers["event-type"] != "order.shipped" || string(m.Body) != `{"n":1}` {
		t.Fatalf("message %+v", m)
	}
	publish(t, srv, "orders/x", `{}`)
	if m := testwait.Recv(t, "a message without an ID", got); m.ID != "" {
		t.Fatalf("message %+v", m)
	}
	publish(t, srv, "other/x", `{}`, "message-id", "outside")
	publish(t, srv, "orders/last", `{}`, "message-id", "last")
	if m := testwait.Recv(t, "the last message", got); m.ID != "last" {
		t.Fatalf("a message outside the filter came: %+v", m)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lag) == 0 || r.lag[0] != -1 {
		t.Fatalf("lag reported %v, want -1 (MQTT does not tell)", r.lag)
	}
}

// At least once: a message whose handler failed comes again (after a
// reconnection), a rejected one does not, and acknowledged ones do not
// come back after a reconnection.
func TestSourceRedeliversFailed(t *testing.T) {
	t.Parallel()
	srv := testmqtt.Start(t)
	var mu sync.Mutex
	seen := map[string]int{}
	handle := func(_ context.Context, m hookgate.SourceMessage) error {
		mu.Lock()
		seen[m.ID]++
		n := seen[m.ID]
		mu.Unlock()
		switch {
		case m.ID == "fails-twice" && n <= 2:
			return errors.New("the store is down")
		case m.ID == "rejected":
			return fmt.Errorf("not JSON: %w", hookgate.ErrMessageRejected)
		}
		return nil
	}
	s := source(srv, "in")
	r := &reporter{}
	stop, _ := consume(t, &mqtt.Source{RetryDelay: 10 * time.Millisecond}, s, handle, r)
	for _, id := range []string{"a", "rejected", "b", "fails-twice", "c"} {
		publish(t, srv, "in", `{}`, "message-id", id)
	}
	testwait.For(t, "c to be handled once", func() bool { mu.Lock(); defer mu.Unlock(); return seen["c"] >= 1 && seen["fails-twice"] == 3 })
	stop()
	mu.Lock()
	if seen["a"] != 1 || seen["b"] != 1 || seen["rejected"] != 1 {
		t.Errorf("handled %v: each acknowledged or rejected message once", seen)
	}
	mu.Unlock()
	// A reconnection of the same source takes only what is new.
	r2 := &reporter{}
	consume(t, &mqtt.Source{}, s, handle, r2)
	publish(t, srv, "in", `{}`, "message-id", "d")
	testwait.For(t, "d to be handled", func() bool { mu.Lock(); defer mu.Unlock(); return seen["d"] == 1 })
	mu.Lock()
	defer mu.Unlock()
	if seen["a"] != 1 || seen["b"] != 1 || seen["rejected"] != 1 || seen["c"] != 1 || seen["fails-twice"] != 3 {
		t.Fatalf("after a reconnection, handled %v", seen)
	}
}

// A broker that restarts loses nothing of a source: messages published
// while no consumer was connected are kept in its persistent session
// across the restart; a consumer connected during the restart connects
// again by itself; and a message whose handler had not returned when the
// connection went is delivered again.
func TestSourceBrokerRestart(t *testing.T) {
	t.Parallel()
	srv := testmqtt.Start(t)
	s := source(srv, "in/#", "qos", "1")
	var mu sync.Mutex
	seen := map[string]int{}
	release := make(chan struct{})
	holding := make(chan struct{}, 1)
	handle := func(ctx context.Context, m hookgate.SourceMessage) error {
		if m.ID == "held" {
			mu.Lock()
			first := seen["held"] == 0
			mu.Unlock()
			if first {
				holding <- struct{}{}
				<-release
			}
		}
		mu.Lock()
		seen[m.ID]++
		mu.Unlock()
		return nil
	}
	count := func(id string) int { mu.Lock(); defer mu.Unlock(); return seen[id] }
	d := &mqtt.Source{RetryDelay: 10 * time.Millisecond, MaxRetryDelay: 100 * time.Millisecond}
	r := &reporter{}
	stop, _ := consume(t, d, s, handle, r)
	publish(t, srv, "in/1", `{}`, "message-id", "before")
	testwait.For(t, "before to be handled", func() bool { return count("before") == 1 })
	stop()
	publish(t, srv, "in/2", `{}`, "message-id", "while-away-1")
	publish(t, srv, "in/3", `{}`, "message-id", "while-away-2")
	srv.Restart()
	publish(t, srv, "in/4", `{}`, "message-id", "after-restart")
	r = &reporter{}
	consume(t, d, s, handle, r)
	testwait.For(t, "the messages kept across the restart", func() bool {
		return count("while-away-1") == 1 && count("while-away-2") == 1 && count("after-restart") == 1
	})
	if count("before") != 1 {
		t.Fatalf("handled %v", seen)
	}
	// The broker restarts while the consumer is connected, and while a
	// message's handler runs: it is delivered again.
	publish(t, srv, "in/5", `{}`, "message-id", "held")
	testwait.Recv(t, "the held message's handler", holding)
	srv.Restart()
	close(release)
	testwait.For(t, "the consumer to reconnect", func() bool { made, lost := r.counts(); return made >= 2 && lost >= 1 })
	testwait.For(t, "the held message to come again", func() bool { return count("held") == 2 })
	publish(t, srv, "in/6", `{}`, "message-id", "after-reconnect")
	testwait.For(t, "a message after the reconnection", func() bool { return count("after-reconnect") == 1 })
}

// A shared subscription splits the messages between the consumers of one
// group: each message is handled once, by one of them.
func TestSourceShareGroup(t *testing.T) {
	t.Parallel()
	srv := testmqtt.Start(t)
	s := source(srv, "jobs", "shareGroup", `"hookgate"`)
	var mu sync.Mutex
	by := map[string]map[string]bool{"node-a": {}, "node-b": {}}
	for node := range by {
		consume(t, &mqtt.Source{Node: node}, s, func(_ context.Context, m hookgate.SourceMessage) error {
			mu.Lock()
			defer mu.Unlock()
			by[node][m.ID] = true
			return nil
		}, &reporter{})
	}
	const n = 40
	for i := range n {
		publish(t, srv, "jobs", `{}`, "message-id", strconv.Itoa(i))
	}
	testwait.For(t, "every message to be handled", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(by["node-a"])+len(by["node-b"]) >= n
	})
	mu.Lock()
	defer mu.Unlock()
	if len(by["node-a"])+len(by["node-b"]) != n || len(by["node-a"]) == 0 || len(by["node-b"]) == 0 {
		t.Fatalf("node-a took %d, node-b %d of %d", len(by["node-a"]), len(by["node-b"]), n)
	}
}

// Check names config.<field>; Probe refuses bad credentials and a filter
// the broker's ACL forbids; Consume returns the refusal of a subscription,
// which no reconnection mends.
func TestSourceCheckProbeAndRefusal(t *testing.T) {
	t.Parallel()
	srv := testmqtt.StartWith(t, testmqtt.Options{
		Users: map[string]string{"hookgate": "broker-pass-1"},
		ACL:   "user hookgate\ntopic read orders/#\n",
	})
	d := &mqtt.Source{}
	for _, c := range []struct {
		name, param string
		fields      []string
	}{
		{"BadFilter", "config.topic", []string{"topic", `"a/b#"`}},
		{"HashNotLast", "config.topic", []string{"topic", `"a/#/b"`}},
		{"SharePrefix", "config.topic", []string{"topic", `"$share/g/a"`}},
		{"ShareGroupSlash", "config.shareGroup", []string{"shareGroup", `"a/b"`}},
		{"QoS", "config.qos", []string{"qos", `5`}},
		{"Unknown", "config.stream", []string{"stream", `"x"`}},
	} {
		s := source(srv, "orders/#", c.fields...)
		s.Config.Auth = hookgate.DestinationAuth{Username: "hookgate", Password: "broker-pass-1"}
		if err := d.Check(s); !isParam(err, c.param) {
			t.Errorf("%s: %v, want an invalid %s", c.name, err, c.param)
		}
	}
	s := source(srv, "orders/#")
	if err := d.Check(s); err != nil {
		t.Fatal(err)
	}
	if err := d.Probe(context.Background(), s); !isParam(err, "config.auth.password") {
		t.Fatalf("probe without credentials: %v", err)
	}
	s.Config.Auth = hookgate.DestinationAuth{Username: "hookgate", Password: "broker-pass-1"}
	if err := d.Probe(context.Background(), s); err != nil {
		t.Fatalf("probe: %v", err)
	}
	s.Config.URL = "mqtt://u:p@" + srv.Addr()
	if err := d.Check(s); !isParam(err, "config.url") {
		t.Fatalf("credentials in the URL: %v", err)
	}
	s.Config.URL = srv.URL()
	// mosquitto grants a subscription its ACL forbids (SUBACK 0x00) and
	// then sends nothing: a SUBACK refusal is met only on brokers that
	// tell. Credentials the broker refuses end Consume.
	s.Config.Auth.Password = "wrong"
	err := d.Consume(context.Background(), s, func(context.Context, hookgate.SourceMessage) error { return nil }, &reporter{})
	var ce *mqtt.ConnectError
	if !errors.As(err, &ce) || !ce.Credentials() {
		t.Fatalf("Consume with a wrong password: %v", err)
	}
}
