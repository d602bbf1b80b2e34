package redisstream_test

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

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/destinations/redisstream"
	"github.com/hookgate/hookgate/internal/testredis"
	"github.com/hookgate/hookgate/internal/testwait"
)

// source returns a redis-stream source of url's stream, with fields
// added.
func source(url, stream string, fields map[string]string) *hookgate.Source {
	f := map[string]json.RawMessage{"stream": json.RawMessage(strconv.Quote(stream))}
	for k, v := range fields {
		f[k] = json.RawMessage(strconv.Quote(v))
	}
	return &hookgate.Source{ID: "src_test", ProjectID: "prj_test", Kind: redisstream.Name, Status: hookgate.SourceActive,
		Config: hookgate.DestinationConfig{URL: url, Fields: f}}
}

// seen records what a consumer handed over and told.
type seen struct {
	mu        sync.Mutex
	ids       []string
	msgs      map[string]hookgate.SourceMessage
	times     map[string]int
	connected []error
	lag       int64
	// fail says what handle returns for a message; nil accepts it.
	fail func(m hookgate.SourceMessage) error
}

func newSeen() *seen {
	return &seen{msgs: map[string]hookgate.SourceMessage{}, times: map[string]int{}, lag: -1}
}

func (s *seen) handle(_ context.Context, m hookgate.SourceMessage) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.times[m.ID]++
	if s.fail != nil {
		if err := s.fail(m); err != nil {
			return err
		}
	}
	if _, dup := s.msgs[m.ID]; !dup {
		s.ids = append(s.ids, m.ID)
	}
	s.msgs[m.ID] = m
	return nil
}

func (s *seen) Connected(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.connected = append(s.connected, err)
}

func (s *seen) Lag(n int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lag = n
}

func (s *seen) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.ids)
}

func (s *seen) timesOf(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.times[id]
}

// consume runs d.Consume on src in the background until the test ends.
func consume(t *testing.T, d *redisstream.Source, src *hookgate.Source, s *seen) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Consume(ctx, src, s.handle, s) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Consume: %v", err)
		}
	})
}

func xadd(t *testing.T, c *redis.Client, stream string, values ...any) string {
	t.Helper()
	id, err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: stream, Values: values}).Result()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func fastSource() *redisstream.Source {
	return &redisstream.Source{Consumer: "test", Block: 100 * time.Millisecond, ClaimIdle: 200 * time.Millisecond, Backoff: 20 * time.Millisecond}
}

// A source's configuration is refused field by field, each error naming
// config.<field>.
func TestSourceCheck(t *testing.T) {
	t.Parallel()
	d := &redisstream.Source{}
	ok := source("redis://127.0.0.1:6379/0", "orders", map[string]string{"group": "g", "bodyField": "payload"})
	if err := d.Check(ok); err != nil {
		t.Fatal(err)
	}
	noStream := source("redis://127.0.0.1:6379/0", "x", nil)
	delete(noStream.Config.Fields, "stream")
	token := source("redis://127.0.0.1:6379/0", "orders", nil)
	token.Config.Auth.Token = "t"
	noPassword := source("redis://127.0.0.1:6379/0", "orders", nil)
	noPassword.Config.Auth.Username = "u"
	for _, c := range []struct {
		src   *hookgate.Source
		param string
	}{
		{noStream, "config.stream"},
		{source("http://127.0.0.1:6379", "orders", nil), "config.url"},
		{source("", "orders", nil), "config.url"},
		{source("redis://user:pw@127.0.0.1:6379/0", "orders", nil), "config.url"},
		{source("redis://127.0.0.1:6379/0", "orders", map[string]string{"maxLen": "3"}), "config.maxLen"},
		{source("redis://127.0.0.1:6379/0", "orders", map[string]string{"group": ""}), "config.group"},
		{source("redis://127.0.0.1:6379/0", "or\nders", nil), "config.stream"},
		{token, "config.auth.token"},
		{noPassword, "config.auth.password"},
	} {
		var he *hookgate.Error
		if err := d.Check(c.src); !errors.As(err, &he) || he.Param != c.param {
			t.Errorf("%+v: %v, want an error on %s", c.src.Config, err, c.param)
		}
	}
}

