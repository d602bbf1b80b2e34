package api_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testnats"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/signing"
)

// streamMessage reads the message of a JetStream stream at seq with a
// client of the test's own; nil when there is none.
func streamMessage(t *testing.T, srv *testnats.Server, stream string, seq uint64) (headers http.Header, body []byte) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	s, err := srv.JetStream().Stream(ctx, stream)
	if err != nil {
		t.Fatalf("stream %s: %v", stream, err)
	}
	m, err := s.GetMsg(ctx, seq)
	if err != nil {
		return nil, nil
	}
	headers = http.Header{} // NATS keeps a header's case; http.Header.Get wants it canonical
	for k, v := range m.Header {
		headers[http.CanonicalHeaderKey(k)] = v
	}
	return headers, m.Data
}

// Issue 28: a nats webhook, registered with its broker's token (answered
// redacted), receives events as JetStream messages that a consumer
// verifies with the webhook's secret; the attempt records the stream's
// ack; while the broker is down the attempts fail and the delivery is
// retried on schedule, and succeeds once the broker is back on the same
// port.
func TestNATSDestination(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := testnats.Start(t, testnats.WithToken("broker-token-1"))
		srv.CreateStream("ORDERS", "orders.>")
		e := setupDelivering(t, engine)
		_, owner, _ := e.project("nts")
		dest := map[string]any{"kind": "nats", "url": srv.URL(), "subject": "orders.created", "auth": map[string]any{"token": "broker-token-1"}}
		created := e.req("POST", "/api/v1/projects/nts/webhooks", owner, map[string]any{"destination": dest, "retrySchedule": []string{"1s"}}).must(t, 201)
		wh, secret := created.str("id"), created.str("secret")
		for _, r := range []resp{created, e.req("GET", "/api/v1/projects/nts/webhooks/"+wh, owner, nil).must(t, 200)} {
			d := r.Body["destination"].(map[string]any)
			if d["kind"] != "nats" || d["url"] != srv.URL() || d["subject"] != "orders.created" || r.str("url") != srv.URL() {
				t.Fatalf("answered %s", r.Raw)
			}
			if a := d["auth"].(map[string]any); a["token"] != "********" || strings.Contains(string(r.Raw), "broker-token-1") {
				t.Fatalf("auth answered %s", r.Raw)
			}
		}
		if _, body := streamMessage(t, srv, "ORDERS", 1); body != nil {
			t.Fatalf("registration published %q", body)
		}

		e.req("POST", "/api/v1/projects/nts/events", owner, map[string]any{"type": "order.created", "data": map[string]any{"id": 1}}).must(t, 202)
		var h http.Header
		var body []byte
		testwait.For(t, "the message in the stream", func() bool { h, body = streamMessage(t, srv, "ORDERS", 1); return body != nil })
		verifier, err := signing.NewSigner(secret)
		if err != nil {
			t.Fatal(err)
		}
		if err := verifier.Verify(h, body, time.Now()); err != nil || !strings.Contains(string(body), `"type":"order.created"`) {
			t.Fatalf("message %v %q: %v", h, body, err)
		}
		dl := h.Get(signing.HeaderID)
		if h.Get("Nats-Msg-Id") != dl || h.Get("content-type") != "application/json" {
			t.Fatalf("headers %v", h)
		}
		attempts := func(dl string) []any {
			return e.req("GET", "/api/v1/projects/nts/deliveries/"+dl+"/attempts", owner, nil).must(t, 200).Body["data"].([]any)
		}
		testwait.For(t, "the attempt recorded", func() bool { return len(attempts(dl)) == 1 })
		a := attempts(dl)[0].(map[string]any)
		var ack struct {
			Stream    string `json:"stream"`
			Seq       int    `json:"seq"`
			Duplicate *bool  `json:"duplicate"`
		}
		if err := json.Unmarshal([]byte(a["responseBody"].(string)), &ack); err != nil || ack.Stream != "ORDERS" || ack.Seq != 1 || ack.Duplicate == nil || *ack.Duplicate {
			t.Fatalf("attempt %v: %v", a, err)
		}
		if a["requestMethod"] != "PUBLISH" || a["requestUrl"] != srv.URL()+"#orders.created" || a["statusCode"].(float64) != 0 {
			t.Fatalf("attempt %v", a)
		}

		// The broker goes down: the attempt fails, retryable, and a retry
		// is scheduled; it comes back on the same port (its stream kept):
		// the retry lands.
		srv.Stop()
		ev := e.req("POST", "/api/v1/projects/nts/events", owner, map[string]any{"type": "order.paid", "data": 2}).must(t, 202).str("id")
		dl2 := e.req("GET", "/api/v1/projects/nts/events/"+ev+"/deliveries", owner, nil).must(t, 200).Body["data"].([]any)[0].(map[string]any)["id"].(string)
		testwait.For(t, "a failed attempt while the broker is down", func() bool { return len(attempts(dl2)) >= 1 })
		if a := attempts(dl2)[0].(map[string]any); !strings.Contains(a["error"].(string), "NATS server") {
			t.Fatalf("attempt while down: %v", a)
		}
		if d := e.req("GET", "/api/v1/projects/nts/deliveries/"+dl2, owner, nil).must(t, 200); d.str("status") == "failed" || d.str("status") == "succeeded" || d.Body["nextAttemptAt"] == nil {
			t.Fatalf("delivery while down: %s", d.Raw)
		}
		srv.Start()
		testwait.For(t, "the delivery to succeed once the broker is back", func() bool {
			return e.req("GET", "/api/v1/projects/nts/deliveries/"+dl2, owner, nil).must(t, 200).str("status") == "succeeded"
		})
		if h, body := streamMessage(t, srv, "ORDERS", 2); h.Get(signing.HeaderID) != dl2 || verifier.Verify(h, body, time.Now()) != nil {
			t.Fatalf("after the restart the stream holds %v %q", h, body)
		}

		// PATCH: the token sent back redacted keeps the stored one.
		dest["auth"] = map[string]any{"token": "********"}
		e.req("PATCH", "/api/v1/projects/nts/webhooks/"+wh, owner, map[string]any{"destination": dest, "description": "orders"}).must(t, 200)
	})
}

