package api

import (
	"bytes"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Issue 22, item 16: each kind of schema failure reads as a sentence
// naming the field.
func TestSchemaFailuresReadAsSentences(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ schema, data, want string }{
		{`{"const": 3}`, `4`, `data must be 3, not 4`},
		{`{"type": "string", "pattern": "^[a-z]+$"}`, `"A1"`, `data must match the pattern ^[a-z]+$, not "A1"`},
		{`{"type": ["integer", "null"]}`, `1.5`, `data must be null or an integer, not 1.5`},
		{`{"type": "integer"}`, `{"a": 1}`, `data must be an integer, not an object`},
		{`{"anyOf": [{"type": "string"}, {"type": "number"}]}`, `true`, `data matches none of the schema's alternatives (anyOf)`},
		{`{"oneOf": [{"type": "number"}, {"type": "integer"}]}`, `1`, `data must match exactly one of the schema's alternatives (oneOf), not 2`},
		{`{"not": {"type": "string"}}`, `"s"`, `data must not match the schema under not`},
		{`{"type": "array", "maxItems": 1, "uniqueItems": true}`, `[1, 1]`, `data must have at most 1 items, not 2; data must hold unique items: data[0] and data[1] are equal`},
		{`{"properties": {"n": {"exclusiveMaximum": 1.5}}}`, `{"n": 2}`, `data.n must be less than 1.5, not 2`},
		{`{"properties": {"n": {"multipleOf": 5}}}`, `{"n": 7}`, `data.n must be a multiple of 5, not 7`},
		{`{"items": {"type": "string"}}`, `[1, 2, 3, 4, 5]`, `data[0] must be a string, not 1; data[1] must be a string, not 2; data[2] must be a string, not 3; and 2 more`},
		{`{"properties": {"a": false}}`, `{"a": 1}`, `data.a is not allowed by the schema`},
		{`{"dependentRequired": {"a": ["b"]}}`, `{"a": 1}`, `data.b is required when data.a is present`},
	} {
		sch, err := compileSchema([]byte(c.schema))
		if err != nil {
			t.Fatalf("%s: %v", c.schema, err)
		}
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(c.data)))
		if err != nil {
			t.Fatal(err)
		}
		err = sch.Validate(inst)
		if err == nil {
			t.Fatalf("%s validates against %s", c.data, c.schema)
		}
		if got := schemaFailures("data", inst, err); got != c.want {
			t.Errorf("%s against %s:\n got %s\nwant %s", c.data, c.schema, got, c.want)
		}
		if got := schemaFailures("data", inst, err); strings.Contains(got, "jsonschema") {
			t.Errorf("%s", got)
		}
	}
}
