package natsdest_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate"
	natsdest "github.com/hookgate/hookgate/destinations/nats"
	"github.com/hookgate/hookgate/internal/testnats"
	"github.com/hookgate/hookgate/internal/testwait"
)

// reporter keeps what a consumer tells.
type reporter struct {
	mu        sync.Mutex
	connected int
	lost      []error
	lag       int64
	lags      int
}

func (r *reporter) Connected(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil {
		r.connected++
	} else {
		r.lost = append(r.lost, err)
	}
}

func (r *reporter) Lag(n int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lag, r.lags = n, r.lags+1
}

func (r *reporter) state() (connected, lost int, lag int64, lags int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.connected, len(r.lost), r.lag, r.lags
}

// received keeps the messages a handler was given, in order.
type received struct {
	mu   sync.Mutex
	msgs []hookgate.SourceMessage
}

func (h *received) add(m hookgate.SourceMessage) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.msgs = append(h.msgs, m)
	n := 0
	for _, o := range h.msgs {
		if o.ID == m.ID {
			n++
		}
	}
	return n
}

// count returns how many times the message id was handled.
func (h *received) count(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, m := range h.msgs {
		if m.ID == id {
			n++
		}
	}
	return n
}

func (h *received) all() []hookgate.SourceMessage {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]hookgate.SourceMessage(nil), h.msgs...)
}

// source returns a nats source on srv's subject, with fields.
func source(srv *testnats.Server, subject string, fields map[string]string) *hookgate.Source {
	f := map[string]json.RawMessage{"subject": json.RawMessage(fmt.Sprintf("%q", subject))}
	for k, v := range fields {
		f[k] = json.RawMessage(fmt.Sprintf("%q", v))
	}
	return &hookgate.Source{ID: "src_test", ProjectID: "prj_test", Kind: natsdest.Name,
		Config: hookgate.DestinationConfig{URL: srv.URL(), Fields: f}}
}

// consume runs d.Consume until the test ends, returning its reporter and
// a channel that gets Consume's result.
func consume(t *testing.T, d *natsdest.Source, s *hookgate.Source, handle hookgate.SourceHandler) (*reporter, <-chan error, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	r := &reporter{}
	done := make(chan error, 1)
	finished := make(chan struct{})
	go func() {
		done <- d.Consume(ctx, s, handle, r)
		close(finished)
	}()
	t.Cleanup(func() {
		cancel()
		<-finished
	})
	return r, done, cancel
}

// publish publishes a message to subject, with a message ID when id is
// not empty, until the stream acknowledges it.
func publish(t *testing.T, srv *testnats.Server, subject, id, body string) {
	t.Helper()
	js := srv.JetStream()
	m := &nats.Msg{Subject: subject, Data: []byte(body), Header: nats.Header{"x-kind": {"test"}}}
	if id != "" {
		m.Header.Set(jetstream.MsgIDHeader, id)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatalf("publishing to %s: %v", subject, err)
	}
}

func fastSource() *natsdest.Source {
	return &natsdest.Source{FetchWait: 500 * time.Millisecond, NakDelay: 100 * time.Millisecond, AckWait: 2 * time.Second}
}

// A durable pull consumer hands every message of the subject to the
// handler, its ID the Nats-Msg-Id header or <stream>:<sequence>, its
// headers and body as published; acknowledged messages do not come again
// to a consumer that reconnects, and the lag is told.
func TestSourceConsumes(t *testing.T) {
	t.Parallel()
	srv := testnats.Start(t)
	srv.CreateStream("ORDERS", "orders.>")
	publish(t, srv, "orders.created", "order-1", `{"id":1}`)
	publish(t, srv, "orders.paid", "", `{"id":2}`)
	var got received
	s := source(srv, "orders.*", nil)
	handle := func(_ context.Context, m hookgate.SourceMessage) error { got.add(m); return nil }
	r, _, stop := consume(t, fastSource(), s, handle)
	testwait.For(t, "two messages handled", func() bool { return len(got.all()) == 2 })
	msgs := got.all()
	if msgs[0].ID != "order-1" || string(msgs[0].Body) != `{"id":1}` || msgs[0].Headers["x-kind"] != "test" || msgs[0].Headers[jetstream.MsgIDHeader] != "order-1" {
		t.Fatalf("first message %+v", msgs[0])
	}
	if msgs[1].ID != "ORDERS:2" || string(msgs[1].Body) != `{"id":2}` {
		t.Fatalf("second message %+v", msgs[1])
	}
	testwait.For(t, "connected and no lag told", func() bool {
		connected, _, lag, lags := r.state()
		return connected >= 1 && lags >= 1 && lag == 0
	})
	stop()

	// A new consumer on the same durable: the acknowledged messages are
	// not handed again, the new one is.
	var again received
	consume(t, fastSource(), s, func(_ context.Context, m hookgate.SourceMessage) error { again.add(m); return nil })
	publish(t, srv, "orders.shipped", "order-3", `{"id":4}`)
	testwait.For(t, "the new message handled", func() bool { return again.count("order-3") == 1 })
	if msgs := again.all(); len(msgs) != 1 {
		t.Fatalf("after a reconnect the consumer handled %+v", msgs)
	}
}

