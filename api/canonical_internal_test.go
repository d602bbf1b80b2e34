package api

import (
	"bytes"
	"encoding/json"
	"testing"
)

// Issue 22, item 3: idempotent repeats compare by canonical JSON, so the
// same value encoded by another client is the same event; numbers compare
// as written.
func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	same := [][2]string{
		{`{"id":1001,"tags":["a","b"]}`, "{\n  \"id\": 1001,\n  \"tags\": [ \"a\", \"b\" ]\n}\n"},
		{`{"b":1,"a":{"y":2,"x":3}}`, `{"a":{"x":3,"y":2},"b":1}`},
		{`"A/"`, `"\u0041\/"`},
		{`"é"`, `"\u00e9"`},
		{`"😀"`, `"\ud83d\ude00"`},
		{`"\n"`, `"\u000a"`},
		{`{"\u0061":1}`, `{"a":1}`},
		{` [ ] `, `[]`},
		{`{ }`, `{}`},
		{`null`, ` null`},
		{`-0.5e+10`, `-0.5e+10`},
	}
	for _, p := range same {
		a, errA := canonicalJSON([]byte(p[0]))
		b, errB := canonicalJSON([]byte(p[1]))
		if errA != nil || errB != nil || !bytes.Equal(a, b) {
			t.Errorf("%s and %s: canonical %s (%v) and %s (%v), want equal", p[0], p[1], a, errA, b, errB)
		}
	}
	differ := [][2]string{
		{`1`, `1.0`},
		{`1e2`, `100`},
		{`0`, `-0`},
		{`1E2`, `1e2`},
		{`{"a":1,"a":2}`, `{"a":2,"a":1}`},
		{`[1,2]`, `[2,1]`},
		{`"\ud800"`, `"\ufffd"`},
		{`"a"`, `"a "`},
		{`{"a":null}`, `{}`},
		{`true`, `"true"`},
	}
	for _, p := range differ {
		a, errA := canonicalJSON([]byte(p[0]))
		b, errB := canonicalJSON([]byte(p[1]))
		if errA != nil || errB != nil || bytes.Equal(a, b) {
			t.Errorf("%s and %s: canonical %s (%v) and %s (%v), want different", p[0], p[1], a, errA, b, errB)
		}
	}
	for _, bad := range []string{``, `{`, `[1,]`, `{"a"}`, `{"a":1,}`, `01`, `1.`, `.5`, `1e`, `-`, `+1`, `"\x"`, `"\u12"`, `"\u00zz"`,
		"\"a\nb\"", `tru`, `nul`, `1 2`, `{"a":1}}`, `[`, `"abc`} {
		if out, err := canonicalJSON([]byte(bad)); err == nil {
			t.Errorf("%q: canonical %s, want an error", bad, out)
		}
	}
}

// Whatever encoding/json takes has a canonical form, and indenting it does
// not change that form.
func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{"id":1001,"x":[1,2.50,"\u00e9"]}`, `[]`, `"\ud800\udc00"`, `{"b":{},"a":[{}]}`, `-0.0E-0`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := canonicalJSON(b)
		if !json.Valid(b) {
			return
		}
		if err != nil {
			t.Fatalf("%q is JSON, canonicalJSON says %v", b, err)
		}
		var ind bytes.Buffer
		if err := json.Indent(&ind, b, "", "  "); err != nil {
			t.Fatal(err)
		}
		again, err := canonicalJSON(ind.Bytes())
		if err != nil || !bytes.Equal(out, again) {
			t.Fatalf("%q: canonical %q, indented %q (%v)", b, out, again, err)
		}
		twice, err := canonicalJSON(out)
		if json.Valid(out) && (err != nil || !bytes.Equal(out, twice)) {
			t.Fatalf("%q: canonical %q is not its own canonical form: %q (%v)", b, out, twice, err)
		}
	})
}
