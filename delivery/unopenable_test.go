package delivery_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/destinations/all"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// Issue 21, item 9: a node whose encryption key does not open a webhook's
// secrets (another node's key) used to give its deliveries back in
// silence, again and again, with no error recorded, no log and no metric.
// Each now fails an attempt without a request: the attempt and the
// delivery's lastError say why, an error line names the webhook, a counter
// counts it, and the delivery moves on with its schedule.
func TestUnopenableSecretFailsDeliveryLoudly(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		ctx := context.Background()
		cfg := sqltest.Config(t, engine)
		first := sqltest.OpenConfig(t, cfg) // the node the webhook was registered through
		now := time.Now().UTC()
		p := &hookgate.Project{ID: hookgate.NewID(hookgate.PrefixProject, now), Slug: "keys", Name: "keys", CreatedAt: now, UpdatedAt: now}
		if err := first.CreateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
		rec := newRecorder(t, 200, nil)
		w := webhook(rec.srv.URL)
		w.ID, w.ProjectID = hookgate.NewID(hookgate.PrefixWebhook, now), p.ID
		if err := first.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		// A second node on the same database with a key of its own.
		other := cfg
		other.Box = sqltest.Box(t)
		second := sqltest.OpenConfig(t, other)
		logs := &syncBuffer{}
		reg := prometheus.NewRegistry()
		d := delivery.New(delivery.Config{Queue: second, Destinations: all.New(newSender()), Schedule: hookgate.Schedule{time.Hour}, Poll: 50 * time.Millisecond,
			Rand: func() float64 { return 0.5 }, Registry: reg, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
		second.Adopt(d)
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { d.Run(runCtx); close(done) }()
		t.Cleanup(func() { cancel(); <-done })
		in := make([]hookgate.EventInput, 3)
		for i := range in {
			in[i] = hookgate.EventInput{Type: "order.created", Data: json.RawMessage(`{"n":1}`)}
		}
		if _, err := second.CreateEvents(ctx, p.ID, in); err != nil {
			t.Fatal(err)
		}
		var list []*hookgate.Delivery
		testwait.For(t, "3 deliveries with an attempt recorded", func() bool {
			var err error
			list, _, err = first.ListDeliveries(ctx, p.ID, hookgate.DeliveryFilter{Page: hookgate.Page{Limit: 10}})
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, dl := range list {
				if dl.Attempts == 1 {
					n++
				}
			}
			return n == 3
		})
		for _, dl := range list {
			if dl.Status != hookgate.DeliveryPending || !strings.Contains(dl.LastError, "could not be decrypted with this node's encryption key") ||
				dl.NextAttemptAt.Before(now.Add(30*time.Minute)) {
				t.Fatalf("delivery %+v: want pending, the decryption error and the schedule's next attempt in an hour", dl)
			}
			atts, _, err := first.ListAttempts(ctx, p.ID, dl.ID, hookgate.Page{})
			if err != nil || len(atts) != 1 || atts[0].StatusCode != 0 || atts[0].Error != dl.LastError {
				t.Fatalf("attempts %+v, %v", atts, err)
			}
		}
		if rec.count() != 0 {
			t.Fatalf("%d requests sent unsigned or wrongly signed", rec.count())
		}
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		counted := -1.0
		for _, mf := range mfs {
			if mf.GetName() == "hookgate_delivery_decrypt_failures_total" {
				counted = mf.GetMetric()[0].GetCounter().GetValue()
			}
		}
		if counted != 3 {
			t.Fatalf("hookgate_delivery_decrypt_failures_total = %v, want 3", counted)
		}
		logged := false
		for _, l := range logs.lines() {
			if l["level"] == "ERROR" && l["webhook"] == w.ID && strings.Contains(l["msg"].(string), "cannot be decrypted with this node's encryption key") {
				logged = true
			}
		}
		if !logged {
			t.Fatalf("no error line names the webhook:\n%v", logs.lines())
		}
	})
}
