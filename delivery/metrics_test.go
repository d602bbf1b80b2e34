package delivery_test

import (
	"context"
	"testing"
	"time"

	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// counter returns the value of the counter name whose labels include
// those given, or -1 when no series has them.
func (h *harness) counter(t *testing.T, name string, labels map[string]string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	series:
		for _, m := range mf.GetMetric() {
			for k, v := range labels {
				found := false
				for _, l := range m.GetLabel() {
					found = found || l.GetName() == k && l.GetValue() == v
				}
				if !found {
					continue series
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return -1
}

// Issue 26, item 4: a node whose heartbeat stopped is counted as lost by
// the node that takes it over; one that left cleanly is not.
func TestSilentNodeCountedLost(t *testing.T) {
	sqltest.EachEngine(t, func(t *testing.T, engine string) {
		h := newHarness(t, engine, nil)
		ctx := context.Background()
		if err := h.store.Heartbeat(ctx, "silent", "i1", time.Now().Add(-time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := h.store.Heartbeat(ctx, "leaving", "i2", time.Now()); err != nil {
			t.Fatal(err)
		}
		if _, err := h.store.Leave(ctx, "leaving", "i2"); err != nil {
			t.Fatal(err)
		}
		if v := h.counter(t, "hookgate_nodes_lost_total", nil); v != 0 {
			t.Fatalf("hookgate_nodes_lost_total = %v before the start; want 0", v)
		}
		h.stop = h.start()
		testwait.For(t, "the silent node counted lost", func() bool { return h.counter(t, "hookgate_nodes_lost_total", nil) == 1 })
		if v := h.counter(t, "hookgate_store_errors_total", map[string]string{"component": "dispatcher", "op": "claim"}); v != 0 {
			t.Fatalf("store errors (claim) = %v with a store that answers; want 0", v)
		}
	})
}

// Issue 26, item 4: when the store stops answering, the dispatcher's
// failed queries are counted, by operation.
func TestStoreErrorsCounted(t *testing.T) {
	sqltest.EachEngine(t, func(t *testing.T, engine string) {
		h := runDispatcher(t, engine, nil)
		claims := map[string]string{"component": "dispatcher", "op": "claim"}
		if v := h.counter(t, "hookgate_store_errors_total", claims); v != 0 {
			t.Fatalf("store errors (claim) = %v at the start; want 0", v)
		}
		if err := h.store.Close(); err != nil {
			t.Fatal(err)
		}
		h.disp.Wake()
		testwait.For(t, "a failed claim counted", func() bool { return h.counter(t, "hookgate_store_errors_total", claims) > 0 })
	})
}
