package expressions_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/hookgate/hookgate/expressions"
)

// TestFilterTestInput: a preview answers what MatchInput does, with the
// evaluation's cost and time.
func TestFilterTestInput(t *testing.T) {
	t.Parallel()
	in, err := expressions.NewInput(order)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		src     string
		want    bool
		wantErr error
	}{
		{`data.total > 100.0 && data.region == 'eu'`, true, nil},
		{`data.total > 200.0`, false, nil},
		{`data.country == 'fr'`, false, expressions.ErrNoMatch},
		{`data.items.exists(i, i.sku == 'A1')`, true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			f, err := expressions.CompileFilter(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			got, tr, err := f.TestInput(context.Background(), in)
			if got != tt.want || !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("TestInput = %v, %v; want %v, %v", got, err, tt.want, tt.wantErr)
			}
			hot, hotErr := f.MatchInput(context.Background(), in)
			if hot != got || (hotErr == nil) != (err == nil) {
				t.Errorf("MatchInput = %v, %v; TestInput %v, %v", hot, hotErr, got, err)
			}
			if tr.Cost == 0 || tr.Cost > expressions.MaxCost {
				t.Errorf("cost %d, want between 1 and %d", tr.Cost, expressions.MaxCost)
			}
			if tr.Duration <= 0 {
				t.Errorf("duration %v", tr.Duration)
			}
		})
	}
}

// TestTestInputCost: the cost grows with the work done, and a run stopped
// at its limit reports a cost over it.
func TestTestInputCost(t *testing.T) {
	t.Parallel()
	small, err := expressions.CompileFilter(`data.items.exists(i, i < 0)`)
	if err != nil {
		t.Fatal(err)
	}
	cost := func(n int) uint64 {
		items := make([]int, n)
		data, err := json.Marshal(map[string]any{"items": items})
		if err != nil {
			t.Fatal(err)
		}
		in, err := expressions.NewInput(expressions.Event{Type: "bulk", Data: data})
		if err != nil {
			t.Fatal(err)
		}
		_, tr, err := small.TestInput(context.Background(), in)
		if n >= 200_000 {
			if !errors.Is(err, expressions.ErrCostLimit) {
				t.Fatalf("%d items: %v, want ErrCostLimit", n, err)
			}
		} else if err != nil {
			t.Fatalf("%d items: %v", n, err)
		}
		return tr.Cost
	}
	if c10, c1000 := cost(10), cost(1000); c10 >= c1000 {
		t.Errorf("cost of 10 items %d, of 1000 items %d", c10, c1000)
	}
	if c := cost(200_000); c <= expressions.MaxCost {
		t.Errorf("cost of a run stopped at the limit: %d, want over %d", c, expressions.MaxCost)
	}
}

// TestTransformTestInput: a preview of a transform makes the body ApplyInput
// makes, with its cost.
func TestTransformTestInput(t *testing.T) {
	t.Parallel()
	in, err := expressions.NewInput(order)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		src, body, contentType string
		wantErr                error
	}{
		{`{"total": data.total, "tenant": metadata.tenant}`, `{"tenant":"acme","total":149.5}`, expressions.ContentTypeJSON, nil},
		{`"order " + id`, `order evt_01`, expressions.ContentTypeText, nil},
		{`{"x": data.missing}`, ``, ``, expressions.ErrTransform},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			tr, err := expressions.CompileTransform(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			body, ct, trial, err := tr.TestInput(context.Background(), in)
			if string(body) != tt.body || ct != tt.contentType || !errors.Is(err, tt.wantErr) || (err != nil) != (tt.wantErr != nil) {
				t.Fatalf("TestInput = %s, %q, %v; want %s, %q, %v", body, ct, err, tt.body, tt.contentType, tt.wantErr)
			}
			if trial.Cost == 0 {
				t.Error("cost 0")
			}
		})
	}
}

// TestHeadersTestInput: a preview of transformHeaders makes the headers
// ApplyInput makes, with its cost.
func TestHeadersTestInput(t *testing.T) {
	t.Parallel()
	in, err := expressions.NewInput(order)
	if err != nil {
		t.Fatal(err)
	}
	h, err := expressions.CompileHeaders(`{"X-Region": data.region}`)
	if err != nil {
		t.Fatal(err)
	}
	got, tr, err := h.TestInput(context.Background(), in)
	if err != nil || len(got) != 1 || got["X-Region"] != "eu" {
		t.Fatalf("TestInput = %v, %v", got, err)
	}
	if tr.Cost == 0 {
		t.Error("cost 0")
	}
	bad, err := expressions.CompileHeaders(`{"webhook-signature": "x"}`)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := bad.TestInput(context.Background(), in); !errors.Is(err, expressions.ErrTransform) {
		t.Fatalf("a header Hookgate sets: %v, want ErrTransform", err)
	}
}
