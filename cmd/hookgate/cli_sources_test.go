package main

import (
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testredis"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 28: the source commands, against a real server and redis-server:
// create (checked and probed), get (password redacted, state), list,
// update keeping the password with ********, deactivate, activate,
// delete; an entry added to the stream becomes an event.
func TestCLISources(t *testing.T) {
	t.Parallel()
	redis := testredis.Start(t)
	if _, err := redis.Do("ACL", "SETUSER", "reader", "on", ">broker-pass-3", "~*", "+@all"); err != nil {
		t.Fatal(err)
	}
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			srv := apitest.New(t, engine)
			c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
			c.ok("project", "create", "S", "--slug", "s")
			var src client.Source
			c.json(&src, "source", "create", "-p", "s", "--name", "orders", "--kind", "redis-stream", "--url", redis.URL(),
				"--stream", "orders-"+engine, "--username", "reader", "--password", "broker-pass-3", "--type-pointer", "/type")
			if src.ID == "" || src.Config.Stream != "orders-"+engine || src.Config.Auth == nil || src.Config.Auth.Password != "********" || src.Status != "active" {
				t.Fatalf("created %+v", src)
			}
			if out := c.fails("source", "create", "-p", "s", "--name", "x", "--kind", "redis-stream", "--url", redis.URL(), "--type-pointer", "/type"); !strings.Contains(out, "config.stream") {
				t.Fatalf("no stream:\n%s", out)
			}
			if _, err := redis.Do("XADD", "orders-"+engine, "*", "body", `{"type":"order.created","id":1}`); err != nil {
				t.Fatal(err)
			}
			testwait.For(t, "the entry to become an event", func() bool {
				return strings.Contains(c.ok("event", "list", "-p", "s"), "order.created")
			})
			testwait.For(t, "get to show the source connected", func() bool {
				out := c.ok("source", "get", src.ID, "-p", "s")
				return strings.Contains(out, "connected") && strings.Contains(out, "true") && strings.Contains(out, "accepted")
			})
			if out := c.ok("source", "get", src.ID, "-p", "s"); strings.Contains(out, "broker-pass-3") || !strings.Contains(out, "pointer /type") {
				t.Fatalf("source get:\n%s", out)
			}
			if out := c.ok("source", "list", "-p", "s"); !strings.Contains(out, src.ID) || !strings.Contains(out, "redis-stream") {
				t.Fatalf("source list:\n%s", out)
			}
			var up client.Source
			c.json(&up, "source", "update", src.ID, "-p", "s", "--name", "renamed", "--url", redis.URL(), "--stream", "orders-"+engine,
				"--group", "other", "--username", "reader", "--password", "********")
			if up.Name != "renamed" || up.Config.Group != "other" {
				t.Fatalf("updated %+v", up)
			}
			if out := c.fails("source", "update", src.ID, "-p", "s", "--stream", "x"); !strings.Contains(out, "--url") {
				t.Fatalf("a configuration without its url:\n%s", out)
			}
			if out := c.ok("source", "deactivate", src.ID, "-p", "s"); !strings.Contains(out, "deactivated") {
				t.Fatalf("deactivate:\n%s", out)
			}
			if out := c.ok("source", "activate", src.ID, "-p", "s"); !strings.Contains(out, "active") {
				t.Fatalf("activate:\n%s", out)
			}
			c.ok("source", "delete", src.ID, "-p", "s")
			if out := c.fails("source", "get", src.ID, "-p", "s"); !strings.Contains(out, "not found") {
				t.Fatalf("get after delete:\n%s", out)
			}
		})
	}
}