// A message whose handler fails comes again; a rejected one does not
// (terminated); nothing is acknowledged before its handler returns nil.
func TestSourceAtLeastOnce(t *testing.T) {
	t.Parallel()
	srv := testnats.Start(t)
	srv.CreateStream("ORDERS", "orders.>")
	var got received
	handle := func(_ context.Context, m hookgate.SourceMessage) error {
		n := got.add(m)
		switch {
		case m.ID == "fails-once" && n == 1:
			return errors.New("the store is away")
		case m.ID == "rejected":
			return fmt.Errorf("not JSON: %w", hookgate.ErrMessageRejected)
		}
		return nil
	}
	consume(t, fastSource(), source(srv, "orders.>", map[string]string{"stream": "ORDERS", "durable": "ingest"}), handle)
	publish(t, srv, "orders.a", "fails-once", `{}`)
	publish(t, srv, "orders.b", "rejected", `x`)
	publish(t, srv, "orders.c", "fine", `{}`)
	testwait.For(t, "the failed message handled again", func() bool { return got.count("fails-once") == 2 })
	publish(t, srv, "orders.d", "marker", `{}`)
	testwait.For(t, "a later message handled", func() bool { return got.count("marker") == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cons, err := srv.JetStream().Consumer(ctx, "ORDERS", "ingest")
	if err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "every message settled", func() bool {
		info, err := cons.Info(ctx)
		return err == nil && info.NumAckPending == 0 && info.NumPending == 0
	})
	if got.count("rejected") != 1 || got.count("fine") != 1 || got.count("fails-once") != 2 {
		t.Fatalf("handled %+v", got.all())
	}
}

// A broker that restarts mid-stream loses nothing: a message whose handler
// was running while the broker went away, and failed, comes again;
// messages acknowledged before a stop do not; messages published after
// the restart are handed over by the same Consume, which told the
// reporter.
func TestSourceBrokerRestart(t *testing.T) {
	t.Parallel()
	for _, kill := range []bool{false, true} {
		name := "Stopped"
		if kill {
			name = "Killed"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			testSourceBrokerRestart(t, kill)
		})
	}
}

