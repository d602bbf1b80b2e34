package main

import (
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 24, item 4: webhook create and update set a webhook's own retry
// schedule, timeout and cap on attempts, update clears them with empty
// values, and the read shows the settings in force and where each comes
// from.
func TestCLIWebhookOverrides(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			srv := apitest.New(t, engine)
			c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
			c.ok("project", "create", "O", "--slug", "o")
			var wh client.Webhook
			c.json(&wh, "webhook", "create", "http://127.0.0.1:9/h", "-p", "o", "--uid", "h",
				"--retry-schedule", "1s,1m", "--timeout", "5s", "--max-attempts", "2")
			d := wh.Delivery
			if strings.Join(d.RetrySchedule.Value, ",") != "1s,1m" || d.RetrySchedule.From != "webhook" ||
				d.Timeout.Value != "5s" || d.Timeout.From != "webhook" || d.MaxAttempts.Value != 2 || d.MaxAttempts.From != "webhook" {
				t.Fatalf("created with %+v", d)
			}
			if out := c.ok("webhook", "get", "h", "-p", "o"); !strings.Contains(out, "1s,1m (webhook)") || !strings.Contains(out, "5s (webhook)") {
				t.Fatalf("webhook get:\n%s", out)
			}
			if out := c.fails("webhook", "update", "h", "-p", "o", "--timeout", "1h"); !strings.Contains(out, "timeout") {
				t.Fatalf("a timeout above the send timeout:\n%s", out)
			}
			var got client.Webhook
			c.json(&got, "webhook", "update", "h", "-p", "o", "--retry-schedule", "", "--timeout", "", "--max-attempts", "0")
			d = got.Delivery
			if d.RetrySchedule.From != "server" || d.Timeout.From != "server" || d.MaxAttempts.From != "server" || got.Timeout != nil || got.MaxAttempts != nil || len(got.RetrySchedule) != 0 {
				t.Fatalf("cleared: %+v, own %v %v %v", d, got.RetrySchedule, got.Timeout, got.MaxAttempts)
			}
		})
	}
}
