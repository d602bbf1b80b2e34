package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/hookgate/hookgate/api/apitest"
	"github.com/hookgate/hookgate/client"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// cli runs hookgate commands in this process against one server.
type cli struct {
	t      *testing.T
	server string
	key    string
	stdin  string
}

// run runs args with --server and --api-key, and returns stdout, and
// stderr with the error printed as main prints it.
func (c *cli) run(args ...string) (string, string, error) {
	c.t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetIn(strings.NewReader(c.stdin))
	root.SetArgs(append(args, "--server", c.server, "--api-key", c.key))
	err := root.ExecuteContext(context.Background())
	if err != nil {
		printError(&errOut, err)
	}
	return out.String(), errOut.String(), err
}

// ok runs args and fails the test unless they succeed.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("hookgate %s: %v\n%s", strings.Join(args, " "), err, errOut)
	}
	return out
}

// json runs args with -o json and decodes the output into v.
func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "-o", "json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("hookgate %s -o json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// fails runs args, wants them to fail, and returns what was printed.
func (c *cli) fails(args ...string) string {
	c.t.Helper()
	_, errOut, err := c.run(args...)
	if err == nil {
		c.t.Fatalf("hookgate %s succeeded", strings.Join(args, " "))
	}
	return errOut
}

// sink is a webhook receiver that answers 200 while healthy and 500 while
// failing, and counts what it got.
type sink struct {
	srv     *httptest.Server
	mu      sync.Mutex
	failing bool
	got     int
}

