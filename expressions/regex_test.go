package expressions_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hookgate/hookgate/expressions"
)

// TestMatchesBounded: a regular expression whose compiled program is large
// costs what it takes, not what its text is long: on a long string of the
// event it is stopped before it runs (it took ten seconds), and repeated
// on shorter ones it runs over the limit.
func TestMatchesBounded(t *testing.T) {
	t.Parallel()
	data, err := json.Marshal(map[string]any{
		"long":  strings.Repeat("a", 900<<10),
		"short": strings.Repeat("a", 5000),
		"re":    "[ab]{1,100}c",
	})
	if err != nil {
		t.Fatal(err)
	}
	in, err := expressions.NewInput(expressions.Event{Type: "regex", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, field, src string }{
		{"a constant pattern", "filter", `data.long.matches('[ab]{1,100}c')`},
		{"the global form", "filter", `matches(data.long, '[ab]{1,100}c')`},
		{"a computed pattern", "filter", `data.long.matches('[ab]{1,' + '100}c')`},
		{"in a transform", "transform", `{'m': data.long.matches('[ab]{1,100}c')}`},
		{"in headers", "transformHeaders", `data.long.matches('[ab]{1,100}c') ? {'X-M': 'y'} : {}`},
		// Each match is within the limit; together they are not.
		{"repeated", "filter", lits + `.exists(i, data.short.matches('[ab]{1,100}c'))`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := runField(tt.field, tt.src, in)
			if !errors.Is(err, expressions.ErrCostLimit) || errors.Is(err, expressions.ErrNoMatch) || errors.Is(err, expressions.ErrTransform) {
				t.Fatalf("%s = %v, want ErrCostLimit alone", tt.field, err)
			}
		})
	}
	// What a match answers is unchanged.
	for src, want := range map[string]bool{
		`data.short.matches('^a+$')`:               true,
		`data.short.matches('b')`:                  false,
		`matches(data.re, '^\\[ab\\]')`:            true,
		`type.matches('^reg') && 'x'.matches('x')`: true,
	} {
		f, err := expressions.CompileFilter(src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.MatchInput(context.Background(), in)
		if err != nil || got != want {
			t.Errorf("%s = %v, %v; want %v", src, got, err, want)
		}
	}
	// A constant pattern that does not compile is refused at registration.
	if _, err := expressions.CompileFilter(`data.short.matches('(')`); err == nil || !strings.Contains(err.Error(), "missing closing )") {
		t.Errorf("a pattern that does not compile: %v", err)
	}
}
