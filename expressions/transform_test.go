package expressions_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/expressions"
)

func TestTransformApply(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want, contentType string
	}{
		{"map", `{'order': id, 'kind': type, 'total': data.total, 'tenant': metadata.tenant}`,
			`{"kind":"order.created","order":"evt_01","tenant":"acme","total":149.5}`, expressions.ContentTypeJSON},
		{"list", `data.items.map(i, i.sku)`, `["B2","A1"]`, expressions.ContentTypeJSON},
		{"string", `'Order ' + id + ' of ' + string(data.total)`, `Order evt_01 of 149.5`, expressions.ContentTypeText},
		{"string from data", `data.customer.tier`, `gold`, expressions.ContentTypeText},
		{"data itself", `data.customer`, `{"tier":"gold"}`, expressions.ContentTypeJSON},
		{"scalars", `{'int': 42, 'neg': -7, 'uint': 18446744073709551615u, 'double': 2.5, 'whole double': 3.0, 'true': true, 'null': null}`,
			`{"double":2.5,"int":42,"neg":-7,"null":null,"true":true,"uint":18446744073709551615,"whole double":3}`, expressions.ContentTypeJSON},
		{"big int exactly", `[9007199254740993]`, `[9007199254740993]`, expressions.ContentTypeJSON},
		{"json numbers", `[data.count, data.count + 1, data.total, data.total * 2.0]`, `[3,4,149.5,299]`, expressions.ContentTypeJSON},
		{"timestamp", `{'at': timestamp, 'later': timestamp + duration('1h30m0.5s')}`,
			`{"at":"2026-12-01T10:30:00Z","later":"2026-12-01T12:00:00.5Z"}`, expressions.ContentTypeJSON},
		{"duration", `[duration('90s'), duration('1.5ms')]`, `["90s","0.0015s"]`, expressions.ContentTypeJSON},
		{"bytes", `{'raw': b'\xff\x00hi'}`, `{"raw":"/wBoaQ=="}`, expressions.ContentTypeJSON},
		{"no html escaping", `['<a href="x">&</a>']`, `["<a href=\"x\">&</a>"]`, expressions.ContentTypeJSON},
		{"nested", `{'items': data.items.filter(i, i.qty > 1), 'meta': metadata}`,
			`{"items":[{"qty":2,"sku":"A1"}],"meta":{"source":"shop","tenant":"acme"}}`, expressions.ContentTypeJSON},
		{"empty", `{}`, `{}`, expressions.ContentTypeJSON},
		{"empty list", `[]`, `[]`, expressions.ContentTypeJSON},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, err := expressions.CompileTransform(tt.src)
			if err != nil {
				t.Fatalf("CompileTransform: %v", err)
			}
			body, ct, err := tr.Apply(context.Background(), order)
			if err != nil {
				t.Fatalf("Apply: %v", err)
			}
			if string(body) != tt.want || ct != tt.contentType {
				t.Errorf("Apply = %s (%s)\nwant    %s (%s)", body, ct, tt.want, tt.contentType)
			}
			if ct == expressions.ContentTypeJSON && !json.Valid(body) {
				t.Errorf("body %s is not JSON", body)
			}
		})
	}
}

