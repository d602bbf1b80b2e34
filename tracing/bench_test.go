package tracing_test

import (
	"context"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/tracing"
)

// BenchmarkAttemptTraceOff is what tracing adds to one attempt when no
// exporter is configured: the attempt's span IDs, its headers, the IDs
// for its record, and the latency observed with its exemplar.
func BenchmarkAttemptTraceOff(b *testing.B) {
	var tr *tracing.Tracer
	parent, _ := hookgate.ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "")
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x", Buckets: prometheus.DefBuckets})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		_, span := tr.Start(ctx, "hookgate.attempt", parent, trace.SpanKindClient)
		_ = delivery.TraceHeaders(span.Trace)
		tid, sid := span.Trace.TraceIDString(), span.Trace.SpanIDString()
		span.End()
		h.(prometheus.ExemplarObserver).ObserveWithExemplar(0.01, prometheus.Labels{"trace_id": tid})
		_ = sid
	}
}

// BenchmarkObserveWithoutExemplar is the latency observed as before.
func BenchmarkObserveWithoutExemplar(b *testing.B) {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x", Buckets: prometheus.DefBuckets})
	b.ReportAllocs()
	for b.Loop() {
		h.Observe(0.01)
	}
}
