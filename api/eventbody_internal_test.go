package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/danielgtaylor/huma/v2"
)

// eventBodies are bodies for sendEvent, good and bad, whole or as the
// items of a batch.
var eventBodies = []string{
	`{"type":"order.created","data":{"id":12345,"amount":"19.99","currency":"EUR"}}`,
	`{"type":"a.b","data":1,"idempotencyKey":"k1"}`,
	" \n{ \"data\" :\t[ ] , \"type\" : \"a.b\" }",
	`{"data":"}\"]","type":"a.b"}`,
	`{"type":"a.b","data":[{"x":"]"},{}],"idempotencyKey":""}`,
	`{"type":"` + strings.Repeat("é", 256) + `","data":null}`,
	`{"type":"` + strings.Repeat("é", 257) + `","data":0}`,
	`{"type":"a.b","data":1,"idempotencyKey":null}`,
	`{"type":"a\u002eb","data":0}`,
	`{"ty\u0070e":"a.b","data":false}`,
	`{"TYPE":"c.d","Data":{}}`,
	`{"type":"x.y","type":"a.b","data":1}`,
	`{"type":5,"type":"a.b","data":1}`,
	`{"type":"a.b","data":1,"data":2}`,
	`{"type":"a.b","data":1,"extra":1}`,
	`{"type":5,"data":1}`,
	`{"data":1}`,
	`{"type":"a.b"}`,
	`{}`,
	`[]`,
	`"a.b"`,
	`null`,
	`5`,
}

// refDecode is what huma did with a body before it was decoded once: it
// validates v against the schema of v's type, then decodes into v without
// UnmarshalJSON (plain). ok is false when either fails.
func refDecode(t *testing.T, b []byte, v, plain any) bool {
	t.Helper()
	reg := huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer)
	schema := reg.Schema(reflect.TypeOf(v).Elem(), true, "")
	var parsed any
	if err := json.Unmarshal(b, &parsed); err != nil {
		t.Fatal(err)
	}
	res := &huma.ValidateResult{}
	huma.Validate(reg, schema, huma.NewPathBuffer([]byte{}, 0), huma.ModeWriteToServer, parsed, res)
	return len(res.Errors) == 0 && json.Unmarshal(b, plain) == nil
}

// checkQuickEvent fails unless eventIn.quick takes b only when huma took
// it before, and then decodes what huma decoded.
func checkQuickEvent(t *testing.T, b []byte) {
	if !json.Valid(b) {
		return // encoding/json refuses it before any UnmarshalJSON
	}
	var got eventIn
	if !got.quick(b) {
		return
	}
	var want plainEventIn
	if !refDecode(t, b, &got, &want) {
		t.Fatalf("quick took %q, which huma refused", b)
	}
	if got.Type != want.Type || string(got.Data) != string(want.Data) || got.IdempotencyKey != want.IdempotencyKey {
		t.Fatalf("quick decoded %q as %q %s %q, huma as %q %s %q", b, got.Type, got.Data, got.IdempotencyKey, want.Type, want.Data, want.IdempotencyKey)
	}
}

// checkQuickBatch is checkQuickEvent for sendEventsRequest.
func checkQuickBatch(t *testing.T, b []byte) {
	if !json.Valid(b) {
		return
	}
	var got sendEventsRequest
	if !got.quick(b) {
		return
	}
	var want struct{ Events []plainEventIn }
	if !refDecode(t, b, &got, &want) {
		t.Fatalf("quick took %q, which huma refused", b)
	}
	if len(got.Events) != len(want.Events) {
		t.Fatalf("quick decoded %q as %d events, huma as %d", b, len(got.Events), len(want.Events))
	}
	for i, e := range want.Events {
		g := got.Events[i]
		if g.Type != e.Type || string(g.Data) != string(e.Data) || g.IdempotencyKey != e.IdempotencyKey {
			t.Fatalf("quick decoded %q's event %d as %q %s %q, huma as %q %s %q", b, i, g.Type, g.Data, g.IdempotencyKey, e.Type, e.Data, e.IdempotencyKey)
		}
	}
}

