package api_test

import (
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/destinations/all"
	"github.com/hookgate/hookgate/internal/testcert"
	"github.com/hookgate/hookgate/internal/testredis"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/signing"
)

// withDestinations gives setup's API every destination kind, dialing under
// its network policy, as serve does (internal/app).
func withDestinations(c *api.Config) {
	c.Destinations = all.New(&delivery.Sender{Client: c.Policy.Client(5 * time.Second)})
}

// streamEntries reads a stream with a client of the test's own, as the
// user and password of userPass when given.
func streamEntries(t *testing.T, srv *testredis.Server, stream string, userPass ...string) []redis.XMessage {
	t.Helper()
	o := &redis.Options{Addr: srv.Addr(), MaxRetries: -1}
	if len(userPass) == 2 {
		o.Username, o.Password = userPass[0], userPass[1]
	}
	c := redis.NewClient(o)
	defer c.Close()
	entries, err := c.XRange(context.Background(), stream, "-", "+").Result()
	if err != nil {
		t.Fatalf("XRANGE %s: %v", stream, err)
	}
	return entries
}

// Issue 28: a redis-stream webhook, registered with its broker's
// credentials (answered redacted), receives events as stream entries that
// a consumer verifies with the webhook's secret; while the broker is down
// the attempts fail and the delivery is retried on schedule, and succeeds
// once the broker is back.
func TestRedisStreamDestination(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := testredis.Start(t)
		if _, err := srv.Do("ACL", "SETUSER", "hookgate", "on", ">broker-pass-1", "~*", "+@all"); err != nil {
			t.Fatal(err)
		}
		if _, err := srv.Do("ACL", "SETUSER", "default", "off"); err != nil {
			t.Fatal(err)
		}
		e := setupDelivering(t, engine)
		_, owner, _ := e.project("rds")
		dest := map[string]any{"kind": "redis-stream", "url": srv.URL(), "stream": "orders", "maxLen": 1000,
			"auth": map[string]any{"username": "hookgate", "password": "broker-pass-1"}}
		created := e.req("POST", "/api/v1/projects/rds/webhooks", owner, map[string]any{"destination": dest, "retrySchedule": []string{"1s"}, "rateLimit": 50}).must(t, 201)
		wh, secret := created.str("id"), created.str("secret")
		for _, r := range []resp{created, e.req("GET", "/api/v1/projects/rds/webhooks/"+wh, owner, nil).must(t, 200)} {
			d := r.Body["destination"].(map[string]any)
			if d["kind"] != "redis-stream" || d["url"] != srv.URL() || d["stream"] != "orders" || d["maxLen"].(float64) != 1000 || r.str("url") != srv.URL() || r.Body["rateLimit"].(float64) != 50 {
				t.Fatalf("answered %s", r.Raw)
			}
			if a := d["auth"].(map[string]any); a["username"] != "hookgate" || a["password"] != "********" || strings.Contains(string(r.Raw), "broker-pass-1") {
				t.Fatalf("auth answered %s", r.Raw)
			}
		}

		e.req("POST", "/api/v1/projects/rds/events", owner, map[string]any{"type": "order.created", "data": map[string]any{"id": 1}}).must(t, 202)
		testwait.For(t, "the entry in the stream", func() bool { return len(streamEntries(t, srv, "orders", "hookgate", "broker-pass-1")) == 1 })
		entry := streamEntries(t, srv, "orders", "hookgate", "broker-pass-1")[0]
		h := http.Header{}
		for _, k := range []string{signing.HeaderID, signing.HeaderTimestamp, signing.HeaderSignature} {
			h.Set(k, entry.Values[k].(string))
		}
		verifier, err := signing.NewSigner(secret)
		if err != nil {
			t.Fatal(err)
		}
		body := entry.Values["body"].(string)
		if err := verifier.Verify(h, []byte(body), time.Now()); err != nil || !strings.Contains(body, `"type":"order.created"`) {
			t.Fatalf("entry %v: %v", entry.Values, err)
		}
		dl := entry.Values[signing.HeaderID].(string)
		attempts := func(dl string) []any {
			return e.req("GET", "/api/v1/projects/rds/deliveries/"+dl+"/attempts", owner, nil).must(t, 200).Body["data"].([]any)
		}
		testwait.For(t, "the attempt recorded", func() bool { return len(attempts(dl)) == 1 })
		if a := attempts(dl)[0].(map[string]any); a["responseBody"] != entry.ID || a["error"] != nil && a["error"] != "" {
			t.Fatalf("attempt %v, entry %s", a, entry.ID)
		}

		// The broker goes down: the attempt fails, retryable; it comes back
		// (empty, on the same port): the retry lands.
		srv.Stop()
		ev := e.req("POST", "/api/v1/projects/rds/events", owner, map[string]any{"type": "order.paid", "data": 2}).must(t, 202).str("id")
		dl2 := e.req("GET", "/api/v1/projects/rds/events/"+ev+"/deliveries", owner, nil).must(t, 200).Body["data"].([]any)[0].(map[string]any)["id"].(string)
		testwait.For(t, "a failed attempt while the broker is down", func() bool { return len(attempts(dl2)) >= 1 })
		if a := attempts(dl2)[0].(map[string]any); !strings.Contains(a["error"].(string), "Redis server") {
			t.Fatalf("attempt while down: %v", a)
		}
		if d := e.req("GET", "/api/v1/projects/rds/deliveries/"+dl2, owner, nil).must(t, 200); d.str("status") == "failed" || d.str("status") == "succeeded" {
			t.Fatalf("delivery while down: %s", d.Raw)
		}
		srv.Restart()
		if _, err := srv.Do("ACL", "SETUSER", "hookgate", "on", ">broker-pass-1", "~*", "+@all"); err != nil {
			t.Fatal(err)
		}
		testwait.For(t, "the delivery to succeed once the broker is back", func() bool {
			return e.req("GET", "/api/v1/projects/rds/deliveries/"+dl2, owner, nil).must(t, 200).str("status") == "succeeded"
		})
		if got := streamEntries(t, srv, "orders", "hookgate", "broker-pass-1"); len(got) != 1 || got[0].Values[signing.HeaderID] != dl2 {
			t.Fatalf("after the restart the stream holds %v", got)
		}

		// PATCH: the password sent back redacted keeps the stored one; to
		// another broker it must be sent again.
		dest["auth"] = map[string]any{"username": "hookgate", "password": "********"}
		e.req("PATCH", "/api/v1/projects/rds/webhooks/"+wh, owner, map[string]any{"destination": dest, "description": "orders"}).must(t, 200)
		moved := map[string]any{"kind": "redis-stream", "url": "redis://127.0.0.2:" + strings.Split(srv.Addr(), ":")[1] + "/0", "stream": "orders",
			"auth": map[string]any{"username": "hookgate", "password": "********"}}
		e.req("PATCH", "/api/v1/projects/rds/webhooks/"+wh, owner, map[string]any{"destination": moved}).problem(t, 400, "invalid_parameter", "destination.auth.password")
		// Back to HTTP: the destination and its url go together.
		e.req("PATCH", "/api/v1/projects/rds/webhooks/"+wh, owner, map[string]any{"destination": map[string]any{"kind": "http"}}).problem(t, 400, "invalid_parameter", "url")
		back := e.req("PATCH", "/api/v1/projects/rds/webhooks/"+wh, owner, map[string]any{"destination": nil, "url": "http://127.0.0.1:1/hook"}).must(t, 200)
		if d := back.Body["destination"].(map[string]any); d["kind"] != "http" || len(d) != 1 {
			t.Fatalf("back to http: %s", back.Raw)
		}
	})
}

