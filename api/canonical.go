package api

import (
	"errors"
	"sort"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// maxCanonicalDepth bounds the nesting canonicalJSON follows; the JSON
// decoder that read the body already refuses deeper values.
const maxCanonicalDepth = 10000

var errNotJSON = errors.New("not a JSON value")

// canonicalJSON returns the canonical form of the JSON value b, the form in
// which idempotent repeats of an event are compared: two values with the
// same canonical form are the same event, whoever encoded them. It is a
// digest's input, not a document to send. The form is:
//
//   - no whitespace outside strings;
//   - the members of each object sorted by key, comparing the keys' decoded
//     text byte by byte (UTF-8); members with equal keys keep their order;
//   - strings compared by what they decode to: "\u0041" is "A", "\/" is
//     "/", and a lone surrogate escape ("\ud800") stays apart from every
//     character;
//   - numbers exactly as written: 1, 1.0, 1e0 and 10e-1 are four numbers,
//     and -0 is not 0;
//   - true, false and null as they are; array items in their order.
func canonicalJSON(b []byte) ([]byte, error) {
	c := canon{in: b, out: make([]byte, 0, len(b))}
	if err := c.value(0); err != nil {
		return nil, err
	}
	c.space()
	if c.i != len(c.in) {
		return nil, errNotJSON
	}
	return c.out, nil
}

type canon struct {
	in  []byte
	i   int
	out []byte
}

func (c *canon) space() {
	for c.i < len(c.in) {
		switch c.in[c.i] {
		case ' ', '\t', '\n', '\r':
			c.i++
		default:
			return
		}
	}
}

func (c *canon) value(depth int) error {
	if depth > maxCanonicalDepth {
		return errNotJSON
	}
	c.space()
	if c.i >= len(c.in) {
		return errNotJSON
	}
	switch ch := c.in[c.i]; {
	case ch == '{':
		return c.object(depth)
	case ch == '[':
		return c.array(depth)
	case ch == '"':
		s, err := c.str()
		if err != nil {
			return err
		}
		c.out = appendCanonicalString(c.out, s)
		return nil
	case ch == 't':
		return c.literal("true")
	case ch == 'f':
		return c.literal("false")
	case ch == 'n':
		return c.literal("null")
	default:
		return c.number()
	}
}

func (c *canon) literal(lit string) error {
	if len(c.in)-c.i < len(lit) || string(c.in[c.i:c.i+len(lit)]) != lit {
		return errNotJSON
	}
	c.out = append(c.out, lit...)
	c.i += len(lit)
	return nil
}

// number copies a number as written, once it fits JSON's grammar:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func (c *canon) number() error {
	start := c.i
	digits := func() int {
		n := 0
		for c.i < len(c.in) && c.in[c.i] >= '0' && c.in[c.i] <= '9' {
			c.i++
			n++
		}
		return n
	}
	if c.i < len(c.in) && c.in[c.i] == '-' {
		c.i++
	}
	if c.i < len(c.in) && c.in[c.i] == '0' {
		c.i++
	} else if digits() == 0 {
		return errNotJSON
	}
	if c.i < len(c.in) && c.in[c.i] == '.' {
		c.i++
		if digits() == 0 {
			return errNotJSON
		}
	}
	if c.i < len(c.in) && (c.in[c.i] == 'e' || c.in[c.i] == 'E') {
		c.i++
		if c.i < len(c.in) && (c.in[c.i] == '+' || c.in[c.i] == '-') {
			c.i++
		}
		if digits() == 0 {
			return errNotJSON
		}
	}
	c.out = append(c.out, c.in[start:c.i]...)
	return nil
}

func (c *canon) array(depth int) error {
	c.i++ // [
	c.out = append(c.out, '[')
	c.space()
	if c.i < len(c.in) && c.in[c.i] == ']' {
		c.i++
		c.out = append(c.out, ']')
		return nil
	}
	for {
		if err := c.value(depth + 1); err != nil {
			return err
		}
		c.space()
		if c.i >= len(c.in) {
			return errNotJSON
		}
		switch c.in[c.i] {
		case ',':
			c.i++
			c.out = append(c.out, ',')
		case ']':
			c.i++
			c.out = append(c.out, ']')
			return nil
		default:
			return errNotJSON
		}
	}
}

