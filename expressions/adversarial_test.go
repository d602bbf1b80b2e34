package expressions_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/expressions"
)

// The typical filters of issue 29 beyond those of TestFilterMatch, and the
// malicious expressions a tenant could register: each refused when compiled,
// naming its field, or stopped when it runs with ErrCostLimit.

// shop is an event with the values typical filters look at: ints and
// doubles, a uint, strings in several scripts, lists of maps and of
// strings, nulls and timestamps as strings.
var shop = expressions.Event{
	ID:        "evt_42",
	Type:      "order.paid",
	Timestamp: time.Date(2026, 12, 1, 17, 30, 0, 0, time.UTC), // a Tuesday, 18:30 in Paris
	Data: json.RawMessage(`{
		"total": 250, "discount": 12.5, "refund": -3, "bigId": 18446744073709551615,
		"email": "ada@example.com", "note": "Ünïcode ✓", "coupon": null,
		"tags": ["vip", "eu"],
		"items": [{"sku": "GC-50", "qty": 1, "price": 50}, {"sku": "TEA-01", "qty": 2, "price": 4.5}],
		"customer": {"id": "cus_42", "vip": true},
		"occurredAt": "2026-12-01T17:21:00Z"
	}`),
	Metadata: map[string]string{"customerId": "cus_42", "region": "eu"},
}

// TestTypicalFilters: numeric comparisons across ints, doubles and uints,
// has(), in, the string functions, the list macros and timestamps.
func TestTypicalFilters(t *testing.T) {
	t.Parallel()
	tests := []matchCase{
		// Numbers: an int of data against a double literal and the reverse,
		// a uint, negatives, and explicit conversions for arithmetic.
		{`data.total > 249.5`, true},
		{`data.total == 250.0`, true},
		{`data.discount < 13`, true},
		{`data.discount >= 12`, true},
		{`data.refund < 0`, true},
		{`data.bigId > 1`, true},
		{`data.bigId > 1.0`, true},
		{`double(data.total) * 1.2 > 299.0`, true},
		{`data.total / 100 == 2`, true}, // integer division cuts down
		{`int(data.discount) == 12`, true},
		{`string(data.total) == '250' && string(data.discount) == '12.5'`, true},
		// has(): present, absent, null, nested.
		{`has(data.coupon)`, true}, // present, though null
		{`data.coupon == null`, true},
		{`has(data.customer.vip) && data.customer.vip == true`, true},
		{`has(data.shipping) && has(data.shipping.zip)`, false},
		{`!has(data.livemode) || data.livemode == true`, true},
		// in: lists of literals, lists of data, keys of maps.
		{`'vip' in data.tags`, true},
		{`'us' in data.tags`, false},
		{`data.customer.id in ['cus_7', 'cus_42']`, true},
		{`'customer' in data`, true},
		{`'shipping' in data`, false},
		{`'region' in metadata && metadata.region == 'eu'`, true},
		{`has(data.customer.id) && data.customer.id == metadata.customerId`, true},
		// Strings.
		{`data.email.endsWith('@example.com')`, true},
		{`data.email.contains('@')`, true},
		{`data.email.matches('^[a-z]+@[a-z.]+$')`, true},
		{`data.note.matches('(?i)^ünï')`, true},
		{`size(data.note) == 9`, true}, // code points, not bytes
		{`type.startsWith('order.') && !type.endsWith('.test')`, true},
		{`id.matches(r'^evt_\d+$')`, true},
		// Lists.
		{`data.items.exists(i, i.sku.startsWith('GC-'))`, true},
		{`data.items.exists_one(i, i.qty > 1)`, true},
		{`data.items.all(i, i.qty > 0 && i.price > 0)`, true},
		{`data.items.filter(i, i.price < 10).size() == 1`, true},
		{`data.items.map(i, i.sku).exists(s, s == 'TEA-01')`, true},
		{`size(data.tags) == 2 && data.tags[0] == 'vip'`, true},
		{`data.items.exists(i, i.sku in ['GC-50', 'GC-100'])`, true},
		// Timestamps and durations.
		{`timestamp.getDayOfWeek() == 2`, true},
		{`timestamp.getHours('Europe/Paris') == 18`, true},
		{`timestamp.getHours('+01:00') == 18`, true},
		{`timestamp.getDayOfWeek('Europe/Paris') in [1, 2, 3, 4, 5] && timestamp.getHours('Europe/Paris') < 18`, false},
		{`timestamp - timestamp(data.occurredAt) <= duration('15m')`, true},
		{`timestamp - timestamp(data.occurredAt) == duration('9m')`, true},
		{`timestamp(data.occurredAt) + duration('1h') > timestamp`, true},
		{`timestamp > timestamp('2026-12-01T00:00:00+01:00')`, true},
		// The ternary operator.
		{`(data.total > 100 ? 'big' : 'small') == 'big'`, true},
	}
	matchAll(t, shop, tests)
}

