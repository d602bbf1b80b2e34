package delivery_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
)

// A dispatcher whose heartbeat finds its name held by another live process
// is displaced: Displaced is closed and Run returns on its own, leaving
// the holder's row alone.
func TestDisplacedNodeStops(t *testing.T) {
	sqltest.EachEngine(t, func(t *testing.T, engine string) {
		h := newHarness(t, engine, nil, func(c *delivery.Config) { c.Node, c.Incarnation = "n1", "mine" })
		ctx := context.Background()
		if _, _, err := h.store.ClaimNodeName(ctx, "n1", "theirs", time.Now(), time.Now().Add(-time.Minute)); err != nil {
			t.Fatal(err)
		}
		done := make(chan struct{})
		go func() { h.disp.Run(context.Background()); close(done) }()
		testwait.For(t, "the dispatcher displaced", func() bool {
			select {
			case <-h.disp.Displaced():
				return true
			default:
				return false
			}
		})
		testwait.For(t, "Run to return", func() bool {
			select {
			case <-done:
				return true
			default:
				return false
			}
		})
		if err := h.store.Heartbeat(ctx, "n1", "theirs", time.Now()); err != nil {
			t.Fatalf("the holder's heartbeat after the displaced node stopped: %v", err)
		}
	})
}

func TestNodeNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"n1", true}, {"web-1.eu_west", true}, {strings.Repeat("a", 64), true},
		{"", false}, {strings.Repeat("a", 65), false}, {"web 1", false}, {"wéb", false}, {"a/b", false},
	} {
		if err := delivery.CheckNodeName(tc.name); (err == nil) != tc.ok {
			t.Errorf("CheckNodeName(%q) = %v", tc.name, err)
		}
	}
	a, b := delivery.NewNodeName(), delivery.NewNodeName()
	if a == b || delivery.CheckNodeName(a) != nil {
		t.Fatalf("NewNodeName = %q, %q: want two valid, different names", a, b)
	}
}