// member is an object member: its decoded key, and where its canonical
// value lies in the object's buffer.
type member struct {
	key        string
	start, end int
}

func (c *canon) object(depth int) error {
	c.i++ // {
	base := len(c.out)
	var members []member
	c.space()
	if c.i < len(c.in) && c.in[c.i] == '}' {
		c.i++
		c.out = append(c.out, '{', '}')
		return nil
	}
	for {
		c.space()
		if c.i >= len(c.in) || c.in[c.i] != '"' {
			return errNotJSON
		}
		key, err := c.str()
		if err != nil {
			return err
		}
		c.space()
		if c.i >= len(c.in) || c.in[c.i] != ':' {
			return errNotJSON
		}
		c.i++
		start := len(c.out)
		if err := c.value(depth + 1); err != nil {
			return err
		}
		members = append(members, member{key, start - base, len(c.out) - base})
		c.space()
		if c.i >= len(c.in) {
			return errNotJSON
		}
		if c.in[c.i] == '}' {
			c.i++
			break
		}
		if c.in[c.i] != ',' {
			return errNotJSON
		}
		c.i++
	}
	values := append([]byte(nil), c.out[base:]...)
	c.out = c.out[:base]
	sort.SliceStable(members, func(a, b int) bool { return members[a].key < members[b].key })
	c.out = append(c.out, '{')
	for n, m := range members {
		if n > 0 {
			c.out = append(c.out, ',')
		}
		c.out = appendCanonicalString(c.out, m.key)
		c.out = append(c.out, ':')
		c.out = append(c.out, values[m.start:m.end]...)
	}
	c.out = append(c.out, '}')
	return nil
}

// str decodes the string at c.i. A lone surrogate escape decodes to its
// three-byte generalized UTF-8 form, which no valid text contains.
func (c *canon) str() (string, error) {
	c.i++ // "
	var b []byte
	for {
		if c.i >= len(c.in) {
			return "", errNotJSON
		}
		ch := c.in[c.i]
		switch {
		case ch == '"':
			c.i++
			return string(b), nil
		case ch < 0x20:
			return "", errNotJSON
		case ch != '\\':
			b = append(b, ch)
			c.i++
			continue
		}
		if c.i+1 >= len(c.in) {
			return "", errNotJSON
		}
		esc := c.in[c.i+1]
		c.i += 2
		switch esc {
		case '"', '\\', '/':
			b = append(b, esc)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := c.hex4()
			if !ok {
				return "", errNotJSON
			}
			if utf16.IsSurrogate(r) {
				if r < 0xdc00 && c.i+1 < len(c.in) && c.in[c.i] == '\\' && c.in[c.i+1] == 'u' {
					save := c.i
					c.i += 2
					if lo, ok := c.hex4(); ok && lo >= 0xdc00 && lo <= 0xdfff {
						b = utf8.AppendRune(b, utf16.DecodeRune(r, lo))
						continue
					}
					c.i = save
				}
				b = append(b, 0xe0|byte(r>>12), 0x80|byte(r>>6)&0x3f, 0x80|byte(r)&0x3f)
				continue
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", errNotJSON
		}
	}
}

func (c *canon) hex4() (rune, bool) {
	if len(c.in)-c.i < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(c.in[c.i:c.i+4]), 16, 32)
	if err != nil {
		return 0, false
	}
	c.i += 4
	return rune(n), true
}

// appendCanonicalString writes s quoted, escaping only the quote, the
// backslash and control characters.
func appendCanonicalString(out []byte, s string) []byte {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '"' || ch == '\\':
			out = append(out, '\\', ch)
		case ch < 0x20:
			out = append(out, '\\', 'u', '0', '0', hex[ch>>4], hex[ch&0xf])
		default:
			out = append(out, ch)
		}
	}
	return append(out, '"')
}
