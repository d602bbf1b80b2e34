package api_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/api"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/internal/app"
	"github.com/hookgate/hookgate/internal/testlog"
	"github.com/hookgate/hookgate/internal/testwait"
	"github.com/hookgate/hookgate/sqlstore"
	"github.com/hookgate/hookgate/sqlstore/sqltest"
	"github.com/hookgate/hookgate/tracing"
)

// traceReceiver answers 500 to its first request and 200 after, and keeps
// each request's trace headers.
type traceReceiver struct {
	*httptest.Server
	mu      sync.Mutex
	parents []string
	states  []string
}

func newTraceReceiver(t *testing.T) *traceReceiver {
	r := &traceReceiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.parents = append(r.parents, req.Header.Get("traceparent"))
		r.states = append(r.states, req.Header.Get("tracestate"))
		n := len(r.parents)
		r.mu.Unlock()
		if n == 1 {
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *traceReceiver) seen() ([]string, []string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.parents...), append([]string(nil), r.states...)
}

// startTraced runs a node (API and dispatcher, as serve wires them) on
// store with tracer, until stop is called or t ends.
func startTraced(t *testing.T, store *sqlstore.Store, tracer *tracing.Tracer) (e *env, stop func()) {
	cfg := apiConfig(t, store, allowLoopback)
	cfg.Tracer = tracer
	parts := app.New(app.Config{Store: store, Policy: cfg.Policy, UserAgent: "Hookgate/test", API: cfg,
		Delivery: delivery.Config{Poll: 50 * time.Millisecond, Logger: testlog.Logger(t), Tracer: tracer}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { parts.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return serveEnv(t, store, parts.API), stop
}

// Issue 26, items 1, 2 and 6: an event sent with the producer's
// traceparent is one trace from the producer to every receiver request:
// the ingest span is the producer span's child, the commit the ingest's,
// and each attempt (the first, its retry, a retry by hand after a restart
// of the node; another webhook's failed attempt and its recover) a child
// of the ingest span; each request's
// traceparent names the producer's trace and the attempt's span as its
// parent, and carries the producer's tracestate; the attempts' records
// name the same IDs. No span carries the URL, the body or a secret.
func TestTraceFromProducerToReceiver(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		spans := tracetest.NewInMemoryExporter()
		tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(spans))
		tracer := tracing.New(tp)
		store := sqltest.Open(t, engine)
		e, stop := startTraced(t, store, tracer)
		rcv := newTraceReceiver(t)
		_, owner, _ := e.project("shop")
		e.req("PATCH", "/api/v1/projects/shop", adminKey, map[string]any{"retrySchedule": []string{"1s"}}).must(t, 200)
		wh := e.req("POST", "/api/v1/projects/shop/webhooks", owner, map[string]any{"url": rcv.URL + "/hook?token=s3cret"}).must(t, 201)
		// A second webhook fails for good at its first attempt, for a
		// recover.
		rcvB := newTraceReceiver(t)
		whB := e.req("POST", "/api/v1/projects/shop/webhooks", owner, map[string]any{"url": rcvB.URL, "maxAttempts": 1}).must(t, 201)

		producerTrace, producerSpan := "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
		r := e.reqH("POST", "/api/v1/projects/shop/events", map[string]string{"Authorization": "Bearer " + owner,
			"traceparent": "00-" + producerTrace + "-" + producerSpan + "-01", "tracestate": "congo=t61rcWkgMzE"},
			map[string]any{"type": "order.paid", "data": map[string]any{"card": "4242424242424242"}}).must(t, 202)
		msg := r.str("id")
		delivery, deliveryB := hookgate.DeliveryID(msg, wh.str("id")), hookgate.DeliveryID(msg, whB.str("id"))
		attemptsOf := func(id string) []map[string]any {
			l := e.req("GET", "/api/v1/projects/shop/deliveries/"+id+"/attempts", owner, nil).must(t, 200)
			var out []map[string]any
			for _, a := range l.Body["data"].([]any) {
				out = append(out, a.(map[string]any))
			}
			return out
		}
		attempts := func() []map[string]any { return attemptsOf(delivery) }
		testwait.Within(t, "the first attempt and its retry", 20*time.Second, func() bool { return len(attempts()) == 2 })
		testwait.Within(t, "the other webhook's failed attempt", 20*time.Second, func() bool {
			return e.req("GET", "/api/v1/projects/shop/deliveries/"+deliveryB, owner, nil).must(t, 200).str("status") == "failed"
		})

		// A retry by hand, by a node started again on the same store.
		stop()
		e, _ = startTraced(t, store, tracer)
		e.req("POST", "/api/v1/projects/shop/deliveries/"+delivery+"/retry", owner, nil).must(t, 202)
		testwait.Within(t, "the retry by hand", 20*time.Second, func() bool { return len(attempts()) == 3 })
		// And a recover of the other webhook's failed delivery.
		e.req("POST", "/api/v1/projects/shop/webhooks/"+whB.str("id")+"/recover", owner, map[string]any{"since": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}).must(t, 202)
		testwait.Within(t, "the recover's attempt", 20*time.Second, func() bool { return len(attemptsOf(deliveryB)) == 2 })

		parents, states := rcv.seen()
		pb, sb := rcvB.seen()
		parents, states = append(parents, pb...), append(states, sb...)
		byParent := map[string]bool{}
		for i, p := range parents {
			f := strings.Split(p, "-")
			if len(f) != 4 || f[0] != "00" || f[1] != producerTrace || f[3] != "01" || states[i] != "congo=t61rcWkgMzE" {
				t.Fatalf("request %d: traceparent %q, tracestate %q", i+1, p, states[i])
			}
			byParent[f[2]] = true
		}
		for _, a := range append(attempts(), attemptsOf(deliveryB)...) {
			if a["traceId"] != producerTrace || !byParent[a["spanId"].(string)] {
				t.Fatalf("attempt %v: trace %v span %v; the receiver saw %v", a["attempt"], a["traceId"], a["spanId"], parents)
			}
		}
		if len(byParent) != 5 {
			t.Fatalf("5 requests under %d distinct spans: %v", len(byParent), parents)
		}

		// The span tree.
		var ingest, commit tracetest.SpanStub
		var attemptSpans []tracetest.SpanStub
		for _, s := range spans.GetSpans() {
			if s.SpanContext.TraceID().String() != producerTrace {
				continue
			}
			switch s.Name {
			case "hookgate.ingest":
				ingest = s
			case "hookgate.commit":
				commit = s
			case "hookgate.attempt":
				attemptSpans = append(attemptSpans, s)
			}
			for _, kv := range s.Attributes {
				if v := kv.Value.String(); strings.Contains(v, "s3cret") || strings.Contains(v, "4242") || strings.Contains(v, "127.0.0.1") {
					t.Errorf("span %s carries %s=%s", s.Name, kv.Key, v)
				}
			}
		}
		if ingest.Parent.SpanID().String() != producerSpan || !ingest.Parent.IsRemote() || ingest.SpanKind != trace.SpanKindServer {
			t.Fatalf("ingest span's parent %v, kind %v", ingest.Parent, ingest.SpanKind)
		}
		if commit.Parent.SpanID() != ingest.SpanContext.SpanID() {
			t.Fatalf("the commit's parent %v, not the ingest span %v", commit.Parent.SpanID(), ingest.SpanContext.SpanID())
		}
		if len(attemptSpans) != 5 {
			t.Fatalf("%d attempt spans, want 5", len(attemptSpans))
		}
		numbers := map[string]bool{}
		for _, s := range attemptSpans {
			if s.Parent.SpanID() != ingest.SpanContext.SpanID() || !byParent[s.SpanContext.SpanID().String()] {
				t.Fatalf("attempt span %v: parent %v, not the ingest span %v", s.SpanContext.SpanID(), s.Parent.SpanID(), ingest.SpanContext.SpanID())
			}
			attrs := attribute.NewSet(s.Attributes...)
			n, _ := attrs.Value("hookgate.attempt")
			w, _ := attrs.Value("hookgate.webhook.id")
			numbers[fmt.Sprintf("%s/%d", w.AsString(), n.AsInt64())] = true
			code, _ := attrs.Value("http.response.status_code")
			if n.AsInt64() == 1 && (code.AsInt64() != 500 || s.Status.Code.String() != "Error") {
				t.Fatalf("the failed attempt's span: status %v, code %v", s.Status, code)
			}
		}
		for _, want := range []string{wh.str("id") + "/1", wh.str("id") + "/2", wh.str("id") + "/3", whB.str("id") + "/1", whB.str("id") + "/2"} {
			if !numbers[want] {
				t.Fatalf("no span for attempt %s among %v", want, numbers)
			}
		}
	})
}

