package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
)

// maxSchemaFailures is how many of a value's failures against a schema a
// problem describes; the rest are counted.
const maxSchemaFailures = 3

// schemaFailures describes why inst, the value of the request field param,
// does not match a schema: one sentence for each failure, naming the
// field by its path under param and what the schema expects, such as
// "data.id must be a string, not 5". err is what Schema.Validate returned.
func schemaFailures(param string, inst any, err error) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return err.Error()
	}
	var leaves []*jsonschema.ValidationError
	collectFailures(ve, &leaves)
	var out []string
	for _, l := range leaves {
		if len(out) == maxSchemaFailures {
			out = append(out, fmt.Sprintf("and %d more", len(leaves)-maxSchemaFailures))
			break
		}
		out = append(out, describeFailure(param, inst, l))
	}
	if len(out) == 0 {
		return param + " does not match"
	}
	return strings.Join(out, "; ")
}

// collectFailures gathers the failures that say something of the value:
// the leaves of the tree, and the alternatives (anyOf, oneOf) as one each,
// since their branches are not each required.
func collectFailures(e *jsonschema.ValidationError, out *[]*jsonschema.ValidationError) {
	switch e.ErrorKind.(type) {
	case *kind.AnyOf, *kind.OneOf, *kind.Not:
		*out = append(*out, e)
		return
	}
	if len(e.Causes) == 0 {
		switch e.ErrorKind.(type) {
		case *kind.Schema, *kind.Group, *kind.AllOf, *kind.Reference:
			// Containers that hold no failure of their own.
		default:
			*out = append(*out, e)
		}
		return
	}
	for _, c := range e.Causes {
		collectFailures(c, out)
	}
}

// fieldAt names the value at loc (JSON Pointer tokens) under param, as
// the API names fields ("data.items[2].sku"), and returns it.
func fieldAt(param string, inst any, loc []string) (string, any) {
	name, v := param, inst
	for _, tok := range loc {
		switch cur := v.(type) {
		case []any:
			name += "[" + tok + "]"
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(cur) {
				v = cur[i]
			} else {
				v = nil
			}
		case map[string]any:
			name += "." + tok
			v = cur[tok]
		default:
			name += "." + tok
			v = nil
		}
	}
	return name, v
}

