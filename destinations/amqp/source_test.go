package amqp_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/destinations/amqp"
	"github.com/hookgate/hookgate/internal/testamqp"
	"github.com/hookgate/hookgate/internal/testwait"
)

// source returns an amqp source of queue on the broker at url.
func source(url, queue string, fields ...string) *hookgate.Source {
	f := map[string]json.RawMessage{"queue": json.RawMessage(strconv.Quote(queue))}
	for i := 0; i+1 < len(fields); i += 2 {
		f[fields[i]] = json.RawMessage(fields[i+1])
	}
	return &hookgate.Source{ID: "src_test", ProjectID: "prj_test", Kind: amqp.Name,
		Config: hookgate.DestinationConfig{URL: url, Fields: f}}
}

// reporter keeps what a consumer reports.
type reporter struct {
	mu        sync.Mutex
	connected []error
	lags      []int64
}

func (r *reporter) Connected(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.connected = append(r.connected, err)
}

func (r *reporter) Lag(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lags = append(r.lags, n)
}

// state returns how many times the consumer connected and lost its
// connection, and the lags reported.
func (r *reporter) state() (ups, downs int, lags []int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, err := range r.connected {
		if err == nil {
			ups++
		} else {
			downs++
		}
	}
	return ups, downs, slices.Clone(r.lags)
}

// handled records the messages a handler took, by ID, in order.
type handled struct {
	mu  sync.Mutex
	ids []string
	all []hookgate.SourceMessage
}

func (h *handled) add(m hookgate.SourceMessage) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ids = append(h.ids, m.ID)
	h.all = append(h.all, m)
	n := 0
	for _, id := range h.ids {
		if id == m.ID {
			n++
		}
	}
	return n
}

func (h *handled) list() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.ids)
}

func (h *handled) times(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, x := range h.ids {
		if x == id {
			n++
		}
	}
	return n
}

// consume runs d.Consume on s in the background until the test ends or
// stop is called; stop returns what Consume returned.
func consume(t *testing.T, d *amqp.Driver, s *hookgate.Source, h hookgate.SourceHandler, r hookgate.SourceReporter) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Consume(ctx, s, h, r) }()
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() { _ = stop() })
	return stop
}

// publish publishes a persistent message with id as its message ID to q
// through the default exchange.
func publish(t *testing.T, ch *amqp091.Channel, q, id string, headers amqp091.Table) {
	t.Helper()
	err := ch.PublishWithContext(context.Background(), "", q, false, false, amqp091.Publishing{MessageId: id, Headers: headers,
		ContentType: "application/json", Type: "order.created", DeliveryMode: amqp091.Persistent, Body: []byte(`{"id":"` + id + `"}`)})
	if err != nil {
		t.Fatal(err)
	}
}

func testDriver() *amqp.Driver {
	return &amqp.Driver{LagInterval: 50 * time.Millisecond, RetryDelay: 10 * time.Millisecond, ReconnectMin: 20 * time.Millisecond, ReconnectMax: 200 * time.Millisecond}
}

