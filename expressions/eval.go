package expressions

import (
	"context"
	"errors"
	"fmt"

	"cel.dev/cel-go/interpreter"
)

// evalError classes err, an evaluation's error: ErrCostLimit when it ran
// over its cost, the context's error when it was cancelled, failed (which
// wraps err) otherwise.
func evalError(ctx context.Context, failed, err error) error {
	var cancelled interpreter.EvalCancelledError
	if errors.As(err, &cancelled) && cancelled.Cause == interpreter.CostLimitExceeded {
		return fmt.Errorf("%w (%d)", ErrCostLimit, MaxCost)
	}
	if errors.Is(err, errRegexCost) {
		return fmt.Errorf("%w (%d): %w", ErrCostLimit, MaxCost, err)
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return fmt.Errorf("expressions: evaluation stopped: %w", ctxErr)
	}
	return fmt.Errorf("%w: %w", failed, err)
}
