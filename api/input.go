package api

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/hookgate/hookgate"
)

// badText reports whether s is not text every engine stores: invalid
// UTF-8, or a NUL (PostgreSQL refuses both in TEXT; SQLite would keep
// bytes no JSON reader takes).
func badText(s string) bool { return !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 }

// checkInput refuses, before any handler or database sees them, the inputs
// that the engines would take differently: text that is not UTF-8 or holds
// a NUL in the path, the query or a JSON body, and a malformed
// Content-Type. An operation that needs a key is authenticated here, from
// the headers, before its body is read (see body.go). It returns the
// request to serve, its body read and checked, or nil when it answered.
func (s *Server) checkInput(w http.ResponseWriter, r *http.Request, pattern string) *http.Request {
	if name, ok := badPathSegment(pattern, r.URL.Path); ok {
		writeProblem(w, r, problemFrom(hookgate.InvalidParam(name, nil, "%s is not valid UTF-8 text, or holds a NUL", name)))
		return nil
	}
	for k, vs := range r.URL.Query() {
		if badText(k) {
			writeProblem(w, r, problemFrom(hookgate.InvalidParam("query", nil, "a query parameter name is not valid UTF-8 text, or holds a NUL")))
			return nil
		}
		for _, v := range vs {
			if badText(v) {
				writeProblem(w, r, problemFrom(hookgate.InvalidParam(k, nil, "%s is not valid UTF-8 text, or holds a NUL", k)))
				return nil
			}
		}
	}
	if strings.HasPrefix(r.URL.Path, "/inbound/") {
		return r // a provider's post is checked by its provider
	}
	// Authenticate from the headers before a byte of the body is read:
	// an unauthenticated client holds none of the body budget.
	acc, isOp := s.access[pattern]
	if isOp && acc != accessPublic {
		p, prob := s.headerPrincipal(r.Context(), r.RemoteAddr, r.Header.Get)
		if prob != nil {
			writeProblem(w, r, prob)
			return nil
		}
		if info, ok := r.Context().Value(reqInfoKey{}).(*reqInfo); ok {
			info.principal = p
		}
	}
	if r.Body == nil || r.Body == http.NoBody {
		return r
	}
	if !isOp {
		return s.budgetBody(w, r) // the dashboard reads its own forms
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		if _, _, err := mime.ParseMediaType(ct); err != nil {
			writeProblem(w, r, newProblem(http.StatusUnsupportedMediaType, hookgate.EUnsupportedMediaType,
				"the Content-Type header is malformed; send the body as application/json"))
			return nil
		}
	}
	// The largest body any operation takes; each operation's own limit is
	// checked after, by huma.
	body, prob := s.readBody(w, r, 16*s.cfg.MaxEventBytes, s.bodies)
	if prob != nil {
		writeProblem(w, r, prob)
		return nil
	}
	if !utf8.Valid(body) || bytes.Contains(body, []byte(`\u0000`)) || bytes.IndexByte(body, 0) >= 0 {
		if p := badJSONText(body); p != nil {
			writeProblem(w, r, p)
			return nil
		}
	}
	r2 := r.Clone(r.Context())
	r2.Body = io.NopCloser(bytes.NewReader(body))
	r2.ContentLength = int64(len(body))
	return r2
}

// badPathSegment finds a path segment that is not text and names the
// parameter of pattern ("GET /api/v1/projects/{project}/events/{id}") it
// stands for.
func badPathSegment(pattern, path string) (string, bool) {
	if !badText(path) {
		return "", false
	}
	_, pat, _ := strings.Cut(pattern, " ")
	ps, segs := strings.Split(pat, "/"), strings.Split(path, "/")
	for i, seg := range segs {
		if !badText(seg) {
			continue
		}
		if i < len(ps) && strings.HasPrefix(ps[i], "{") {
			return strings.Trim(ps[i], "{}."), true
		}
		return "path", true
	}
	return "path", true
}

// badJSONText walks a JSON body and returns the problem naming the first
// field whose text is not valid UTF-8 (invalid_json) or holds a NUL
// (invalid_parameter); nil when there is none (a "\\u0000" that is only an
// escaped backslash) or the JSON is malformed, which huma reports.
func badJSONText(body []byte) *Problem {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		object bool
		key    string
		index  int
		// wantKey is set in an object when the next string is a key.
		wantKey bool
	}
	var stack []frame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			switch {
			case f.object && f.key != "":
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			case !f.object:
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		if b.Len() == 0 {
			return "body"
		}
		return b.String()
	}
	prev := int64(0)
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		raw := body[prev:dec.InputOffset()]
		prev = dec.InputOffset()
		top := len(stack) - 1
		isKey := top >= 0 && stack[top].object && stack[top].wantKey
		if str, ok := tok.(string); ok {
			if isKey {
				stack[top].key, stack[top].wantKey = str, false
			}
			switch {
			case !utf8.Valid(raw):
				p := newProblem(http.StatusBadRequest, hookgate.EInvalidJSON, path()+" is not valid UTF-8 text")
				p.ParameterName = path()
				return p
			case strings.IndexByte(str, 0) >= 0:
				p := newProblem(http.StatusBadRequest, hookgate.EInvalidParameter, path()+" holds a NUL character, which no text may")
				p.ParameterName = path()
				return p
			}
			if isKey {
				continue
			}
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, frame{object: true, wantKey: true})
			continue
		case json.Delim('['):
			stack = append(stack, frame{})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		}
		// A value ended: the enclosing object wants a key next, the
		// enclosing array moves to its next item.
		if top = len(stack) - 1; top >= 0 {
			if stack[top].object {
				stack[top].wantKey = true
			} else {
				stack[top].index++
			}
		}
	}
}