func newSink(t *testing.T) *sink {
	s := &sink{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.failing {
			http.Error(w, "down", http.StatusInternalServerError)
			return
		}
		s.got++
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"received":%d}`, s.got)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *sink) setFailing(v bool) { s.mu.Lock(); s.failing = v; s.mu.Unlock() }

// Every API operation has a CLI command, and the commands exist.
func TestCLICoversEveryOperation(t *testing.T) {
	t.Parallel()
	byOp := map[string]string{
		"createProject": "project create", "listProjects": "project list", "getProject": "project get",
		"updateProject": "project update", "deleteProject": "project delete",
		"createKey": "key create", "listKeys": "key list", "deleteKey": "key revoke",
		"createWebhook": "webhook create", "listWebhooks": "webhook list", "getWebhook": "webhook get",
		"updateWebhook": "webhook update", "deleteWebhook": "webhook delete", "activateWebhook": "webhook activate",
		"deactivateWebhook": "webhook deactivate", "getWebhookSecret": "webhook secret",
		"rotateWebhookSecret": "webhook rotate-secret", "recoverWebhook": "webhook recover", "testWebhook": "webhook test",
		"triggerWebhook": "webhook trigger", "testWebhookExpression": "webhook test-expression",
		"sendEvent": "event send", "sendEvents": "event send", "listEvents": "event list", "getEvent": "event get",
		"listEventDeliveries": "event deliveries",
		"createEventType":     "event-type create", "listEventTypes": "event-type list", "getEventType": "event-type get",
		"updateEventType": "event-type update", "deleteEventType": "event-type delete",
		"listDeliveries": "delivery list", "getDelivery": "delivery get", "listAttempts": "delivery attempts",
		"retryDelivery": "delivery retry", "redriveDeliveries": "delivery redrive", "getRedrive": "delivery redrive-status",
		"createPlatform": "platform create", "listPlatforms": "platform list", "getPlatform": "platform get",
		"updatePlatform": "platform update", "deletePlatform": "platform delete",
		"registerPlatformWebhook": "platform register-webhook", "unregisterPlatformWebhook": "platform unregister-webhook",
		"platformWebhookStatus": "platform status",
		"sendMessage":           "message send", "listMessages": "message list",
		"getWebhookStats": "webhook stats", "getProjectStats": "project stats",
		"createPortalLink": "portal link", "listPortalLinks": "portal list", "revokePortalLink": "portal revoke",
		"createSource": "source create", "listSources": "source list", "getSource": "source get", "updateSource": "source update",
		"deleteSource": "source delete", "activateSource": "source activate", "deactivateSource": "source deactivate",
	}
	root := newRootCmd()
	for op, path := range byOp {
		c, rest, err := root.Find(strings.Fields(path))
		if err != nil || len(rest) > 0 || c.CommandPath() != "hookgate "+path {
			t.Errorf("%s: no command %q", op, path)
		}
	}
	srv := apitest.New(t, "sqlite")
	res, err := http.Get(srv.URL + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var doc struct {
		Paths map[string]map[string]struct {
			OperationID string `json:"operationId"`
		} `json:"paths"`
	}
	if err := json.NewDecoder(res.Body).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, methods := range doc.Paths {
		for _, op := range methods {
			if _, ok := byOp[op.OperationID]; op.OperationID != "" && !ok {
				missing = append(missing, op.OperationID)
			}
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Fatalf("operations without a CLI command: %v", missing)
	}
}

// A whole session at the shell, on both engines.
func TestCLIWalkthrough(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			srv := apitest.New(t, engine)
			admin := &cli{t: t, server: srv.URL, key: apitest.AdminKey}

			out := admin.ok("project", "create", "Shop", "--slug", "shop", "--retry-schedule", "1s,1s")
			if !strings.Contains(out, "slug            shop") && !strings.Contains(out, "shop") {
				t.Fatalf("project create printed:\n%s", out)
			}
			var projects []client.Project
			admin.json(&projects, "project", "list")
			if len(projects) != 1 || projects[0].Slug != "shop" || len(projects[0].RetrySchedule) != 2 {
				t.Fatalf("project list = %+v", projects)
			}
			admin.ok("project", "update", "shop", "--name", "Shop EU")
			var p client.Project
			admin.json(&p, "project", "get", "shop")
			if p.Name != "Shop EU" {
				t.Fatalf("project get = %+v", p)
			}

			var key client.Key
			admin.json(&key, "key", "create", "ci", "--project", "shop")
			if key.Key == "" || key.Role != client.RoleOwner {
				t.Fatalf("key create = %+v", key)
			}
			owner := &cli{t: t, server: srv.URL, key: key.Key}
			var pub client.Key
			owner.json(&pub, "key", "create", "producer", "-p", "shop", "--role", "publisher")
			if list := owner.ok("key", "list", "-p", "shop"); !strings.Contains(list, "producer") || strings.Contains(list, pub.Key) {
				t.Fatalf("key list:\n%s", list)
			}

			rcv := newSink(t)
			var wh client.Webhook
			owner.json(&wh, "webhook", "create", rcv.srv.URL+"/hooks", "-p", "shop", "--uid", "orders", "--events", "order.*",
				"--header", "X-Team=billing", "--metadata", "team=billing", "--auth-basic", "hook:s3cret", "--description", "orders")
			if wh.UID != "orders" || wh.Auth.Type != client.AuthBasic || wh.Auth.Password != "********" || wh.Metadata["team"] != "billing" || !strings.HasPrefix(wh.Secret, "whsec_") {
				t.Fatalf("webhook create = %+v", wh)
			}
			owner.ok("webhook", "update", "orders", "-p", "shop", "--rate-limit", "100", "--description", "all orders")
			var got client.Webhook
			owner.json(&got, "webhook", "get", "orders", "-p", "shop")
			if got.RateLimit != 100 || got.Description != "all orders" || got.Auth.Type != client.AuthBasic || len(got.Events) != 1 {
				t.Fatalf("webhook after update = %+v", got)
			}
			if list := owner.ok("webhook", "list", "-p", "shop"); !strings.Contains(list, "orders") || !strings.Contains(list, "active") {
				t.Fatalf("webhook list:\n%s", list)
			}
			var sec client.Secret
			owner.json(&sec, "webhook", "secret", "orders", "-p", "shop")
			if sec.Secret != wh.Secret {
				t.Fatalf("webhook secret = %+v", sec)
			}
			owner.json(&sec, "webhook", "rotate-secret", "orders", "-p", "shop", "--grace-period", "0s")
			if sec.Secret == wh.Secret {
				t.Fatal("rotate-secret kept the secret")
			}

			// Events, one and a file.
			producer := &cli{t: t, server: srv.URL, key: pub.Key}
			var ev client.EventAccepted
			producer.json(&ev, "event", "send", "-p", "shop", "--type", "order.paid", "--data", `{"id":1}`, "--idempotency-key", "o1")
			if ev.Deliveries != 1 {
				t.Fatalf("event send = %+v", ev)
			}
			if out := producer.ok("event", "send", "-p", "shop", "--type", "order.paid", "--data", `{"id":1}`, "--idempotency-key", "o1"); !strings.Contains(out, "replayed") {
				t.Fatalf("a repeated key:\n%s", out)
			}
			dir := t.TempDir()
			var lines []string
			for i := range 25 {
				lines = append(lines, fmt.Sprintf(`{"type":"order.created","data":{"n":%d}}`, i), "")
			}
			file := filepath.Join(dir, "events.jsonl")
			if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
				t.Fatal(err)
			}
			var sent map[string]int
			producer.json(&sent, "event", "send", "-p", "shop", "--file", file, "--batch", "10")
			if sent["events"] != 25 || sent["deliveries"] != 25 {
				t.Fatalf("event send --file = %v", sent)
			}
			stdin := &cli{t: t, server: srv.URL, key: pub.Key, stdin: `{"type":"order.created","data":"from stdin"}` + "\n"}
			stdin.json(&sent, "event", "send", "-p", "shop", "--file", "-")
			if sent["events"] != 1 {
				t.Fatalf("event send --file - = %v", sent)
			}
			testwait.For(t, "27 deliveries to arrive", func() bool { rcv.mu.Lock(); defer rcv.mu.Unlock(); return rcv.got >= 27 })

			var events []client.Event
			owner.json(&events, "event", "list", "-p", "shop", "--type", "order.paid")
			if len(events) != 1 || events[0].ID != ev.ID {
				t.Fatalf("event list --type = %+v", events)
			}
			if out := owner.ok("event", "get", ev.ID, "-p", "shop"); !strings.Contains(out, `{"id":1}`) {
				t.Fatalf("event get:\n%s", out)
			}
			var dls []client.Delivery
			owner.json(&dls, "event", "deliveries", ev.ID, "-p", "shop")
			if len(dls) != 1 {
				t.Fatalf("event deliveries = %+v", dls)
			}
			dl := dls[0].ID
			testwait.For(t, "the delivery's success", func() bool {
				var d client.Delivery
				owner.json(&d, "delivery", "get", dl, "-p", "shop")
				return d.Status == client.DeliverySucceeded
			})
			if out := owner.ok("delivery", "attempts", dl, "-p", "shop"); !strings.Contains(out, "200") || !strings.Contains(out, "received") {
				t.Fatalf("delivery attempts:\n%s", out)
			}
			owner.ok("delivery", "retry", dl, "-p", "shop")
			testwait.For(t, "the retry's attempt", func() bool {
				var atts []client.Attempt
				owner.json(&atts, "delivery", "attempts", dl, "-p", "shop")
				return len(atts) == 2
			})
			var page []client.Delivery
			_, more, err := owner.run("delivery", "list", "-p", "shop", "--webhook", "orders", "--limit", "5", "-o", "json")
			if err != nil || !strings.Contains(more, "--cursor") {
				t.Fatalf("delivery list --limit 5: %v, stderr %q", err, more)
			}
			owner.json(&page, "delivery", "list", "-p", "shop", "--webhook", "orders", "--limit", "5", "--all")
			if len(page) != 27 {
				t.Fatalf("delivery list --all: %d deliveries", len(page))
			}

			// Test, trigger, deactivate, recover.
			var test client.Delivery
			owner.json(&test, "webhook", "test", "orders", "-p", "shop")
			if test.EventType != "webhook.test" {
				t.Fatalf("webhook test = %+v", test)
			}
			testwait.For(t, "the test delivery's success", func() bool {
				var d client.Delivery
				owner.json(&d, "delivery", "get", test.ID, "-p", "shop")
				return d.Status == client.DeliverySucceeded
			})
			var tr client.TriggerResult
			producer.json(&tr, "webhook", "trigger", "orders", "-p", "shop", "--data", `{"q":"stock"}`)
			if tr.Status != 200 || tr.Error || !strings.Contains(string(tr.Data), "received") {
				t.Fatalf("webhook trigger = %+v", tr)
			}
			owner.ok("webhook", "deactivate", "orders", "-p", "shop")
			owner.json(&got, "webhook", "get", "orders", "-p", "shop")
			if got.Status != client.WebhookDeactivated {
				t.Fatalf("status after deactivate = %s", got.Status)
			}
			owner.ok("webhook", "activate", "orders", "-p", "shop")
			rcv.setFailing(true)
			var failing client.EventAccepted
			producer.json(&failing, "event", "send", "-p", "shop", "--type", "order.refunded", "--data", `{"id":9}`)
			testwait.For(t, "the delivery to fail", func() bool {
				var ds []client.Delivery
				owner.json(&ds, "event", "deliveries", failing.ID, "-p", "shop")
				return len(ds) == 1 && ds[0].Status == client.DeliveryFailed
			})
			rcv.setFailing(false)
			out = owner.ok("webhook", "recover", "orders", "-p", "shop", "--since", "10m", "--wait", "--timeout", "30s")
			if !strings.Contains(out, "requeued  1") {
				t.Fatalf("webhook recover:\n%s", out)
			}
			var refunds []client.Delivery
			owner.json(&refunds, "delivery", "list", "-p", "shop", "--event-type", "order.refunded", "--since", "1h")
			if len(refunds) != 1 || refunds[0].EventID != failing.ID {
				t.Fatalf("delivery list --event-type --since = %+v", refunds)
			}
			if errOut := owner.fails("delivery", "list", "-p", "shop", "--until", "tomorrow"); !strings.Contains(errOut, `--until "tomorrow"`) {
				t.Fatalf("a bad --until:\n%s", errOut)
			}
			var st client.Stats
			owner.json(&st, "webhook", "stats", "orders", "-p", "shop", "--window", "1h")
			if st.Window != "1h" || st.Failures.Status5xx != 3 || st.LastFailure == nil {
				t.Fatalf("webhook stats = %+v", st)
			}
			if out := admin.ok("project", "stats", "shop"); !strings.Contains(out, "5xx 3") || !strings.Contains(out, "window        24h") {
				t.Fatalf("project stats:\n%s", out)
			}
			var ds []client.Delivery
			owner.json(&ds, "event", "deliveries", failing.ID, "-p", "shop")
			if ds[0].Status != client.DeliverySucceeded {
				t.Fatalf("after recover --wait: %+v", ds[0])
			}

			// The event catalog.
			owner.ok("event-type", "create", "order.paid", "-p", "shop", "--description", "paid", "--schema", `{"type":"object","required":["id"]}`)
			errOut := producer.fails("event", "send", "-p", "shop", "--type", "order.paid", "--data", `{"no":"id"}`)
			if !strings.Contains(errOut, "parameter: data") {
				t.Fatalf("an event against its schema:\n%s", errOut)
			}
			owner.ok("event-type", "update", "order.paid", "-p", "shop", "--description", "paid orders")
			if out := owner.ok("event-type", "get", "order.paid", "-p", "shop"); !strings.Contains(out, "paid orders") {
				t.Fatalf("event-type get:\n%s", out)
			}
			if out := owner.ok("event-type", "list", "-p", "shop"); !strings.Contains(out, "order.paid") || !strings.Contains(out, "yes") {
				t.Fatalf("event-type list:\n%s", out)
			}
			owner.ok("event-type", "delete", "order.paid", "-p", "shop")

			// Platforms and messages against a fake Telegram.
			tg := apitest.NewFakeTelegram(t)
			var pl client.Platform
			owner.json(&pl, "platform", "create", "-p", "shop", "--provider", "telegram", "--name", "support",
				"--credentials", fmt.Sprintf(`{"botToken":%q}`, apitest.BotToken), "--api-base-url", tg.URL)
			if pl.ID == "" || strings.Contains(string(pl.Credentials), apitest.BotToken) {
				t.Fatalf("platform create = %+v", pl)
			}
			owner.ok("platform", "update", pl.ID, "-p", "shop", "--name", "help desk")
			if out := owner.ok("platform", "list", "-p", "shop"); !strings.Contains(out, "help desk") {
				t.Fatalf("platform list:\n%s", out)
			}
			owner.ok("platform", "get", pl.ID, "-p", "shop")
			var reg client.Registration
			owner.json(&reg, "platform", "register-webhook", pl.ID, "-p", "shop")
			if !reg.Registered || tg.Registered() != reg.InboundURL {
				t.Fatalf("register-webhook = %+v; the fake has %q", reg, tg.Registered())
			}
			if out := owner.ok("platform", "status", pl.ID, "-p", "shop"); !strings.Contains(out, "registered       true") {
				t.Fatalf("platform status:\n%s", out)
			}
			producer.ok("message", "send", "-p", "shop", "--platform", pl.ID, "--to", "42", "--text", "your order shipped")
			errOut = producer.fails("message", "send", "-p", "shop", "--platform", pl.ID, "--to", "blocked", "--text", "hi")
			if !strings.Contains(errOut, "(502)") || !strings.Contains(errOut, "provider_error") {
				t.Fatalf("a refused message:\n%s", errOut)
			}
			var msgs []client.Message
			owner.json(&msgs, "message", "list", "-p", "shop", "--platform", pl.ID)
			if len(msgs) != 2 || slices.Compare(tg.Sent(), []string{"your order shipped"}) != 0 {
				t.Fatalf("message list = %+v; the fake got %q", msgs, tg.Sent())
			}
			owner.ok("platform", "unregister-webhook", pl.ID, "-p", "shop")
			owner.ok("platform", "delete", pl.ID, "-p", "shop")

			// Deletions.
			owner.ok("key", "revoke", pub.ID, "-p", "shop")
			if errOut := producer.fails("event", "list", "-p", "shop"); !strings.Contains(errOut, "(401)") {
				t.Fatalf("a revoked key:\n%s", errOut)
			}
			owner.ok("webhook", "delete", "orders", "-p", "shop")
			if errOut := owner.fails("webhook", "get", "orders", "-p", "shop"); !strings.Contains(errOut, "(404)") {
				t.Fatalf("a deleted webhook:\n%s", errOut)
			}
			admin.ok("project", "delete", "shop")
		})
	}
}

// Bad input is refused with a message naming the flag or the parameter,
// and exits non-zero.
func TestCLIErrors(t *testing.T) {
	t.Parallel()
	srv := apitest.New(t, "sqlite")
	c := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
	c.ok("project", "create", "E", "--slug", "e")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"webhook", "create", "ftp://files.invalid/in", "-p", "e"}, "parameter: url"},
		{[]string{"webhook", "create", "http://127.0.0.1:9/x", "-p", "e", "--header", "novalue"}, "--header \"novalue\": want NAME=VALUE"},
		{[]string{"webhook", "create", "http://127.0.0.1:9/x", "-p", "e", "--auth-basic", "nopass"}, "--auth-basic: want USER:PASSWORD"},
		{[]string{"webhook", "create", "http://127.0.0.1:9/x", "-p", "e", "--auth-basic", "a:b", "--oauth-client-id", "x"}, "choose one of"},
		{[]string{"webhook", "list"}, "--project is required"},
		{[]string{"webhook", "recover", "x", "-p", "e", "--since", "yesterday"}, "--since \"yesterday\""},
		{[]string{"event", "send", "-p", "e", "--type", "a", "--data", "{not json"}, "--data: not valid JSON"},
		{[]string{"event", "send", "-p", "e", "--data", "{}"}, "--type is required"},
		{[]string{"event", "send", "-p", "e", "--file", "/nonexistent/events.jsonl"}, "no such file"},
		{[]string{"project", "list", "-o", "yaml"}, "--output \"yaml\""},
		{[]string{"project", "get", "nope"}, "Not Found (404)"},
	} {
		if out := c.fails(tc.args...); !strings.Contains(out, tc.want) {
			t.Errorf("hookgate %s printed %q, want %q", strings.Join(tc.args, " "), out, tc.want)
		}
	}
	// A refused batch names its lines, and what came before stays sent.
	file := filepath.Join(t.TempDir(), "events.jsonl")
	body := `{"type":"a","data":1}` + "\n" + `{"type":"a","data":2}` + "\n" + `{"type":"` + strings.Repeat("x", 300) + `","data":3}` + "\n"
	if err := os.WriteFile(file, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	out := c.fails("event", "send", "-p", "e", "--file", file, "--batch", "2")
	if !strings.Contains(out, "lines 3–3") || !strings.Contains(out, "2 events before it were sent") || !strings.Contains(out, "line 3:") {
		t.Fatalf("a refused batch printed:\n%s", out)
	}
}

// The key defaults to the admin key a local server wrote in its data dir.
func TestCLIFindsTheLocalAdminKey(t *testing.T) {
	srv := apitest.New(t, "sqlite")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "admin.key"), []byte(apitest.AdminKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOOKGATE_DATA_DIR", dir)
	c := &cli{t: t, server: srv.URL}
	c.ok("project", "create", "Local")
	var e *client.Error
	t.Setenv("HOOKGATE_DATA_DIR", t.TempDir())
	if _, errOut, err := c.run("project", "list"); err == nil || errors.As(err, &e) || !strings.Contains(errOut, "no API key") {
		t.Fatalf("without the file: %v %q", err, errOut)
	}
}

// Shell completion: the bash script, and the values of enumerated flags.
func TestCLICompletion(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"__complete", "delivery", "list", "--status", ""}, []string{"pending", "succeeded", "failed", "paused", "cancelled", "exhausted"}},
		{[]string{"__complete", "webhook", "list", "-o", ""}, []string{"table", "json"}},
		{[]string{"__complete", "platform", "create", "--provider", ""}, []string{"telegram", "discord", "whatsapp", "slack", "generic"}},
		{[]string{"__complete", "webh"}, []string{"webhook"}},
		{[]string{"completion", "bash"}, nil},
	} {
		root := newRootCmd()
		var out bytes.Buffer
		root.SetOut(&out)
		root.SetErr(io.Discard)
		root.SetArgs(tc.args)
		if err := root.Execute(); err != nil {
			t.Fatal(err)
		}
		if tc.args[0] == "completion" {
			if !strings.Contains(out.String(), "__start_hookgate") {
				t.Fatalf("completion bash printed no script:\n%.300s", out.String())
			}
			continue
		}
		var got []string
		for _, l := range strings.Split(out.String(), "\n") {
			if l != "" && !strings.HasPrefix(l, ":") {
				got = append(got, strings.SplitN(l, "\t", 2)[0])
			}
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("%v completes %q, want %q", tc.args[1:], got, tc.want)
		}
	}
}

// Issue 24, item 5: delivery redrive starts a redrive and, with --wait,
// prints it finished; redrive-status reads it; --ids with a filter flag is
// refused.
func TestCLIRedrive(t *testing.T) {
	t.Parallel()
	for _, engine := range sqltest.Engines(t) {
		t.Run(engine, func(t *testing.T) {
			t.Parallel()
			srv := apitest.New(t, engine)
			admin := &cli{t: t, server: srv.URL, key: apitest.AdminKey}
			admin.ok("project", "create", "Shop", "--slug", "shop")
			var r client.Redrive
			admin.json(&r, "delivery", "redrive", "-p", "shop", "--event-type", "order.created", "--since", "2026-01-01T00:00:00Z", "--wait", "--idempotency-key", "k")
			if r.ID == "" || r.State != client.RedriveFinished || r.FinishedAt.IsZero() {
				t.Fatalf("redrive --wait = %+v", r)
			}
			var again client.Redrive
			admin.json(&again, "delivery", "redrive", "-p", "shop", "--event-type", "order.created", "--since", "2026-01-01T00:00:00Z", "--idempotency-key", "k")
			if again.ID != r.ID {
				t.Fatalf("the same key started %s, want %s", again.ID, r.ID)
			}
			if out := admin.ok("delivery", "redrive-status", r.ID, "-p", "shop"); !strings.Contains(out, "finished") {
				t.Fatalf("redrive-status printed:\n%s", out)
			}
			var byIDs client.Redrive
			admin.json(&byIDs, "delivery", "redrive", "-p", "shop", "--ids", "msg_a,msg_b", "--wait")
			if byIDs.State != client.RedriveFinished || byIDs.Matched != 0 {
				t.Fatalf("redrive --ids = %+v", byIDs)
			}
			if msg := admin.fails("delivery", "redrive", "-p", "shop", "--ids", "msg_a", "--webhook", "x"); !strings.Contains(msg, "--ids") {
				t.Fatalf("--ids with --webhook: %s", msg)
			}
		})
	}
}
