package sqlstore_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore"
)

// newFilteredWebhook registers a webhook with filter ("" for none) and
// metadata.
func newFilteredWebhook(t *testing.T, s *sqlstore.Store, projectID, filter string, metadata map[string]string) *hookgate.Webhook {
	t.Helper()
	now := time.Now().UTC()
	w := &hookgate.Webhook{ID: hookgate.NewID(hookgate.PrefixWebhook, now), ProjectID: projectID, URL: "http://127.0.0.1:9/hook",
		Secret: hookgate.NewSecret(), Filter: filter, Metadata: metadata, CreatedAt: now, UpdatedAt: now}
	w.ApplyDefaults()
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateWebhook(context.Background(), w); err != nil {
		t.Fatal(err)
	}
	return w
}

// deliveredTo returns the IDs of the webhooks event id has deliveries to.
func deliveredTo(t *testing.T, s *sqlstore.Store, projectID, id string) map[string]bool {
	t.Helper()
	ds, _, err := s.ListDeliveries(context.Background(), projectID, hookgate.DeliveryFilter{EventID: id})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, d := range ds {
		out[d.WebhookID] = true
	}
	return out
}

func TestFiltersAtIngest(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "filters")
		big := newFilteredWebhook(t, s, p.ID, "data.total > 100", nil)
		region := newFilteredWebhook(t, s, p.ID, "data.region == metadata.region", map[string]string{"region": "eu"})
		all := newFilteredWebhook(t, s, p.ID, "", nil)
		missing := newFilteredWebhook(t, s, p.ID, "data.customer.tier == 'gold'", nil)
		self := newFilteredWebhook(t, s, p.ID, "id.startsWith('evt_') && type == 'order.paid' && timestamp > timestamp('2020-01-01T00:00:00Z')", nil)

		evs, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{
			{Type: "order.paid", Data: json.RawMessage(`{"total": 150.5, "region": "eu"}`)},
			{Type: "order.paid", Data: json.RawMessage(`{"total": 50, "region": "us"}`)},
			{Type: "order.created", Data: json.RawMessage(`{"total": 500, "region": "eu"}`)},
		})
		if err != nil {
			t.Fatal(err)
		}
		want := []map[string]bool{
			{big.ID: true, region.ID: true, all.ID: true, self.ID: true},
			{all.ID: true, self.ID: true},
			{big.ID: true, region.ID: true, all.ID: true},
		}
		// Rejected: the webhooks whose filter answered false; failed: the
		// one reading a field the events lack.
		wantRejected := []int{0, 2, 1}
		for i, e := range evs {
			got := deliveredTo(t, s, p.ID, e.ID)
			if len(got) != len(want[i]) || e.Deliveries != len(want[i]) {
				t.Errorf("event %d: deliveries to %v (%d), want %v", i, got, e.Deliveries, want[i])
			}
			for id := range want[i] {
				if !got[id] {
					t.Errorf("event %d: no delivery to %s", i, id)
				}
			}
			if e.Filtered != wantRejected[i] || e.FilterFailed != 1 {
				t.Errorf("event %d: Filtered %d, FilterFailed %d; want %d, 1", i, e.Filtered, e.FilterFailed, wantRejected[i])
			}
			stored, err := s.FindEvent(ctx, p.ID, e.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !stored.CreatedAt.Equal(e.CreatedAt) {
				t.Errorf("event %d: stored at %v, answered %v", i, stored.CreatedAt, e.CreatedAt)
			}
		}

		now := time.Now()
		for _, c := range []struct {
			w                *hookgate.Webhook
			rejected, failed int
		}{{big, 1, 0}, {region, 1, 0}, {all, 0, 0}, {missing, 0, 3}, {self, 1, 0}} {
			st, err := s.AttemptStats(ctx, p.ID, c.w.ID, now.Add(-time.Hour), now.Add(time.Minute), 0)
			if err != nil {
				t.Fatal(err)
			}
			if st.FilterRejected != c.rejected || st.FilterFailed != c.failed {
				t.Errorf("webhook with filter %q: stats rejected %d, failed %d; want %d, %d", c.w.Filter, st.FilterRejected, st.FilterFailed, c.rejected, c.failed)
			}
		}
		st, err := s.AttemptStats(ctx, p.ID, "", now.Add(-time.Hour), now.Add(time.Minute), 0)
		if err != nil {
			t.Fatal(err)
		}
		if st.FilterRejected != 3 || st.FilterFailed != 3 {
			t.Errorf("project stats: rejected %d, failed %d; want 3, 3", st.FilterRejected, st.FilterFailed)
		}
		// A window that ended before: none.
		if st, err := s.AttemptStats(ctx, p.ID, "", now.Add(-3*time.Hour), now.Add(-2*time.Hour), 0); err != nil || st.FilterRejected+st.FilterFailed != 0 {
			t.Errorf("an earlier window: %+v, %v", st, err)
		}
	})
}

