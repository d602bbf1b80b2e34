package hookgate_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/hookgate/hookgate"
)

// Issue 28: a source's eventType is checked field by field, and finds a
// message's type in a header, at a JSON Pointer, else the default.
func TestSourceEventType(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		t     hookgate.SourceEventType
		param string
	}{
		{hookgate.SourceEventType{}, "eventType"},
		{hookgate.SourceEventType{Header: "type", Pointer: "/type"}, "eventType.pointer"},
		{hookgate.SourceEventType{Pointer: "type"}, "eventType.pointer"},
		{hookgate.SourceEventType{Pointer: "/a~2"}, "eventType.pointer"},
		{hookgate.SourceEventType{Header: "a\nb"}, "eventType.header"},
		{hookgate.SourceEventType{Pointer: "/type", Default: "not a type!"}, "eventType.default"},
	} {
		var he *hookgate.Error
		if err := c.t.Check(); !errors.As(err, &he) || he.Param != c.param {
			t.Errorf("%+v: %v, want an error on %s", c.t, err, c.param)
		}
	}
	for _, ok := range []hookgate.SourceEventType{{Header: "type"}, {Pointer: "/meta/a~1b~0c/0"}, {Default: "order.created"}, {Pointer: "", Default: "x.y"}} {
		if err := ok.Check(); err != nil {
			t.Errorf("%+v: %v", ok, err)
		}
	}
	body := json.RawMessage(`{"type":"order.created","n":1,"meta":{"a/b~c":["order.paid"]}}`)
	m := hookgate.SourceMessage{Headers: map[string]string{"Event-Type": "order.shipped"}, Body: body}
	for _, c := range []struct {
		t       hookgate.SourceEventType
		want    string
		wantErr bool
	}{
		{hookgate.SourceEventType{Header: "event-type"}, "order.shipped", false},
		{hookgate.SourceEventType{Header: "missing"}, "", true},
		{hookgate.SourceEventType{Header: "missing", Default: "x.y"}, "x.y", false},
		{hookgate.SourceEventType{Pointer: "/type"}, "order.created", false},
		{hookgate.SourceEventType{Pointer: "/meta/a~1b~0c/0"}, "order.paid", false},
		{hookgate.SourceEventType{Pointer: "/n"}, "", true},
		{hookgate.SourceEventType{Pointer: "/nope"}, "", true},
		{hookgate.SourceEventType{Pointer: "/nope", Default: "x.y"}, "x.y", false},
		{hookgate.SourceEventType{Default: "x.y"}, "x.y", false},
	} {
		got, err := c.t.TypeOf(m, body)
		if got != c.want || (err != nil) != c.wantErr {
			t.Errorf("%+v: %q, %v", c.t, got, err)
		}
	}
}
