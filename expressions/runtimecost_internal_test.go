package expressions

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
)

// TestDynamicCost: the calls on data's values, whose overload is chosen when
// they run, cost what their overload costs, not 1.
func TestDynamicCost(t *testing.T) {
	t.Parallel()
	data, err := json.Marshal(map[string]any{
		"a":     strings.Repeat("a", 100_000),
		"b":     strings.Repeat("b", 100_000),
		"items": make([]int, 50_000),
	})
	if err != nil {
		t.Fatal(err)
	}
	in, err := NewInput(Event{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		src     string
		minCost uint64
	}{
		{`size(data.a + data.b) > 0`, 20_000}, // (100,000 + 100,000) / 10
		{`data.a < data.b`, 10_000},           // min(100,000, 100,000) / 10
		{`data.a >= data.b || data.a <= data.b`, 20_000},
		{`data.a > data.b || true`, 10_000},
		{`1 in data.items`, 50_000}, // a pass over the list
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			f, err := CompileFilter(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			_, det, err := f.prg.ContextEval(context.Background(), in.vars)
			if err != nil {
				t.Fatal(err)
			}
			if got := *det.ActualCost(); got < tt.minCost {
				t.Errorf("actual cost %d, want at least %d", got, tt.minCost)
			}
		})
	}
}