// TestTransformErrors: a transform that fails on an event, or whose result
// cannot be a body, is ErrTransform with a message that says why.
// TestTransformNumbers: the numbers of data keep their value, big integers
// included.
func TestTransformNumbers(t *testing.T) {
	t.Parallel()
	tr, err := expressions.CompileTransform(`data`)
	if err != nil {
		t.Fatal(err)
	}
	const data = `{"id":9007199254740993,"max":9223372036854775807,"min":-9223372036854775808,"u":18446744073709551615,"beyond":18446744073709551616,"small":1e-7,"neg":-2.5,"zero":0,"list":[1,2.25,null,true,"s"]}`
	body, ct, err := tr.Apply(context.Background(), expressions.Event{Data: json.RawMessage(data)})
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"beyond":18446744073709552000,"id":9007199254740993,"list":[1,2.25,null,true,"s"],"max":9223372036854775807,"min":-9223372036854775808,"neg":-2.5,"small":1e-7,"u":18446744073709551615,"zero":0}`
	if string(body) != want || ct != expressions.ContentTypeJSON {
		t.Errorf("Apply = %s (%s)\nwant    %s", body, ct, want)
	}
}

func TestTransformErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
	}{
		{"missing field", `{'x': data.missing}`, "no such key: missing"},
		{"dyn number", `data.total`, "the result is a double, not a map, a list or a string"},
		{"dyn bool", `data.paid`, "the result is a bool, not a map, a list or a string"},
		{"int keys", `{1: 'a'}`, "the result has the key 1, a int: the keys of a JSON object are strings"},
		{"nested int keys", `{'a': [{'b': {2: 'x'}}]}`, "the result's a[0].b has the key 2"},
		{"NaN", `{'x': 0.0 / 0.0}`, "the result's x is NaN, which JSON cannot hold"},
		{"infinity", `[1.0 / 0.0]`, "the result's [0] is +Inf, which JSON cannot hold"},
		{"type value", `{'t': type(1)}`, "the result's t is a type, which JSON cannot hold"},
		{"mixed arithmetic", `{'x': data.total / 2}`, "no such overload"},
		{"int division by zero", `{'x': 1 / (size(id) - 6)}`, "division by zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, err := expressions.CompileTransform(tt.src)
			if err != nil {
				t.Fatalf("CompileTransform: %v", err)
			}
			body, _, err := tr.Apply(context.Background(), order)
			if !errors.Is(err, expressions.ErrTransform) {
				t.Fatalf("Apply = %s, %v; want ErrTransform", body, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not say %q", err, tt.want)
			}
		})
	}
}

func TestCompileTransformErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, want string
	}{
		{"bool", `data.total > 1.0`, "transform: the expression must evaluate to a map, a list or a string, not bool"},
		{"int", `size(data.items)`, "not int"},
		{"bytes", `b'abc'`, "not bytes"},
		{"syntax", `{'a': }`, "at line 1, column 7"},
		{"undeclared", `{'a': payload}`, "transform: undeclared reference to 'payload' at line 1, column 7"},
		{"too long", `'` + strings.Repeat("a", expressions.MaxLength) + `'`, "transform: the expression has 10002 bytes"},
		{"quadratic", `data.items.map(a, data.items.map(b, [a, b]))`, "transform: the estimated cost"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := expressions.CompileTransform(tt.src)
			var he *hookgate.Error
			if !errors.As(err, &he) || he.Code != hookgate.EInvalidParameter || he.Param != "transform" {
				t.Fatalf("error %#v is not an invalid_parameter naming transform", err)
			}
			if !strings.Contains(he.Message, tt.want) {
				t.Errorf("message %q does not say %q", he.Message, tt.want)
			}
		})
	}
}

// TestTransformBodySize: a result that is cheap to make but too large to
// send is refused before it is written.
func TestTransformBodySize(t *testing.T) {
	t.Parallel()
	data, err := json.Marshal(map[string]any{"name": strings.Repeat("x", 900<<10), "items": make([]int, 5000)})
	if err != nil {
		t.Fatal(err)
	}
	ev := expressions.Event{Data: data}
	tests := []struct{ name, src, want string }{
		{"repeated string in a list", `data.items.map(i, data.name)`, "the result is more than 2097152 bytes of JSON"},
		{"as keys", `data.items.map(i, {data.name: i})`, "more than 2097152 bytes of JSON"},
		{"text", `data.name + data.name + data.name`, "the result is more than 2097152 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tr, err := expressions.CompileTransform(tt.src)
			if err != nil {
				t.Fatal(err)
			}
			body, _, err := tr.Apply(context.Background(), ev)
			if !errors.Is(err, expressions.ErrTransform) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Apply = %d bytes, %v; want ErrTransform saying %q", len(body), err, tt.want)
			}
		})
	}
	// Just within the limit.
	tr, err := expressions.CompileTransform(`[data.name, data.name]`)
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := tr.Apply(context.Background(), ev)
	if err != nil || len(body) != 2*(900<<10)+7 {
		t.Fatalf("Apply = %d bytes, %v; want %d bytes", len(body), err, 2*(900<<10)+7)
	}
}

// TestTransformCostLimit: a transform stopped at run time is ErrCostLimit.
func TestTransformCostLimit(t *testing.T) {
	t.Parallel()
	data, err := json.Marshal(map[string]any{"items": make([]int, 300_000)})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := expressions.CompileTransform(`data.items.map(i, {'n': i})`)
	if err != nil {
		t.Fatal(err)
	}
	body, _, err := tr.Apply(context.Background(), expressions.Event{Data: data})
	if !errors.Is(err, expressions.ErrCostLimit) || errors.Is(err, expressions.ErrTransform) {
		t.Fatalf("Apply = %d bytes, %v; want ErrCostLimit alone", len(body), err)
	}
}