// A bad redis-stream configuration is refused at registration with a
// problem naming the field: by the kind, by the network policy, and by a
// broker that does not answer the PING.
func TestRedisStreamRegistrationRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := testredis.Start(t)
		e := setup(t, engine, allowLoopback, withDestinations)
		_, owner, _ := e.project("bad")
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		deaf := "redis://" + l.Addr().String() + "/0" // accepts, never answers
		t.Cleanup(func() { _ = l.Close() })
		cases := []struct {
			name, param string
			body        map[string]any
			detail      string
		}{
			{"Credentials", "destination.url", map[string]any{"destination": map[string]any{"kind": "redis-stream", "url": "redis://u:secret-pw@" + srv.Addr() + "/0", "stream": "s"}}, "destination.auth"},
			{"NoStream", "destination.stream", map[string]any{"destination": map[string]any{"kind": "redis-stream", "url": srv.URL()}}, ""},
			{"MaxLenZero", "destination.maxLen", map[string]any{"destination": map[string]any{"kind": "redis-stream", "url": srv.URL(), "stream": "s", "maxLen": 0}}, ""},
			{"UnknownKind", "destination.kind", map[string]any{"destination": map[string]any{"kind": "carrier-pigeon", "url": srv.URL()}}, "redis-stream"},
			{"UnknownField", "destination.subject", map[string]any{"destination": map[string]any{"kind": "redis-stream", "url": srv.URL(), "stream": "s", "subject": "x"}}, ""},
			{"HTTPFieldsInDestination", "destination.url", map[string]any{"url": "https://example.com", "destination": map[string]any{"kind": "http", "url": "https://example.com"}}, ""},
			{"OtherURL", "url", map[string]any{"url": "https://example.com/hook", "destination": map[string]any{"kind": "redis-stream", "url": srv.URL(), "stream": "s"}}, "destination.url"},
			{"HTTPOnlyField", "headers", map[string]any{"headers": map[string]string{"X-A": "1"}, "destination": map[string]any{"kind": "redis-stream", "url": srv.URL(), "stream": "s"}}, ""},
			{"BrokerDeaf", "destination.url", map[string]any{"destination": map[string]any{"kind": "redis-stream", "url": deaf, "stream": "s"}}, "did not answer a PING"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				code := "invalid_parameter"
				if c.name == "NoStream" {
					code = "missing_parameter"
				}
				r := e.req("POST", "/api/v1/projects/bad/webhooks", owner, c.body).problem(t, 400, code, c.param)
				if !strings.Contains(r.str("detail"), c.detail) || strings.Contains(string(r.Raw), "secret-pw") {
					t.Fatalf("detail %q, want it to mention %q: %s", r.str("detail"), c.detail, r.Raw)
				}
			})
		}
		wh := e.req("POST", "/api/v1/projects/bad/webhooks", owner, map[string]any{"destination": map[string]any{"kind": "redis-stream", "url": srv.URL(), "stream": "s"}}).must(t, 201).str("id")
		// A trigger is an HTTP request and its answer: a broker's webhook has none.
		e.req("POST", "/api/v1/projects/bad/webhooks/"+wh+"/trigger", owner, map[string]any{"data": 1}).problem(t, 409, "conflict", "")
		if n := len(streamEntries(t, srv, "s")); n != 0 {
			t.Fatalf("registration published %d entries", n)
		}

		// Under the default network policy a loopback broker is refused.
		strict := setup(t, engine, withDestinations)
		_, owner2, _ := strict.project("strict")
		strict.req("POST", "/api/v1/projects/strict/webhooks", owner2, map[string]any{"destination": map[string]any{"kind": "redis-stream", "url": srv.URL(), "stream": "s"}}).
			problem(t, 400, "invalid_parameter", "destination.url")
	})
}

