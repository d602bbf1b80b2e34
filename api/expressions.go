package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/expressions"
)

// checkExpressions compiles w's CEL expressions, each refused with its
// compiler's message and position, or its cost, under its own name. A
// transform makes the body itself: it cannot be combined with payloadEncoding
// base64, which sends the event's data as raw bytes.
func checkExpressions(w *hookgate.Webhook) error {
	if w.Filter != "" {
		if _, err := expressions.CachedFilter(w.Filter); err != nil {
			return err
		}
	}
	if w.Transform != "" {
		if w.PayloadEncoding == hookgate.EncodingBase64 {
			return hookgate.InvalidParam("transform", w.Transform, "transform makes the body, so it cannot be combined with payloadEncoding base64; remove one of them")
		}
		if _, err := expressions.CachedTransform(w.Transform); err != nil {
			return err
		}
	}
	if w.TransformHeaders != "" {
		if _, err := expressions.CachedHeaders(w.TransformHeaders); err != nil {
			return err
		}
	}
	return nil
}

// expressionTestIn is the body of testWebhookExpression.
type expressionTestIn struct {
	Filter           string            `json:"filter,omitempty" doc:"A filter to try, as a webhook's filter"`
	Transform        string            `json:"transform,omitempty" doc:"A transform to try, as a webhook's transform"`
	TransformHeaders string            `json:"transformHeaders,omitempty" doc:"A transformHeaders to try, as a webhook's transformHeaders"`
	Event            *sampleEvent      `json:"event,omitempty" doc:"The event to run them on; or eventId"`
	EventID          string            `json:"eventId,omitempty" doc:"The ID of a stored event of the project to run them on; or event"`
	Metadata         map[string]string `json:"metadata,omitempty" doc:"The variable metadata, as the webhook's own metadata would be"`
}

// sampleEvent is an event given in full to testWebhookExpression.
type sampleEvent struct {
	Type      string     `json:"type" maxLength:"256" doc:"The variable type"`
	Data      rawJSON    `json:"data,omitempty" doc:"The variable data; absent is null"`
	ID        string     `json:"id,omitempty" maxLength:"256" doc:"The variable id; absent for a new event ID"`
	Timestamp *time.Time `json:"timestamp,omitempty" doc:"The variable timestamp; absent for now"`
}

// expressionTestOut answers testWebhookExpression: a result for each
// expression given.
type expressionTestOut struct {
	Filter           *filterTestOut    `json:"filter,omitempty" doc:"The filter's result, when one was given"`
	Transform        *transformTestOut `json:"transform,omitempty" doc:"The transform's result, when one was given"`
	TransformHeaders *headersTestOut   `json:"transformHeaders,omitempty" doc:"transformHeaders' result, when one was given"`
}

type filterTestOut struct {
	Matched    bool   `json:"matched" doc:"Whether the event would be delivered; false when the filter failed on it, as at ingest"`
	Cost       uint64 `json:"cost" doc:"The evaluation's actual cost; the limit is 1,000,000"`
	DurationUs int64  `json:"durationUs" doc:"How long the evaluation took, in microseconds"`
	Error      string `json:"error" doc:"Why the filter failed on the event (a missing field, its cost limit), counted as no match; empty when it did not"`
}

type transformTestOut struct {
	Body        rawJSON `json:"body" doc:"The body that would be sent: the JSON value for application/json, the string for text/plain; null when the transform failed"`
	ContentType string  `json:"contentType" doc:"The body's content type; empty when the transform failed"`
	Cost        uint64  `json:"cost" doc:"The evaluation's actual cost; the limit is 1,000,000"`
	DurationUs  int64   `json:"durationUs" doc:"How long the evaluation and making the body took, in microseconds"`
	Error       string  `json:"error" doc:"Why the transform failed on the event (the delivery would fail at once); empty when it did not"`
}

type headersTestOut struct {
	Headers    map[string]string `json:"headers" doc:"The headers that would be added; null when the expression failed"`
	Cost       uint64            `json:"cost" doc:"The evaluation's actual cost; the limit is 1,000,000"`
	DurationUs int64             `json:"durationUs" doc:"How long the evaluation took, in microseconds"`
	Error      string            `json:"error" doc:"Why the expression failed on the event; empty when it did not"`
}

// testExpressionRoute is the operation testWebhookExpression. Its body holds
// an event, as sendEvent's does, and up to three expressions and metadata.
func (s *Server) testExpressionRoute(path, tags string) route {
	o := op("testWebhookExpression", http.MethodPost, path+"/test-expression",
		"Run a filter, a transform and transformHeaders on an event, without saving them", accessOwner, http.StatusOK, tags)
	o.Description = "Each expression given is compiled as at registration (400 naming it) and run on the event given, or on a stored event of the project, " +
		"as ingest and delivery would run it. Its result, its actual cost and its time are answered; an expression that fails on the event, " +
		"or runs over its cost limit, answers 200 with the error."
	o.MaxBodyBytes = s.cfg.MaxEventBytes + 128<<10
	o.Errors = append(o.Errors, http.StatusRequestEntityTooLarge)
	return route{op: o, handle: handle(s.handleTestWebhookExpression)}
}

