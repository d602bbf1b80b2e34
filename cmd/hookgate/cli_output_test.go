package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 22, item 15: durations come in whole milliseconds, cut down; one
// under a millisecond prints "<1ms", not "0s", and stats without attempts
// print "-".
func TestDurationsPrintUnderAMillisecond(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		n    int
		d    time.Duration
		want string
	}{
		{1, 0, "<1ms"},
		{1, 400 * time.Microsecond, "<1ms"},
		{1, time.Millisecond, "1ms"},
		{3, 42 * time.Millisecond, "42ms"},
		{1, 1500 * time.Millisecond, "1.5s"},
		{0, 0, "-"},
	} {
		if got := durationOf(tc.n, tc.d); got != tc.want {
			t.Errorf("durationOf(%d, %v) = %q, want %q", tc.n, tc.d, got, tc.want)
		}
	}

	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			srv := apitest.New(t, engine)
			c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
			c.ok("project", "create", "D", "--slug", "d")
			stats := c.ok("project", "stats", "d")
			for _, line := range []string{"duration p50", "duration p95"} {
				if !regexp.MustCompile(line + `\s+-\n`).MatchString(stats) {
					t.Fatalf("stats without attempts print %s other than -:\n%s", line, stats)
				}
			}

			rcv := newSink(t)
			c.ok("webhook", "create", rcv.srv.URL, "-p", "d", "--uid", "fast")
			c.ok("event", "send", "-p", "d", "--type", "a.b", "--data", "1")
			var ds []client.Delivery
			testwait.For(t, "the delivery", func() bool {
				c.json(&ds, "delivery", "list", "-p", "d", "--status", "succeeded")
				return len(ds) == 1
			})
			lines := strings.Split(strings.TrimSpace(c.ok("delivery", "attempts", ds[0].ID, "-p", "d")), "\n")
			if len(lines) != 2 {
				t.Fatalf("attempts:\n%s", strings.Join(lines, "\n"))
			}
			col := strings.Index(lines[0], "DURATION")
			dur := strings.Fields(lines[1][col:])[0]
			if !regexp.MustCompile(`^(<1ms|[1-9]\d*ms|[\d.]+s)$`).MatchString(dur) {
				t.Fatalf("an attempt's duration prints %q:\n%s", dur, strings.Join(lines, "\n"))
			}
			if node := strings.Fields(lines[1][strings.Index(lines[0], "NODE"):])[0]; node == "-" {
				t.Fatalf("an attempt's node prints %q:\n%s", node, strings.Join(lines, "\n"))
			}
			if stats := c.ok("webhook", "stats", "fast", "-p", "d"); strings.Contains(stats, " 0s") {
				t.Fatalf("stats print 0s:\n%s", stats)
			}
		})
	}
}

// Issue 22, item 16: an error's value prints as JSON, after a sentence
// naming the field and what was expected.
func TestCLIErrorsPrintValuesAsJSON(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, "sqlite")
	c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
	c.ok("project", "create", "V", "--slug", "v")
	c.ok("event-type", "create", "order.created", "-p", "v", "--schema", `{"type":"object","required":["id"],"properties":{"id":{"type":"string"}}}`)
	out := c.fails("event", "send", "-p", "v", "--type", "order.created", "--data", `{"x": 1, "tags": ["a", "<b>"]}`)
	for _, want := range []string{
		"data does not match the schema of event type order.created: data.id is required",
		"  parameter: data\n",
		`  value:     {"tags":["a","<b>"],"x":1}` + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the error printed\n%s\nwithout %q", out, want)
		}
	}
	for _, gosyntax := range []string{"map[", "jsonschema"} {
		if strings.Contains(out, gosyntax) {
			t.Errorf("the error printed %q:\n%s", gosyntax, out)
		}
	}
	if got := jsonValue(strings.Repeat("é", 300), 20); got != `"ééééééééé…` {
		t.Errorf("a long value prints %q", got)
	}
}

// Issue 22, item 17: webhook list tells a webhook of every event ("all")
// from a trigger-only one, and a JSON Lines file sent again says its
// events were replays, not new.
func TestCLITellsAllEventsTriggerOnlyAndReplays(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			srv := apitest.New(t, engine)
			c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
			c.ok("project", "create", "L", "--slug", "l")
			c.ok("webhook", "create", "http://127.0.0.1:9/every", "-p", "l", "--uid", "every")
			c.ok("webhook", "create", "http://127.0.0.1:9/sync", "-p", "l", "--uid", "sync", "--trigger-only")
			c.ok("webhook", "create", "http://127.0.0.1:9/orders", "-p", "l", "--uid", "orders", "--events", "order.*,refund.created")
			list := c.ok("webhook", "list", "-p", "l")
			for uid, want := range map[string]string{"every": "all", "sync": "trigger only", "orders": "order.*,refund.created"} {
				var line string
				for _, l := range strings.Split(list, "\n") {
					if strings.Contains(l, " "+uid+" ") {
						line = l
					}
				}
				if !strings.Contains(line, "  "+want+"  ") {
					t.Errorf("webhook list shows %s without %q under EVENTS:\n%s", uid, want, list)
				}
			}
			if got := c.ok("webhook", "get", "sync", "-p", "l"); !regexp.MustCompile(`events\s+trigger only\n`).MatchString(got) {
				t.Errorf("webhook get of a trigger-only webhook:\n%s", got)
			}

			file := filepath.Join(t.TempDir(), "orders.jsonl")
			var lines []string
			for i := range 3 {
				lines = append(lines, fmt.Sprintf(`{"type": "order.created", "data": {"id": %d}, "idempotencyKey": "order-%d"}`, i, i))
			}
			if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			first := c.ok("event", "send", "-p", "l", "--file", file)
			again := c.ok("event", "send", "-p", "l", "--file", file)
			for out, want := range map[string][]string{
				first: {"events      3\n", "new         3\n", "replayed    0\n", "deliveries  6\n"},
				again: {"events      3\n", "new         0\n", "replayed    3 (their idempotency keys answered events sent before)\n", "deliveries  0\n"},
			} {
				for _, w := range want {
					if !strings.Contains(out, w) {
						t.Errorf("event send --file printed\n%s\nwithout %q", out, w)
					}
				}
			}
			var report map[string]int
			c.json(&report, "event", "send", "-p", "l", "--file", file)
			if report["events"] != 3 || report["new"] != 0 || report["replayed"] != 3 || report["deliveries"] != 0 {
				t.Errorf("event send --file -o json = %v", report)
			}
		})
	}
}

// Issue 22, item 19: when no server answers, the CLI says where it looked
// and how to point it at another, --server or HOOKGATE_URL.
func TestCLIHintsAtTheServerWhenNoneAnswers(t *testing.T) {
	t.Parallel()
	c := &cli{t: t, server: "http://127.0.0.1:9", key: apitest.AdminKey}
	out := c.fails("project", "list")
	for _, want := range []string{"connection refused", "hint: no server answers at http://127.0.0.1:9.", "--server", "HOOKGATE_URL", "hookgate serve"} {
		if !strings.Contains(out, want) {
			t.Errorf("with no server, the CLI printed\n%s\nwithout %q", out, want)
		}
	}
}