// Issue 26, item 2: without an exporter, and without a producer trace,
// Hookgate starts a trace per event: every attempt of the event is in it,
// each under a span of its own, and the receiver gets it; a project that
// turns trace headers off sends none, its attempts still name their
// trace. An invalid traceparent is ignored (a new trace).
func TestTraceWithoutExporter(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setupDelivering(t, engine)
		rcv := newTraceReceiver(t)
		_, owner, _ := e.project("shop")
		e.req("PATCH", "/api/v1/projects/shop", adminKey, map[string]any{"retrySchedule": []string{"1s"}}).must(t, 200)
		wh := e.req("POST", "/api/v1/projects/shop/webhooks", owner, map[string]any{"url": rcv.URL}).must(t, 201)
		r := e.reqH("POST", "/api/v1/projects/shop/events", map[string]string{"Authorization": "Bearer " + owner,
			"traceparent": "00-00000000000000000000000000000000-00f067aa0ba902b7-01"}, map[string]any{"type": "a", "data": 1}).must(t, 202)
		delivery := hookgate.DeliveryID(r.str("id"), wh.str("id"))
		testwait.Within(t, "two requests", 20*time.Second, func() bool { p, _ := rcv.seen(); return len(p) == 2 })
		l := e.req("GET", "/api/v1/projects/shop/deliveries/"+delivery+"/attempts", owner, nil).must(t, 200)
		testwait.Within(t, "two attempts recorded", 20*time.Second, func() bool {
			l = e.req("GET", "/api/v1/projects/shop/deliveries/"+delivery+"/attempts", owner, nil).must(t, 200)
			return len(l.Body["data"].([]any)) == 2
		})
		parents, _ := rcv.seen()
		a, b := strings.Split(parents[0], "-"), strings.Split(parents[1], "-")
		if len(a) != 4 || len(b) != 4 || a[1] != b[1] || a[2] == b[2] || a[1] == strings.Repeat("0", 32) {
			t.Fatalf("traceparents %v", parents)
		}
		if _, err := hex.DecodeString(a[1] + a[2]); err != nil {
			t.Fatalf("traceparent %q is not hex", parents[0])
		}
		for _, x := range l.Body["data"].([]any) {
			if x.(map[string]any)["traceId"] != a[1] {
				t.Fatalf("attempt %v", x)
			}
		}

		// Trace headers off: none sent, trace IDs kept.
		q := e.req("POST", "/api/v1/projects", adminKey, map[string]any{"name": "Quiet", "slug": "quiet", "traceHeaders": false}).must(t, 201)
		if q.Body["traceHeaders"] != false {
			t.Fatalf("created with traceHeaders false: %s", q.Raw)
		}
		k := e.req("POST", "/api/v1/projects/quiet/keys", adminKey, map[string]any{"name": "o", "role": "owner"}).must(t, 201).str("key")
		other := newTraceReceiver(t)
		wh2 := e.req("POST", "/api/v1/projects/quiet/webhooks", k, map[string]any{"url": other.URL}).must(t, 201)
		r = e.req("POST", "/api/v1/projects/quiet/events", k, map[string]any{"type": "b", "data": 1}).must(t, 202)
		testwait.Within(t, "a request", 20*time.Second, func() bool { p, _ := other.seen(); return len(p) >= 1 })
		if p, st := other.seen(); p[0] != "" || st[0] != "" {
			t.Fatalf("trace headers off, the receiver got traceparent %q tracestate %q", p[0], st[0])
		}
		var first map[string]any
		testwait.Within(t, "the attempt's record", 20*time.Second, func() bool {
			l := e.req("GET", "/api/v1/projects/quiet/deliveries/"+hookgate.DeliveryID(r.str("id"), wh2.str("id"))+"/attempts", k, nil).must(t, 200)
			if d := l.Body["data"].([]any); len(d) > 0 {
				first = d[0].(map[string]any)
			}
			return first != nil
		})
		if len(first["traceId"].(string)) != 32 || len(first["spanId"].(string)) != 16 {
			t.Fatalf("an attempt without trace headers has no trace IDs: %v", first)
		}
	})
}