// An idempotent replay creates nothing and counts nothing; a changed filter
// is used from the next event on.
func TestFiltersReplayAndChange(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "filters")
		w := newFilteredWebhook(t, s, p.ID, "data.n > 1", nil)
		in := hookgate.EventInput{Type: "t", Data: json.RawMessage(`{"n": 1}`), IdempotencyKey: "k1"}
		for range 2 {
			if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{in}); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		st, err := s.AttemptStats(ctx, p.ID, w.ID, now.Add(-time.Hour), now.Add(time.Minute), 0)
		if err != nil || st.FilterRejected != 1 {
			t.Fatalf("after a replay: rejected %d (%v), want 1", st.FilterRejected, err)
		}
		w.Filter = "data.n >= 1"
		if err := s.UpdateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
		evs, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "t", Data: json.RawMessage(`{"n": 1}`)}})
		if err != nil {
			t.Fatal(err)
		}
		if evs[0].Deliveries != 1 || evs[0].Filtered != 0 {
			t.Fatalf("after the change: %d deliveries, %d filtered; want 1, 0", evs[0].Deliveries, evs[0].Filtered)
		}
	})
}

// A filter that runs over its cost on an event counts as failed and keeps
// that event from its webhook alone: the ingest, and the other webhooks,
// go on.
func TestFilterCostLimitAtIngest(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "filters")
		costly := newFilteredWebhook(t, s, p.ID, "data.items.all(i, i > 0)", nil)
		plain := newFilteredWebhook(t, s, p.ID, "", nil)
		// 600,000 elements: a pass over them costs more than 1,000,000.
		data := `{"items": [` + strings.Repeat("1,", 600_000) + `1]}`
		evs, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "t", Data: json.RawMessage(data)}})
		if err != nil {
			t.Fatal(err)
		}
		got := deliveredTo(t, s, p.ID, evs[0].ID)
		if !got[plain.ID] || got[costly.ID] || evs[0].FilterFailed != 1 {
			t.Fatalf("deliveries to %v, FilterFailed %d; want only %s and 1", got, evs[0].FilterFailed, plain.ID)
		}
	})
}

// Recovering a webhook creates the deliveries it lacks only for the events
// its filter lets through.
func TestRecoverHonoursFilter(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "filters")
		since := time.Now().Add(-time.Minute)
		w := newFilteredWebhook(t, s, p.ID, "data.n % 2 == 0", nil)
		if _, err := s.SetWebhookStatus(ctx, p.ID, w.ID, hookgate.StatusDeactivated, time.Now()); err != nil {
			t.Fatal(err)
		}
		var in []hookgate.EventInput
		for n := range 6 {
			in = append(in, hookgate.EventInput{Type: "t", Data: json.RawMessage(`{"n": ` + string(rune('0'+n)) + `}`)})
		}
		if _, err := s.CreateEvents(ctx, p.ID, in); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetWebhookStatus(ctx, p.ID, w.ID, hookgate.StatusActive, time.Now()); err != nil {
			t.Fatal(err)
		}
		_, created, err := s.RecoverWebhook(ctx, p.ID, w.ID, since, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if created != 3 {
			t.Fatalf("recover created %d deliveries, want 3 (n = 0, 2, 4)", created)
		}
	})
}

// On PostgreSQL a filter changed on one node is used by another from the
// notification on: its compiled filter is cached with its webhook, and
// dropped with it.
func TestFilterChangeReachesOtherNodes(t *testing.T) {
	t.Parallel()
	clk := &clock{now: time.Now()}
	_, a, b := twoNodesAt(t, clk.Now)
	ctx := context.Background()
	_, stopListening := listen(t, b)
	defer stopListening()
	p := newProject(t, a, "filters")
	w := newFilteredWebhook(t, a, p.ID, "data.n > 10", nil)
	send := func() *hookgate.Event {
		evs, err := b.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "t", Data: json.RawMessage(`{"n": 5}`)}})
		if err != nil {
			t.Fatal(err)
		}
		return evs[0]
	}
	testwait.For(t, "the other node to filter with data.n > 10", func() bool { return send().Filtered == 1 })
	w.Filter = "data.n > 1"
	if err := a.UpdateWebhook(ctx, w); err != nil {
		t.Fatal(err)
	}
	// The node's clock stands still: only the notification refreshes it.
	testwait.For(t, "the other node to filter with data.n > 1", func() bool { return send().Deliveries == 1 })
}

// A filter shared by webhooks runs once per event unless it reads their
// metadata: the answers are each webhook's all the same.
func TestSharedFilters(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "filters")
		same1 := newFilteredWebhook(t, s, p.ID, "data.n > 1", map[string]string{"region": "eu"})
		same2 := newFilteredWebhook(t, s, p.ID, "data.n > 1", map[string]string{"region": "us"})
		eu := newFilteredWebhook(t, s, p.ID, "data.region == metadata.region", map[string]string{"region": "eu"})
		us := newFilteredWebhook(t, s, p.ID, "data.region == metadata.region", map[string]string{"region": "us"})
		evs, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: "t", Data: json.RawMessage(`{"n": 2, "region": "us"}`)}})
		if err != nil {
			t.Fatal(err)
		}
		got := deliveredTo(t, s, p.ID, evs[0].ID)
		if len(got) != 3 || !got[same1.ID] || !got[same2.ID] || !got[us.ID] || got[eu.ID] {
			t.Fatalf("delivered to %v; want the two sharing data.n > 1 and the us one", got)
		}
	})
}