// Messages reach the handler with their message ID, their headers
// stringified, their properties and body; each is acknowledged once its
// handler returned nil, so none is left when the consumer stops; the lag
// is the queue's count of ready messages.
func TestSourceConsumes(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	queue(t, ch, "in", nil)
	publish(t, ch, "in", "m1", amqp091.Table{"x-event-type": "order.created", "attempt": int32(3), "ok": true, "nested": amqp091.Table{"a": "b"}})
	publish(t, ch, "in", "m2", nil)
	publish(t, ch, "in", "m3", nil)
	var got handled
	rep := &reporter{}
	stop := consume(t, testDriver(), source(v.URL(testamqp.Addr), "in"), func(_ context.Context, m hookgate.SourceMessage) error {
		got.add(m)
		return nil
	}, rep)
	testwait.For(t, "three messages handled", func() bool { return len(got.list()) == 3 })
	if ids := got.list(); !slices.Equal(ids, []string{"m1", "m2", "m3"}) {
		t.Fatalf("handled %v", ids)
	}
	m := got.all[0]
	want := map[string]string{"x-event-type": "order.created", "attempt": "3", "ok": "true", "nested": `{"a":"b"}`,
		"content-type": "application/json", "type": "order.created", "message-id": "m1"}
	for k, v := range want {
		if m.Headers[k] != v {
			t.Errorf("header %s = %q, want %q (all: %v)", k, m.Headers[k], v, m.Headers)
		}
	}
	if string(m.Body) != `{"id":"m1"}` {
		t.Fatalf("body %s", m.Body)
	}
	testwait.For(t, "a lag of 0 reported", func() bool {
		_, _, lags := rep.state()
		return len(lags) > 1 && lags[len(lags)-1] == 0
	})
	if ups, downs, lags := rep.state(); ups != 1 || downs != 0 || lags[0] != 3 {
		t.Fatalf("reported %d connections, %d losses, lags %v", ups, downs, lags)
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := count(t, ch, "in"); n != 0 {
		t.Fatalf("%d messages left after they were handled", n)
	}
}

// At least once: a message whose handler failed comes again; a rejected
// one does not, and goes to the queue's dead-letter exchange; a message
// without a message ID has ID "".
func TestSourceSettles(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	queue(t, ch, "dead", nil)
	queue(t, ch, "in", amqp091.Table{"x-dead-letter-exchange": "", "x-dead-letter-routing-key": "dead"})
	for _, id := range []string{"ok", "fails-once", "rejected", ""} {
		publish(t, ch, "in", id, nil)
	}
	var got handled
	stop := consume(t, testDriver(), source(v.URL(testamqp.Addr), "in", "prefetch", "1"), func(_ context.Context, m hookgate.SourceMessage) error {
		n := got.add(m)
		switch {
		case m.ID == "fails-once" && n == 1:
			return errors.New("the store is down")
		case m.ID == "rejected":
			return errors.Join(errors.New("no type"), hookgate.ErrMessageRejected)
		}
		return nil
	}, &reporter{})
	testwait.For(t, "the failed message to come again", func() bool { return got.times("fails-once") == 2 })
	testwait.For(t, "every message handled", func() bool { return got.times("") == 1 && got.times("ok") == 1 })
	testwait.For(t, "the rejected message dead-lettered", func() bool { return count(t, ch, "dead") == 1 })
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	if n := got.times("rejected"); n != 1 {
		t.Fatalf("the rejected message was handled %d times", n)
	}
	if m := get(t, ch, "dead"); m.MessageId != "rejected" {
		t.Fatalf("dead-lettered %+v", m)
	}
	if n := count(t, ch, "in"); n != 0 {
		t.Fatalf("%d messages left", n)
	}
}

// The broker closing the connection (a restart): the consumer reports it,
// reconnects, and loses nothing: a message published meanwhile arrives, a
// message whose handler was running when the connection closed (and so
// could not be acknowledged) comes again, and acknowledged ones do not.
func TestSourceReconnects(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	queue(t, ch, "in", nil)
	var got handled
	rep := &reporter{}
	release := make(chan struct{})
	consume(t, testDriver(), source(v.URL(testamqp.Addr), "in", "prefetch", "1"), func(_ context.Context, m hookgate.SourceMessage) error {
		if got.add(m) == 1 && m.ID == "slow" {
			<-release // returns nil, once the connection is gone
		}
		return nil
	}, rep)
	publish(t, ch, "in", "m1", nil)
	testwait.For(t, "m1 handled", func() bool { return got.times("m1") == 1 })
	publish(t, ch, "in", "slow", nil)
	testwait.For(t, "slow in its handler", func() bool { return got.times("slow") == 1 })

	v.CloseConnections()
	close(release)
	testwait.For(t, "the loss reported", func() bool { _, downs, _ := rep.state(); return downs >= 1 })
	ch = channel(t, v)
	publish(t, ch, "in", "m2", nil)
	testwait.For(t, "slow again and m2 after the reconnection", func() bool { return got.times("slow") == 2 && got.times("m2") == 1 })
	publish(t, ch, "in", "m3", nil)
	testwait.For(t, "m3", func() bool { return got.times("m3") == 1 })
	if got.times("m1") != 1 {
		t.Fatalf("an acknowledged message came again: %v", got.list())
	}
	if ups, _, _ := rep.state(); ups < 2 {
		t.Fatalf("reported %d connections", ups)
	}
}

// A broker that is down (the proxy stopped) is reported, and dialed again
// until it is back; what was published meanwhile arrives, and nothing is
// lost.
func TestSourceBrokerDown(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	queue(t, ch, "in", nil)
	proxy := testamqp.StartProxy(t)
	var got handled
	rep := &reporter{}
	consume(t, testDriver(), source(v.URL(proxy.Addr()), "in"), func(_ context.Context, m hookgate.SourceMessage) error {
		got.add(m)
		return nil
	}, rep)
	publish(t, ch, "in", "m1", nil)
	testwait.For(t, "m1", func() bool { return got.times("m1") == 1 })
	proxy.Stop()
	testwait.For(t, "the loss reported", func() bool { _, downs, _ := rep.state(); return downs >= 2 }) // lost, then a dial refused
	publish(t, ch, "in", "m2", nil)
	proxy.Start()
	testwait.For(t, "m2 once the broker is back", func() bool { return got.times("m2") == 1 })
	// m1's ack may have been on its way when the proxy stopped: then the
	// broker gives m1 again (at least once), ahead of m2.
	ids := got.list()
	if len(ids) == 3 && ids[1] == "m1" {
		ids = slices.Delete(ids, 1, 2)
	}
	if !slices.Equal(ids, []string{"m1", "m2"}) {
		t.Fatalf("handled %v, want m1 (maybe twice) then m2", got.list())
	}
}

// A queue that does not exist (or goes away) is a configuration the
// broker refuses: Consume returns its error instead of retrying forever.
func TestSourceQueueMissing(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	err := testDriver().Consume(context.Background(), source(v.URL(testamqp.Addr), "missing"), func(context.Context, hookgate.SourceMessage) error { return nil }, &reporter{})
	if err == nil || !strings.Contains(err.Error(), "NOT_FOUND") {
		t.Fatalf("Consume: %v", err)
	}
	ch := channel(t, v)
	queue(t, ch, "brief", nil)
	rep := &reporter{}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- testDriver().Consume(ctx, source(v.URL(testamqp.Addr), "brief"), func(context.Context, hookgate.SourceMessage) error { return nil }, rep)
	}()
	testwait.For(t, "the consumer to connect", func() bool { ups, _, _ := rep.state(); return ups == 1 })
	if _, err := ch.QueueDelete("brief", false, false, false); err != nil {
		t.Fatal(err)
	}
	if err := testwait.Recv(t, "Consume to return", done); err == nil || !strings.Contains(err.Error(), "NOT_FOUND") {
		t.Fatalf("after the queue was deleted: %v", err)
	}
}