// Issue 26, item 2: a trigger call's traceparent is kept: its request to
// the receiver is in the caller's trace, under the step's span, which
// the attempt records; a retry by hand of the trigger is in the same
// trace.
func TestTraceThroughTrigger(t *testing.T) {
	eachEngine(t, func(t *testing.T, engine string) {
		e := setup(t, engine, allowLoopback)
		rcv := newTraceReceiver(t)
		_, owner, _ := e.project("shop")
		wh := e.req("POST", "/api/v1/projects/shop/webhooks", owner, map[string]any{"url": rcv.URL}).must(t, 201)
		caller := "0af7651916cd43dd8448eb211c80319c"
		r := e.reqH("POST", "/api/v1/projects/shop/webhooks/"+wh.str("id")+"/trigger", map[string]string{"Authorization": "Bearer " + owner,
			"traceparent": "00-" + caller + "-b7ad6b7169203331-01"}, map[string]any{"data": map[string]any{"a": 1}}).must(t, 200)
		ref := r.str("referenceId")
		e.req("POST", "/api/v1/projects/shop/deliveries/"+ref+"/retry", owner, nil).must(t, 200)
		parents, _ := rcv.seen()
		l := e.req("GET", "/api/v1/projects/shop/deliveries/"+ref+"/attempts", owner, nil).must(t, 200)
		atts := l.Body["data"].([]any)
		if len(parents) != 2 || len(atts) != 2 {
			t.Fatalf("requests %v, attempts %d", parents, len(atts))
		}
		spans := map[string]bool{}
		for _, p := range parents {
			f := strings.Split(p, "-")
			if len(f) != 4 || f[1] != caller {
				t.Fatalf("traceparent %q, want the caller's trace %s", p, caller)
			}
			spans[f[2]] = true
		}
		for _, a := range atts {
			a := a.(map[string]any)
			if a["traceId"] != caller || !spans[a["spanId"].(string)] {
				t.Fatalf("attempt %v: trace %v span %v; requests %v", a["attempt"], a["traceId"], a["spanId"], parents)
			}
		}
	})
}

