package expressions_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate/expressions"
)

// kibEvent is an event of about 1 KiB of data.
func kibEvent(b *testing.B) expressions.Event {
	b.Helper()
	items := make([]map[string]any, 8)
	for i := range items {
		items[i] = map[string]any{"sku": fmt.Sprintf("SKU-%04d", i), "qty": i + 1, "price": 9.99 + float64(i), "name": strings.Repeat("n", 60)}
	}
	data, err := json.Marshal(map[string]any{"total": 149.5, "region": "eu", "currency": "EUR", "customer": map[string]any{"id": "cus_123", "tier": "gold", "email": "a@example.com"}, "items": items})
	if err != nil {
		b.Fatal(err)
	}
	if len(data) < 900 || len(data) > 1200 {
		b.Fatalf("the event's data has %d bytes, not about 1 KiB", len(data))
	}
	return expressions.Event{ID: "evt_01", Type: "order.created", Timestamp: time.Now(), Data: data, Metadata: map[string]string{"tenant": "acme"}}
}

// typicalFilter is the filter the benchmarks run: four clauses, one a pass
// over a list.
const typicalFilter = `type.startsWith('order.') && data.total > 100.0 && data.region in ['eu', 'us'] && data.items.exists(i, i.sku == 'SKU-0003')`

// compileTypical compiles typicalFilter.
func compileTypical(b *testing.B) *expressions.Filter {
	b.Helper()
	f, err := expressions.CompileFilter(typicalFilter)
	if err != nil {
		b.Fatal(err)
	}
	return f
}

// BenchmarkFilterMatch: a typical filter on a 1 KiB event, the decoding of
// its data included.
func BenchmarkFilterMatch(b *testing.B) {
	ev := kibEvent(b)
	f := compileTypical(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		ok, err := f.Match(ctx, ev)
		if err != nil || !ok {
			b.Fatalf("Match = %v, %v", ok, err)
		}
	}
}

// BenchmarkFilterMatchInput: the same filter on the event decoded once, as
// when one event is matched against the filters of many webhooks.
func BenchmarkFilterMatchInput(b *testing.B) {
	in, err := expressions.NewInput(kibEvent(b))
	if err != nil {
		b.Fatal(err)
	}
	f := compileTypical(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		ok, err := f.MatchInput(ctx, in)
		if err != nil || !ok {
			b.Fatalf("Match = %v, %v", ok, err)
		}
	}
}

// BenchmarkCompileFilter: what a caller's cache saves.
func BenchmarkCompileFilter(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := expressions.CompileFilter(typicalFilter); err != nil {
			b.Fatal(err)
		}
	}
}