// TestTypicalFilterFailures: what a typical filter meets on events that
// lack a field is ErrNoMatch, with a message that says which.
func TestTypicalFilterFailures(t *testing.T) {
	t.Parallel()
	tests := []struct{ src, want string }{
		{`has(data.shipping.zip)`, "no such key: shipping"},         // has() tests the last field only
		{`data.coupon.code == 'X'`, "code"},                         // a field of null
		{`data.total * 1.2 > 1.0`, "no such overload"},              // an int times a double
		{`timestamp(data.email) < timestamp`, "timestamp"},          // not RFC 3339
		{`timestamp.getHours('Mars/Olympus') == 1`, "Mars/Olympus"}, // an unknown time zone
		{`data.tags.exists(t, t.startsWith('v')) && data.tags[5] == 'x'`, "index"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			f, err := expressions.CompileFilter(tt.src)
			if err != nil {
				t.Fatalf("CompileFilter: %v", err)
			}
			got, err := f.Match(context.Background(), shop)
			if !errors.Is(err, expressions.ErrNoMatch) || got {
				t.Fatalf("Match = %v, %v; want ErrNoMatch", got, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// lits is a list literal of ten elements: comprehensions over it cost what
// the estimate can count exactly.
const lits = "[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]"

// TestMaliciousRefused: expressions built to stall the server are refused
// when a webhook is registered, for each of the three fields, naming it,
// with a message that says why.
func TestMaliciousRefused(t *testing.T) {
	t.Parallel()
	nest := func(open, inner, close string, n int) string {
		return strings.Repeat(open, n) + inner + strings.Repeat(close, n)
	}
	tests := []struct {
		name, field, src, want string
	}{
		// Nesting deeper than the parser's limit, in its every form.
		{"nested parentheses", "filter", nest("(", "true", ")", 33), "recursion limit exceeded: 32"},
		{"nested calls", "filter", nest("string(", "type", ")", 40) + " == ''", "recursion limit exceeded: 32"},
		{"nested maps", "transform", nest("{'a': ", "1", "}", 33), "transform: expression recursion limit exceeded: 32"},
		{"nested lists", "transformHeaders", nest("[", "1", "]", 33), "transformHeaders: expression recursion limit exceeded: 32"},
		{"a chain of +", "filter", "size(" + strings.TrimSuffix(strings.Repeat("type + ", 60), " + ") + ") > 0", "max recursion depth exceeded"},
		{"deep selection", "filter", "has(data" + strings.Repeat(".a", 40) + ")", "max recursion depth exceeded"},
		// Longer than 10,000 bytes, whatever fills it.
		{"long transform", "transform", `{'a': '` + strings.Repeat("x", expressions.MaxLength) + `'}`, "transform: the expression has 10009 bytes, more than the limit of 10000"},
		{"long headers", "transformHeaders", `{'X-A': '` + strings.Repeat("x", expressions.MaxLength) + `'}`, "transformHeaders: the expression has 10011 bytes"},
		{"long in bytes, short in code points", "filter", `type == '` + strings.Repeat("é", 5000) + `'`, "filter: the expression has 10010 bytes"},
		{"long with whitespace", "filter", "true" + strings.Repeat(" ", expressions.MaxLength), "more than the limit of 10000"},
		{"long with a comment", "filter", "true // " + strings.Repeat("x", expressions.MaxLength), "more than the limit of 10000"},
		{"many terms", "filter", strings.TrimSuffix(strings.Repeat("type == 'a' || ", 700), " || "), "more than the limit of 10000"},
		// Comprehensions nested over data's lists: the square of the event.
		{"exists in exists", "filter", `data.items.exists(a, data.items.exists(b, a.sku == b.sku && a != b))`, "filter: the estimated cost of the expression is over the limit of 1000000 by a factor of more than 100x"},
		{"two lists", "filter", `data.a.exists(x, data.b.all(y, x != y))`, "by a factor of more than 100x"},
		{"a list of each element", "filter", `data.items.exists(i, i.tags.exists(t, t == 'x'))`, "by a factor of more than 100x"},
		{"metadata over data", "filter", `metadata.exists(k, data.items.exists(i, i == k))`, "by a factor of more than 100x"},
		{"filter of maps", "filter", `data.items.filter(i, data.items.map(j, j.n).size() > 0).size() > 0`, "by a factor of more than 100x"},
		{"cross product", "transform", `data.items.map(a, data.items.map(b, [a, b]))`, "transform: the estimated cost"},
		{"quadratic headers", "transformHeaders", `{'X-N': string(data.items.filter(a, data.items.exists(b, a == b)).size())}`, "transformHeaders: the estimated cost"},
		// Comprehensions nested over literals: 10^6 iterations.
		{"six levels of literals", "filter",
			lits + ".exists(a, " + lits + ".exists(b, " + lits + ".exists(c, " + lits + ".exists(d, " + lits + ".exists(e, " + lits + ".exists(f, a + b + c + d + e + f < 0))))))",
			"by a factor of 17.7x"},
		// Strings that double: in a comprehension, and through chained maps.
		{"doubling in a comprehension", "filter", `data.items.map(i, data.name).exists(s, (s + s + s + s + s + s + s + s).size() < 0)`, "estimated cost"},
		{"doubling through maps", "filter", "[data.name]" + strings.Repeat(".map(a, a + a)", 12) + ".exists(s, s.size() == 0)", "by a factor of 8.2x"},
		{"concatenation per element", "transform", `data.items.map(i, i.sku + ': ' + string(i.qty))`, "transform: the estimated cost"},
		{"per-element string search", "filter", `data.items.exists(i, data.note.contains(i.sku))`, "estimated cost"},
		{"per-element regular expression", "filter", `data.items.exists(i, i.name.matches('^gift'))`, "by a factor of 12.6x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := compileField(tt.field, tt.src)
			var he *hookgate.Error
			if !errors.As(err, &he) || he.Code != hookgate.EInvalidParameter || he.Param != tt.field {
				t.Fatalf("compiling %s gives %#v, not an invalid_parameter naming %s", tt.field, err, tt.field)
			}
			if !strings.HasPrefix(he.Message, tt.field+": ") || !strings.Contains(he.Message, tt.want) {
				t.Errorf("message %q does not say %q", he.Message, tt.want)
			}
		})
	}
}

// TestLimitsBoundaries: what is just within a limit compiles.
func TestLimitsBoundaries(t *testing.T) {
	t.Parallel()
	pad := func(s string) string { return s + strings.Repeat(" ", expressions.MaxLength-len(s)) }
	for _, tt := range []struct{ name, field, src string }{
		{"10,000 bytes", "filter", pad("type == 'a'")},
		{"10,000 bytes of transform", "transform", pad("{'a': type}")},
		{"31 parentheses", "filter", strings.Repeat("(", 31) + "true" + strings.Repeat(")", 31)},
		{"31 nested maps", "transform", strings.Repeat("{'a': ", 31) + "1" + strings.Repeat("}", 31)},
		{"a long chain of ||", "filter", strings.TrimSuffix(strings.Repeat("type == 'a' || ", 500), " || ")},
		{"three levels of literals", "filter", lits + ".exists(a, " + lits + ".exists(b, " + lits + ".exists(c, a + b + c < 0)))"},
		{"eight doublings", "filter", "[data.name]" + strings.Repeat(".map(a, a + a)", 8) + ".exists(s, s.size() == 0)"},
		{"one pass with literals", "filter", `data.items.all(i, i.sku.startsWith('GC-') && i.qty > 0 && i.price > 1.0)`},
		{"one pass reshaping", "transform", `{"lines": data.items.map(i, {"sku": i.sku, "qty": i.qty, "price": i.price})}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if err := compileField(tt.field, tt.src); err != nil {
				t.Fatalf("compiling %s: %v", tt.field, err)
			}
		})
	}
}

// compileField compiles src as the field of that name.
func compileField(field, src string) error {
	var err error
	switch field {
	case "filter":
		_, err = expressions.CompileFilter(src)
	case "transform":
		_, err = expressions.CompileTransform(src)
	case "transformHeaders":
		_, err = expressions.CompileHeaders(src)
	default:
		panic("no field " + field)
	}
	return err
}

// TestMaliciousStopped: what the estimate lets through but a large event
// makes expensive stops with ErrCostLimit, whichever field runs it.
func TestMaliciousStopped(t *testing.T) {
	t.Parallel()
	// 600,000 elements: an event of 1.2 MB, within what a server may be
	// configured to take, and 60 times what the estimate assumes.
	huge, err := json.Marshal(map[string]any{"items": make([]int, 600_000)})
	if err != nil {
		t.Fatal(err)
	}
	long, err := json.Marshal(map[string]any{"name": strings.Repeat("a", 900<<10), "items": []int{1, 2, 3}})
	if err != nil {
		t.Fatal(err)
	}
	// Decoded once: decoding the huge list takes longer than the runs.
	hugeEvent, err := expressions.NewInput(expressions.Event{Type: "bulk", Data: huge})
	if err != nil {
		t.Fatal(err)
	}
	longEvent, err := expressions.NewInput(expressions.Event{Type: "long", Data: long})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, field, src string
		in               *expressions.Input
	}{
		{"one pass over a huge list", "filter", `data.items.exists(i, i > 0)`, hugeEvent},
		{"a transform over a huge list", "transform", `{'n': data.items.filter(i, i == 0).size()}`, hugeEvent},
		{"headers over a huge list", "transformHeaders", `{'X-N': string(data.items.filter(i, i == 0).size())}`, hugeEvent},
		{"doubling a long string", "filter", "[data.name]" + strings.Repeat(".map(a, a + a)", 8) + ".exists(s, s.size() == 0)", longEvent},
		{"copies of a long string", "filter", lits + `.map(n, data.name + data.name).size() > 0`, longEvent},
		{"a long text body", "transform", lits + `.map(n, data.name + data.name)[0]`, longEvent},
		{"comparisons of a long string", "filter", lits + `.exists(n, data.name + 'x' < data.name)`, longEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := runField(tt.field, tt.src, tt.in)
			if !errors.Is(err, expressions.ErrCostLimit) {
				t.Fatalf("%s = %v, want ErrCostLimit", tt.field, err)
			}
			if errors.Is(err, expressions.ErrNoMatch) || errors.Is(err, expressions.ErrTransform) {
				t.Errorf("error %v is also a failure on the event", err)
			}
		})
	}
}

// runField compiles src as the field of that name and runs it on in.
func runField(field, src string, in *expressions.Input) error {
	ctx := context.Background()
	switch field {
	case "filter":
		f, err := expressions.CompileFilter(src)
		if err != nil {
			return fmt.Errorf("compiling: %w", err)
		}
		_, err = f.MatchInput(ctx, in)
		return err
	case "transform":
		tr, err := expressions.CompileTransform(src)
		if err != nil {
			return fmt.Errorf("compiling: %w", err)
		}
		_, _, err = tr.ApplyInput(ctx, in)
		return err
	case "transformHeaders":
		h, err := expressions.CompileHeaders(src)
		if err != nil {
			return fmt.Errorf("compiling: %w", err)
		}
		_, err = h.ApplyInput(ctx, in)
		return err
	}
	panic("no field " + field)
}

// TestDeepEventData: an event's data nested thousands of levels deep is
// read and written back without exhausting the stack; deeper than the JSON
// decoder takes, it fails the filter, not the server.
func TestDeepEventData(t *testing.T) {
	t.Parallel()
	deep := func(n int) json.RawMessage {
		return json.RawMessage(strings.Repeat("[", n) + strings.Repeat("]", n))
	}
	f, err := expressions.CompileFilter(`size(data) == 1`)
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := f.Match(context.Background(), expressions.Event{Data: deep(5000)}); err != nil || !ok {
		t.Fatalf("Match = %v, %v on data 5,000 levels deep", ok, err)
	}
	tr, err := expressions.CompileTransform(`data`)
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := tr.Apply(context.Background(), expressions.Event{Data: deep(5000)})
	if err != nil || string(body) != string(deep(5000)) {
		t.Fatalf("Apply = %d bytes, %v; want the data back", len(body), err)
	}
	if ok, err := f.Match(context.Background(), expressions.Event{Data: deep(20_000)}); !errors.Is(err, expressions.ErrNoMatch) || ok {
		t.Fatalf("Match = %v, %v on data 20,000 levels deep; want ErrNoMatch", ok, err)
	}
}

// TestHeaders: transformHeaders makes a map of strings; what is not one, or
// is not a header a webhook may set, fails on the event with ErrTransform.
func TestHeaders(t *testing.T) {
	t.Parallel()
	in, err := expressions.NewInput(shop)
	if err != nil {
		t.Fatal(err)
	}
	in = in.WithMetadata(map[string]string{"tenant": "acme"})
	ok := []struct {
		src  string
		want map[string]string
	}{
		{`{'X-Tenant': metadata.tenant, 'X-Event': type, 'X-Id': id}`, map[string]string{"X-Tenant": "acme", "X-Event": "order.paid", "X-Id": "evt_42"}},
		{`{'X-Total': string(data.total), 'X-Customer': data.customer.id}`, map[string]string{"X-Total": "250", "X-Customer": "cus_42"}},
		{`has(data.tenant) ? {'X-Tenant': data.tenant} : {}`, map[string]string{}},
		{`{'Content-Type': 'application/x-www-form-urlencoded'}`, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{`data.customer.vip == true ? {'X-Priority': 'high'} : {'X-Priority': 'normal'}`, map[string]string{"X-Priority": "high"}},
	}
	for _, tt := range ok {
		h, err := expressions.CompileHeaders(tt.src)
		if err != nil {
			t.Fatalf("CompileHeaders(%s): %v", tt.src, err)
		}
		got, err := h.ApplyInput(context.Background(), in)
		if err != nil {
			t.Fatalf("%s: %v", tt.src, err)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("%s = %v, want %v", tt.src, got, tt.want)
		}
	}
	many := make([]string, 0, 60)
	for i := range 60 {
		many = append(many, fmt.Sprintf("'X-H%d': 'v'", i))
	}
	failing := []struct{ name, src, want string }{
		{"a number", `{'X-Total': data.total}`, "must make a map of strings to strings"},
		{"a list", `{'X-Tags': data.tags}`, "must make a map of strings to strings"},
		{"int keys", `{1: 'a'}`, "must make a map of strings to strings"},
		{"dynamic, not a map", `data.email`, "must make a map of strings to strings"},
		{"a signature", `{'webhook-signature': 'v1,forged'}`, "header webhook-signature is set by Hookgate"},
		{"the ID, in another case", `{'Webhook-Id': 'msg_forged'}`, "set by Hookgate"},
		{"Host", `{'Host': 'internal.example'}`, "set by Hookgate"},
		{"Content-Length", `{'Content-Length': '0'}`, "set by Hookgate"},
		{"a forwarded address", `{'X-Forwarded-For': '10.0.0.1'}`, "set by Hookgate"},
		{"a header split by a newline", `{'X-A': 'a\r\nX-Injected: 1'}`, "invalid value"},
		{"a header split by data", `{'X-Note': data.note + '\n'}`, "invalid value"},
		{"a name that is not a token", `{'X A': 'v'}`, "not a valid header name"},
		{"an empty name", `{'': 'v'}`, "not a valid header name"},
		{"too many", "{" + strings.Join(many, ", ") + "}", "at most"},
		{"too long a value", `{'X-A': '` + strings.Repeat("v", 4097) + `'}`, "invalid value"},
		{"a missing field", `{'X-Tenant': data.tenant}`, "no such key: tenant"},
	}
	for _, tt := range failing {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, err := expressions.CompileHeaders(tt.src)
			if err != nil {
				t.Fatalf("CompileHeaders: %v", err)
			}
			got, err := h.ApplyInput(context.Background(), in)
			if !errors.Is(err, expressions.ErrTransform) || got != nil {
				t.Fatalf("ApplyInput = %v, %v; want ErrTransform", got, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

// TestCompileHeadersErrors: a result that cannot be a map of headers is
// refused when compiled, naming transformHeaders.
func TestCompileHeadersErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ src, want string }{
		{`'X-A: 1'`, "transformHeaders: the expression must evaluate to a map of strings, not string"},
		{`[['X-A', '1']]`, "not list(list(string))"},
		{`data.total > 1`, "not bool"},
		{`{'X-A': }`, "transformHeaders: Syntax error"},
		{`{'X-A': tenant}`, "transformHeaders: undeclared reference to 'tenant' at line 1, column 9"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			t.Parallel()
			_, err := expressions.CompileHeaders(tt.src)
			var he *hookgate.Error
			if !errors.As(err, &he) || he.Param != "transformHeaders" {
				t.Fatalf("CompileHeaders = %v, want an error naming transformHeaders", err)
			}
			if !strings.Contains(he.Message, tt.want) {
				t.Errorf("message %q does not say %q", he.Message, tt.want)
			}
		})
	}
}

// TestCachedExpressions: the caches compile a source once and keep its
// errors out.
func TestCachedExpressions(t *testing.T) {
	t.Parallel()
	const src = `type == 'cached.once' && data.n > 1`
	a, err := expressions.CachedFilter(src)
	if err != nil {
		t.Fatal(err)
	}
	b, err := expressions.CachedFilter(src)
	if err != nil || a != b {
		t.Fatalf("CachedFilter twice = %p, %p (%v); want the same filter", a, b, err)
	}
	if _, err := expressions.CachedFilter(`type ==`); err == nil {
		t.Fatal("CachedFilter of a syntax error succeeded")
	}
	if _, err := expressions.CachedTransform(`true`); err == nil {
		t.Fatal("CachedTransform of a bool succeeded")
	}
	if _, err := expressions.CachedHeaders(`'x'`); err == nil {
		t.Fatal("CachedHeaders of a string succeeded")
	}
}
