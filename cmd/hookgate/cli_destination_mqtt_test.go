package main

import (
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testmqtt"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 28: webhook create registers an mqtt destination from flags, the
// URL argument being the broker's address; get shows it with the password
// redacted; a wildcard topic and a QoS out of range are refused naming the
// field.
func TestCLIWebhookDestinationMQTT(t *testing.T) {
	t.Parallel()
	broker := testmqtt.StartWith(t, testmqtt.Options{Users: map[string]string{"hookgate": "broker-pass-1"}})
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			srv := apitest.New(t, engine)
			c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
			c.ok("project", "create", "M", "--slug", "m")
			var wh client.Webhook
			c.json(&wh, "webhook", "create", broker.URL(), "-p", "m", "--uid", "orders",
				"--destination-kind", "mqtt", "--destination-topic", "shop/orders", "--destination-qos", "2",
				"--destination-username", "hookgate", "--destination-password", "broker-pass-1")
			d := wh.Destination
			if d == nil || d.Kind != client.DestinationMQTT || d.URL != broker.URL() || d.Topic != "shop/orders" || d.QoS == nil || *d.QoS != 2 ||
				d.Auth == nil || d.Auth.Password != "********" || wh.URL != broker.URL() {
				t.Fatalf("created %+v (destination %+v)", wh, d)
			}
			if out := c.ok("webhook", "get", "orders", "-p", "m"); !strings.Contains(out, "mqtt, "+broker.URL()+", topic shop/orders, QoS 2, as hookgate") ||
				strings.Contains(out, "broker-pass-1") {
				t.Fatalf("webhook get:\n%s", out)
			}
			auth := []string{"--destination-username", "hookgate", "--destination-password", "broker-pass-1"}
			if out := c.fails(append([]string{"webhook", "create", broker.URL(), "-p", "m", "--destination-kind", "mqtt", "--destination-topic", "shop/#"}, auth...)...); !strings.Contains(out, "destination.topic") {
				t.Fatalf("a wildcard topic:\n%s", out)
			}
			if out := c.fails(append([]string{"webhook", "create", broker.URL(), "-p", "m", "--destination-kind", "mqtt", "--destination-topic", "t", "--destination-qos", "3"}, auth...)...); !strings.Contains(out, "destination.qos") {
				t.Fatalf("QoS 3:\n%s", out)
			}
			if out := c.fails("webhook", "create", broker.URL(), "-p", "m", "--destination-kind", "mqtt", "--destination-topic", "t", "--destination-username", "hookgate", "--destination-password", "wrong"); !strings.Contains(out, "destination.auth.password") {
				t.Fatalf("a wrong password:\n%s", out)
			}
		})
	}
}
