package main

import (
	"strings"
	"testing"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testamqp"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 28: webhook create registers an amqp destination from flags, the
// URL argument being the broker's address and virtual host; get shows it
// with the password redacted; --destination-exchange "" is the default
// exchange, and a missing exchange or routing key is refused naming the
// field.
func TestCLIWebhookDestinationAMQP(t *testing.T) {
	t.Parallel()
	v := testamqp.New(t)
	v.AddUser("hookgate", "broker-pass-1", ".*", ".*", ".*")
	conn, err := amqp091.Dial("amqp://guest:guest@" + testamqp.Addr + "/" + v.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare("events", "topic", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	url, user := v.URL(testamqp.Addr), v.UserName("hookgate")
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			srv := apitest.New(t, engine)
			c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
			c.ok("project", "create", "D", "--slug", "d")
			var wh client.Webhook
			c.json(&wh, "webhook", "create", url, "-p", "d", "--uid", "orders",
				"--destination-kind", "amqp", "--destination-exchange", "events", "--destination-routing-key", "order.created",
				"--destination-username", user, "--destination-password", "broker-pass-1")
			d := wh.Destination
			if d == nil || d.Kind != client.DestinationAMQP || d.URL != url || d.Exchange == nil || *d.Exchange != "events" || d.RoutingKey != "order.created" ||
				d.Auth == nil || d.Auth.Password != "********" || wh.URL != url {
				t.Fatalf("created %+v (destination %+v)", wh, d)
			}
			if out := c.ok("webhook", "get", "orders", "-p", "d"); !strings.Contains(out, `amqp, `+url+`, exchange "events", routing key order.created, as `+user) ||
				strings.Contains(out, "broker-pass-1") {
				t.Fatalf("webhook get:\n%s", out)
			}
			var def client.Webhook
			c.json(&def, "webhook", "create", url, "-p", "d", "--destination-kind", "amqp", "--destination-exchange", "", "--destination-routing-key", "orders",
				"--destination-username", user, "--destination-password", "broker-pass-1")
			if def.Destination == nil || def.Destination.Exchange == nil || *def.Destination.Exchange != "" {
				t.Fatalf("the default exchange: %+v", def.Destination)
			}
			if out := c.fails("webhook", "create", url, "-p", "d", "--destination-kind", "amqp", "--destination-routing-key", "k"); !strings.Contains(out, "destination.exchange") {
				t.Fatalf("no exchange:\n%s", out)
			}
			if out := c.fails("webhook", "create", url, "-p", "d", "--destination-kind", "amqp", "--destination-exchange", "events"); !strings.Contains(out, "destination.routingKey") {
				t.Fatalf("no routing key:\n%s", out)
			}
			if out := c.fails("webhook", "create", url, "-p", "d", "--destination-kind", "amqp", "--destination-exchange", "missing", "--destination-routing-key", "k",
				"--destination-username", user, "--destination-password", "broker-pass-1"); !strings.Contains(out, "destination.exchange") {
				t.Fatalf("an exchange the broker does not have:\n%s", out)
			}
		})
	}
}
