package tracing_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/tracing"
)

// Issue 26, item 1: nothing is exported unless an OTLP endpoint is set;
// with one, spans go to {endpoint}/v1/traces as OTLP/HTTP protobuf, and
// a gRPC protocol is refused with a message.
func TestSetupFromEnvironment(t *testing.T) {
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "")
	t.Setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "")
	tr, stop, err := tracing.Setup(context.Background(), "node-1", "test")
	if err != nil || tr != nil || stop(context.Background()) != nil {
		t.Fatalf("without an endpoint: tracer %v, err %v", tr, err)
	}

	var mu sync.Mutex
	var got []string
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path+" "+r.Header.Get("Content-Type")+" "+string(body))
		mu.Unlock()
	}))
	defer collector.Close()
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", collector.URL)
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
	if _, _, err := tracing.Setup(context.Background(), "node-1", "test"); err == nil {
		t.Fatal("OTEL_EXPORTER_OTLP_PROTOCOL=grpc was taken")
	}
	t.Setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "")
	tr, stop, err = tracing.Setup(context.Background(), "node-1", "test")
	if err != nil || tr == nil {
		t.Fatalf("with an endpoint: %v", err)
	}
	parent, _ := hookgate.ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "")
	_, span := tr.Start(context.Background(), "hookgate.attempt", parent, trace.SpanKindClient)
	span.End()
	if span.Trace.TraceIDString() != "4bf92f3577b34da6a3ce929d0e0e4736" || span.Trace.SpanIDString() == "00f067aa0ba902b7" {
		t.Fatalf("span %+v", span.Trace)
	}
	if err := stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) == 0 || got[0][:len("POST /v1/traces application/x-protobuf")] != "POST /v1/traces application/x-protobuf" {
		t.Fatalf("the collector got %q", got)
	}
}

// Without a tracer a span still has IDs, in the parent's trace, and a
// child started from its context is in the same trace.
func TestNilTracerGivesIDs(t *testing.T) {
	var tr *tracing.Tracer
	parent, _ := hookgate.ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", "k=v")
	ctx, span := tr.Start(context.Background(), "x", parent, trace.SpanKindServer)
	_, child := tr.StartChild(ctx, "y")
	if span.Trace.TraceID != parent.TraceID || span.Trace.SpanID == parent.SpanID || span.Trace.State != "k=v" ||
		child.Trace.TraceID != parent.TraceID || child.Trace.SpanID == span.Trace.SpanID || span.Recording() {
		t.Fatalf("span %+v, child %+v", span.Trace, child.Trace)
	}
}