// The quick check takes the bodies producers send, so that they are
// decoded once, and of the others only those huma took, as huma decoded
// them.
func TestEventQuickDecode(t *testing.T) {
	t.Parallel()
	for _, b := range eventBodies[:6] { // the first six are plain
		// encoding/json hands a value over without the spaces around it.
		b = strings.TrimSpace(b)
		var e eventIn
		if !e.quick([]byte(b)) {
			t.Errorf("quick refused %q", b)
		}
	}
	batch := `{"events":[` + eventBodies[0] + "," + eventBodies[1] + `]}`
	var r sendEventsRequest
	if !r.quick([]byte(batch)) || len(r.Events) != 2 {
		t.Errorf("quick refused %q, or took %d events", batch, len(r.Events))
	}
	for _, b := range eventBodies {
		checkQuickEvent(t, []byte(b))
		checkQuickBatch(t, []byte(`{"events":[`+b+`]}`))
		checkQuickBatch(t, []byte(` { "events" : [ `+eventBodies[0]+` , `+b+` ] } `))
	}
	for _, b := range []string{`{"events":[]}`, `{"events":[` + eventBodies[0] + `],"x":1}`, `{"events":[` + eventBodies[0] + `],"events":[]}`} {
		checkQuickBatch(t, []byte(b))
	}
}

func FuzzEventQuickDecode(f *testing.F) {
	for _, b := range eventBodies {
		f.Add([]byte(b))
		f.Add([]byte(`{"events":[` + b + `]}`))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		checkQuickEvent(t, b)
		checkQuickBatch(t, b)
	})
}

// BenchmarkEventBody measures the decoding of the body BenchmarkPostEvent
// posts, alone and as 100 in a batch: as huma did it (twice: decoded into
// an any, validated against the schema, decoded into the struct) and as it
// is done now (once).
func BenchmarkEventBody(b *testing.B) {
	single := []byte(eventBodies[0])
	batch := []byte(`{"events":[` + strings.Repeat(eventBodies[0]+",", 99) + eventBodies[0] + `]}`)
	twice := func(body []byte, typ reflect.Type, plain func() any) func(b *testing.B) {
		return func(b *testing.B) {
			reg := huma.NewMapRegistry("#/components/schemas/", huma.DefaultSchemaNamer)
			schema := reg.Schema(typ, true, "")
			pb, res := huma.NewPathBuffer([]byte{}, 0), &huma.ValidateResult{}
			b.ReportAllocs()
			for b.Loop() {
				var parsed any
				if err := json.Unmarshal(body, &parsed); err != nil {
					b.Fatal(err)
				}
				pb.Reset()
				pb.Push("body")
				res.Reset()
				huma.Validate(reg, schema, pb, huma.ModeWriteToServer, parsed, res)
				if err := json.Unmarshal(body, plain()); err != nil || len(res.Errors) > 0 {
					b.Fatal(err, res.Errors)
				}
			}
		}
	}
	once := func(body []byte, v func() interface{ quickTook() bool }) func(b *testing.B) {
		return func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				x := v()
				if err := json.Unmarshal(body, x); err != nil || !x.quickTook() {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("single/twice", twice(single, reflect.TypeFor[eventIn](), func() any { return &plainEventIn{} }))
	b.Run("single/once", once(single, func() interface{ quickTook() bool } { return &eventIn{} }))
	b.Run("batch100/twice", twice(batch, reflect.TypeFor[sendEventsRequest](), func() any { return &struct{ Events []plainEventIn }{} }))
	b.Run("batch100/once", once(batch, func() interface{ quickTook() bool } { return &sendEventsRequest{} }))
}

func (e *eventIn) quickTook() bool           { return e.once.decoded && e.once.raw == nil }
func (r *sendEventsRequest) quickTook() bool { return r.once.decoded && r.once.raw == nil }
