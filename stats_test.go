package hookgate_test

import (
	"testing"

	"github.com/hookgate/hookgate"
)

func TestPercentiles(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		hist     []hookgate.DurationCount
		p50, p95 int64
	}{
		{"none", nil, 0, 0},
		{"one", []hookgate.DurationCount{{7, 1}}, 7, 7},
		{"1 to 100 once each", func() []hookgate.DurationCount {
			var h []hookgate.DurationCount
			for d := int64(100); d >= 1; d-- { // out of order on purpose
				h = append(h, hookgate.DurationCount{DurationMs: d, Count: 1})
			}
			return h
		}(), 50, 95},
		{"a slow tail", []hookgate.DurationCount{{2, 90}, {1500, 10}}, 2, 1500},
		{"exactly at the rank", []hookgate.DurationCount{{1, 95}, {9, 5}}, 1, 1},
		{"one past the rank", []hookgate.DurationCount{{1, 94}, {9, 6}}, 1, 9},
	} {
		var s hookgate.AttemptStats
		s.Percentiles(tc.hist)
		if s.P50Ms != tc.p50 || s.P95Ms != tc.p95 {
			t.Errorf("%s: p50 %d, p95 %d; want %d, %d", tc.name, s.P50Ms, s.P95Ms, tc.p50, tc.p95)
		}
	}
}
