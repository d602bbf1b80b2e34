package expressions_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/expressions"
)

// The page whose examples TestFiltersDoc runs. Its fenced blocks follow a
// convention, by info string:
//
//   - "cel filter", "cel transform", "cel transformHeaders": an expression
//     of that field, which must compile unless the next block is
//     "text <field> error", its error message exactly;
//   - "json metadata": the webhook's metadata for the rest of the section;
//   - "json event": a sample event, {"id", "type", "timestamp", "data"};
//   - "text filter result" (true, false or failed), "json body" and "text
//     body" (what the transform sends, as JSON or as text), "json headers"
//     (what transformHeaders adds): what the section's expression makes of
//     the last event.
//
// A heading starts a new section, forgetting the expressions, the metadata
// and the event of the previous one. Blocks with no role (```sh, ```json)
// are left alone.
const filtersDoc = "../docs/filters.md"

// TestFiltersDoc: every expression of docs/filters.md compiles, or fails
// with the message shown, and every cookbook case makes what the page says.
func TestFiltersDoc(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filtersDoc)
	if err != nil {
		t.Fatal(err)
	}
	r := checkFiltersDoc(string(src))
	for _, p := range r.problems {
		t.Error(p)
	}
	if r.cases < 10 {
		t.Errorf("%s has %d cookbook cases checked, want at least 10", filtersDoc, r.cases)
	}
	if r.outcomes < 30 {
		t.Errorf("%s has %d outcomes checked, fewer than it shows", filtersDoc, r.outcomes)
	}
}

// TestFiltersDocCatchesMistakes: the check fails when the page is wrong.
func TestFiltersDocCatchesMistakes(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile(filtersDoc)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(src)
	base := len(checkFiltersDoc(doc).problems)
	tests := []struct{ name, old, new string }{
		{"filter result", "```text filter result\ntrue\n```", "```text filter result\nfalse\n```"},
		{"failed result", "```text filter result\nfailed\n```", "```text filter result\nfalse\n```"},
		{"JSON body", `{"text": "Order ord_1042 paid: 149.5 EUR"}`, `{"text": "Order ord_1042 paid: 149 EUR"}`},
		{"text body", "order=ord_1042&status=paid&amount=149.5&currency=EUR\n", "order=ord_1042&status=paid&amount=149.5\n"},
		{"headers", `{"X-Event-Type": "order.paid"}`, `{"X-Event-Type": "order.paid", "X-Tenant": ""}`},
		{"error message", "not dyn\n", "not bool\n"},
		{"expression", "data.currency == 'EUR' && data.total > 100", "data.currency == 'EUR' && data.total > 1000"},
		{"unknown role", "```json event\n", "```json evnt\n"},
		{"event without outcome", "```text filter result\nfalse\n```", "```text\nfalse\n```"},
		{"expression that does not compile", "data.items.exists(i, i.sku.startsWith('GC-'))", "data.items.exists(i, i.sku.startsWith('GC-')"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if !strings.Contains(doc, tt.old) {
				t.Fatalf("%s no longer holds %q: update this test", filtersDoc, tt.old)
			}
			r := checkFiltersDoc(strings.Replace(doc, tt.old, tt.new, 1))
			if len(r.problems) <= base {
				t.Errorf("replacing %q by %q went unnoticed", tt.old, tt.new)
			}
		})
	}
}

// docReport is what checkFiltersDoc found: the cookbook cases checked, the
// outcomes checked, and what is wrong.
type docReport struct {
	cases, outcomes int
	problems        []string
}

// docBlock is a fenced block of the page.
type docBlock struct {
	line int    // of its opening fence
	info string // its info string, such as "cel filter"
	body string // its content, with its last newline
}

// docSection is the state of the section being read.
type docSection struct {
	cookbook  bool
	filter    *expressions.Filter
	transform *expressions.Transform
	headers   *expressions.Headers
	checked   map[string]bool // the fields whose expression made an outcome
	metadata  map[string]string
	event     *expressions.Event
	eventLine int
	outcomes  int // of the last event
}

