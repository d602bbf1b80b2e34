package expressions

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/hookgate/hookgate"
)

// The limits of an expression; the package documentation gives the
// reasoning.
const (
	// MaxLength is the longest expression, in bytes.
	MaxLength = 10_000
	// MaxRecursionDepth is the deepest nesting the parser accepts.
	MaxRecursionDepth = 32
	// MaxCost is the limit of both the static cost estimate, checked when
	// compiling, and the actual cost of one evaluation.
	MaxCost = 1_000_000
	// MaxStringSize is the size, in bytes, the cost estimate assumes of
	// the event's typed strings (id, type, metadata) at most.
	MaxStringSize = 64 << 10
	// MaxListSize is the number of elements the cost estimate assumes of
	// the lists and maps of the event at most, and the number of bytes of
	// the strings of its data.
	MaxListSize = 10_000
	// InterruptCheckFrequency is how many comprehension iterations run
	// between two checks of the context (the cost is checked at every
	// call).
	InterruptCheckFrequency = 100
)

var (
	// ErrNoMatch is the error of a filter that fails on an event, such as
	// one that selects a field the event's data lacks: the caller counts
	// the event as not matching, and counts these failures separately.
	ErrNoMatch = errors.New("the filter failed on this event")
	// ErrTransform is the error of a transform that fails on an event, or
	// whose result cannot be a body.
	ErrTransform = errors.New("the transform failed on this event")
	// ErrCostLimit is the error of an evaluation stopped because its
	// actual cost went over MaxCost.
	ErrCostLimit = errors.New("the expression ran over its cost limit")
)

// env returns the environment shared by every expression: the event's
// variables and the parser's limits. An Env is safe for concurrent use.
var env = sync.OnceValues(func() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("id", cel.StringType),
		cel.Variable("type", cel.StringType),
		cel.Variable("timestamp", cel.TimestampType),
		cel.Variable("data", cel.DynType),
		cel.Variable("metadata", cel.MapType(cel.StringType, cel.StringType)),
		// data's numbers are ints or doubles (see decodeData): data.total > 100
		// holds for 149.5 as for 150.
		cel.CrossTypeNumericComparisons(true),
		cel.ParserRecursionLimit(MaxRecursionDepth),
		cel.ParserExpressionSizeLimit(MaxLength),
	)
})

// compiled is an expression checked and made into its two programs. prg
// counts its cost as it runs and stops it over MaxCost. fast does not:
// it runs on the events that hold no more than the estimate assumed
// (Input.bounded), on which the estimate, within MaxCost, bounds its cost
// already, without the counting (a third of a filter's time).
type compiled struct {
	prg, fast cel.Program
	ast       *cel.Ast
}

// program returns the program of c to run on in.
func (c *compiled) program(in *Input) cel.Program {
	if in.bounded && c.fast != nil {
		return c.fast
	}
	return c.prg
}

// eval runs c on in: the fast program without watching the context, as
// its estimate bounds it (watching costs a tenth of a filter's time; a
// context ended before is still obeyed), the counting one watching it.
func (c *compiled) eval(ctx context.Context, in *Input) (ref.Val, error) {
	if prg := c.program(in); prg != c.prg {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("expressions: evaluation stopped: %w", err)
		}
		out, _, err := prg.Eval(in.activation())
		return out, err
	}
	out, _, err := c.prg.ContextEval(ctx, in.activation())
	return out, err
}

