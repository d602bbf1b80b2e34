package sqlstore_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/sqlstore"
)

// Deliveries filter by event type and by a time range of their creation.
func TestListDeliveriesByTypeAndTime(t *testing.T) {
	eachEngine(t, func(t *testing.T, s *sqlstore.Store) {
		ctx := context.Background()
		p := newProject(t, s, "filters")
		newWebhook(t, s, p.ID)
		for _, typ := range []string{"a", "a", "b"} {
			if _, err := s.CreateEvents(ctx, p.ID, []hookgate.EventInput{{Type: typ, Data: json.RawMessage(`1`)}}); err != nil {
				t.Fatal(err)
			}
		}
		now := time.Now()
		for _, tc := range []struct {
			name string
			f    hookgate.DeliveryFilter
			want int
		}{
			{"type a", hookgate.DeliveryFilter{EventType: "a"}, 2},
			{"type c", hookgate.DeliveryFilter{EventType: "c"}, 0},
			{"the last hour", hookgate.DeliveryFilter{Since: now.Add(-time.Hour), Until: now.Add(time.Second)}, 3},
			{"since an hour on", hookgate.DeliveryFilter{Since: now.Add(time.Hour)}, 0},
			{"until an hour ago", hookgate.DeliveryFilter{Until: now.Add(-time.Hour)}, 0},
			{"type b in the last hour", hookgate.DeliveryFilter{EventType: "b", Since: now.Add(-time.Hour)}, 1},
		} {
			got, _, err := s.ListDeliveries(ctx, p.ID, tc.f)
			if err != nil || len(got) != tc.want {
				t.Errorf("%s: %d deliveries, %v; want %d", tc.name, len(got), err, tc.want)
			}
		}
	})
}
