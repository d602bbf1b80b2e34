// Package tracing starts Hookgate's spans: through OpenTelemetry when an
// OTLP endpoint is configured (the standard OTEL_* variables), and
// otherwise as bare W3C trace contexts, so that every event, attempt and
// receiver request has trace and span IDs whether or not spans are
// exported.
package tracing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/hookgate/hookgate"
)

// Tracer starts spans. The nil Tracer, and one made with a nil provider,
// exports nothing and still gives each span IDs (hookgate.ChildOf).
type Tracer struct {
	t trace.Tracer
}

// New returns a Tracer that records spans with tp; nil tp records none.
func New(tp trace.TracerProvider) *Tracer {
	if tp == nil {
		return nil
	}
	return &Tracer{t: tp.Tracer("github.com/hookgate/hookgate")}
}

// Span is a started span and its trace context, which names it whether it
// is recorded or not.
type Span struct {
	s trace.Span
	// Trace is the span's trace context: its trace, its own span ID, the
	// sampled flag and the parent's tracestate.
	Trace hookgate.TraceContext
}

// noopSpan is what an unrecorded Span holds: no allocation, no work.
var noopSpan = noop.Span{}

// Start starts a span named name whose parent is the stored trace context
// parent (a new trace when it names none): an attempt's span under its
// event's, a job's. ctx carries the span for children (StartChild).
func (t *Tracer) Start(ctx context.Context, name string, parent hookgate.TraceContext, kind trace.SpanKind, attrs ...attribute.KeyValue) (context.Context, Span) {
	if t == nil {
		tc := hookgate.ChildOf(parent)
		return context.WithValue(ctx, traceKey{}, tc), Span{s: noopSpan, Trace: tc}
	}
	if !parent.IsZero() && parent.SpanID != [8]byte{} {
		ctx = trace.ContextWithRemoteSpanContext(ctx, spanContext(parent))
	} else {
		ctx = trace.ContextWithSpanContext(ctx, trace.SpanContext{})
	}
	ctx, s := t.t.Start(ctx, name, trace.WithSpanKind(kind), trace.WithAttributes(attrs...))
	return ctx, Span{s: s, Trace: traceOf(s.SpanContext(), parent)}
}

// StartChild starts a span named name under the span ctx carries (see
// Start), or under nothing.
func (t *Tracer) StartChild(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, Span) {
	if t == nil {
		tc := hookgate.ChildOf(FromContext(ctx))
		return context.WithValue(ctx, traceKey{}, tc), Span{s: noopSpan, Trace: tc}
	}
	ctx, s := t.t.Start(ctx, name, trace.WithAttributes(attrs...))
	return ctx, Span{s: s, Trace: traceOf(s.SpanContext(), FromContext(ctx))}
}

// traceKey carries the trace context of an unrecorded span (a nil
// Tracer's) in a context.
type traceKey struct{}

// FromContext returns the trace context of the span ctx carries, recorded
// or not; zero for none.
func FromContext(ctx context.Context) hookgate.TraceContext {
	if tc, ok := ctx.Value(traceKey{}).(hookgate.TraceContext); ok {
		return tc
	}
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return hookgate.TraceContext{}
	}
	return hookgate.TraceContext{TraceID: sc.TraceID(), SpanID: sc.SpanID(), Sampled: sc.IsSampled(), State: sc.TraceState().String()}
}

// SetAttributes adds attributes to the span.
func (s Span) SetAttributes(attrs ...attribute.KeyValue) { s.s.SetAttributes(attrs...) }

// Fail marks the span failed with a short reason (never a body, a URL's
// credentials or a secret).
func (s Span) Fail(reason string) { s.s.SetStatus(codes.Error, reason) }

// End ends the span.
func (s Span) End() { s.s.End() }

// Recording reports whether the span is recorded (exported).
func (s Span) Recording() bool { return s.s.IsRecording() }

func spanContext(t hookgate.TraceContext) trace.SpanContext {
	cfg := trace.SpanContextConfig{TraceID: t.TraceID, SpanID: t.SpanID, Remote: true}
	if t.Sampled {
		cfg.TraceFlags = trace.FlagsSampled
	}
	if t.State != "" {
		if ts, err := trace.ParseTraceState(t.State); err == nil {
			cfg.TraceState = ts
		}
	}
	return trace.NewSpanContext(cfg)
}

