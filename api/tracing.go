package api

import (
	"context"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/tracing"
)

// serverSpan starts the span of a request that accepts work (events, a
// trigger call, an inbound post), under the caller's traceparent when it
// sent a valid one, and notes its trace for the request's metrics and log.
func (s *Server) serverSpan(ctx context.Context, name, traceparent, tracestate string, attrs ...attribute.KeyValue) (context.Context, tracing.Span) {
	parent, _ := hookgate.ParseTraceparent(traceparent, tracestate)
	ctx, span := s.cfg.Tracer.Start(ctx, name, parent, trace.SpanKindServer, attrs...)
	if info, ok := ctx.Value(reqInfoKey{}).(*reqInfo); ok {
		info.trace = span.Trace
	}
	return ctx, span
}

// commit runs a store write in a child span of ctx's named name.
func (s *Server) commit(ctx context.Context, name string, write func(context.Context) error) error {
	ctx, span := s.cfg.Tracer.StartChild(ctx, name)
	defer span.End()
	err := write(ctx)
	if err != nil {
		span.Fail(hookgate.ErrorCode(err))
	}
	return err
}

// TraceHeaders are the W3C Trace Context headers a request that accepts
// work may carry: the accepted event keeps the trace, and its receivers
// get it (docs/observability.md).
type TraceHeaders struct {
	TraceParent string `header:"traceparent" maxLength:"256" doc:"W3C traceparent: the event joins this trace, and every attempt's request carries it with the attempt's span as parent; invalid ones are ignored"`
	TraceState  string `header:"tracestate" maxLength:"512" doc:"W3C tracestate, passed on to the receivers with traceparent"`
}
