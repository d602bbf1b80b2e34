package sources_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/destinations/redisstream"
	"github.com/hookgate/hookgate/internal/testlog"
	"github.com/hookgate/hookgate/internal/testredis"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sources"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// ingest commits events straight to the store, refusing a type that is
// not valid as the API does: the runner's tests need no API server.
type ingest struct{ store *sqlstore.Store }

func (i ingest) Ingest(ctx context.Context, projectID string, in hookgate.EventInput, _, _ string) (*hookgate.Event, error) {
	if err := hookgate.ValidateEventType("type", in.Type); err != nil {
		return nil, fmt.Errorf("%w: %v", hookgate.ErrMessageRejected, err)
	}
	out, err := i.store.CreateEvents(ctx, projectID, []hookgate.EventInput{in})
	if err != nil {
		return nil, err
	}
	return out[0], nil
}

type fixture struct {
	cfg   sqlstore.Config
	store *sqlstore.Store
	redis *testredis.Server
	rc    *redis.Client
	kinds *hookgate.Sources
	src   *hookgate.Source
	log   *slog.Logger
}

func setup(t *testing.T, engine string) *fixture {
	t.Helper()
	f := &fixture{cfg: sqltest.Config(t, engine), redis: testredis.Start(t), log: testlog.Logger(t)}
	f.store = sqltest.OpenConfig(t, f.cfg)
	f.rc = redis.NewClient(&redis.Options{Addr: f.redis.Addr(), MaxRetries: -1})
	t.Cleanup(func() { _ = f.rc.Close() })
	f.kinds = hookgate.NewSources()
	if err := f.kinds.Register(redisstream.SourceKind, &redisstream.Source{Block: 100 * time.Millisecond, ClaimIdle: 200 * time.Millisecond, Backoff: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	now := time.Now().UTC()
	p := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, now), Slug: "src", Name: "src", CreatedAt: now, UpdatedAt: now}
	if err := f.store.CreateProject(ctx, p); err != nil {
		t.Fatal(err)
	}
	f.src = &hookgate.Source{ID: hookgate.NewID(hookgate.PrefixSource, now), ProjectID: p.ID, Name: "orders", Kind: redisstream.Name,
		Config:    hookgate.DestinationConfig{URL: f.redis.URL(), Fields: map[string]json.RawMessage{"stream": json.RawMessage(`"orders"`)}},
		EventType: hookgate.SourceEventType{Pointer: "/type"}, Status: hookgate.SourceActive, CreatedAt: now, UpdatedAt: now}
	if err := f.store.CreateSource(ctx, f.src); err != nil {
		t.Fatal(err)
	}
	d, _ := f.kinds.For(f.src)
	if err := d.Probe(ctx, f.src); err != nil {
		t.Fatal(err)
	}
	return f
}

