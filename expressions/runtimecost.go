package expressions

import (
	"cel.dev/cel-go/common/cost"
	"cel.dev/cel-go/common/operators"
	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"
)

// standardTrackers are cel-go's actual costs of its standard functions, by
// overload.
var standardTrackers = cost.StandardOverloadTrackers()

// dynamicCost prices the calls on dynamic values, whose overload the checker
// could not choose (data.name + data.name): cel-go evaluates them with no
// overload ID and counts each as 1, whatever the size of its arguments, so
// that concatenating the event's long strings would cost nothing. It picks
// the overload from the arguments' types and charges what cel-go charges for
// it, for the standard functions whose cost depends on their arguments'
// size.
type dynamicCost struct{}

// CallCost implements cost.ActualCostEstimator. It also charges matches by
// the size of the compiled pattern (boundedMatches).
func (dynamicCost) CallCost(function, overloadID string, args []ref.Val, result ref.Val) *uint64 {
	if function == overloads.Matches && len(args) == 2 {
		s, okS := args[0].(types.String)
		p, okP := args[1].(types.String)
		if okS && okP {
			if c, ok := matchCost(len(s), string(p)); ok {
				return &c
			}
		}
		return nil
	}
	if overloadID != "" {
		return nil
	}
	id := dynamicOverload(function, args)
	if id == "" {
		return nil
	}
	return standardTrackers[id](args, result)
}

// dynamicOverload returns the standard overload of function on args whose
// cost depends on their size, or "".
func dynamicOverload(function string, args []ref.Val) string {
	kind := func(i int) string {
		if i >= len(args) {
			return ""
		}
		switch args[i].(type) {
		case types.String:
			return "string"
		case types.Bytes:
			return "bytes"
		case traits.Lister:
			return "list"
		}
		return ""
	}
	both := func() string {
		if k := kind(0); k == kind(1) {
			return k
		}
		return ""
	}
	pick := func(k, ifString, ifBytes string) string {
		switch k {
		case "string":
			return ifString
		case "bytes":
			return ifBytes
		}
		return ""
	}
	switch function {
	case operators.Add:
		return pick(both(), overloads.AddString, overloads.AddBytes)
	case operators.Less:
		return pick(both(), overloads.LessString, overloads.LessBytes)
	case operators.LessEquals:
		return pick(both(), overloads.LessEqualsString, overloads.LessEqualsBytes)
	case operators.Greater:
		return pick(both(), overloads.GreaterString, overloads.GreaterBytes)
	case operators.GreaterEquals:
		return pick(both(), overloads.GreaterEqualsString, overloads.GreaterEqualsBytes)
	case operators.In, operators.OldIn:
		if kind(1) == "list" {
			return overloads.InList
		}
	case overloads.TypeConvertString:
		if kind(0) == "bytes" {
			return overloads.BytesToString
		}
	case overloads.TypeConvertBytes:
		if kind(0) == "string" {
			return overloads.StringToBytes
		}
	}
	return ""
}
