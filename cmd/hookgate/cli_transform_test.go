package main

import (
	"strings"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
)

// Issue 29: `delivery attempts` shows the beginning of the body a
// webhook's transform made (SENT), and `-o json` all of it.
func TestCLIAttemptsShowTheTransformedBody(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, "sqlite")
	c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
	c.ok("project", "create", "T", "--slug", "t")
	rcv := newSink(t)
	c.ok("webhook", "create", rcv.srv.URL, "-p", "t", "--transform", `{"order": data.id}`)
	c.ok("event", "send", "-p", "t", "--type", "a.b", "--data", `{"id": 7}`)
	var ds []client.Delivery
	testwait.For(t, "the delivery", func() bool {
		c.json(&ds, "delivery", "list", "-p", "t", "--status", "succeeded")
		return len(ds) == 1
	})
	lines := strings.Split(strings.TrimSpace(c.ok("delivery", "attempts", ds[0].ID, "-p", "t")), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "SENT") || !strings.Contains(lines[1], `{"order":7}`) {
		t.Fatalf("attempts:\n%s", strings.Join(lines, "\n"))
	}
	var as []client.Attempt
	c.json(&as, "delivery", "attempts", ds[0].ID, "-p", "t")
	if len(as) != 1 || as[0].RequestBody != `{"order":7}` {
		t.Fatalf("attempts as JSON: %+v", as)
	}
}