func checkFiltersDoc(doc string) docReport {
	var r docReport
	fail := func(line int, format string, args ...any) {
		r.problems = append(r.problems, fmt.Sprintf("%s:%d: %s", filtersDoc, line, fmt.Sprintf(format, args...)))
	}
	var (
		sec     docSection
		secLine int
		inBook  bool
		pending *docBlock // a cel block that did not compile, which an error block must follow
		pendErr error
	)
	endEvent := func() {
		if sec.event != nil && sec.outcomes == 0 {
			fail(sec.eventLine, "an event with no outcome after it")
		}
		sec.event = nil
	}
	endSection := func() {
		endEvent()
		if pending != nil {
			fail(pending.line, "%s does not compile: %v", pending.info, pendErr)
			pending = nil
		}
		if !sec.cookbook {
			return
		}
		n := 0
		for field, ok := range map[string]bool{"filter": sec.filter != nil, "transform": sec.transform != nil, "transformHeaders": sec.headers != nil} {
			if ok && !sec.checked[field] {
				fail(secLine, "the case's %s makes no outcome shown", field)
			}
			if ok {
				n++
			}
		}
		if n == 0 {
			fail(secLine, "a cookbook case with no expression")
			return
		}
		if len(sec.checked) > 0 {
			r.cases++
		}
	}
	blocks, headings := docBlocks(doc)
	hi := 0
	for _, b := range blocks {
		for hi < len(headings) && headings[hi].line < b.line {
			endSection()
			h := headings[hi]
			if strings.HasPrefix(h.text, "## ") {
				inBook = h.text == "## Cookbook"
			}
			sec = docSection{cookbook: inBook && strings.HasPrefix(h.text, "### "), checked: map[string]bool{}}
			secLine = h.line
			hi++
		}
		lang, role, _ := strings.Cut(b.info, " ")
		if pending != nil {
			if b.info != "text "+strings.TrimPrefix(pending.info, "cel ")+" error" {
				fail(pending.line, "%s does not compile: %v", pending.info, pendErr)
			} else {
				var he *hookgate.Error
				if !errors.As(pendErr, &he) {
					fail(b.line, "the error %v is not a *hookgate.Error", pendErr)
				} else if got, want := he.Message, strings.TrimSuffix(b.body, "\n"); got != want {
					fail(b.line, "the error is\n%s\nnot\n%s", got, want)
				}
				r.outcomes++
				pending = nil
				continue
			}
			pending = nil
		}
		if role == "" {
			if lang == "cel" {
				fail(b.line, "a cel block that does not say whose expression it is")
			}
			continue
		}
		switch b.info {
		case "cel filter", "cel transform", "cel transformHeaders":
			src := strings.TrimSuffix(b.body, "\n")
			var err error
			switch role {
			case "filter":
				sec.filter, err = expressions.CompileFilter(src)
			case "transform":
				sec.transform, err = expressions.CompileTransform(src)
			case "transformHeaders":
				sec.headers, err = expressions.CompileHeaders(src)
			}
			if err != nil {
				pending, pendErr = &b, err
			}
		case "text filter error", "text transform error", "text transformHeaders error":
			fail(b.line, "an error with no expression that fails before it")
		case "json metadata":
			sec.metadata = nil
			if err := strictJSON(b.body, &sec.metadata); err != nil {
				fail(b.line, "metadata: %v", err)
			}
		case "json event":
			endEvent()
			var ev struct {
				ID        string          `json:"id"`
				Type      string          `json:"type"`
				Timestamp time.Time       `json:"timestamp"`
				Data      json.RawMessage `json:"data"`
			}
			if err := strictJSON(b.body, &ev); err != nil {
				fail(b.line, "event: %v", err)
				continue
			}
			if ev.Type == "" || ev.Timestamp.IsZero() {
				fail(b.line, "an event without its type or timestamp")
			}
			sec.event = &expressions.Event{ID: ev.ID, Type: ev.Type, Timestamp: ev.Timestamp, Data: ev.Data}
			sec.eventLine, sec.outcomes = b.line, 0
		case "text filter result", "json body", "text body", "json headers":
			if sec.event == nil {
				fail(b.line, "an outcome with no event before it")
				continue
			}
			ev := *sec.event
			ev.Metadata = sec.metadata
			if msg := checkOutcome(b, &sec, ev); msg != "" {
				fail(b.line, "%s", msg)
			}
			sec.outcomes++
			r.outcomes++
		default:
			fail(b.line, "a block of unknown role %q", b.info)
		}
	}
	endSection()
	return r
}

