package natsdest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/internal/testnats"
)

// A connection no delivery took for IdleTimeout is closed and dropped
// from the pool by the next delivery's sweep; one in use stays.
func TestIdleConnectionsAreClosed(t *testing.T) {
	t.Parallel()
	a, b := testnats.Start(t), testnats.Start(t)
	a.CreateStream("ORDERS", "orders.>")
	b.CreateStream("ORDERS", "orders.>")
	var mu sync.Mutex
	now := time.Date(2026, 12, 6, 20, 0, 0, 0, time.UTC)
	d := &Destination{SendTimeout: 5 * time.Second, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	t.Cleanup(func() { _ = d.Close() })
	advance := func(by time.Duration) { mu.Lock(); now = now.Add(by); mu.Unlock() }
	hook := func(srv *testnats.Server) *hookgate.Webhook {
		w := &hookgate.Webhook{ID: "wh_test", ProjectID: "prj_test", Secret: hookgate.NewSecret(), Destination: Name, URL: srv.URL(),
			DestinationConfig: hookgate.DestinationConfig{URL: srv.URL(), Fields: map[string]json.RawMessage{"subject": json.RawMessage(`"orders.created"`)}}}
		w.ApplyDefaults()
		return w
	}
	m := hookgate.DeliveryMessage{ID: "dlv_1", EventType: "order.created", EventTime: now, Data: json.RawMessage(`{}`)}
	send := func(w *hookgate.Webhook) {
		t.Helper()
		if o := d.Send(context.Background(), w, m); o.Class != hookgate.OutcomeSuccess {
			t.Fatalf("send: %+v", o)
		}
	}
	wa, wb := hook(a), hook(b)
	send(wa)
	send(wb)
	key := func(w *hookgate.Webhook) conn {
		c, err := parse(w)
		if err != nil {
			t.Fatal(err)
		}
		return c.conn
	}
	p := d.pool()
	p.mu.Lock()
	first := p.conns[key(wa)]
	p.mu.Unlock()
	if first == nil || first.nc.IsClosed() {
		t.Fatal("no pooled connection to the first broker")
	}
	advance(IdleTimeout / 2)
	send(wb)
	advance(IdleTimeout/2 + time.Minute)
	send(wb)
	p.mu.Lock()
	_, kept := p.conns[key(wa)]
	_, used := p.conns[key(wb)]
	p.mu.Unlock()
	if kept || !first.nc.IsClosed() || !used {
		t.Fatalf("after %s idle: first kept %v (closed %v), second kept %v", IdleTimeout+time.Minute, kept, first.nc.IsClosed(), used)
	}
	send(wa) // connected again on demand
}
