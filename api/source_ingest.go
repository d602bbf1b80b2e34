package api

import (
	"context"
	"errors"
	"fmt"

	"go.opentelemetry.io/otel/attribute"

	"github.com/hookgate/hookgate"
)

// Ingest commits one event a broker source took, as sendEvent does: the
// same checks (type rules, size, the catalog's JSON Schema), the ingest
// span (under traceparent when valid), the commit and its metrics. in's
// IdempotencyKey, when set, answers the event it made before whatever
// the data (a message's ID names the message). An event the checks refuse
// is an error wrapping hookgate.ErrMessageRejected; any other error is
// the store's, and the message should come again.
func (s *Server) Ingest(ctx context.Context, projectID string, in hookgate.EventInput, traceparent, tracestate string) (*hookgate.Event, error) {
	ctx, span := s.serverSpan(ctx, "hookgate.ingest", traceparent, tracestate, attribute.String("hookgate.project.id", projectID), attribute.Int("hookgate.events", 1))
	defer span.End()
	ev, err := s.checkEvent(ctx, projectID, "", &eventIn{Type: in.Type, Data: rawJSON(in.Data)})
	if err != nil {
		var he *hookgate.Error
		if errors.As(err, &he) {
			switch he.Code {
			case hookgate.EInvalidParameter, hookgate.EMissingParameter, hookgate.EInvalidJSON, hookgate.EPayloadTooLarge:
				return nil, fmt.Errorf("%w: %s", hookgate.ErrMessageRejected, he.Message)
			}
		}
		return nil, err // the catalog could not be read: the message comes again
	}
	ev.IdempotencyKey = in.IdempotencyKey
	ev.Trace = span.Trace
	var out []*hookgate.Event
	if err := s.commit(ctx, "hookgate.commit", func(ctx context.Context) (err error) {
		out, err = s.store.CreateEvents(ctx, projectID, []hookgate.EventInput{ev})
		return err
	}); err != nil {
		return nil, err
	}
	s.countAccepted(out)
	return out[0], nil
}
