package hookgate

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// MaxSourceHeaderLength bounds eventType.header and eventType.pointer.
const MaxSourceHeaderLength = 256

// Check reports what is wrong with t, naming the field (eventType.header,
// eventType.pointer, eventType.default): at most one of header and
// pointer, the pointer a valid JSON Pointer (RFC 6901), the default a
// valid event type; at least one of the three.
func (t SourceEventType) Check() error {
	switch {
	case t.Header != "" && t.Pointer != "":
		return InvalidParam("eventType.pointer", t.Pointer, "eventType takes a header or a pointer, not both")
	case t.Header == "" && t.Pointer == "" && t.Default == "":
		return MissingParam("eventType")
	case len(t.Header) > MaxSourceHeaderLength || strings.ContainsAny(t.Header, "\x00\r\n"):
		return InvalidParam("eventType.header", t.Header, "eventType.header is a header's name of at most %d bytes", MaxSourceHeaderLength)
	}
	if t.Pointer != "" {
		if _, err := splitPointer(t.Pointer); err != nil || len(t.Pointer) > MaxSourceHeaderLength {
			return InvalidParam("eventType.pointer", t.Pointer, "eventType.pointer must be a JSON Pointer (RFC 6901) such as /type, of at most %d bytes", MaxSourceHeaderLength)
		}
	}
	if t.Default != "" {
		if err := ValidateEventType("eventType.default", t.Default); err != nil {
			return err
		}
		if IsOperational(t.Default) {
			return InvalidParam("eventType.default", t.Default, "eventType.default may not begin with %q: those types are Hookgate's operational events", OperationalPrefix)
		}
	}
	return nil
}

// TypeOf returns the event type of m, whose body is body (JSON), as t
// says: the header (by its name, else any case of it), the string at
// the pointer, else the default. A message where none is found is an
// error that says why.
func (t SourceEventType) TypeOf(m SourceMessage, body json.RawMessage) (string, error) {
	switch {
	case t.Header != "":
		if v, ok := header(m.Headers, t.Header); ok && v != "" {
			return v, nil
		}
		if t.Default == "" {
			return "", fmt.Errorf("the message has no %s header for its event type, and the source no eventType.default", t.Header)
		}
	case t.Pointer != "":
		v, found, err := pointAt(body, t.Pointer)
		if err != nil {
			return "", err
		}
		if found {
			return v, nil
		}
		if t.Default == "" {
			return "", fmt.Errorf("the body has no string at %s for the event type, and the source no eventType.default", t.Pointer)
		}
	}
	return t.Default, nil
}

// header finds name in h, exactly, else in any case.
func header(h map[string]string, name string) (string, bool) {
	if v, ok := h[name]; ok {
		return v, true
	}
	for k, v := range h {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return "", false
}

// splitPointer splits an RFC 6901 pointer into its reference tokens,
// unescaped; "" is the whole document.
func splitPointer(p string) ([]string, error) {
	if p == "" {
		return nil, nil
	}
	if p[0] != '/' {
		return nil, fmt.Errorf("a JSON Pointer begins with /")
	}
	parts := strings.Split(p[1:], "/")
	for i, s := range parts {
		for j := 0; j < len(s); j++ {
			if s[j] == '~' && (j+1 == len(s) || s[j+1] != '0' && s[j+1] != '1') {
				return nil, fmt.Errorf("~ is followed by 0 or 1 in a JSON Pointer")
			}
		}
		parts[i] = strings.ReplaceAll(strings.ReplaceAll(s, "~1", "/"), "~0", "~")
	}
	return parts, nil
}

// pointAt returns the string at pointer p in doc; found is false when
// nothing is there. A value there that is not a string is an error.
func pointAt(doc json.RawMessage, p string) (string, bool, error) {
	tokens, err := splitPointer(p)
	if err != nil {
		return "", false, err
	}
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return "", false, fmt.Errorf("the body is not JSON")
	}
	for _, tok := range tokens {
		switch x := v.(type) {
		case map[string]any:
			next, ok := x[tok]
			if !ok {
				return "", false, nil
			}
			v = next
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) || tok != strconv.Itoa(i) {
				return "", false, nil
			}
			v = x[i]
		default:
			return "", false, nil
		}
	}
	if v == nil {
		return "", false, nil
	}
	s, ok := v.(string)
	if !ok {
		return "", false, fmt.Errorf("the value at %s is not a string but %s", p, jsonKind(v))
	}
	return s, true, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	}
	return "null"
}
