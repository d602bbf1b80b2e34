package ui

import (
	"bytes"
	"encoding/json"
	"slices"
	"strconv"
)

// exampleDepth is how deep exampleOf follows nested schemas; deeper ones
// are shown as null.
const exampleDepth = 8

// formatSamples are the strings exampleOf gives a string of a format.
var formatSamples = map[string]string{
	"date-time": "2026-01-01T00:00:00Z",
	"date":      "2026-01-01",
	"time":      "00:00:00Z",
	"duration":  "PT1H",
	"email":     "user@example.com",
	"hostname":  "example.com",
	"ipv4":      "192.0.2.1",
	"ipv6":      "2001:db8::1",
	"uri":       "https://example.com/",
	"url":       "https://example.com/",
	"uuid":      "00000000-0000-0000-0000-000000000000",
}

// exampleOf is an example payload of an event type: the first of its
// schema's own examples (the JSON Schema keyword "examples") when it has
// one, else one built from the schema. ok is false without a schema, or
// with one that is not JSON.
func exampleOf(schema json.RawMessage) (ex json.RawMessage, ok bool) {
	var s map[string]json.RawMessage
	if len(bytes.TrimSpace(schema)) == 0 || json.Unmarshal(schema, &s) != nil || s == nil {
		return nil, false
	}
	var examples []json.RawMessage
	if json.Unmarshal(s["examples"], &examples) == nil && len(examples) > 0 {
		return examples[0], true
	}
	var b bytes.Buffer
	writeExample(&b, schema, 0)
	return b.Bytes(), true
}

// writeExample writes a value that fits schema, deterministically: an
// object's properties, the required ones first in their order, then the
// others by name; a const or an enum's first value; a string "string" or
// its format's sample; a number or integer its minimum, else 0; a boolean
// false; an array one item; the first of oneOf and anyOf, the first of
// allOf. $ref is not followed (null).
func writeExample(b *bytes.Buffer, schema json.RawMessage, depth int) {
	var s struct {
		Type       json.RawMessage            `json:"type"`
		Const      json.RawMessage            `json:"const"`
		Enum       []json.RawMessage          `json:"enum"`
		Format     string                     `json:"format"`
		Minimum    json.Number                `json:"minimum"`
		Properties map[string]json.RawMessage `json:"properties"`
		Required   []string                   `json:"required"`
		Items      json.RawMessage            `json:"items"`
		OneOf      []json.RawMessage          `json:"oneOf"`
		AnyOf      []json.RawMessage          `json:"anyOf"`
		AllOf      []json.RawMessage          `json:"allOf"`
	}
	if depth > exampleDepth || json.Unmarshal(schema, &s) != nil {
		b.WriteString("null")
		return
	}
	switch {
	case s.Const != nil:
		b.Write(compact(s.Const))
		return
	case len(s.Enum) > 0:
		b.Write(compact(s.Enum[0]))
		return
	}
	for _, alt := range [][]json.RawMessage{s.OneOf, s.AnyOf, s.AllOf} {
		if len(alt) > 0 && s.Type == nil && s.Properties == nil {
			writeExample(b, alt[0], depth+1)
			return
		}
	}
	switch typeOf(s.Type, s.Properties != nil, s.Items != nil) {
	case "object":
		names := slices.Clone(s.Required)
		rest := make([]string, 0, len(s.Properties))
		for k := range s.Properties {
			if !slices.Contains(names, k) {
				rest = append(rest, k)
			}
		}
		slices.Sort(rest)
		b.WriteByte('{')
		for i, k := range append(names, rest...) {
			if i > 0 {
				b.WriteByte(',')
			}
			key, _ := json.Marshal(k)
			b.Write(key)
			b.WriteByte(':')
			if p, ok := s.Properties[k]; ok {
				writeExample(b, p, depth+1)
			} else {
				b.WriteString(`"string"`) // required, but no schema
			}
		}
		b.WriteByte('}')
	case "array":
		b.WriteByte('[')
		if s.Items != nil {
			writeExample(b, s.Items, depth+1)
		}
		b.WriteByte(']')
	case "string":
		v := "string"
		if sample, ok := formatSamples[s.Format]; ok {
			v = sample
		}
		q, _ := json.Marshal(v)
		b.Write(q)
	case "number", "integer":
		if _, err := strconv.ParseFloat(string(s.Minimum), 64); err == nil {
			b.WriteString(string(s.Minimum))
		} else {
			b.WriteByte('0')
		}
	case "boolean":
		b.WriteString("false")
	default:
		b.WriteString("null")
	}
}

// typeOf is a schema's type: its "type", the first but "null" of a list
// of types, else "object" with properties and "array" with items.
func typeOf(raw json.RawMessage, hasProperties, hasItems bool) string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return one
	}
	var many []string
	if json.Unmarshal(raw, &many) == nil {
		for _, t := range many {
			if t != "null" {
				return t
			}
		}
		if len(many) > 0 {
			return many[0]
		}
	}
	switch {
	case hasProperties:
		return "object"
	case hasItems:
		return "array"
	}
	return ""
}

// compact is v without its spacing; v as it is when it is not JSON.
func compact(v json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return v
	}
	return b.Bytes()
}