// Check refuses a bad configuration naming config.<field>; Probe refuses a
// queue that does not exist, a broker that does not answer and wrong
// credentials, taking no message.
func TestSourceCheckAndProbe(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	ch := channel(t, v)
	queue(t, ch, "in", nil)
	publish(t, ch, "in", "m1", nil)
	d := testDriver()
	url := v.URL(testamqp.Addr)
	cases := []struct {
		name, param string
		change      func(s *hookgate.Source)
	}{
		{"NoURL", "config.url", func(s *hookgate.Source) { s.Config.URL = "" }},
		{"Credentials", "config.url", func(s *hookgate.Source) { s.Config.URL = "amqp://u:p@" + testamqp.Addr + "/" }},
		{"NoQueue", "config.queue", func(s *hookgate.Source) { delete(s.Config.Fields, "queue") }},
		{"QueueNotString", "config.queue", func(s *hookgate.Source) { s.Config.Fields["queue"] = json.RawMessage(`1`) }},
		{"PrefetchZero", "config.prefetch", func(s *hookgate.Source) { s.Config.Fields["prefetch"] = json.RawMessage(`0`) }},
		{"PrefetchHuge", "config.prefetch", func(s *hookgate.Source) { s.Config.Fields["prefetch"] = json.RawMessage(`70000`) }},
		{"UnknownField", "config.exchange", func(s *hookgate.Source) { s.Config.Fields["exchange"] = json.RawMessage(`"x"`) }},
		{"UserWithoutPassword", "config.auth.password", func(s *hookgate.Source) { s.Config.Auth.Username = "u" }},
	}
	for _, c := range cases {
		s := source(url, "in")
		c.change(s)
		err := d.Check(s)
		if he, ok := err.(*hookgate.Error); !ok || he.Param != c.param {
			t.Errorf("%s: %v, want %s", c.name, err, c.param)
		}
	}
	if err := d.Probe(context.Background(), source(url, "in", "prefetch", "10")); err != nil {
		t.Fatalf("probe: %v", err)
	}
	probe := func(s *hookgate.Source, param, detail string) {
		t.Helper()
		err := d.Probe(context.Background(), s)
		if he, ok := err.(*hookgate.Error); !ok || he.Param != param || !strings.Contains(he.Error(), detail) {
			t.Errorf("probe: %v, want %s (%s)", err, param, detail)
		}
	}
	probe(source(url, "missing"), "config.queue", "no queue")
	wrong := source(url, "in")
	wrong.Config.Auth = hookgate.DestinationAuth{Username: "guest", Password: "wrong"}
	probe(wrong, "config.auth.password", "refused the credentials")
	proxy := testamqp.StartProxy(t)
	proxy.Stop()
	probe(source(v.URL(proxy.Addr()), "in"), "config.url", "did not answer")
	if n := count(t, ch, "in"); n != 1 {
		t.Fatalf("the probes took a message: %d left", n)
	}
}
