package expressions

import (
	"context"
	"fmt"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// Filter is a compiled filter: a CEL expression of type bool over an event.
// It is safe for concurrent use.
type Filter struct {
	src string
	compiled
	// metadata tells whether the filter reads the variable metadata.
	metadata bool
}

// CompileFilter compiles src, the parameter filter. Its type must be bool, as
// Kubernetes requires of its validation rules: a dynamic value such as
// data.paid is refused, data.paid == true is not. The error is a
// *hookgate.Error naming filter.
func CompileFilter(src string) (*Filter, error) {
	c, err := compileAST("filter", src, func(t *cel.Type) bool { return t.Kind() == types.BoolKind }, "bool")
	if err != nil {
		return nil, err
	}
	return &Filter{src: src, compiled: c, metadata: usesVariable(c.ast, "metadata")}, nil
}

// ReadsMetadata reports whether the filter reads the variable metadata:
// when it does not, its result on an event is the same for every webhook,
// whatever their metadata, and a caller running the filters of many
// webhooks can run it once.
func (f *Filter) ReadsMetadata() bool { return f.metadata }

// String returns the filter's source.
func (f *Filter) String() string { return f.src }

// Match reports whether ev matches the filter. Its errors are ErrNoMatch when
// the filter fails on ev (the caller counts ev as not matching),
// ErrCostLimit, or the context's error.
func (f *Filter) Match(ctx context.Context, ev Event) (bool, error) {
	in, err := NewInput(ev)
	if err != nil {
		return false, fmt.Errorf("%w: %w", ErrNoMatch, err)
	}
	return f.MatchInput(ctx, in)
}

// MatchInput is Match on an event already decoded.
func (f *Filter) MatchInput(ctx context.Context, in *Input) (bool, error) {
	out, err := f.eval(ctx, in)
	return f.result(ctx, out, err)
}

// TestInput is MatchInput for a preview: it also reports the evaluation's
// actual cost and how long it took.
func (f *Filter) TestInput(ctx context.Context, in *Input) (bool, Trial, error) {
	var matched bool
	tr, err := try(ctx, f.prg, in, func(out ref.Val, err error) error {
		matched, err = f.result(ctx, out, err)
		return err
	})
	return matched, tr, err
}

// result is the outcome of an evaluation of the filter.
func (f *Filter) result(ctx context.Context, out ref.Val, err error) (bool, error) {
	if err != nil {
		return false, evalError(ctx, ErrNoMatch, err)
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("%w: the filter's result is a %s, not a bool", ErrNoMatch, out.Type())
	}
	return bool(b), nil
}
