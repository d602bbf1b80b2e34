package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 24, item 3: --auto-recover sets a webhook's and a project's
// autoRecover, "" clears it, anything but true or false is refused
// naming the flag; webhook get shows the setting in force and the
// recovery of a disabled webhook.
func TestCLIAutoRecover(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			store := sqltest.Open(t, engine)
			srv := apitest.Start(store)
			t.Cleanup(srv.Close)
			c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
			var p client.Project
			c.json(&p, "project", "create", "O", "--slug", "o", "--auto-recover", "false")
			if p.AutoRecover == nil || *p.AutoRecover {
				t.Fatalf("project created with autoRecover %v", p.AutoRecover)
			}
			var wh client.Webhook
			c.json(&wh, "webhook", "create", "http://127.0.0.1:9/h", "-p", "o", "--uid", "h", "--auto-recover", "true")
			if wh.AutoRecover == nil || !*wh.AutoRecover || wh.Delivery.AutoRecover.From != "webhook" {
				t.Fatalf("created with %v, in force %+v", wh.AutoRecover, wh.Delivery.AutoRecover)
			}
			if out := c.fails("webhook", "update", "h", "-p", "o", "--auto-recover", "maybe"); !strings.Contains(out, "--auto-recover") {
				t.Fatalf("a bad --auto-recover:\n%s", out)
			}
			c.json(&wh, "webhook", "update", "h", "-p", "o", "--auto-recover", "")
			if wh.AutoRecover != nil || wh.Delivery.AutoRecover.Value || wh.Delivery.AutoRecover.From != "project" {
				t.Fatalf("cleared: %v, in force %+v", wh.AutoRecover, wh.Delivery.AutoRecover)
			}
			c.json(&p, "project", "update", "o", "--auto-recover", "")
			if p.AutoRecover != nil {
				t.Fatalf("project's cleared: %v", p.AutoRecover)
			}
			if _, err := store.SetWebhookStatus(context.Background(), p.ID, wh.ID, hookgate.StatusDisabled, time.Now()); err != nil {
				t.Fatal(err)
			}
			if out := c.ok("webhook", "get", "h", "-p", "o"); !strings.Contains(out, "true (server)") || !strings.Contains(out, "recovering: next probe at") {
				t.Fatalf("webhook get of a disabled webhook:\n%s", out)
			}
		})
	}
}