// run starts a runner named node on f's store; stop drains it.
func (f *fixture) run(t *testing.T, node string, store *sqlstore.Store) (stop func()) {
	t.Helper()
	r := sources.New(sources.Config{Node: node, Store: store, Kinds: f.kinds, Ingest: ingest{store}, Logger: f.log,
		Poll: 50 * time.Millisecond, Lease: 2 * time.Second, SaveEvery: 20 * time.Millisecond, Retry: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func (f *fixture) xadd(t *testing.T, body string) string {
	t.Helper()
	id, err := f.rc.XAdd(context.Background(), &redis.XAddArgs{Stream: "orders", Values: []any{"body", body}}).Result()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (f *fixture) events(t *testing.T) []*hookgate.Event {
	t.Helper()
	list, _, err := f.store.ListEvents(context.Background(), f.src.ProjectID, hookgate.EventFilter{Page: hookgate.Page{Limit: 250}})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func (f *fixture) state(t *testing.T) hookgate.SourceState {
	t.Helper()
	got, err := f.store.FindSource(context.Background(), f.src.ProjectID, f.src.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got.State
}

// Issue 28: entries become events, keyed by their entry IDs; a rejected
// entry is counted with its reason; the state is saved; a deactivated
// source stops; a drain releases the lease.
func TestRunnerConsumes(t *testing.T) {
	sqltest.EachEngine(t, func(t *testing.T, engine string) {
		f := setup(t, engine)
		ctx := context.Background()
		stop := f.run(t, "node-a", f.store)
		first := f.xadd(t, `{"type":"order.created","n":1}`)
		bad := f.xadd(t, `not json`)
		f.xadd(t, `{"n":3}`)
		f.xadd(t, `{"type":"order.paid","n":4}`)
		testwait.For(t, "two events and two rejections", func() bool {
			st := f.state(t)
			return len(f.events(t)) == 2 && st.Accepted == 2 && st.Rejected == 2 && st.Connected && st.Node == "node-a" && st.Lag == 0
		})
		evs := f.events(t)
		if evs[1].Type != "order.created" || evs[1].IdempotencyKey != sources.IdempotencyKey(f.src.ID, first) || string(evs[1].Data) != `{"type":"order.created","n":1}` {
			t.Fatalf("first event %+v", evs[1])
		}
		st := f.state(t)
		if st.Received != 4 || !strings.Contains(st.LastError, "no string at /type") {
			t.Fatalf("state %+v", st)
		}
		_ = bad

		// The same entry again (a redelivery): the same event, none more.
		got, err := ingest{f.store}.Ingest(ctx, f.src.ProjectID, hookgate.EventInput{Type: "order.created", Data: []byte(`{}`),
			IdempotencyKey: sources.IdempotencyKey(f.src.ID, first)}, "", "")
		if err != nil || !got.Replayed || got.ID != evs[1].ID {
			t.Fatalf("a redelivered entry: %+v, %v", got, err)
		}

		// Deactivated: the consumer stops and saves its state.
		src, _ := f.store.FindSource(ctx, f.src.ProjectID, f.src.ID)
		src.Status, src.UpdatedAt = hookgate.SourceDeactivated, time.Now().UTC()
		if err := f.store.UpdateSource(ctx, src); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "the deactivated source to stop", func() bool {
			st := f.state(t)
			return !st.Connected && st.Node == ""
		})
		f.xadd(t, `{"type":"order.created","n":5}`)
		// Active again: the entry added meanwhile becomes an event.
		src.Status, src.UpdatedAt = hookgate.SourceActive, time.Now().UTC()
		if err := f.store.UpdateSource(ctx, src); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "the entry added while deactivated", func() bool { return len(f.events(t)) == 3 })

		stop()
		got2, err := f.store.FindSource(ctx, f.src.ProjectID, f.src.ID)
		if err != nil || got2.LeaseNode != "" || got2.State.Connected || got2.State.Node != "" || got2.State.Accepted != 1 {
			t.Fatalf("after the drain: %+v, %v", got2, err)
		}
	})
}

// Issue 28: a store that fails to commit leaves the entry to come again,
// and a broker that goes away is told in the state.
func TestRunnerCommitFailsEntryComesAgain(t *testing.T) {
	t.Parallel()
	f := setup(t, sqlstore.EngineSQLite)
	var failures sync.Map
	r := sources.New(sources.Config{Node: "node-a", Store: f.store, Kinds: f.kinds, Logger: f.log,
		Ingest: failingOnce{ingest{f.store}, &failures},
		Poll:   50 * time.Millisecond, Lease: 2 * time.Second, SaveEvery: 20 * time.Millisecond, Retry: 50 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	f.xadd(t, `{"type":"order.created"}`)
	testwait.For(t, "the event, after a failed commit", func() bool { return len(f.events(t)) == 1 })
	testwait.For(t, "the failure in the state", func() bool {
		st := f.state(t)
		return st.Accepted == 1 && st.Received == 2 && strings.Contains(st.LastError, "could not be committed")
	})
	f.redis.Stop()
	testwait.For(t, "the lost broker in the state", func() bool {
		st := f.state(t)
		return !st.Connected && strings.Contains(st.LastError, "the broker")
	})
}

type failingOnce struct {
	ingest
	failed *sync.Map
}

func (f failingOnce) Ingest(ctx context.Context, projectID string, in hookgate.EventInput, tp, ts string) (*hookgate.Event, error) {
	if _, done := f.failed.LoadOrStore(in.IdempotencyKey, true); !done {
		return nil, errors.New("the database is away")
	}
	return f.ingest.Ingest(ctx, projectID, in, tp, ts)
}

// Issue 28: on PostgreSQL two nodes share a source: one consumes it; when
// it drains, the other takes over, and nothing is lost or doubled.
func TestRunnerTakeOver(t *testing.T) {
	t.Parallel()
	if !hasEngine(t, sqlstore.EnginePostgres) {
		t.Skip("PostgreSQL only: nodes share a database there")
	}
	f := setup(t, sqlstore.EnginePostgres)
	stopA := f.run(t, "node-a", f.store)
	testwait.For(t, "node-a to hold the source", func() bool { return f.state(t).Node == "node-a" && f.state(t).Connected })
	f.run(t, "node-b", sqltest.OpenConfig(t, f.cfg))
	for i := range 10 {
		f.xadd(t, `{"type":"order.created","n":`+strconv.Itoa(i)+`}`)
	}
	testwait.For(t, "10 events", func() bool { return len(f.events(t)) == 10 })
	if st := f.state(t); st.Node != "node-a" {
		t.Fatalf("node-b took a held source: %+v", st)
	}
	stopA()
	testwait.For(t, "node-b to take over", func() bool { return f.state(t).Node == "node-b" && f.state(t).Connected })
	for i := 10; i < 20; i++ {
		f.xadd(t, `{"type":"order.created","n":`+strconv.Itoa(i)+`}`)
	}
	testwait.For(t, "20 events", func() bool { return len(f.events(t)) == 20 })
}

func hasEngine(t *testing.T, engine string) bool {
	for _, e := range sqltest.Engines(t) {
		if e == engine {
			return true
		}
	}
	return false
}

// A node alone on its store (the embedded one) releases at start the
// leases a dead process left, instead of waiting for them to expire.
func TestRunnerAloneTakesLeftLeases(t *testing.T) {
	t.Parallel()
	f := setup(t, sqlstore.EngineSQLite)
	now := time.Now()
	if got, err := f.store.ClaimSources(context.Background(), "dead-process", now, now.Add(time.Hour)); err != nil || len(got) != 1 {
		t.Fatalf("the dead process's claim: %v, %v", got, err)
	}
	r := sources.New(sources.Config{Node: "node-a", Store: f.store, Kinds: f.kinds, Ingest: ingest{f.store}, Logger: f.log, Alone: true,
		Poll: 50 * time.Millisecond, Lease: 2 * time.Second, SaveEvery: 20 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	f.xadd(t, `{"type":"order.created"}`)
	testwait.For(t, "the event", func() bool { return len(f.events(t)) == 1 })
}