// Issue 26, item 3: the request latency histogram carries the trace ID of
// an ingest as an exemplar, in the OpenMetrics exposition.
func TestLatencyExemplarHasTheTrace(t *testing.T) {
	e := setup(t, "sqlite", func(c *api.Config) { c.MetricsToken = "metrics-secret" })
	_, owner, _ := e.project("shop")
	caller := "0af7651916cd43dd8448eb211c80319c"
	e.reqH("POST", "/api/v1/projects/shop/events", map[string]string{"Authorization": "Bearer " + owner,
		"traceparent": "00-" + caller + "-b7ad6b7169203331-01"}, map[string]any{"type": "a", "data": 1}).must(t, 202)
	r := e.reqH("GET", "/metrics", map[string]string{"Authorization": "Bearer metrics-secret", "Accept": "application/openmetrics-text; version=1.0.0"}, nil).must(t, 200)
	if !strings.Contains(string(r.Raw), `route="POST /api/v1/projects/{project}/events"`) || !strings.Contains(string(r.Raw), `# {trace_id="`+caller+`"}`) {
		t.Fatalf("no exemplar with the trace in:\n%s", r.Raw)
	}
}

// Issue 26, item 2: a batch sent without a traceparent starts a trace per
// event; sent with one, its events are all in the producer's trace.
func TestTraceOfBatchEvents(t *testing.T) {
	e := setupDelivering(t, "sqlite")
	rcv := newTraceReceiver(t)
	_, owner, _ := e.project("shop")
	e.req("POST", "/api/v1/projects/shop/webhooks", owner, map[string]any{"url": rcv.URL, "maxAttempts": 1}).must(t, 201)
	batch := map[string]any{"events": []map[string]any{{"type": "a", "data": 1}, {"type": "a", "data": 2}}}
	e.req("POST", "/api/v1/projects/shop/events/batch", owner, batch).must(t, 202)
	testwait.Within(t, "two requests", 20*time.Second, func() bool { p, _ := rcv.seen(); return len(p) == 2 })
	caller := "0af7651916cd43dd8448eb211c80319c"
	e.reqH("POST", "/api/v1/projects/shop/events/batch", map[string]string{"Authorization": "Bearer " + owner,
		"traceparent": "00-" + caller + "-b7ad6b7169203331-01"}, batch).must(t, 202)
	testwait.Within(t, "four requests", 20*time.Second, func() bool { p, _ := rcv.seen(); return len(p) == 4 })
	p, _ := rcv.seen()
	trace := func(tp string) string { return strings.Split(tp, "-")[1] }
	if trace(p[0]) == trace(p[1]) || trace(p[2]) != caller || trace(p[3]) != caller {
		t.Fatalf("traceparents %v", p)
	}
}

