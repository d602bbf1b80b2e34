package expressions

import (
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// scalarSize is what toJSON charges a value of fixed size against the budget
// of a body: about the length of a number in JSON.
const scalarSize = 24

// errBodySize is the error of a result that would make a body larger than
// MaxBodySize.
var errBodySize = fmt.Errorf("the result is more than %d bytes of JSON", MaxBodySize)

// toJSON converts a CEL value to what encoding/json writes faithfully: null,
// booleans, ints and uints exactly, finite doubles, strings, bytes in base64
// (standard, padded), timestamps in RFC 3339 (UTC), durations in seconds with
// an s suffix (as protobuf's JSON does), lists, and maps whose keys are
// strings. path names the value in errors ("" is the result). budget is what
// remains of MaxBodySize: a result costs little to make (a list that repeats
// a long string of data a thousand times holds a thousand references) but
// much to write, so its size is counted before anything is written.
func toJSON(v ref.Val, path string, budget *int) (any, error) {
	size := scalarSize
	switch v := v.(type) {
	case types.String:
		size = len(v)
	case types.Bytes:
		size = base64.StdEncoding.EncodedLen(len(v))
	}
	if *budget -= size; *budget < 0 {
		return nil, errBodySize
	}
	switch v := v.(type) {
	case types.Null:
		return nil, nil
	case types.Bool:
		return bool(v), nil
	case types.Int:
		return int64(v), nil
	case types.Uint:
		return uint64(v), nil
	case types.Double:
		f := float64(v)
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, fmt.Errorf("%s is %v, which JSON cannot hold", name(path), f)
		}
		return f, nil
	case types.String:
		return string(v), nil
	case types.Bytes:
		return base64.StdEncoding.EncodeToString(v), nil
	case types.Timestamp:
		return v.Time.UTC().Format(time.RFC3339Nano), nil
	case types.Duration:
		return strconv.FormatFloat(v.Duration.Seconds(), 'f', -1, 64) + "s", nil
	case traits.Mapper:
		out := map[string]any{}
		for it := v.Iterator(); it.HasNext() == types.True; {
			k := it.Next()
			ks, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("%s has the key %v, a %s: the keys of a JSON object are strings", name(path), k, k.Type())
			}
			if *budget -= len(ks); *budget < 0 {
				return nil, errBodySize
			}
			elem, err := toJSON(v.Get(k), path+"."+string(ks), budget)
			if err != nil {
				return nil, err
			}
			out[string(ks)] = elem
		}
		return out, nil
	case traits.Lister:
		n, ok := v.Size().(types.Int)
		if !ok {
			return nil, fmt.Errorf("%s has no size", name(path))
		}
		out := make([]any, 0, int(n))
		for i := types.Int(0); i < n; i++ {
			elem, err := toJSON(v.Get(i), path+"["+strconv.Itoa(int(i))+"]", budget)
			if err != nil {
				return nil, err
			}
			out = append(out, elem)
		}
		return out, nil
	}
	if types.IsError(v) {
		return nil, fmt.Errorf("%s: %v", name(path), v)
	}
	return nil, fmt.Errorf("%s is a %s, which JSON cannot hold", name(path), v.Type())
}

// name is how an error names the value at path.
func name(path string) string {
	if path == "" {
		return "the result"
	}
	return "the result's " + strings.TrimPrefix(path, ".")
}
