package expressions

import (
	"context"
	"fmt"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"

	"github.com/hookgate/hookgate"
)

// Headers is a compiled transformHeaders: a CEL expression over an event
// whose result, a map of strings, adds headers to the request sent. It is
// safe for concurrent use.
type Headers struct {
	src string
	compiled
}

// CompileHeaders compiles src, the parameter transformHeaders. Its type must
// be a map (such as {"X-Region": data.region}) or dynamic; its keys and
// values are checked to be strings, and the headers valid, when it runs.
// The error is a *hookgate.Error naming transformHeaders.
func CompileHeaders(src string) (*Headers, error) {
	c, err := compileAST("transformHeaders", src, func(t *cel.Type) bool {
		switch t.Kind() {
		case types.MapKind, types.DynKind:
			return true
		}
		return false
	}, "a map of strings")
	if err != nil {
		return nil, err
	}
	return &Headers{src: src, compiled: c}, nil
}

// String returns the expression's source.
func (h *Headers) String() string { return h.src }

// ApplyInput runs the expression on in and returns the headers. Its errors
// are ErrTransform when it fails on the event or its result is not a map of
// strings that are valid headers a webhook may set (as a webhook's headers:
// not those Hookgate sets, such as webhook-signature), ErrCostLimit, or the
// context's error.
func (h *Headers) ApplyInput(ctx context.Context, in *Input) (map[string]string, error) {
	out, err := h.eval(ctx, in)
	return h.result(ctx, out, err)
}

// TestInput is ApplyInput for a preview: it also reports the evaluation's
// actual cost and how long it took.
func (h *Headers) TestInput(ctx context.Context, in *Input) (map[string]string, Trial, error) {
	var m map[string]string
	tr, err := try(ctx, h.prg, in, func(out ref.Val, err error) error {
		m, err = h.result(ctx, out, err)
		return err
	})
	return m, tr, err
}

// result is the headers that an evaluation of the expression makes.
func (h *Headers) result(ctx context.Context, out ref.Val, err error) (map[string]string, error) {
	if err != nil {
		return nil, evalError(ctx, ErrTransform, err)
	}
	v, err := out.ConvertToNative(mapOfStrings)
	if err != nil {
		return nil, fmt.Errorf("%w: transformHeaders must make a map of strings to strings, not %s: %w", ErrTransform, out.Type(), err)
	}
	m := v.(map[string]string)
	if err := hookgate.ValidateHeaders("transformHeaders", m); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTransform, err)
	}
	return m, nil
}