// checkOutcome runs the section's expression that b shows the outcome of on
// ev, and says what differs, or "".
func checkOutcome(b docBlock, sec *docSection, ev expressions.Event) string {
	ctx := context.Background()
	want := strings.TrimSuffix(b.body, "\n")
	switch b.info {
	case "text filter result":
		if sec.filter == nil {
			return "a filter result with no filter"
		}
		sec.checked["filter"] = true
		ok, err := sec.filter.Match(ctx, ev)
		got := fmt.Sprint(ok)
		if errors.Is(err, expressions.ErrNoMatch) {
			got = "failed"
		} else if err != nil {
			return fmt.Sprintf("the filter: %v", err)
		}
		if got != want {
			return fmt.Sprintf("the filter's result is %s, not %s (%v)", got, want, err)
		}
	case "json body", "text body":
		if sec.transform == nil {
			return "a body with no transform"
		}
		sec.checked["transform"] = true
		body, ct, err := sec.transform.Apply(ctx, ev)
		if err != nil {
			return fmt.Sprintf("the transform: %v", err)
		}
		if b.info == "text body" {
			if ct != expressions.ContentTypeText || string(body) != want {
				return fmt.Sprintf("the transform makes %s\n%s\nnot text\n%s", ct, body, want)
			}
			return ""
		}
		if ct != expressions.ContentTypeJSON {
			return fmt.Sprintf("the transform makes %s, not JSON: %s", ct, body)
		}
		return jsonDiff(body, want)
	case "json headers":
		if sec.headers == nil {
			return "headers with no transformHeaders"
		}
		sec.checked["transformHeaders"] = true
		in, err := expressions.NewInput(ev)
		if err != nil {
			return err.Error()
		}
		h, err := sec.headers.ApplyInput(ctx, in)
		if err != nil {
			return fmt.Sprintf("transformHeaders: %v", err)
		}
		var wantH map[string]string
		if err := strictJSON(want, &wantH); err != nil {
			return fmt.Sprintf("headers: %v", err)
		}
		if !reflect.DeepEqual(h, wantH) {
			return fmt.Sprintf("transformHeaders makes %v, not %v", h, wantH)
		}
	}
	return ""
}

// jsonDiff compares the body got with the JSON want, as values.
func jsonDiff(got []byte, want string) string {
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		return fmt.Sprintf("the body is not JSON: %v", err)
	}
	if err := strictJSON(want, &w); err != nil {
		return fmt.Sprintf("the body shown: %v", err)
	}
	if !reflect.DeepEqual(g, w) {
		return fmt.Sprintf("the transform makes\n%s\nnot\n%s", got, want)
	}
	return ""
}

// strictJSON decodes one JSON value of s into v, refusing unknown fields.
func strictJSON(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("more than one JSON value")
	}
	return nil
}

// docHeading is a heading of the page.
type docHeading struct {
	line int
	text string
}

// docBlocks returns the fenced blocks and the headings outside them, each
// with its line.
func docBlocks(doc string) ([]docBlock, []docHeading) {
	var (
		blocks   []docBlock
		headings []docHeading
		cur      *docBlock
		body     bytes.Buffer
	)
	sc := bufio.NewScanner(strings.NewReader(doc))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case cur == nil && strings.HasPrefix(line, "```"):
			cur = &docBlock{line: n, info: strings.TrimSpace(strings.TrimPrefix(line, "```"))}
			body.Reset()
		case cur != nil && line == "```":
			cur.body = body.String()
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil:
			body.WriteString(line + "\n")
		case strings.HasPrefix(line, "#"):
			headings = append(headings, docHeading{line: n, text: line})
		}
	}
	return blocks, headings
}
