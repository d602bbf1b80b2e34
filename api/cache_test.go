package api_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/internal/testlog"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/netguard"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// hammer runs fn on 4 goroutines until the returned stop is called, which
// waits for them.
func hammer(fn func()) (stop func()) {
	var wg sync.WaitGroup
	done := make(chan struct{})
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
					fn()
				}
			}
		}()
	}
	return func() { close(done); wg.Wait() }
}

// TestRevokedKeyRefusedDuringConcurrentUse revokes keys that are being used
// at the same moment: once DELETE has answered, the key must be refused.
// The race is probabilistic; the test tries many times.
func TestRevokedKeyRefusedDuringConcurrentUse(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		// Thousands of refused keys from one address: no failure limit.
		e := setup(t, engine, func(c *api.Config) { c.AuthFailureBurst = -1 })
		_, owner, _ := e.project("acme")
		for i := range 150 {
			k := e.req("POST", "/api/v1/projects/acme/keys", owner, map[string]any{"name": "k", "role": "owner"}).must(t, 201)
			stop := hammer(func() { e.req("GET", "/api/v1/projects/acme", k.str("key"), nil) })
			e.req("DELETE", "/api/v1/projects/acme/keys/"+k.str("id"), owner, nil).must(t, 204)
			stop()
			if r := e.req("GET", "/api/v1/projects/acme", k.str("key"), nil); r.Status != 401 {
				t.Fatalf("try %d: a revoked key answered %d after its DELETE", i, r.Status)
			}
		}
	})
}

// TestSchemaChangeAppliesDuringConcurrentEvents changes an event type's
// schema while events of that type are being sent: once PATCH has answered,
// the new schema must apply.
func TestSchemaChangeAppliesDuringConcurrentEvents(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine)
		_, owner, pub := e.project("acme")
		obj, arr := map[string]any{"type": "object"}, map[string]any{"type": "array"}
		e.req("POST", "/api/v1/projects/acme/event-types", owner, map[string]any{"name": "a.b", "schema": obj}).must(t, 201)
		for i := range 150 {
			to, fits := arr, any([]any{})
			if i%2 == 1 {
				to, fits = obj, map[string]any{}
			}
			stop := hammer(func() {
				e.req("POST", "/api/v1/projects/acme/events", pub, map[string]any{"type": "a.b", "data": 1})
			})
			// Another catalog change empties the cache, so that loads run
			// concurrently with the PATCH.
			e.req("POST", "/api/v1/projects/acme/event-types", owner, map[string]any{"name": fmt.Sprintf("x.%d", i)}).must(t, 201)
			e.req("PATCH", "/api/v1/projects/acme/event-types/a.b", owner, map[string]any{"schema": to}).must(t, 200)
			stop()
			if r := e.req("POST", "/api/v1/projects/acme/events", pub, map[string]any{"type": "a.b", "data": fits}); r.Status != 202 {
				t.Fatalf("try %d: data fitting the new schema answered %d: %s", i, r.Status, r.Raw)
			}
		}
	})
}

// A key revoked through one node is refused by another at once, not after
// the other's cache TTL: the change travels through PostgreSQL's
// LISTEN/NOTIFY.
func TestRevocationReachesOtherNodes(t *testing.T) {
	t.Parallel()
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("needs PostgreSQL")
	}
	nodes := twoNodes(t)
	for _, n := range nodes {
		n.listen(t)
	}
	a, b := nodes[0].env, nodes[1].env
	_, owner, _ := a.project("nodes")
	k := a.req("POST", "/api/v1/projects/nodes/keys", owner, map[string]any{"name": "k", "role": "owner"}).must(t, 201)
	b.req("GET", "/api/v1/projects/nodes", k.str("key"), nil).must(t, 200) // cached on b for an hour
	a.req("DELETE", "/api/v1/projects/nodes/keys/"+k.str("id"), owner, nil).must(t, 204)
	// b caches keys for an hour: only the notification can end the wait.
	testwait.For(t, "the revoked key to be refused on the other node", func() bool {
		return b.req("GET", "/api/v1/projects/nodes", k.str("key"), nil).Status == 401
	})
}

// A node that was not listening when a key was revoked elsewhere (it had
// not connected yet, or had lost its connection) drops its cached keys when
// it connects: a revocation it missed is not honoured late, after the TTL.
func TestRevocationMissedWhileNotListening(t *testing.T) {
	t.Parallel()
	if len(sqltest.Engines(t)) < 2 {
		t.Skip("needs PostgreSQL")
	}
	nodes := twoNodes(t)
	a, b := nodes[0].env, nodes[1].env
	_, owner, _ := a.project("missed")
	k := a.req("POST", "/api/v1/projects/missed/keys", owner, map[string]any{"name": "k", "role": "owner"}).must(t, 201)
	b.req("GET", "/api/v1/projects/missed", k.str("key"), nil).must(t, 200) // cached on b for an hour
	a.req("DELETE", "/api/v1/projects/missed/keys/"+k.str("id"), owner, nil).must(t, 204)
	// b hears nothing of it; it still answers from its cache.
	b.req("GET", "/api/v1/projects/missed", k.str("key"), nil).must(t, 200)

	// The first wake-up comes once connected, after the caches are dropped.
	testwait.Recv(t, "the listener to connect", nodes[1].listen(t))
	b.req("GET", "/api/v1/projects/missed", k.str("key"), nil).must(t, 401)
}

// node is an API server on a store of its own, as one node of several.
type node struct {
	env    *env
	server *api.Server
	store  *sqlstore.Store
}

// twoNodes starts two API nodes on one PostgreSQL schema, neither
// listening yet.
func twoNodes(t *testing.T) [2]node {
	t.Helper()
	cfg := sqltest.Config(t, sqlstore.EnginePostgres)
	var nodes [2]node
	for i := range nodes {
		st := sqltest.OpenConfig(t, cfg)
		srv := api.New(api.Config{Store: st, AdminKey: adminKey, Policy: netguard.New(nil),
			Logger: testlog.Logger(t), CacheTTL: time.Hour})
		hs := httptest.NewServer(srv)
		t.Cleanup(hs.Close)
		nodes[i] = node{env: &env{t: t, srv: hs}, server: srv, store: st}
	}
	return nodes
}

// listen runs the node's Listen until the test ends, reporting changes to
// its server; the channel gets a value at the first wake-up, which comes
// once Listen is connected.
func (n node) listen(t *testing.T) <-chan struct{} {
	connected := make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		n.store.Listen(ctx, sqlstore.Listeners{Changed: n.server.Changed, Wake: func() {
			select {
			case connected <- struct{}{}:
			default:
			}
		}})
		close(done)
	}()
	t.Cleanup(func() { cancel(); <-done })
	return connected
}