// traceOf is a started span's trace context; the parent's tracestate goes
// on to the receivers as the producer sent it.
func traceOf(sc trace.SpanContext, parent hookgate.TraceContext) hookgate.TraceContext {
	if !sc.IsValid() {
		return hookgate.ChildOf(parent)
	}
	return hookgate.TraceContext{TraceID: sc.TraceID(), SpanID: sc.SpanID(), Sampled: sc.IsSampled(), State: parent.State}
}

// Configured reports whether the environment asks for spans to be
// exported: an OTLP endpoint is set (OTEL_EXPORTER_OTLP_ENDPOINT or
// OTEL_EXPORTER_OTLP_TRACES_ENDPOINT), OTEL_TRACES_EXPORTER is unset or
// otlp, and OTEL_SDK_DISABLED is not true.
func Configured() bool {
	if strings.EqualFold(os.Getenv("OTEL_SDK_DISABLED"), "true") {
		return false
	}
	if e := os.Getenv("OTEL_TRACES_EXPORTER"); e != "" && e != "otlp" {
		return false
	}
	return os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") != "" || os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") != ""
}

// Setup makes the span exporter the environment asks for (see
// Configured): OTLP over HTTP (protobuf), with the endpoint, headers,
// timeout, compression and sampler the OTEL_* variables give, and a
// resource of service.name "hookgate" (unless OTEL_SERVICE_NAME or
// OTEL_RESOURCE_ATTRIBUTES say otherwise), its version and the node's
// name. It returns a nil Tracer when nothing is configured. shutdown
// flushes the spans still queued.
func Setup(ctx context.Context, node, version string) (t *Tracer, shutdown func(context.Context) error, err error) {
	none := func(context.Context) error { return nil }
	if !Configured() {
		return nil, none, nil
	}
	for _, v := range []string{"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"} {
		if p := os.Getenv(v); p != "" {
			if p != "http/protobuf" {
				return nil, none, fmt.Errorf("%s=%s: Hookgate exports OTLP over HTTP only: set http/protobuf (the default), and an endpoint that takes it (port 4318 of a collector)", v, p)
			}
			break
		}
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return nil, none, fmt.Errorf("OTLP trace exporter: %w", err)
	}
	res, err := resource.New(ctx,
		resource.WithAttributes(attribute.String("service.name", "hookgate"), attribute.String("service.version", version),
			attribute.String("service.instance.id", node)),
		resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil && !errors.Is(err, resource.ErrPartialResource) {
		return nil, none, fmt.Errorf("trace resource: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp), sdktrace.WithResource(res))
	return New(tp), tp.Shutdown, nil
}

// LogHandler adds trace_id and span_id to the records logged with a
// context that carries a recorded span (slog's …Context methods).
func LogHandler(h slog.Handler) slog.Handler { return logHandler{h} }

type logHandler struct{ slog.Handler }

func (l logHandler) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return l.Handler.Handle(ctx, r)
}

func (l logHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return logHandler{l.Handler.WithAttrs(attrs)}
}

func (l logHandler) WithGroup(name string) slog.Handler { return logHandler{l.Handler.WithGroup(name)} }

// ExemplarEvery is how often, at most, one histogram takes a new
// exemplar. A scrape shows the latest exemplar of each bucket, and making
// one costs several allocations: taking one per observation, on a path
// that observes thousands a second, is mostly garbage.
const ExemplarEvery = 100 * time.Millisecond

// lastExemplar holds, per observer, the UnixNano of its latest exemplar
// (*atomic.Int64); exemplarClock is the clock it reads (tests stop it).
var (
	lastExemplar  sync.Map
	exemplarClock = time.Now
)

// Observe records v in h with traceID as its exemplar (the OpenMetrics
// exposition shows it), or plainly when there is no trace ID or h took an
// exemplar less than ExemplarEvery ago.
func Observe(h prometheus.Observer, v float64, traceID string) {
	if e, ok := h.(prometheus.ExemplarObserver); ok && traceID != "" && exemplarDue(h) {
		e.ObserveWithExemplar(v, prometheus.Labels{"trace_id": traceID})
		return
	}
	h.Observe(v)
}

// exemplarDue reports whether h may take an exemplar now, and if so
// records that it did.
func exemplarDue(h prometheus.Observer) bool {
	v, ok := lastExemplar.Load(h)
	if !ok {
		v, _ = lastExemplar.LoadOrStore(h, new(atomic.Int64))
	}
	last := v.(*atomic.Int64)
	now := exemplarClock().UnixNano()
	prev := last.Load()
	return now-prev >= int64(ExemplarEvery) && last.CompareAndSwap(prev, now)
}