// A bad nats configuration is refused at registration with a problem
// naming the field: by the kind, by the broker (credentials, a subject no
// stream captures, no answer), and by the network policy.
func TestNATSRegistrationRefused(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		srv := testnats.Start(t)
		srv.CreateStream("ORDERS", "orders.>")
		secured := testnats.Start(t, testnats.WithUsers(testnats.User{Name: "hookgate", Password: "broker-pass-1"}))
		e := setup(t, engine, allowLoopback, withDestinations)
		_, owner, _ := e.project("bad")
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		deaf := "nats://" + l.Addr().String() // accepts, never answers
		t.Cleanup(func() { _ = l.Close() })
		nats := func(fields map[string]any) map[string]any {
			d := map[string]any{"kind": "nats", "url": srv.URL(), "subject": "orders.created"}
			for k, v := range fields {
				if v == nil {
					delete(d, k)
				} else {
					d[k] = v
				}
			}
			return map[string]any{"destination": d}
		}
		cases := []struct {
			name, code, param string
			body              map[string]any
			detail            string
		}{
			{"UnknownField", "invalid_parameter", "destination.stream", nats(map[string]any{"stream": "ORDERS"}), "subject"},
			{"Credentials", "invalid_parameter", "destination.url", nats(map[string]any{"url": "nats://u:secret-pw@" + srv.Addr()}), "destination.auth"},
			{"NoSubject", "missing_parameter", "destination.subject", nats(map[string]any{"subject": nil}), ""},
			{"Wildcard", "invalid_parameter", "destination.subject", nats(map[string]any{"subject": "orders.*"}), "wildcards"},
			{"TokenAndUser", "invalid_parameter", "destination.auth.token", nats(map[string]any{"auth": map[string]any{"token": "t", "username": "u", "password": "secret-pw"}}), "not both"},
			{"NoStream", "invalid_parameter", "destination.subject", nats(map[string]any{"subject": "nowhere.created"}), "no JetStream stream captures"},
			{"WrongPassword", "invalid_parameter", "destination.auth.password", nats(map[string]any{"url": secured.URL(), "auth": map[string]any{"username": "hookgate", "password": "secret-pw"}}), "refused the credentials"},
			{"BrokerDeaf", "invalid_parameter", "destination.url", nats(map[string]any{"url": deaf}), "did not answer"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				r := e.req("POST", "/api/v1/projects/bad/webhooks", owner, c.body).problem(t, 400, c.code, c.param)
				if !strings.Contains(r.str("detail"), c.detail) || strings.Contains(string(r.Raw), "secret-pw") {
					t.Fatalf("detail %q, want it to mention %q: %s", r.str("detail"), c.detail, r.Raw)
				}
			})
		}
		e.req("POST", "/api/v1/projects/bad/webhooks", owner, nats(nil)).must(t, 201)

		// Under the default network policy a loopback broker is refused.
		strict := setup(t, engine, withDestinations)
		_, owner2, _ := strict.project("strict")
		strict.req("POST", "/api/v1/projects/strict/webhooks", owner2, nats(nil)).problem(t, 400, "invalid_parameter", "destination.url")
	})
}
