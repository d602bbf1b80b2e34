package expressions

import (
	"errors"
	"fmt"
	"regexp"

	"cel.dev/cel-go/cel"
	"cel.dev/cel-go/common/overloads"
	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"
)

// errRegexCost is the error of a match that would cost more than MaxCost
// on its own; evalError reports it as ErrCostLimit.
var errRegexCost = errors.New("matches: the regular expression would cost more than the limit on this string")

// boundedMatches replaces, in a program, the calls of CEL's matches (both
// matches(s, re) and s.matches(re)) with calls whose work is bounded before
// they run.
//
// Go's regular expressions run in time linear in the input, and in the size
// of the compiled pattern too, which cel-go's cost does not count: it
// charges a match by the length of the pattern's text, and only once the
// match is done. '[ab]{1,100}c' is 12 characters but 202 instructions once
// compiled; on a string of 900 KiB one match took ten seconds and cost
// 276,483, within the limit. Here a match costs matchCost, counted by
// dynamicCost, and does not run when that alone is over MaxCost.
func boundedMatches() cel.ProgramOption {
	return cel.CustomDecoratorV2(func(i interpreter.InterpretableV2) (interpreter.InterpretableV2, error) {
		call, ok := i.(interpreter.InterpretableCall)
		if !ok || call.Function() != overloads.Matches || len(call.Args()) != 2 {
			return i, nil
		}
		return interpreter.NewCall(call.ID(), call.Function(), call.OverloadID(), call.Args(), func(args ...ref.Val) ref.Val {
			s, ok := args[0].(types.String)
			if !ok {
				return types.MaybeNoSuchOverloadErr(args[0])
			}
			pattern, ok := args[1].(types.String)
			if !ok {
				return types.MaybeNoSuchOverloadErr(args[1])
			}
			return match(string(s), string(pattern))
		}), nil
	})
}

// match is s.matches(pattern), refused when its cost is over MaxCost.
func match(s, pattern string) ref.Val {
	re, err := regexp.Compile(pattern)
	if err != nil {
		return types.WrapErr(err)
	}
	if c, ok := matchCost(len(s), pattern); ok && c > MaxCost {
		return types.WrapErr(fmt.Errorf("%w (%d bytes: a cost of %d)", errRegexCost, len(s), c))
	}
	return types.Bool(re.MatchString(s))
}

// matchCost is the cost of matching a string of n bytes with pattern: a
// unit per 10 bytes, as cel-go counts strings, per instruction of the
// compiled pattern, about what a match takes at worst (Go's matcher steps
// each instruction over each byte). It is false when the pattern does not
// compile.
func matchCost(n int, pattern string) (uint64, bool) {
	inst, err := types.RegexProgramSize(pattern)
	if err != nil {
		return 0, false
	}
	return (uint64(n)/10 + 1) * uint64(inst), true
}