// compileAST parses and checks src, the value of param, and returns its
// programs and the checked expression once its result type is one that want
// accepts and its estimated cost is within MaxCost.
func compileAST(param, src string, want func(*cel.Type) bool, wantName string) (compiled, error) {
	if len(src) > MaxLength {
		return compiled{}, hookgate.InvalidParam(param, nil, "%s: the expression has %d bytes, more than the limit of %d", param, len(src), MaxLength)
	}
	e, err := env()
	if err != nil {
		return compiled{}, fmt.Errorf("expressions: the environment: %w", err)
	}
	ast, iss := e.Compile(src)
	if iss.Err() != nil {
		return compiled{}, issueError(param, src, iss)
	}
	if t := ast.OutputType(); !want(t) {
		return compiled{}, hookgate.InvalidParam(param, src, "%s: the expression must evaluate to %s, not %s", param, wantName, t)
	}
	est, err := e.EstimateCost(ast, estimator{})
	if err != nil {
		return compiled{}, hookgate.InvalidParam(param, src, "%s: the cost of the expression cannot be estimated: %v", param, err)
	}
	if est.Max > MaxCost {
		return compiled{}, hookgate.InvalidParam(param, src,
			"%s: the estimated cost of the expression is over the limit of %d by a factor of %s (simplify it; the estimate assumes that the event's lists and maps hold up to %d elements, the strings of its data up to %d bytes and its other strings up to %d bytes)",
			param, MaxCost, factor(est.Max), MaxListSize, MaxListSize, MaxStringSize)
	}
	prg, err := e.Program(ast,
		cel.CostLimit(MaxCost),
		cel.CostTracking(dynamicCost{}),
		cel.InterruptCheckFrequency(InterruptCheckFrequency),
		boundedMatches(),
	)
	if err != nil {
		return compiled{}, hookgate.InvalidParam(param, src, "%s: %v", param, err)
	}
	fast, err := e.Program(ast,
		cel.EvalOptions(cel.OptOptimize),
		cel.InterruptCheckFrequency(InterruptCheckFrequency),
		boundedMatches(),
	)
	if err != nil {
		return compiled{}, hookgate.InvalidParam(param, src, "%s: %v", param, err)
	}
	return compiled{prg: prg, fast: fast, ast: ast}, nil
}

// issueError is the error of the first issue, with its position, when it
// has one, counted from 1.
func issueError(param, src string, iss *cel.Issues) error {
	errs := iss.Errors()
	if len(errs) == 0 {
		return hookgate.InvalidParam(param, src, "%s: %v", param, iss.Err())
	}
	first := errs[0]
	loc := first.Location
	if loc == nil || loc.Line() < 1 {
		// The parser's limits report no position.
		return hookgate.InvalidParam(param, src, "%s: %s", param, first.Message)
	}
	// The end of an empty expression is at column -1.
	return hookgate.InvalidParam(param, src, "%s: %s at line %d, column %d", param, first.Message, loc.Line(), max(loc.Column(), 0)+1)
}

// factor writes how many times over MaxCost an estimate is, as Kubernetes
// does, with "more than 100x" for the absurd ones.
func factor(est uint64) string {
	f := float64(est) / MaxCost
	if f > 100 {
		return "more than 100x"
	}
	return fmt.Sprintf("%.1fx", f)
}

// estimator bounds the sizes of what the event holds, which the checker
// cannot know: without it every list of data would be of unbounded size and
// any comprehension over it refused.
type estimator struct{}

// EstimateSize bounds the typed strings (id, type, metadata's keys and
// values) by MaxStringSize, and the lists, maps and dynamic values (what
// data holds, whether a list, a map or a string) by MaxListSize elements or
// bytes. A data string longer than that is still counted at its length when
// it runs.
func (estimator) EstimateSize(n cost.AstNode) *cost.SizeEstimate {
	switch n.Type().Kind() {
	case types.StringKind, types.BytesKind:
		return &cost.SizeEstimate{Min: 0, Max: MaxStringSize}
	case types.ListKind, types.MapKind, types.DynKind:
		return &cost.SizeEstimate{Min: 0, Max: MaxListSize}
	}
	return nil
}

// EstimateCallCost leaves every function to the standard estimates.
func (estimator) EstimateCallCost(_, _ string, _ *cost.AstNode, _ []cost.AstNode) *cost.CallEstimate {
	return nil
}

// usesVariable reports whether the checked expression ast reads the
// variable name.
func usesVariable(ast *cel.Ast, name string) bool {
	for _, ref := range ast.NativeRep().ReferenceMap() {
		if ref.Name == name && ref.Value == nil {
			return true
		}
	}
	return false
}
