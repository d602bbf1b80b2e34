package main

import (
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testnats"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 28: webhook create registers a nats destination from flags, the
// URL argument being the broker's address; get shows it with the token
// redacted; a subject no stream captures and a missing subject are
// refused, naming destination.subject.
func TestCLIWebhookDestinationNATS(t *testing.T) {
	t.Parallel()
	nats := testnats.Start(t, testnats.WithToken("broker-token-1"))
	nats.CreateStream("ORDERS", "orders.>")
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			srv := apitest.New(t, engine)
			c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
			c.ok("project", "create", "N", "--slug", "n")
			var wh client.Webhook
			c.json(&wh, "webhook", "create", nats.URL(), "-p", "n", "--uid", "orders",
				"--destination-kind", "nats", "--destination-subject", "orders.created", "--destination-token", "broker-token-1")
			d := wh.Destination
			if d == nil || d.Kind != "nats" || d.URL != nats.URL() || d.Subject != "orders.created" ||
				d.Auth == nil || d.Auth.Token != "********" || wh.URL != nats.URL() {
				t.Fatalf("created %+v (destination %+v)", wh, d)
			}
			if out := c.ok("webhook", "get", "orders", "-p", "n"); !strings.Contains(out, "nats, "+nats.URL()+", subject orders.created, with a token") ||
				strings.Contains(out, "broker-token-1") {
				t.Fatalf("webhook get:\n%s", out)
			}
			if out := c.fails("webhook", "create", nats.URL(), "-p", "n", "--destination-kind", "nats", "--destination-token", "broker-token-1",
				"--destination-subject", "nowhere.created"); !strings.Contains(out, "destination.subject") || !strings.Contains(out, "no JetStream stream") {
				t.Fatalf("a subject no stream captures:\n%s", out)
			}
			if out := c.fails("webhook", "create", nats.URL(), "-p", "n", "--destination-kind", "nats"); !strings.Contains(out, "destination.subject") {
				t.Fatalf("no subject:\n%s", out)
			}
		})
	}
}
