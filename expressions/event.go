package expressions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
)

// Event is what an expression sees of an event.
type Event struct {
	// ID is the event's ID, the variable id.
	ID string
	// Type is the event's type, the variable type.
	Type string
	// Timestamp is when the event was received, the variable timestamp.
	Timestamp time.Time
	// Data is the event's JSON payload, the variable data; empty is null.
	Data json.RawMessage
	// Metadata is the variable metadata: the metadata of the webhook whose
	// expression runs (events carry none), so that one expression can serve
	// many webhooks (data.region == metadata.region); nil is an empty map.
	Metadata map[string]string
}

// noMetadata stands for a nil Metadata, so that metadata is always a map.
var noMetadata = map[string]string{}

// Input is an event decoded for expressions: decoding its data is most of
// the time of a Match, so a caller that runs the filters of many webhooks on
// one event decodes it once. It is safe for concurrent use.
type Input struct {
	vars map[string]any
	// bounded tells that the event holds no more than the cost estimate
	// assumed: its expressions run without counting their cost (compiled).
	bounded bool
	// md, when set, is the variable metadata in place of the one in vars
	// (WithMetadata).
	md map[string]string
}

// WithMetadata returns in with md as the variable metadata: the event
// decoded once serves the webhooks of an event, each with its metadata.
func (in *Input) WithMetadata(md map[string]string) *Input {
	if md == nil {
		md = noMetadata
	}
	return &Input{vars: in.vars, md: md, bounded: in.bounded}
}

// activation is what an evaluation of in resolves names in.
func (in *Input) activation() any {
	if in.md == nil {
		return in.vars
	}
	return withMetadata{in}
}

// withMetadata resolves metadata to in.md and every other name in in.vars.
type withMetadata struct{ in *Input }

func (a withMetadata) ResolveName(name string) (any, bool) {
	if name == "metadata" {
		return a.in.md, true
	}
	v, ok := a.in.vars[name]
	return v, ok
}

func (withMetadata) Parent() interpreter.Activation { return nil }

// NewInput decodes ev; its error says that ev's data is not JSON.
func NewInput(ev Event) (*Input, error) {
	vars, within, err := ev.vars()
	if err != nil {
		return nil, err
	}
	bounded := len(ev.ID) <= MaxStringSize && len(ev.Type) <= MaxStringSize && within &&
		len(ev.Metadata) <= MaxListSize
	for k, v := range ev.Metadata {
		bounded = bounded && len(k) <= MaxStringSize && len(v) <= MaxStringSize
	}
	return &Input{vars: vars, bounded: bounded}, nil
}

// vars returns the activation of e: the variables by name.
//
// within tells whether its data holds no more than the cost estimate
// assumed (see toCEL).
func (e Event) vars() (vars map[string]any, within bool, err error) {
	data, within, err := decodeData(e.Data)
	if err != nil {
		return nil, false, err
	}
	md := e.Metadata
	if md == nil {
		md = noMetadata
	}
	return map[string]any{
		"id":        e.ID,
		"type":      e.Type,
		"timestamp": e.Timestamp,
		"data":      data,
		"metadata":  md,
	}, within, nil
}

// decodeData decodes the event's data as Kubernetes does its objects for
// CEL: a JSON number that is an integer becomes an int (a uint beyond the
// range of int64), any other a double, so that the integers of data, IDs
// included, reach a transform's body unchanged. Empty data is null. within
// is toCEL's.
func decodeData(raw json.RawMessage) (data ref.Val, within bool, err error) {
	if len(raw) == 0 {
		return types.NullValue, true, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false, fmt.Errorf("expressions: the event's data is not JSON: %w", err)
	}
	if dec.More() {
		return nil, false, errors.New("expressions: the event's data is not JSON: more than one value")
	}
	within = true
	data, err = toCEL(v, 0, &within)
	return data, within, err
}

// toCEL converts v, decoded JSON with json.Number values, into CEL's values
// once: left to cel-go, every selection of a field wraps the map or list it
// reads again, in every expression that reads it, and an event meets the
// filters of every webhook of its project. On the way it clears *within
// when v holds a list or map of more than MaxListSize elements or a string
// (key or value) of more than MaxListSize bytes, beyond what the cost
// estimate assumes, or is nested deeper than maxBoundedDepth (not looked
// into for the sizes): its expressions then count their cost.
func toCEL(v any, depth int, within *bool) (ref.Val, error) {
	if depth > maxBoundedDepth {
		*within = false
	}
	switch v := v.(type) {
	case nil:
		return types.NullValue, nil
	case bool:
		return types.Bool(v), nil
	case string:
		if len(v) > MaxListSize {
			*within = false
		}
		return types.String(v), nil
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return types.Int(i), nil
		}
		if u, err := strconv.ParseUint(string(v), 10, 64); err == nil {
			return types.Uint(u), nil
		}
		f, err := strconv.ParseFloat(string(v), 64)
		if err != nil {
			return nil, fmt.Errorf("expressions: the event's data has the number %s, beyond a double", v)
		}
		return types.Double(f), nil
	case []any:
		if len(v) > MaxListSize {
			*within = false
		}
		elems := make([]ref.Val, len(v))
		for i, e := range v {
			c, err := toCEL(e, depth+1, within)
			if err != nil {
				return nil, err
			}
			elems[i] = c
		}
		return types.NewRefValList(types.DefaultTypeAdapter, elems), nil
	case map[string]any:
		if len(v) > MaxListSize {
			*within = false
		}
		m := make(map[ref.Val]ref.Val, len(v))
		for k, e := range v {
			if len(k) > MaxListSize {
				*within = false
			}
			c, err := toCEL(e, depth+1, within)
			if err != nil {
				return nil, err
			}
			m[types.String(k)] = c
		}
		return types.NewRefValMap(types.DefaultTypeAdapter, m), nil
	}
	return types.DefaultTypeAdapter.NativeToValue(v), nil
}

// maxBoundedDepth is the deepest data whose sizes toCEL looks at.
const maxBoundedDepth = 64
