package ui

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookgate/hookgate/client"
)

// A webhook's CEL expressions in its create and edit forms (issue 29, item
// 3): a filter, a transform and transform headers, each a textarea named as
// the API's field, and their preview. The forms have a second button,
// Preview, which sends the same form: instead of saving, the page runs the
// expressions typed on the sample event (a JSON textarea, or for a session
// that may read events the ID of a stored one) through the API's
// test-expression, and is shown again, as typed, with each result, its cost
// and its time. A compile error shows next to its expression, as when
// saving. It works without JavaScript, as the rest of the dashboard.

// The form fields of the expressions, named as the API's, and of the
// preview.
const (
	fieldFilter           = "filter"
	fieldTransform        = "transform"
	fieldTransformHeaders = "transformHeaders"
	// fieldSampleEvent is the sample event, {"type", "data", "id",
	// "timestamp"} as JSON.
	fieldSampleEvent = "sampleEvent"
	// fieldSampleEventID is the ID of a stored event, instead of the
	// sample event.
	fieldSampleEventID = "sampleEventId"
	// fieldPreview is the Preview button's name.
	fieldPreview = "preview"
)

// expressionFields are the fields of the expressions.
var expressionFields = []string{fieldFilter, fieldTransform, fieldTransformHeaders}

// expressionOf is an expression as typed: trimmed, its line ends as
// typed (a browser sends CRLF).
func expressionOf(v url.Values, field string) string {
	return strings.TrimSpace(strings.ReplaceAll(v.Get(field), "\r\n", "\n"))
}

// createExpressions sets the expressions typed in the registration form
// on in.
func createExpressions(in *client.WebhookCreate, v url.Values) {
	in.Filter, in.Transform, in.TransformHeaders = expressionOf(v, fieldFilter), expressionOf(v, fieldTransform), expressionOf(v, fieldTransformHeaders)
}

// ownExpressions sets wh's expressions on the edit form's values.
func ownExpressions(wh *client.Webhook, v url.Values) {
	v.Set(fieldFilter, wh.Filter)
	v.Set(fieldTransform, wh.Transform)
	v.Set(fieldTransformHeaders, wh.TransformHeaders)
}

// patchExpressions adds to p the expressions typed that differ from wh's;
// an emptied field removes the expression, and a field the form lacks
// leaves it. It reports whether it added any.
func patchExpressions(p *client.WebhookUpdate, wh *client.Webhook, v url.Values) (changed bool) {
	for _, f := range []struct {
		field, was string
		to         **string
	}{{fieldFilter, wh.Filter, &p.Filter}, {fieldTransform, wh.Transform, &p.Transform}, {fieldTransformHeaders, wh.TransformHeaders, &p.TransformHeaders}} {
		if !v.Has(f.field) {
			continue
		}
		if s := expressionOf(v, f.field); s != strings.TrimSpace(f.was) {
			*f.to, changed = &s, true
		}
	}
	return changed
}

// defaultSample is the sample event of a form shown afresh: an event of
// the first type of the catalog that the webhook receives (any type when
// it names none), with the example of the type's schema as its data; else
// an order.
func defaultSample(events []string, catalog []client.EventType) string {
	for _, et := range catalog {
		if len(events) > 0 && !slices.Contains(events, et.Name) {
			continue
		}
		data := json.RawMessage(`{}`)
		if ex, ok := exampleOf(et.Schema); ok {
			data = ex
		}
		return prettyJSON(fmt.Appendf(nil, `{"type": %q, "data": %s}`, et.Name, data))
	}
	typ := "order.created"
	for _, e := range events {
		if !strings.Contains(e, "*") {
			typ = e
			break
		}
	}
	return prettyJSON(fmt.Appendf(nil, `{"type": %q, "data": {"id": 1001, "total": 149.5, "region": "eu", "items": [{"sku": "A1", "qty": 2}]}}`, typ))
}

// recentEvents is how many of the project's latest events the preview
// offers by ID.
const recentEvents = 5

// editorView is what the expressions' fieldset shows besides its fields.
type editorView struct {
	// Results are the Preview's; nil before one.
	Results *previewView
	// Recent are the project's latest events, offered as the stored event
	// to preview on; none for a portal session, which sees no events.
	Recent []client.Event
}

// editorOf is the editor of a webhook form of project, with the results of
// its Preview.
func editorOf(ctx context.Context, se *session, project string, results *previewView) (*editorView, error) {
	ed := &editorView{Results: results}
	if se.Portal() {
		return ed, nil
	}
	page, err := se.c.ListEvents(ctx, project, &client.EventListOptions{ListOptions: client.ListOptions{Limit: recentEvents}})
	if err != nil {
		return nil, err
	}
	ed.Recent = page.Data
	return ed, nil
}

// previewView is the preview's results, each nil when its expression was
// not given.
type previewView struct {
	Filter, Transform, Headers *previewResult
}

