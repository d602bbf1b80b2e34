package expressions

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
)

// MaxBodySize is the largest body a transform makes, in bytes: twice the
// largest event the API takes by default, so that a transform can wrap the
// largest event.
const MaxBodySize = 2 << 20

// The content types of a transform's body.
const (
	ContentTypeJSON = "application/json"
	ContentTypeText = "text/plain; charset=utf-8"
)

// Transform is a compiled transform: a CEL expression over an event whose
// result, a map, a list or a string, becomes the body sent. It is safe for
// concurrent use.
type Transform struct {
	src string
	compiled
}

// CompileTransform compiles src, the parameter transform. Its type must be a
// map, a list, a string, or dynamic (such as data.payload), whose value is
// checked when it runs. The error is a *hookgate.Error naming transform.
func CompileTransform(src string) (*Transform, error) {
	c, err := compileAST("transform", src, func(t *cel.Type) bool {
		switch t.Kind() {
		case types.MapKind, types.ListKind, types.StringKind, types.DynKind:
			return true
		}
		return false
	}, "a map, a list or a string")
	if err != nil {
		return nil, err
	}
	return &Transform{src: src, compiled: c}, nil
}

// String returns the transform's source.
func (t *Transform) String() string { return t.src }

// Apply runs the transform on ev and returns the body and its content type:
// JSON for a map or a list, the string itself as text for a string. Its
// errors are ErrTransform when the transform fails on ev or its result cannot
// be a body, ErrCostLimit, or the context's error.
func (t *Transform) Apply(ctx context.Context, ev Event) ([]byte, string, error) {
	in, err := NewInput(ev)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrTransform, err)
	}
	return t.ApplyInput(ctx, in)
}

// ApplyInput is Apply on an event already decoded.
func (t *Transform) ApplyInput(ctx context.Context, in *Input) ([]byte, string, error) {
	out, err := t.eval(ctx, in)
	return t.result(ctx, out, err)
}

// TestInput is ApplyInput for a preview: it also reports the evaluation's
// actual cost and how long it took, making the body included.
func (t *Transform) TestInput(ctx context.Context, in *Input) ([]byte, string, Trial, error) {
	var body []byte
	var contentType string
	tr, err := try(ctx, t.prg, in, func(out ref.Val, err error) error {
		body, contentType, err = t.result(ctx, out, err)
		return err
	})
	return body, contentType, tr, err
}

// result is the body and content type that an evaluation of the transform
// makes.
func (t *Transform) result(ctx context.Context, out ref.Val, err error) ([]byte, string, error) {
	if err != nil {
		return nil, "", evalError(ctx, ErrTransform, err)
	}
	switch out.Type() {
	case types.StringType:
		if len(out.(types.String)) > MaxBodySize {
			return nil, "", fmt.Errorf("%w: the result is more than %d bytes", ErrTransform, MaxBodySize)
		}
		return []byte(out.(types.String)), ContentTypeText, nil
	case types.MapType, types.ListType:
	default:
		return nil, "", fmt.Errorf("%w: the result is a %s, not a map, a list or a string", ErrTransform, out.Type())
	}
	budget := MaxBodySize
	v, err := toJSON(out, "", &budget)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrTransform, err)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrTransform, err)
	}
	body := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	if len(body) > MaxBodySize {
		// Escapes made it longer than counted.
		return nil, "", fmt.Errorf("%w: %w", ErrTransform, errBodySize)
	}
	return body, ContentTypeJSON, nil
}