func describeFailure(param string, inst any, e *jsonschema.ValidationError) string {
	f, v := fieldAt(param, inst, e.InstanceLocation)
	switch k := e.ErrorKind.(type) {
	case *kind.Type:
		want := make([]string, len(k.Want))
		for i, w := range k.Want {
			want[i] = article(w)
		}
		return fmt.Sprintf("%s must be %s, not %s", f, strings.Join(want, " or "), shown(v))
	case *kind.Required:
		return fieldList(f, k.Missing) + " required"
	case *kind.DependentRequired:
		return fieldList(f, k.Missing) + fmt.Sprintf(" required when %s.%s is present", f, k.Prop)
	case *kind.Dependency:
		return fieldList(f, k.Missing) + fmt.Sprintf(" required when %s.%s is present", f, k.Prop)
	case *kind.AdditionalProperties:
		names := make([]string, len(k.Properties))
		for i, p := range k.Properties {
			names[i] = f + "." + p
		}
		verb := " is"
		if len(names) > 1 {
			verb = " are"
		}
		return strings.Join(names, ", ") + verb + " not allowed: the schema admits no other properties there"
	case *kind.PropertyNames:
		return fmt.Sprintf("%s has a property named %q, which the schema does not allow", f, k.Property)
	case *kind.Enum:
		return fmt.Sprintf("%s must be one of %s, not %s", f, jsonList(k.Want), shown(v))
	case *kind.Const:
		return fmt.Sprintf("%s must be %s, not %s", f, compact(k.Want), shown(v))
	case *kind.Minimum:
		return fmt.Sprintf("%s must be at least %s, not %s", f, rat(k.Want), shown(v))
	case *kind.Maximum:
		return fmt.Sprintf("%s must be at most %s, not %s", f, rat(k.Want), shown(v))
	case *kind.ExclusiveMinimum:
		return fmt.Sprintf("%s must be greater than %s, not %s", f, rat(k.Want), shown(v))
	case *kind.ExclusiveMaximum:
		return fmt.Sprintf("%s must be less than %s, not %s", f, rat(k.Want), shown(v))
	case *kind.MultipleOf:
		return fmt.Sprintf("%s must be a multiple of %s, not %s", f, rat(k.Want), shown(v))
	case *kind.MinLength:
		return fmt.Sprintf("%s must be at least %d characters long, not %d", f, k.Want, k.Got)
	case *kind.MaxLength:
		return fmt.Sprintf("%s must be at most %d characters long, not %d", f, k.Want, k.Got)
	case *kind.Pattern:
		return fmt.Sprintf("%s must match the pattern %s, not %s", f, k.Want, shown(v))
	case *kind.Format:
		return fmt.Sprintf("%s must be a valid %s, not %s", f, k.Want, shown(v))
	case *kind.MinItems:
		return fmt.Sprintf("%s must have at least %d items, not %d", f, k.Want, k.Got)
	case *kind.MaxItems:
		return fmt.Sprintf("%s must have at most %d items, not %d", f, k.Want, k.Got)
	case *kind.AdditionalItems:
		return fmt.Sprintf("%s has %d items more than the schema allows", f, k.Count)
	case *kind.UniqueItems:
		return fmt.Sprintf("%s must hold unique items: %s[%d] and %s[%d] are equal", f, f, k.Duplicates[0], f, k.Duplicates[1])
	case *kind.MinProperties:
		return fmt.Sprintf("%s must have at least %d properties, not %d", f, k.Want, k.Got)
	case *kind.MaxProperties:
		return fmt.Sprintf("%s must have at most %d properties, not %d", f, k.Want, k.Got)
	case *kind.Contains:
		return fmt.Sprintf("%s must hold an item that matches the schema's contains", f)
	case *kind.MinContains:
		return fmt.Sprintf("%s must hold at least %d items that match the schema's contains, not %d", f, k.Want, len(k.Got))
	case *kind.MaxContains:
		return fmt.Sprintf("%s must hold at most %d items that match the schema's contains, not %d", f, k.Want, len(k.Got))
	case *kind.FalseSchema:
		return f + " is not allowed by the schema"
	case *kind.AnyOf:
		return f + " matches none of the schema's alternatives (anyOf)"
	case *kind.OneOf:
		if len(k.Subschemas) > 1 {
			return fmt.Sprintf("%s must match exactly one of the schema's alternatives (oneOf), not %d", f, len(k.Subschemas))
		}
		return f + " matches none of the schema's alternatives (oneOf)"
	case *kind.Not:
		return f + " must not match the schema under not"
	}
	// A kind without its own sentence keeps the library's words, after the
	// field's name.
	one := &jsonschema.ValidationError{ErrorKind: e.ErrorKind}
	_, msg, _ := strings.Cut(one.Error(), ": ")
	return f + ": " + msg
}

// article puts "a" or "an" before a JSON type's name.
func article(typ string) string {
	switch typ {
	case "null":
		return "null"
	case "integer", "object", "array":
		return "an " + typ
	}
	return "a " + typ
}

// shown names a value in a sentence: scalars as JSON, shortened; objects
// and arrays by their type.
func shown(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return compact(v)
}

// compact writes v as JSON of at most 40 characters.
func compact(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	if s := string(b); len(s) > 40 {
		return s[:37] + "…"
	}
	return string(b)
}

func jsonList(vs []any) string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = compact(v)
	}
	return strings.Join(out, ", ")
}

// fieldList names the properties of f, with the verb's number.
func fieldList(f string, props []string) string {
	names := make([]string, len(props))
	for i, p := range props {
		names[i] = f + "." + p
	}
	if len(names) == 1 {
		return names[0] + " is"
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1] + " are"
}

// rat writes a schema's bound as the number it was written as, near
// enough.
func rat(r *big.Rat) string {
	if r == nil {
		return "?"
	}
	if r.IsInt() {
		return r.Num().String()
	}
	f, _ := r.Float64()
	return strconv.FormatFloat(f, 'g', -1, 64)
}