// previewResult is one expression's result.
type previewResult struct {
	// Outcome is the filter's "matched: true" or "matched: false", the
	// transform's body (indented when JSON), the headers as NAME: VALUE
	// lines; "" when Error is set.
	Outcome string
	// ContentType is the transform body's.
	ContentType string
	// Cost is the evaluation's cost and time.
	Cost string
	// Error is why the expression failed on the event.
	Error string
}

// previewExpressions runs the expressions of the form v on its sample event
// with the webhook's metadata md. A refusal (a compile error, a sample
// event that is not JSON, an event ID that is not found) is answered as the
// API's, with the form's field for its parameter (previewFieldOf).
func previewExpressions(ctx context.Context, se *session, project string, v url.Values, md map[string]string) (*previewView, error) {
	in := client.ExpressionTestInput{Filter: expressionOf(v, fieldFilter), Transform: expressionOf(v, fieldTransform),
		TransformHeaders: expressionOf(v, fieldTransformHeaders), Metadata: md}
	if in.Filter == "" && in.Transform == "" && in.TransformHeaders == "" {
		return nil, &client.Error{Status: http.StatusBadRequest, Detail: "Type a filter, a transform or transform headers to preview them.", Parameter: fieldFilter}
	}
	if id := strings.TrimSpace(v.Get(fieldSampleEventID)); id != "" && !se.Portal() {
		in.EventID = id
	} else {
		var ev struct {
			Type      string          `json:"type"`
			Data      json.RawMessage `json:"data"`
			ID        string          `json:"id"`
			Timestamp time.Time       `json:"timestamp"`
		}
		if err := json.Unmarshal([]byte(v.Get(fieldSampleEvent)), &ev); err != nil {
			return nil, &client.Error{Status: http.StatusBadRequest, Parameter: fieldSampleEvent,
				Detail: "The sample event is not a JSON object such as {\"type\": \"order.created\", \"data\": {…}}: " + err.Error() + "."}
		}
		in.Event = &client.SampleEvent{Type: ev.Type, ID: ev.ID, Timestamp: ev.Timestamp}
		if len(ev.Data) > 0 {
			in.Event.Data = ev.Data
		}
	}
	r, err := se.c.TestWebhookExpression(ctx, project, in)
	if err != nil {
		return nil, err
	}
	out := &previewView{}
	if f := r.Filter; f != nil {
		out.Filter = &previewResult{Outcome: fmt.Sprintf("matched: %t", f.Matched), Cost: costOf(f.Cost, f.DurationUs), Error: f.Error}
		if f.Error != "" {
			out.Filter.Error += " (counted as no match: the event would not be delivered)"
		}
	}
	if t := r.Transform; t != nil {
		res := &previewResult{ContentType: t.ContentType, Cost: costOf(t.Cost, t.DurationUs), Error: t.Error}
		if t.Error == "" {
			res.Outcome = prettyJSON(t.Body)
			var s string
			if t.ContentType != "application/json" && json.Unmarshal(t.Body, &s) == nil {
				res.Outcome = s
			}
		}
		out.Transform = res
	}
	if h := r.TransformHeaders; h != nil {
		res := &previewResult{Cost: costOf(h.Cost, h.DurationUs), Error: h.Error}
		names := make([]string, 0, len(h.Headers))
		for k := range h.Headers {
			names = append(names, k)
		}
		slices.Sort(names)
		lines := make([]string, len(names))
		for i, k := range names {
			lines[i] = k + ": " + h.Headers[k]
		}
		if res.Outcome = strings.Join(lines, "\n"); res.Outcome == "" && h.Error == "" {
			res.Outcome = "none"
		}
		out.Headers = res
	}
	return out, nil
}

// costOf is an evaluation's cost, against the limit, and its time.
func costOf(cost uint64, us int64) string {
	return fmt.Sprintf("cost %d of %s, in %s", cost, "1,000,000", time.Duration(us)*time.Microsecond)
}

// previewFieldOf maps the parameter of test-expression's refusal to the
// form's field: the expressions by name, the event's parameters to the
// sample event, eventId to the stored event's ID.
func previewFieldOf(param string) string {
	switch {
	case slices.Contains(expressionFields, param), param == fieldSampleEvent:
		return param
	case param == "event" || strings.HasPrefix(param, "event."):
		return fieldSampleEvent
	case param == "eventId":
		return fieldSampleEventID
	}
	return ""
}

// preview answers the Preview button of a webhook form: the form's values
// as typed (less secret), and the results, or the refusal next to its
// field, with the status to answer.
func preview(ctx context.Context, se *session, project string, v url.Values, md map[string]string, secret ...string) (*form, *previewView, int, error) {
	p, err := previewExpressions(ctx, se, project, v, md)
	if err != nil {
		rf, ok := refused(err)
		if !ok {
			return nil, nil, 0, err
		}
		return formOf(v, rf, previewFieldOf, secret...), nil, rf.status, nil
	}
	return formOf(v, refusal{}, nil, secret...), p, http.StatusOK, nil
}
