package ui

import (
	"encoding/json"
	"testing"
)

// Issue 25, item 2: an event type's example is its schema's own, else
// one built from its schema, the same each time.
func TestExampleOf(t *testing.T) {
	for _, tc := range []struct {
		name, schema, want string
	}{
		{"Required first, then by name", `{"type":"object","required":["id","amount"],"properties":{"note":{"type":"string"},"amount":{"type":"integer"},"id":{"type":"string"},"express":{"type":"boolean"}}}`,
			`{"id":"string","amount":0,"express":false,"note":"string"}`},
		{"Enum", `{"type":"string","enum":["paid","refunded"]}`, `"paid"`},
		{"Const", `{"const":{"v": 2}}`, `{"v":2}`},
		{"Formats", `{"type":"object","properties":{"at":{"type":"string","format":"date-time"},"mail":{"type":"string","format":"email"},"odd":{"type":"string","format":"color"}}}`,
			`{"at":"2026-01-01T00:00:00Z","mail":"user@example.com","odd":"string"}`},
		{"Minimum", `{"type":"object","properties":{"n":{"type":"number","minimum":1.5},"q":{"type":"integer","minimum":3}}}`, `{"n":1.5,"q":3}`},
		{"Array of one item", `{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string"}}}}`, `[{"sku":"string"}]`},
		{"Array without items", `{"type":"array"}`, `[]`},
		{"Nullable", `{"type":["null","integer"]}`, `0`},
		{"Untyped with properties", `{"properties":{"a":{"type":"boolean"}}}`, `{"a":false}`},
		{"OneOf", `{"oneOf":[{"type":"integer"},{"type":"string"}]}`, `0`},
		{"Ref not followed", `{"$ref":"#/$defs/x"}`, `null`},
		{"Required without a schema", `{"type":"object","required":["x"]}`, `{"x":"string"}`},
		{"Own example", `{"type":"object","examples":[{"id": "ord_1"}, {"id":"ord_2"}]}`, `{"id": "ord_1"}`},
		{"Deep", deep(12), deepWant()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := exampleOf(json.RawMessage(tc.schema))
			if !ok || string(got) != tc.want {
				t.Fatalf("exampleOf(%s) = %s, %v; want %s", tc.schema, got, ok, tc.want)
			}
			if !json.Valid(got) {
				t.Fatalf("%s is not JSON", got)
			}
			again, _ := exampleOf(json.RawMessage(tc.schema))
			if string(again) != string(got) {
				t.Fatalf("not deterministic: %s then %s", got, again)
			}
		})
	}
	for _, none := range []string{"", "null-ish", "  ", "null"} {
		if ex, ok := exampleOf(json.RawMessage(none)); ok {
			t.Errorf("exampleOf(%q) = %s, want none", none, ex)
		}
	}
}

// deep is a schema of n nested objects.
func deep(n int) string {
	s := `{"type":"integer"}`
	for range n {
		s = `{"type":"object","properties":{"a":` + s + `}}`
	}
	return s
}

// deepWant is deep(12)'s example: nesting stops at exampleDepth.
func deepWant() string {
	s := "null"
	for range exampleDepth + 1 {
		s = `{"a":` + s + `}`
	}
	return s
}