// testSourceBrokerRestart stops the broker as an operator would, or kills
// it: a killed server may not have written the acks of its last moments,
// and may deliver those messages again, but loses none.
func testSourceBrokerRestart(t *testing.T, kill bool) {
	srv := testnats.Start(t)
	srv.CreateStream("ORDERS", "orders.>")
	var got received
	holding := make(chan struct{})
	release := make(chan error)
	handle := func(ctx context.Context, m hookgate.SourceMessage) error {
		if got.add(m) == 1 && m.ID == "held" {
			close(holding)
			select {
			case err := <-release:
				return err
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		return nil
	}
	r, done, _ := consume(t, fastSource(), source(srv, "orders.>", nil), handle)
	for i := range 3 {
		publish(t, srv, "orders.created", fmt.Sprintf("before-%d", i), `{}`)
	}
	publish(t, srv, "orders.created", "held", `{}`)
	testwait.Recv(t, "the held message's handler", holding)
	if kill {
		srv.Kill()
	} else {
		srv.Stop()
	}
	testwait.For(t, "the reporter told of the lost connection", func() bool { _, lost, _, _ := r.state(); return lost >= 1 })
	srv.Start()
	release <- errors.New("the store is away")
	for i := range 3 {
		publish(t, srv, "orders.created", fmt.Sprintf("after-%d", i), `{}`)
	}
	testwait.For(t, "every message handled", func() bool {
		for i := range 3 {
			if got.count(fmt.Sprintf("after-%d", i)) == 0 {
				return false
			}
		}
		return got.count("held") >= 2
	})
	for i := range 3 {
		if n := got.count(fmt.Sprintf("before-%d", i)); n != 1 && !kill || n == 0 {
			t.Fatalf("before-%d handled %d times: %+v", i, n, got.all())
		}
	}
	testwait.For(t, "connected again", func() bool { connected, _, _, _ := r.state(); return connected >= 2 })
	select {
	case err := <-done:
		t.Fatalf("Consume returned %v", err)
	default:
	}
}

// A configuration the broker refuses ends Consume with its error: no
// stream, credentials refused.
func TestSourceFatal(t *testing.T) {
	t.Parallel()
	srv := testnats.Start(t, testnats.WithToken("broker-token-1"))
	srv.CreateStream("ORDERS", "orders.>")
	handle := func(context.Context, hookgate.SourceMessage) error { return nil }
	noStream := source(srv, "nowhere.>", nil)
	noStream.Config.Auth.Token = "broker-token-1"
	_, done, _ := consume(t, fastSource(), noStream, handle)
	if err := testwait.Recv(t, "Consume to end", done); err == nil {
		t.Fatal("Consume of a subject no stream captures returned nil")
	}
	wrong := source(srv, "orders.>", nil)
	wrong.Config.Auth.Token = "wrong-token"
	_, done, _ = consume(t, fastSource(), wrong, handle)
	if err := testwait.Recv(t, "Consume to end", done); err == nil || !strings.Contains(err.Error(), "uthorization") {
		t.Fatalf("Consume with a wrong token: %v", err)
	}
}

// Check refuses a bad configuration naming config.<field>; Probe checks
// the broker, the stream and that it captures the subject.
func TestSourceCheckAndProbe(t *testing.T) {
	t.Parallel()
	srv := testnats.Start(t, testnats.WithToken("broker-token-1"))
	srv.CreateStream("ORDERS", "orders.>")
	srv.CreateStream("AUDIT", "audit.*")
	d := fastSource()
	base := func(subject string, fields map[string]string) *hookgate.Source {
		s := source(srv, subject, fields)
		s.Config.Auth.Token = "broker-token-1"
		return s
	}
	cases := []struct {
		name, param string
		s           *hookgate.Source
	}{
		{"NoSubject", "config.subject", base("", nil)},
		{"BadWildcard", "config.subject", base("orders.>.x", nil)},
		{"PartWildcard", "config.subject", base("orders.a*", nil)},
		{"StreamDot", "config.stream", base("orders.>", map[string]string{"stream": "A.B"})},
		{"DurableEmpty", "config.durable", base("orders.>", map[string]string{"durable": ""})},
		{"Unknown", "config.queue", base("orders.>", map[string]string{"queue": "q"})},
		{"UserOnly", "config.auth.password", func() *hookgate.Source {
			s := base("orders.>", nil)
			s.Config.Auth = hookgate.DestinationAuth{Username: "u"}
			return s
		}()},
		{"Credentials", "config.url", func() *hookgate.Source {
			s := base("orders.>", nil)
			s.Config.URL = "nats://u:secret-pw@" + srv.Addr()
			return s
		}()},
	}
	for _, c := range cases {
		err := d.Check(c.s)
		if he, ok := err.(*hookgate.Error); !ok || he.Param != c.param || strings.Contains(he.Error(), "secret-pw") {
			t.Errorf("%s: %v, want an error on %s", c.name, err, c.param)
		}
	}
	probe := []struct {
		name, param string
		s           *hookgate.Source
	}{
		{"Found", "", base("orders.created", nil)},
		{"FoundWildcard", "", base("orders.*", nil)},
		{"Named", "", base("audit.login", map[string]string{"stream": "AUDIT"})},
		{"NoStream", "config.subject", base("nowhere.x", nil)},
		{"NamedMissing", "config.stream", base("orders.x", map[string]string{"stream": "MISSING"})},
		{"NotCaptured", "config.subject", base("orders.x", map[string]string{"stream": "AUDIT"})},
		{"WiderThanStream", "config.subject", base("audit.>", map[string]string{"stream": "AUDIT"})},
		{"WrongToken", "config.auth.token", func() *hookgate.Source {
			s := base("orders.>", nil)
			s.Config.Auth.Token = "wrong-token"
			return s
		}()},
	}
	for _, c := range probe {
		err := d.Probe(context.Background(), c.s)
		if c.param == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		if he, ok := err.(*hookgate.Error); !ok || he.Param != c.param {
			t.Errorf("%s: %v, want an error on %s", c.name, err, c.param)
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	deaf := base("orders.>", nil)
	deaf.Config.URL = "nats://" + l.Addr().String()
	if err := d.Probe(context.Background(), deaf); err == nil || err.(*hookgate.Error).Param != "config.url" {
		t.Fatalf("probe of a broker that does not answer: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	stream, err := srv.JetStream().Stream(ctx, "ORDERS")
	if err != nil {
		t.Fatal(err)
	}
	if names := stream.ConsumerNames(ctx); len(collect(names.Name())) != 0 {
		t.Fatal("the probe made a consumer")
	}
}

func collect(ch <-chan string) []string {
	var out []string
	for s := range ch {
		out = append(out, s)
	}
	return out
}
