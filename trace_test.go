package hookgate_test

import (
	"strings"
	"testing"

	"github.com/hookgate/hookgate"
)

// Issue 26, item 2: traceparent is read as W3C Trace Context says: a
// valid 00 header, a later version by its first four fields; anything
// else (lengths, case, all-zero IDs, version ff, a bad tracestate) is
// ignored or dropped.
func TestParseTraceparent(t *testing.T) {
	const tid, sid = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	for _, tc := range []struct {
		header, state string
		ok, sampled   bool
		keptState     string
	}{
		{"00-" + tid + "-" + sid + "-01", "congo=t61rcWkgMzE", true, true, "congo=t61rcWkgMzE"},
		{"00-" + tid + "-" + sid + "-00", "", true, false, ""},
		{" 00-" + tid + "-" + sid + "-01 ", "", true, true, ""},
		{"01-" + tid + "-" + sid + "-01-what-comes-next", "", true, true, ""},
		{"00-" + tid + "-" + sid + "-01", "a=\x01", true, true, ""},
		{"00-" + tid + "-" + sid + "-01", strings.Repeat("a", 513), true, true, ""},
		{"00-" + tid + "-" + sid + "-01-extra", "", false, false, ""},
		{"ff-" + tid + "-" + sid + "-01", "", false, false, ""},
		{"00-" + strings.ToUpper(tid) + "-" + sid + "-01", "", false, false, ""},
		{"00-00000000000000000000000000000000-" + sid + "-01", "", false, false, ""},
		{"00-" + tid + "-0000000000000000-01", "", false, false, ""},
		{"00-" + tid + "-" + sid, "", false, false, ""},
		{"", "", false, false, ""},
		{"00_" + tid + "_" + sid + "_01", "", false, false, ""},
	} {
		got, ok := hookgate.ParseTraceparent(tc.header, tc.state)
		if ok != tc.ok || (ok && (got.TraceIDString() != tid || got.SpanIDString() != sid || got.Sampled != tc.sampled || got.State != tc.keptState)) {
			t.Errorf("ParseTraceparent(%q, %q) = %+v, %v", tc.header, tc.state, got, ok)
		}
		if ok && strings.TrimSpace(tc.header)[:2] == "00" {
			if back := got.Traceparent(); back != strings.TrimSpace(tc.header) {
				t.Errorf("Traceparent() = %q, want %q", back, strings.TrimSpace(tc.header))
			}
		}
	}
	c := hookgate.ChildOf(hookgate.TraceContext{})
	if c.IsZero() || c.SpanIDString() == "" || !c.Sampled {
		t.Fatalf("ChildOf(none) = %+v", c)
	}
	if a, b := hookgate.TraceOfEvent("msg_1"), hookgate.TraceOfEvent("msg_1"); a != b || a.IsZero() || a.SpanIDString() != "" {
		t.Fatalf("TraceOfEvent: %+v, %+v", a, b)
	}
}