// Issue 26, item 1: a verified inbound post's events are in the trace of
// the post (the platform's traceparent, when it sent one): their
// deliveries' requests carry it.
func TestTraceThroughInbound(t *testing.T) {
	e := setupDelivering(t, "sqlite", withPlatforms)
	rcv := newTraceReceiver(t)
	_, owner, _ := e.project("gh")
	e.req("POST", "/api/v1/projects/gh/webhooks", owner, map[string]any{"url": rcv.URL, "maxAttempts": 1}).must(t, 201)
	p := e.req("POST", "/api/v1/projects/gh/platforms", owner, map[string]any{"provider": "generic",
		"credentials": map[string]any{"preset": "github", "secret": "gh-secret-0123456789"}}).must(t, 201)
	body := []byte(`{"action":"opened","number":1}`)
	mac := hmac.New(sha256.New, []byte("gh-secret-0123456789"))
	mac.Write(body)
	caller := "0af7651916cd43dd8448eb211c80319c"
	e.post(inboundPath(p.str("id")), map[string]string{"Content-Type": "application/json", "X-GitHub-Delivery": "d-1",
		"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil)), "traceparent": "00-" + caller + "-b7ad6b7169203331-01"}, body).must(t, 200)
	testwait.Within(t, "the delivery", 20*time.Second, func() bool { p, _ := rcv.seen(); return len(p) == 1 })
	if got, _ := rcv.seen(); !strings.HasPrefix(got[0], "00-"+caller+"-") || strings.Contains(got[0], "b7ad6b7169203331") {
		t.Fatalf("the delivery of an inbound event carried %q", got[0])
	}
}