// handleTestWebhookExpression handles testWebhookExpression: Run a filter, a transform and transformHeaders on an event, without saving them.
func (s *Server) handleTestWebhookExpression(ctx context.Context, in *struct {
	ProjectRef
	Body expressionTestIn
}) (*struct{ Body expressionTestOut }, error) {
	b := in.Body
	if b.Filter == "" && b.Transform == "" && b.TransformHeaders == "" {
		return nil, &hookgate.Error{Code: hookgate.EMissingParameter, Param: "filter", Message: "give at least one of filter, transform and transformHeaders"}
	}
	w := &hookgate.Webhook{Filter: b.Filter, Transform: b.Transform, TransformHeaders: b.TransformHeaders, Metadata: b.Metadata}
	if err := checkExpressions(w); err != nil {
		return nil, err
	}
	if err := hookgate.ValidateMetadata(b.Metadata); err != nil {
		return nil, err
	}
	ev, err := s.sampleEvent(ctx, &b)
	if err != nil {
		return nil, err
	}
	input, err := expressions.NewInput(ev)
	if err != nil {
		return nil, hookgate.InvalidParam("event.data", nil, "event.data is not JSON an expression can read: %v", err)
	}
	var out expressionTestOut
	if b.Filter != "" {
		f, err := expressions.CachedFilter(b.Filter)
		if err != nil {
			return nil, err
		}
		matched, tr, err := f.TestInput(ctx, input)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out.Filter = &filterTestOut{Matched: matched, Cost: tr.Cost, DurationUs: tr.Duration.Microseconds(), Error: errorText(err)}
	}
	if b.Transform != "" {
		t, err := expressions.CachedTransform(b.Transform)
		if err != nil {
			return nil, err
		}
		body, ct, tr, err := t.TestInput(ctx, input)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res := &transformTestOut{ContentType: ct, Cost: tr.Cost, DurationUs: tr.Duration.Microseconds(), Error: errorText(err)}
		switch {
		case err != nil:
		case ct == expressions.ContentTypeJSON:
			res.Body = rawJSON(body)
		default:
			if res.Body, err = json.Marshal(string(body)); err != nil {
				return nil, err
			}
		}
		out.Transform = res
	}
	if b.TransformHeaders != "" {
		h, err := expressions.CachedHeaders(b.TransformHeaders)
		if err != nil {
			return nil, err
		}
		headers, tr, err := h.TestInput(ctx, input)
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		out.TransformHeaders = &headersTestOut{Headers: headers, Cost: tr.Cost, DurationUs: tr.Duration.Microseconds(), Error: errorText(err)}
	}
	return &struct{ Body expressionTestOut }{Body: out}, nil
}

// sampleEvent is the event testWebhookExpression runs on, with b's metadata:
// b.Event, or the stored event b.EventID. A portal session, which sees no
// events of its project (only its webhooks' deliveries), gives the event in
// full.
func (s *Server) sampleEvent(ctx context.Context, b *expressionTestIn) (expressions.Event, error) {
	switch {
	case b.Event != nil && b.EventID != "":
		return expressions.Event{}, hookgate.InvalidParam("eventId", b.EventID, "give either event or eventId, not both")
	case b.EventID != "":
		if p, _ := ctx.Value(principalKey{}).(*principal); p != nil && p.portal {
			return expressions.Event{}, hookgate.InvalidParam("eventId", b.EventID, "the consumer portal cannot read the project's events: give the event itself")
		}
		e, err := s.store.FindEvent(ctx, projectID(ctx), b.EventID)
		if hookgate.ErrorCode(err) == hookgate.ENotFound {
			return expressions.Event{}, &hookgate.Error{Code: hookgate.ENotFound, Param: "eventId", Value: b.EventID,
				Message: "event not found: " + b.EventID + " is no event of this project"}
		}
		if err != nil {
			return expressions.Event{}, err
		}
		return expressions.Event{ID: e.ID, Type: e.Type, Timestamp: e.CreatedAt, Data: e.Data, Metadata: b.Metadata}, nil
	case b.Event == nil:
		return expressions.Event{}, &hookgate.Error{Code: hookgate.EMissingParameter, Param: "event", Message: "give the event to run the expressions on, as event or eventId"}
	}
	e := b.Event
	if err := hookgate.ValidateEventType("event.type", e.Type); err != nil {
		return expressions.Event{}, err
	}
	if int64(len(e.Data)) > s.cfg.MaxEventBytes {
		return expressions.Event{}, &hookgate.Error{Code: hookgate.EPayloadTooLarge, Param: "event.data",
			Message: fmt.Sprintf("event.data is larger than %d bytes", s.cfg.MaxEventBytes)}
	}
	now := s.now().UTC()
	ev := expressions.Event{ID: e.ID, Type: e.Type, Timestamp: now, Data: json.RawMessage(e.Data), Metadata: b.Metadata}
	if ev.ID == "" {
		ev.ID = hookgate.NewID(hookgate.PrefixEvent, now)
	}
	if e.Timestamp != nil {
		ev.Timestamp = e.Timestamp.UTC()
	}
	if e.Data.isNull() {
		ev.Data = nil
	}
	return ev, nil
}

// errorText is err's message, or "" for none.
func errorText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
