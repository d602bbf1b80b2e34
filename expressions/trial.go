package expressions

import (
	"context"
	"time"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types/ref"
)

// Trial is what a preview of an expression reports besides its result (the
// API's test-expression): what the evaluation cost and how long it took.
// The hot path (MatchInput, ApplyInput) measures neither.
type Trial struct {
	// Cost is the evaluation's actual cost, in the units of MaxCost; over
	// MaxCost when it was stopped for it.
	Cost uint64
	// Duration is the time of the evaluation and of making its result
	// (the transform's body), not of decoding the event.
	Duration time.Duration
}

// try evaluates prg on in and hands its result to result, timing both and
// reading the evaluation's actual cost, which cel-go tracks for every
// program compiled here (cel.CostTracking) and reports even when the
// evaluation fails.
func try(ctx context.Context, prg cel.Program, in *Input, result func(ref.Val, error) error) (Trial, error) {
	start := time.Now()
	out, det, err := prg.ContextEval(ctx, in.activation())
	err = result(out, err)
	tr := Trial{Duration: time.Since(start)}
	if det != nil {
		if c := det.ActualCost(); c != nil {
			tr.Cost = *c
		}
	}
	return tr, err
}
