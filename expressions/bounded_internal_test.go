package expressions

import (
	"encoding/json"
	"strings"
	"testing"
)

// Which events hold no more than the estimate assumed, and so run the
// program that does not count its cost.
func TestBounded(t *testing.T) {
	deep := strings.Repeat(`[`, maxBoundedDepth+2) + strings.Repeat(`]`, maxBoundedDepth+2)
	for _, c := range []struct {
		name string
		ev   Event
		want bool
	}{
		{"small", Event{ID: "evt_1", Type: "t", Data: json.RawMessage(`{"a": [1, 2], "b": "x"}`)}, true},
		{"no data", Event{}, true},
		{"a long list", Event{Data: json.RawMessage(`[` + strings.Repeat("1,", MaxListSize) + `1]`)}, false},
		{"a long string", Event{Data: json.RawMessage(`{"s": "` + strings.Repeat("x", MaxListSize+1) + `"}`)}, false},
		{"a long key", Event{Data: json.RawMessage(`{"` + strings.Repeat("k", MaxListSize+1) + `": 1}`)}, false},
		{"deep data", Event{Data: json.RawMessage(deep)}, false},
		{"a long type", Event{Type: strings.Repeat("t", MaxStringSize+1)}, false},
		{"long metadata", Event{Metadata: map[string]string{"k": strings.Repeat("v", MaxStringSize+1)}}, false},
	} {
		in, err := NewInput(c.ev)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if in.bounded != c.want || in.WithMetadata(nil).bounded != c.want {
			t.Errorf("%s: bounded = %v, want %v", c.name, in.bounded, c.want)
		}
		f, err := CompileFilter("true")
		if err != nil {
			t.Fatal(err)
		}
		if got := f.program(in) == f.fast; got != c.want {
			t.Errorf("%s: runs the program without cost counting: %v, want %v", c.name, got, c.want)
		}
	}
}
