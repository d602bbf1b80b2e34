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

// Issue 24, item 2: webhook and project create and update set breaker
// settings, webhook get shows those in force and the circuit, a bad value
// is refused naming the field, and --breaker-default clears them.
func TestCLIBreaker(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			srv := apitest.New(t, engine)
			c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
			var p client.Project
			c.json(&p, "project", "create", "O", "--slug", "o", "--breaker-cooldown", "1m")
			if p.Breaker == nil || p.Breaker.Cooldown == nil || *p.Breaker.Cooldown != "1m" {
				t.Fatalf("project created with %+v", p.Breaker)
			}
			var wh client.Webhook
			c.json(&wh, "webhook", "create", "http://127.0.0.1:9/h", "-p", "o", "--uid", "h", "--breaker-failures", "5")
			b := wh.Delivery.Breaker
			if b.Failures.Value != 5 || b.Failures.From != "webhook" || b.Cooldown.Value != "1m" || b.Cooldown.From != "project" || wh.Circuit.State != client.CircuitClosed {
				t.Fatalf("created with %+v, circuit %+v", b, wh.Circuit)
			}
			out := c.ok("webhook", "get", "h", "-p", "o")
			if !strings.Contains(out, "5 failures (webhook), cooldown 1m (project)") || !strings.Contains(out, "closed, 0 consecutive failures") {
				t.Fatalf("webhook get:\n%s", out)
			}
			if out := c.fails("webhook", "update", "h", "-p", "o", "--breaker-cooldown", "1h"); !strings.Contains(out, "breaker.cooldown") {
				t.Fatalf("a cooldown above 10m:\n%s", out)
			}
			c.json(&wh, "webhook", "update", "h", "-p", "o", "--breaker-failures", "0")
			if wh.Delivery.Breaker.Failures.Value != 0 || !strings.Contains(c.ok("webhook", "get", "h", "-p", "o"), "off (webhook)") {
				t.Fatalf("turned off: %+v", wh.Delivery.Breaker)
			}
			c.json(&wh, "webhook", "update", "h", "-p", "o", "--breaker-default")
			c.json(&p, "project", "update", "o", "--breaker-default")
			if wh.Breaker != nil || wh.Delivery.Breaker.Failures.From != "server" || p.Breaker != nil {
				t.Fatalf("cleared: %+v %+v", wh.Breaker, p.Breaker)
			}
		})
	}
}
