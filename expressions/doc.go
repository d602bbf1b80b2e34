// Package expressions compiles and runs the CEL expressions of a webhook
// (issue 29): a filter, which decides whether an event is delivered, and a
// transform, whose result becomes the body sent.
//
// An expression sees the event as five variables: id and type (strings),
// timestamp (a CEL timestamp), data (dynamic, decoded from the event's
// JSON) and metadata (map(string, string)).
//
// Compiling is the slow part and checks everything that can be checked
// before an event arrives: the syntax, the types, the result type and the
// limits below. A compiled Filter or Transform is safe for concurrent use;
// callers cache them. Running one on an Event decodes the event's data
// first, most of the time of a run: NewInput decodes an event once for the
// expressions of every webhook it meets (MatchInput, ApplyInput). TestInput,
// for a preview (the API's test-expression), also reports the actual cost of
// the run and its time (Trial).
//
// # Limits
//
// The limits follow Kubernetes' CEL validation rules, which face the same
// problem (untrusted expressions run on a shared server):
//
//   - MaxLength: an expression has at most 10,000 bytes, and the parser
//     refuses more than as many code points. A filter is a line or two; a
//     transform a page at most.
//   - MaxRecursionDepth: the parser refuses nesting deeper than 32 levels
//     (cel-go allows 250), far more than a readable expression needs and
//     little enough that the checker and the evaluator never recurse deeply.
//   - MaxCost: 1,000,000 cost units, Kubernetes' per-expression limit (a
//     unit is about one step of the evaluator: a comparison, a field
//     selection; string operations count a unit per 10 bytes). It is
//     enforced twice. When compiling, the static estimate of the
//     expression's worst case is refused when over MaxCost. The estimate
//     assumes that the event's lists and maps hold at most MaxListSize
//     (10,000) elements, the strings of its data at most as many bytes, and
//     its id, type and metadata at most MaxStringSize (64 KiB): more than a
//     typical event holds, but not a guarantee (an event of 1 MiB can hold
//     a list of half a million numbers). So the estimate refuses what grows
//     with the square of the input, such as comprehensions nested over
//     data's lists (data.items.exists(a, data.items.exists(b, a.sku ==
//     b.sku && a != b)) is estimated at about 200,000,000,000), and lets a
//     single pass over a list through (data.items.exists(i, i.sku == 'A1')
//     is estimated at 70,003). When running, every evaluation stops once its actual cost
//     goes over MaxCost, whatever the event holds, and reports ErrCostLimit;
//     comprehensions check the context's cancellation every
//     InterruptCheckFrequency iterations. Counting costs a third of a
//     typical filter's time, and is needed only on events that hold more
//     than the estimate assumed: on one within it (every list and map of
//     its data at most MaxListSize elements, every string at most as many
//     bytes, its id and type at most MaxStringSize), the estimate already
//     bounds the cost, so each expression is compiled into two programs
//     and such an event runs the one that does not count (NewInput tells
//     which; a webhook's metadata is always within it). A typical filter costs under 20
//     units. cel-go counts a call on dynamic values whose overload the
//     checker could not choose (data.a + data.b) as 1 whatever their size;
//     this package charges such calls what cel-go charges for the overload
//     they run, so that concatenating long strings of data is counted.
//     cel-go charges a regular expression's match by the length of the
//     pattern's text, after the match; Go's matcher takes time in
//     proportion to the string's length times the compiled pattern's
//     instructions ('[ab]{1,100}c' is 202 of them: ten seconds on 900 KiB,
//     at a cost of 276,483). This package charges a match that product, a
//     unit per 10 bytes per instruction, and does not run a match whose
//     cost alone is over MaxCost.
//   - MaxBodySize: a transform's body has at most 2 MiB, twice the largest
//     event the API takes by default. A result can be cheap to make and
//     large to write (a list repeating a long string of data holds
//     references to it), so its size is counted before it is written.
//
// # Errors
//
// Compile errors are *hookgate.Error values of code invalid_parameter naming
// the parameter (filter or transform), with the checker's first message and
// its line and column. An evaluation that fails on an event (a field missing
// from data, a value of an unexpected type) is ErrNoMatch for a filter, which
// the caller counts as no match, and separately, and ErrTransform for a
// transform; one that runs over its cost is
// ErrCostLimit for both. Test them with errors.Is.
package expressions
