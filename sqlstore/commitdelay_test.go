package sqlstore_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// With a commit delay, events from many producers and from one that waits
// for each answer are all committed, each with its delivery.
func TestCommitDelayCommitsEverything(t *testing.T) {
	t.Parallel()
	cfg := sqltest.Config(t, sqlstore.EngineSQLite)
	cfg.SQLiteCommitDelay = 5 * time.Millisecond
	s := sqltest.OpenConfig(t, cfg)
	ctx := context.Background()
	p := newProject(t, s, "delay")
	newWebhook(t, s, p.ID, "*")

	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 10 {
				if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "order.created", Data: json.RawMessage(`{"producer":` + strconv.Itoa(g) + `}`)}}); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	// One producer waiting for each answer: waits that gather nobody turn
	// the delay off, and every event is committed.
	for range 40 {
		if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "order.paid", Data: json.RawMessage(`{}`)}}); err != nil {
			errs <- err
		}
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	events, _, err := s.ListEvents(ctx, p.ID, hookgate.EventFilter{Page: hookgate.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != 200 {
		t.Fatalf("%d events listed, want 200", len(events))
	}
	deliveries, _, err := s.ListDeliveries(ctx, p.ID, hookgate.DeliveryFilter{Page: hookgate.Page{Limit: 500}})
	if err != nil {
		t.Fatal(err)
	}
	if len(deliveries) != 200 {
		t.Fatalf("%d deliveries, want 200", len(deliveries))
	}
}

func TestCommitDelayBounds(t *testing.T) {
	t.Parallel()
	for _, d := range []time.Duration{-time.Millisecond, sqlstore.MaxSQLiteCommitDelay + 1} {
		cfg := sqltest.Config(t, sqlstore.EngineSQLite)
		cfg.SQLiteCommitDelay = d
		_, err := sqlstore.Open(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), "SQLiteCommitDelay") {
			t.Errorf("SQLiteCommitDelay %s: %v, want an error naming it", d, err)
		}
	}
}
