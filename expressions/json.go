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

// toJSON converts a CEL value to what encoding/json writes faithfully: null,
// booleans, ints and uints exactly, finite doubles, strings, bytes in base64
// (standard, padded), timestamps in RFC 3339 (UTC), durations in seconds with
// an s suffix (as protobuf's JSON does), lists, and maps whose keys are
// strings. path names the value in errors ("" is the result).
func toJSON(v ref.Val, path string) (any, error) {
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
			elem, err := toJSON(v.Get(k), path+"."+string(ks))
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
			elem, err := toJSON(v.Get(i), path+"["+strconv.Itoa(int(i))+"]")
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
