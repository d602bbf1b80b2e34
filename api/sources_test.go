package api_test

import (
	"context"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/destinations/redisstream"
	"github.com/hookgate/hookgate/internal/app"
	"github.com/hookgate/hookgate/internal/testcert"
	"github.com/hookgate/hookgate/internal/testlog"
	"github.com/hookgate/hookgate/internal/testnats"
	"github.com/hookgate/hookgate/internal/testredis"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sources"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// sourceKinds is the redis-stream source kind with short waits, for
// tests.
func sourceKinds(t testing.TB) *hookgate.Sources {
	r := hookgate.NewSources()
	if err := r.Register(redisstream.SourceKind, &redisstream.Source{Block: 100 * time.Millisecond, ClaimIdle: 300 * time.Millisecond, Backoff: 20 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	return r
}

// withSources gives setup's API the source kinds.
func withSources(t testing.TB) envOption {
	return func(c *api.Config) { c.Sources = sourceKinds(t) }
}

// setupNode starts a whole node (API, dispatcher, sources runner) on a
// store opened with cfg, sending to loopback, with short intervals; the
// returned stop drains it, as serve does.
func setupNode(t *testing.T, cfg sqlstore.Config, node string) (*env, func()) {
	t.Helper()
	return setupNodePoll(t, cfg, node, 50*time.Millisecond)
}

// setupNodePoll is setupNode with the runner claiming every poll.
func setupNodePoll(t *testing.T, cfg sqlstore.Config, node string, poll time.Duration) (*env, func()) {
	t.Helper()
	return setupNodeKinds(t, cfg, node, poll, sourceKinds(t))
}

// setupNodeKinds is setupNodePoll with the source kinds given; nil for
// every kind of destinations/all, as serve has.
func setupNodeKinds(t *testing.T, cfg sqlstore.Config, node string, poll time.Duration, kinds *hookgate.Sources) (*env, func()) {
	t.Helper()
	store := sqltest.OpenConfig(t, cfg)
	acfg := apiConfig(t, store, allowLoopback)
	parts := app.New(app.Config{Store: store, Policy: acfg.Policy, UserAgent: "Hookgate/test", API: acfg,
		Delivery:    delivery.Config{Node: node, Poll: 50 * time.Millisecond, Logger: testlog.Logger(t)},
		SourceKinds: kinds,
		Sources:     sources.Config{Poll: poll, Lease: 3 * time.Second, SaveEvery: 20 * time.Millisecond, Retry: 100 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { parts.Run(ctx); close(done) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
		}
	}
	t.Cleanup(stop)
	return serveEnv(t, store, parts.API), stop
}

func xadd(t *testing.T, srv *testredis.Server, stream string, values ...any) string {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	defer c.Close()
	id, err := c.XAdd(context.Background(), &redis.XAddArgs{Stream: stream, Values: values}).Result()
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func (r resp) state(t testing.TB) map[string]any {
	t.Helper()
	st, ok := r.Body["state"].(map[string]any)
	if !ok {
		t.Fatalf("no state: %s", r.Raw)
	}
	return st
}

// Issue 28: a source's registration is checked field by field (problem+json
// naming the field), its broker probed and judged by the network policy;
// reads redact its secrets; a PATCH sending ******** back keeps them for
// the same url and username; it is listed, deactivated, activated and
// deleted.
func TestSourcesAPI(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := testredis.Start(t)
		if _, err := srv.Do("ACL", "SETUSER", "reader", "on", ">broker-pass-2", "~*", "+@all"); err != nil {
			t.Fatal(err)
		}
		e := setup(t, engine, allowLoopback, withSources(t))
		_, owner, publisher := e.project("srcapi")
		path := "/api/v1/projects/srcapi/sources"
		valid := func() map[string]any {
			return map[string]any{"name": "orders", "kind": "redis-stream",
				"config":    map[string]any{"url": srv.URL(), "stream": "orders", "auth": map[string]any{"username": "reader", "password": "broker-pass-2"}},
				"eventType": map[string]any{"pointer": "/type", "default": "order.created"}}
		}
		closed := func() string {
			l, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			return "redis://" + l.Addr().String() + "/0"
		}()
		for _, c := range []struct {
			change func(b map[string]any)
			code   string
			param  string
		}{
			{func(b map[string]any) { delete(b, "kind") }, hookgate.EMissingParameter, "kind"},
			{func(b map[string]any) { b["kind"] = "kafka" }, hookgate.EInvalidParameter, "kind"},
			{func(b map[string]any) { b["name"] = "" }, hookgate.EMissingParameter, "name"},
			{func(b map[string]any) { delete(b["config"].(map[string]any), "stream") }, hookgate.EMissingParameter, "config.stream"},
			{func(b map[string]any) { b["config"].(map[string]any)["maxLen"] = 3 }, hookgate.EInvalidParameter, "config.maxLen"},
			{func(b map[string]any) { b["config"].(map[string]any)["url"] = "http://x" }, hookgate.EInvalidParameter, "config.url"},
			{func(b map[string]any) { b["config"].(map[string]any)["url"] = closed }, hookgate.EInvalidParameter, "config.url"},
			{func(b map[string]any) { b["config"].(map[string]any)["auth"].(map[string]any)["password"] = "wrong" }, hookgate.EInvalidParameter, "config.auth.password"},
			{func(b map[string]any) { b["eventType"] = map[string]any{"pointer": "type"} }, hookgate.EInvalidParameter, "eventType.pointer"},
			{func(b map[string]any) { b["eventType"] = map[string]any{"default": "hookgate.x"} }, hookgate.EInvalidParameter, "eventType.default"},
			{func(b map[string]any) { b["eventType"] = map[string]any{} }, hookgate.EMissingParameter, "eventType"},
		} {
			b := valid()
			c.change(b)
			e.req("POST", path, owner, b).problem(t, 400, c.code, c.param)
		}
		e.req("POST", path, publisher, valid()).must(t, 403)

		created := e.req("POST", path, owner, valid()).must(t, 201)
		id := created.str("id")
		if !strings.HasPrefix(id, hookgate.PrefixSource) || created.str("status") != "active" || strings.Contains(string(created.Raw), "broker-pass-2") {
			t.Fatalf("created %s", created.Raw)
		}
		cfg := created.Body["config"].(map[string]any)
		if cfg["url"] != srv.URL() || cfg["stream"] != "orders" || cfg["auth"].(map[string]any)["password"] != "********" {
			t.Fatalf("config answered %s", created.Raw)
		}
		if st := created.state(t); st["connected"] != false || st["lag"] != nil || st["node"] != "" || st["received"].(float64) != 0 {
			t.Fatalf("a new source's state %s", created.Raw)
		}
		got := e.req("GET", path+"/"+id, owner, nil).must(t, 200)
		if got.Body["eventType"].(map[string]any)["pointer"] != "/type" {
			t.Fatalf("read %s", got.Raw)
		}

		// ******** sent back keeps the password; another group is probed.
		upd := valid()
		upd["config"].(map[string]any)["auth"].(map[string]any)["password"] = "********"
		upd["config"].(map[string]any)["group"] = "second"
		delete(upd, "kind")
		e.req("PATCH", path+"/"+id, owner, upd).must(t, 200)
		// Not for another username.
		upd["config"].(map[string]any)["auth"].(map[string]any)["username"] = "default"
		e.req("PATCH", path+"/"+id, owner, upd).problem(t, 400, hookgate.EInvalidParameter, "config.auth.password")
		e.req("PATCH", path+"/"+id, owner, map[string]any{"name": "renamed", "eventType": map[string]any{"header": "type"}}).must(t, 200)
		got = e.req("GET", path+"/"+id, owner, nil).must(t, 200)
		if got.str("name") != "renamed" || got.Body["eventType"].(map[string]any)["header"] != "type" || got.Body["config"].(map[string]any)["group"] != "second" {
			t.Fatalf("after the changes %s", got.Raw)
		}

		if r := e.req("POST", path+"/"+id+"/deactivate", owner, nil).must(t, 200); r.str("status") != "deactivated" {
			t.Fatalf("deactivated %s", r.Raw)
		}
		if r := e.req("POST", path+"/"+id+"/activate", owner, nil).must(t, 200); r.str("status") != "active" {
			t.Fatalf("activated %s", r.Raw)
		}
		list := e.req("GET", path, owner, nil).must(t, 200)
		if ids := list.ids(t); len(ids) != 1 || ids[0] != id {
			t.Fatalf("list %s", list.Raw)
		}
		e.req("DELETE", path+"/"+id, owner, nil).must(t, 204)
		e.req("GET", path+"/"+id, owner, nil).problem(t, 404, hookgate.ENotFound, "id")

		// Without the operator's consent, a loopback broker is refused.
		strict := setup(t, engine, withSources(t))
		_, owner2, _ := strict.project("strict")
		strict.req("POST", "/api/v1/projects/strict/sources", owner2, valid()).problem(t, 400, hookgate.EInvalidParameter, "config.url")
	})
}

// Issue 28, end to end: entries added to a Redis stream become events that
// a webhook receives; an entry read again is no second event; a rejected
// entry shows in the state with its ID and why; deactivating stops the
// consumption and activating resumes it where it stood.
func TestSourceEndToEnd(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		redisSrv := testredis.Start(t)
		e, _ := setupNode(t, sqltest.Config(t, engine), "node-1")
		_, owner, _ := e.project("e2e")
		rcv, got := receiver(t, jsonAnswer(200, `{}`))
		e.webhook("e2e", owner, map[string]any{"url": rcv.URL, "events": []string{"order.*"}})
		created := e.req("POST", "/api/v1/projects/e2e/sources", owner, map[string]any{"name": "orders", "kind": "redis-stream",
			"config": map[string]any{"url": redisSrv.URL(), "stream": "orders"}, "eventType": map[string]any{"pointer": "/type"}}).must(t, 201)
		path := "/api/v1/projects/e2e/sources/" + created.str("id")

		xadd(t, redisSrv, "orders", "body", `{"type":"order.created","id":1}`, "traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")
		bad := xadd(t, redisSrv, "orders", "body", `{"id":2}`)
		testwait.For(t, "the receiver to get the event", func() bool { return len(got()) == 1 })
		var env struct {
			Type string          `json:"type"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(got()[0].body, &env); err != nil || env.Type != "order.created" || string(env.Data) != `{"type":"order.created","id":1}` {
			t.Fatalf("received %s", got()[0].body)
		}
		if tp := got()[0].header.Get("traceparent"); !strings.Contains(tp, "0af7651916cd43dd8448eb211c80319c") {
			t.Fatalf("the entry's trace is not the delivery's: %q", tp)
		}
		testwait.For(t, "the state to show both entries", func() bool {
			st := e.req("GET", path, owner, nil).must(t, 200).state(t)
			return st["connected"] == true && st["node"] == "node-1" && st["received"].(float64) == 2 && st["accepted"].(float64) == 1 &&
				st["rejected"].(float64) == 1 && st["lag"] != nil && st["lag"].(float64) == 0
		})
		st := e.req("GET", path, owner, nil).must(t, 200).state(t)
		if le, _ := st["lastError"].(string); !strings.Contains(le, bad) || !strings.Contains(le, "/type") || st["lastErrorAt"] == nil || st["lastMessageAt"] == nil {
			t.Fatalf("state %v", st)
		}

		// Every entry read again (the group set back): no event more.
		if _, err := redisSrv.Do("XGROUP", "SETID", "orders", "hookgate", "0"); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "the entries read again", func() bool {
			return e.req("GET", path, owner, nil).must(t, 200).state(t)["received"].(float64) == 4
		})
		events := e.req("GET", "/api/v1/projects/e2e/events", owner, nil).must(t, 200)
		if n := len(events.items(t)); n != 1 {
			t.Fatalf("%d events after the entries were read again: %s", n, events.Raw)
		}

		// Deactivated: the consumer stops; an entry waits in the stream.
		e.req("POST", path+"/deactivate", owner, nil).must(t, 200)
		testwait.For(t, "the consumer to stop", func() bool {
			st := e.req("GET", path, owner, nil).must(t, 200).state(t)
			return st["connected"] == false && st["node"] == ""
		})
		xadd(t, redisSrv, "orders", "body", `{"type":"order.paid","id":3}`)
		if lag := groupLag(t, redisSrv, "orders"); lag != 1 {
			t.Fatalf("the entry added while deactivated was read: lag %d", lag)
		}
		e.req("POST", path+"/activate", owner, nil).must(t, 200)
		testwait.For(t, "the entry added while deactivated", func() bool { return len(got()) == 2 })
	})
}

func groupLag(t *testing.T, srv *testredis.Server, stream string) int64 {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), MaxRetries: -1})
	defer c.Close()
	groups, err := c.XInfoGroups(context.Background(), stream).Result()
	if err != nil || len(groups) != 1 {
		t.Fatalf("XINFO GROUPS: %v, %v", groups, err)
	}
	return groups[0].Lag
}

// Issue 28: on PostgreSQL two nodes share a source: one consumes it, and
// when it drains the other takes over; each entry is one event.
func TestSourceTwoNodes(t *testing.T) {
	t.Parallel()
	var pg bool
	for _, e := range sqltest.Engines(t) {
		pg = pg || e == sqlstore.EnginePostgres
	}
	if !pg {
		t.Skip("PostgreSQL only: nodes share a database there")
	}
	redisSrv := testredis.Start(t)
	cfg := sqltest.Config(t, sqlstore.EnginePostgres)
	a, stopA := setupNode(t, cfg, "node-a")
	_, owner, _ := a.project("nodes")
	created := a.req("POST", "/api/v1/projects/nodes/sources", owner, map[string]any{"name": "orders", "kind": "redis-stream",
		"config": map[string]any{"url": redisSrv.URL(), "stream": "orders"}, "eventType": map[string]any{"default": "order.created"}}).must(t, 201)
	path := "/api/v1/projects/nodes/sources/" + created.str("id")
	testwait.For(t, "node-a to consume", func() bool {
		st := a.req("GET", path, owner, nil).must(t, 200).state(t)
		return st["node"] == "node-a" && st["connected"] == true
	})
	b, _ := setupNode(t, cfg, "node-b")
	for i := range 5 {
		xadd(t, redisSrv, "orders", "body", `{"n":`+string(rune('0'+i))+`}`)
	}
	count := func(e *env) int {
		return len(e.req("GET", "/api/v1/projects/nodes/events", owner, nil).must(t, 200).items(t))
	}
	testwait.For(t, "5 events", func() bool { return count(b) == 5 })
	if st := b.req("GET", path, owner, nil).must(t, 200).state(t); st["node"] != "node-a" {
		t.Fatalf("node-b took a source node-a holds: %v", st)
	}
	stopA()
	testwait.For(t, "node-b to take over", func() bool {
		st := b.req("GET", path, owner, nil).must(t, 200).state(t)
		return st["node"] == "node-b" && st["connected"] == true
	})
	for i := 5; i < 10; i++ {
		xadd(t, redisSrv, "orders", "body", `{"n":`+string(rune('0'+i))+`}`)
	}
	testwait.For(t, "10 events", func() bool { return count(b) == 10 })
}

// A source created on a node is consumed at once, not at the runner's next
// claim: the API wakes the node's runner (here it would claim in an hour).
func TestSourceStartsAtOnce(t *testing.T) {
	t.Parallel()
	redisSrv := testredis.Start(t)
	e, _ := setupNodePoll(t, sqltest.Config(t, sqlstore.EngineSQLite), "node-1", time.Hour)
	_, owner, _ := e.project("wake")
	created := e.req("POST", "/api/v1/projects/wake/sources", owner, map[string]any{"name": "orders", "kind": "redis-stream",
		"config": map[string]any{"url": redisSrv.URL(), "stream": "orders"}, "eventType": map[string]any{"default": "order.created"}}).must(t, 201)
	xadd(t, redisSrv, "orders", "body", `{"id":1}`)
	testwait.For(t, "the event", func() bool {
		return len(e.req("GET", "/api/v1/projects/wake/events", owner, nil).must(t, 200).items(t)) == 1
	})
	e.req("POST", "/api/v1/projects/wake/sources/"+created.str("id")+"/deactivate", owner, nil).must(t, 200)
	testwait.For(t, "the consumer to stop", func() bool {
		return e.req("GET", "/api/v1/projects/wake/sources/"+created.str("id"), owner, nil).must(t, 200).state(t)["node"] == ""
	})
}

// A message whose data the type's JSON Schema refuses, or whose type is
// one of Hookgate's own, is rejected as POST /events refuses it: counted,
// with why, and no event.
func TestSourceMessagesPassTheEventChecks(t *testing.T) {
	t.Parallel()
	redisSrv := testredis.Start(t)
	e, _ := setupNode(t, sqltest.Config(t, sqlstore.EngineSQLite), "node-1")
	_, owner, _ := e.project("checks")
	schema := map[string]any{"type": "object", "required": []string{"amount"}, "properties": map[string]any{"amount": map[string]any{"type": "integer"}}}
	e.req("POST", "/api/v1/projects/checks/event-types", owner, map[string]any{"name": "order.paid", "schema": schema}).must(t, 201)
	created := e.req("POST", "/api/v1/projects/checks/sources", owner, map[string]any{"name": "orders", "kind": "redis-stream",
		"config": map[string]any{"url": redisSrv.URL(), "stream": "orders"}, "eventType": map[string]any{"header": "type"}}).must(t, 201)
	path := "/api/v1/projects/checks/sources/" + created.str("id")
	xadd(t, redisSrv, "orders", "type", "order.paid", "body", `{"amount":"ten"}`)
	xadd(t, redisSrv, "orders", "type", "hookgate.ping", "body", `{}`)
	xadd(t, redisSrv, "orders", "type", "order.paid", "body", `{"amount":10}`)
	testwait.For(t, "one event, two rejections", func() bool {
		st := e.req("GET", path, owner, nil).must(t, 200).state(t)
		return st["accepted"].(float64) == 1 && st["rejected"].(float64) == 2
	})
	events := e.req("GET", "/api/v1/projects/checks/events", owner, nil).must(t, 200).items(t)
	if len(events) != 1 || events[0]["type"] != "order.paid" {
		t.Fatalf("events %v", events)
	}
}

// Issue 28: a nats source, the kind another driver brings, runs under the
// same runner as redis-stream: a message published to the JetStream
// subject becomes an event a webhook receives, and the source's state
// shows it.
func TestSourceNATSEndToEnd(t *testing.T) {
	t.Parallel()
	ns := testnats.Start(t)
	ns.CreateStream("ORDERS", "orders.>")
	e, _ := setupNodeKinds(t, sqltest.Config(t, sqlstore.EngineSQLite), "node-1", 50*time.Millisecond, nil)
	_, owner, _ := e.project("natsrc")
	rcv, got := receiver(t, jsonAnswer(200, `{}`))
	e.webhook("natsrc", owner, map[string]any{"url": rcv.URL, "events": []string{"order.*"}})
	created := e.req("POST", "/api/v1/projects/natsrc/sources", owner, map[string]any{"name": "orders", "kind": "nats",
		"config": map[string]any{"url": ns.URL(), "subject": "orders.>"}, "eventType": map[string]any{"pointer": "/type"}}).must(t, 201)
	if _, err := ns.JetStream().Publish(context.Background(), "orders.created", []byte(`{"type":"order.created","id":7}`)); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, "the receiver to get the event", func() bool { return len(got()) == 1 })
	testwait.For(t, "the state", func() bool {
		st := e.req("GET", "/api/v1/projects/natsrc/sources/"+created.str("id"), owner, nil).must(t, 200).state(t)
		return st["connected"] == true && st["accepted"].(float64) == 1
	})
}

// A redis-stream source over TLS with a client certificate (mutual TLS):
// config.tls is checked, answered as a description, kept by a change of
// config that leaves it out for the same URL, and the entries become
// events; with a plain URL it is refused.
func TestSourceOverMutualTLS(t *testing.T) {
	t.Parallel()
	srv, ca := testredis.StartMutualTLS(t)
	client := ca.Issue(t, testcert.Spec{CommonName: "hookgate-source"})
	e, _ := setupNode(t, sqltest.Config(t, sqlstore.EngineSQLite), "node-1")
	_, owner, _ := e.project("tlssrc")
	tlsIn := map[string]any{"clientCertificate": client.CertPEM, "clientKey": client.KeyPEM, "caBundle": ca.PEM}
	body := map[string]any{"name": "orders", "kind": "redis-stream",
		"config": map[string]any{"url": srv.URL(), "stream": "orders", "tls": tlsIn}, "eventType": map[string]any{"default": "order.created"}}
	e.req("POST", "/api/v1/projects/tlssrc/sources", owner, body).problem(t, 400, hookgate.EInvalidParameter, "config.tls")
	body["config"].(map[string]any)["url"] = srv.TLSURL()
	created := e.req("POST", "/api/v1/projects/tlssrc/sources", owner, body).must(t, 201)
	got := created.Body["config"].(map[string]any)["tls"].(map[string]any)
	if !strings.HasPrefix(got["clientCertificate"].(map[string]any)["subject"].(string), "CN=hookgate-source") || strings.Contains(string(created.Raw), "BEGIN") {
		t.Fatalf("answered %s", created.Raw)
	}
	path := "/api/v1/projects/tlssrc/sources/" + created.str("id")
	// Another group, the TLS settings left out: kept, and probed with them.
	e.req("PATCH", path, owner, map[string]any{"config": map[string]any{"url": srv.TLSURL(), "stream": "orders", "group": "second"}}).must(t, 200)
	xadd(t, srv, "orders", "body", `{"id":1}`)
	testwait.For(t, "the entry to become an event over TLS", func() bool {
		st := e.req("GET", path, owner, nil).must(t, 200).state(t)
		return st["connected"] == true && st["accepted"].(float64) == 1
	})
}