// The probe creates the group at the stream's end (an entry added after
// it is consumed, one before it is not) and names the field at fault.
func TestSourceProbe(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	c := reader(t, srv)
	ctx := context.Background()
	xadd(t, c, "orders", "body", `{"n":0}`)
	d := fastSource()
	src := source(srv.URL(), "orders", nil)
	if err := d.Probe(ctx, src); err != nil {
		t.Fatal(err)
	}
	if err := d.Probe(ctx, src); err != nil {
		t.Fatalf("a second probe: %v", err)
	}
	after := xadd(t, c, "orders", "body", `{"n":1}`)
	s := newSeen()
	consume(t, d, src, s)
	testwait.For(t, "the entry added after the probe", func() bool { return s.count() == 1 })
	if s.ids[0] != after {
		t.Fatalf("consumed %v, want only %s", s.ids, after)
	}

	if err := c.Set(ctx, "plain", "x", 0).Err(); err != nil {
		t.Fatal(err)
	}
	var he *hookgate.Error
	if err := d.Probe(ctx, source(srv.URL(), "plain", nil)); !errors.As(err, &he) || he.Param != "config.stream" {
		t.Fatalf("a key of another type: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := l.Addr().String()
	l.Close()
	if err := d.Probe(ctx, source("redis://"+closed+"/0", "orders", nil)); !errors.As(err, &he) || he.Param != "config.url" {
		t.Fatalf("no broker: %v", err)
	}
	withAuth := source(srv.URL(), "orders", nil)
	withAuth.Config.Auth = hookgate.DestinationAuth{Username: "nobody", Password: "wrong"}
	if err := d.Probe(ctx, withAuth); !errors.As(err, &he) || he.Param != "config.auth.password" {
		t.Fatalf("wrong credentials: %v", err)
	}
}

// Each entry is one message, in order, with its entry ID, its body field
// as the body and its other fields as headers; a rejected entry is
// acknowledged and not handed over again; an entry whose handling failed
// comes again; the lag is reported.
func TestSourceConsumes(t *testing.T) {
	t.Parallel()
	srv := testredis.Start(t)
	c := reader(t, srv)
	d := fastSource()
	src := source(srv.URL(), "orders", map[string]string{"group": "g1"})
	if err := d.Probe(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	s := newSeen()
	var failOnce sync.Once
	var rejected, failed string
	s.fail = func(m hookgate.SourceMessage) error {
		switch m.ID {
		case rejected:
			return fmt.Errorf("not JSON: %w", hookgate.ErrMessageRejected)
		case failed:
			var err error
			failOnce.Do(func() { err = errors.New("the store is away") })
			return err
		}
		return nil
	}
	s.mu.Lock()
	first := xadd(t, c, "orders", "type", "order.created", "body", `{"n":1}`)
	rejected = xadd(t, c, "orders", "body", `not json`)
	failed = xadd(t, c, "orders", "body", `{"n":3}`)
	s.mu.Unlock()
	consume(t, d, src, s)
	testwait.For(t, "the accepted entries, the failed one again", func() bool { return s.count() == 2 })
	if s.ids[0] != first || s.ids[1] != failed || s.timesOf(failed) != 2 {
		t.Fatalf("handed over %v (%v)", s.ids, s.times)
	}
	m := s.msgs[first]
	if string(m.Body) != `{"n":1}` || m.Headers["type"] != "order.created" || len(m.Headers) != 1 {
		t.Fatalf("message %+v", m)
	}
	testwait.For(t, "the lag and the connection", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.lag == 0 && len(s.connected) == 1 && s.connected[0] == nil
	})
	pending, err := c.XPending(context.Background(), "orders", "g1").Result()
	if err != nil || pending.Count != 0 {
		t.Fatalf("pending after all: %+v, %v", pending, err)
	}
	if s.timesOf(rejected) != 1 {
		t.Fatalf("the rejected entry was handed over %d times", s.timesOf(rejected))
	}
}

// A broker killed and restarted mid-stream (with its append-only file)
// loses nothing: every entry acknowledged by XADD is handed over, and the
// consumer reports the connection lost and made again.
func TestSourceSurvivesBrokerRestart(t *testing.T) {
	t.Parallel()
	srv := testredis.StartPersistent(t)
	c := reader(t, srv)
	d := fastSource()
	src := source(srv.URL(), "orders", nil)
	if err := d.Probe(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	s := newSeen()
	consume(t, d, src, s)
	for i := range 20 {
		xadd(t, c, "orders", "body", fmt.Sprintf(`{"n":%d}`, i))
	}
	testwait.For(t, "some entries", func() bool { return s.count() >= 1 })
	srv.Stop()
	testwait.For(t, "the lost connection to be told", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.connected) >= 2 && s.connected[len(s.connected)-1] != nil
	})
	srv.Restart()
	for i := 20; i < 40; i++ {
		xadd(t, c, "orders", "body", fmt.Sprintf(`{"n":%d}`, i))
	}
	testwait.For(t, "all 40 entries", func() bool { return s.count() == 40 })
	testwait.For(t, "the connection to be told made again", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return s.connected[len(s.connected)-1] == nil
	})
}
