package expressions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hookgate/hookgate/expressions"
)

func BenchmarkZZ100(b *testing.B) {
	items := make([]map[string]any, 8)
	for i := range items {
		items[i] = map[string]any{"sku": fmt.Sprintf("A%03d", i), "name": "A product with a long enough name", "qty": i + 1, "price": 19.99}
	}
	data, _ := json.Marshal(map[string]any{"id": 12345, "amount": 150.5, "currency": "EUR", "region": "eu",
		"customer": map[string]any{"id": "cus_123", "tier": "gold", "email": "ada@example.invalid"}, "items": items})
	f, err := expressions.CachedFilter("data.amount > 100 && data.region in ['eu', 'us'] && data.customer.tier == 'gold' && data.items.exists(i, i.sku.startsWith('A'))")
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	b.ReportAllocs()
	for b.Loop() {
		in, _ := expressions.NewInput(expressions.Event{ID: "evt_1", Type: "order.created", Timestamp: time.Now(), Data: data})
		for range 100 {
			ok, err := f.MatchInput(ctx, in.WithMetadata(nil))
			if !ok || err != nil {
				b.Fatal(ok, err)
			}
		}
	}
}