// A rediss:// destination takes destination.tls (a client certificate and
// the CAs trusted for the broker): answered as the certificate's
// description, never its PEM; kept by a change that leaves it out for the
// same broker, removed by null; bad PEM refused naming the field; a broker
// that requires a client certificate refuses the registration without one.
func TestRedisStreamDestinationTLS(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv, ca := testredis.StartMutualTLS(t)
		client := ca.Issue(t, testcert.Spec{CommonName: "hookgate-client"})
		e := setupDelivering(t, engine)
		_, owner, _ := e.project("tls")
		tlsIn := map[string]any{"clientCertificate": client.CertPEM, "clientKey": client.KeyPEM, "caBundle": ca.PEM}
		dest := map[string]any{"kind": "redis-stream", "url": srv.TLSURL(), "stream": "orders", "tls": tlsIn}
		created := e.req("POST", "/api/v1/projects/tls/webhooks", owner, map[string]any{"destination": dest}).must(t, 201)
		wh := created.str("id")
		for _, r := range []resp{created, e.req("GET", "/api/v1/projects/tls/webhooks/"+wh, owner, nil).must(t, 200)} {
			got := r.Body["destination"].(map[string]any)["tls"].(map[string]any)
			if !strings.HasPrefix(got["clientCertificate"].(map[string]any)["subject"].(string), "CN=hookgate-client") || got["caBundle"] == nil || strings.Contains(string(r.Raw), "BEGIN") {
				t.Fatalf("answered %s", r.Raw)
			}
		}
		e.req("POST", "/api/v1/projects/tls/events", owner, map[string]any{"type": "order.created", "data": 1}).must(t, 202)
		testwait.For(t, "the entry over TLS", func() bool { return len(streamEntries(t, srv, "orders")) == 1 })

		// Sent back without tls (its PEM is never answered): kept.
		delete(dest, "tls")
		e.req("PATCH", "/api/v1/projects/tls/webhooks/"+wh, owner, map[string]any{"destination": dest}).must(t, 200)
		e.req("POST", "/api/v1/projects/tls/events", owner, map[string]any{"type": "order.created", "data": 2}).must(t, 202)
		testwait.For(t, "the second entry over TLS", func() bool { return len(streamEntries(t, srv, "orders")) == 2 })

		// null removes it: the broker then refuses the connection, and the
		// probe says so.
		dest["tls"] = nil
		e.req("PATCH", "/api/v1/projects/tls/webhooks/"+wh, owner, map[string]any{"destination": dest}).problem(t, 400, "invalid_parameter", "destination.url")
		dest["tls"] = map[string]any{"clientCertificate": client.CertPEM, "clientKey": "not a key", "caBundle": ca.PEM}
		e.req("PATCH", "/api/v1/projects/tls/webhooks/"+wh, owner, map[string]any{"destination": dest}).problem(t, 400, "invalid_parameter", "destination.tls.clientKey")
		dest["tls"] = map[string]any{"caBundle": ca.PEM, "pin": "x"}
		e.req("PATCH", "/api/v1/projects/tls/webhooks/"+wh, owner, map[string]any{"destination": dest}).problem(t, 400, "invalid_parameter", "destination.tls")
		plain := map[string]any{"kind": "redis-stream", "url": srv.URL(), "stream": "orders", "tls": map[string]any{"caBundle": ca.PEM}}
		e.req("POST", "/api/v1/projects/tls/webhooks", owner, map[string]any{"destination": plain}).problem(t, 400, "invalid_parameter", "destination.tls")
	})
}
