package tracing

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// The first observation with a trace ID takes it as its exemplar; those
// within ExemplarEvery are counted without one; the next after it takes
// its own.
func TestObserveTakesExemplarsAtMostEveryInterval(t *testing.T) {
	at := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	exemplarClock = func() time.Time { return at }
	t.Cleanup(func() { exemplarClock = time.Now })
	h := prometheus.NewHistogram(prometheus.HistogramOpts{Name: "x_seconds", Help: "x", Buckets: []float64{1}})
	reg := prometheus.NewRegistry()
	reg.MustRegister(h)
	read := func() *dto.Histogram {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		return mfs[0].GetMetric()[0].GetHistogram()
	}

	Observe(h, 0.5, "0af7651916cd43dd8448eb211c80319c")
	for range 100 {
		Observe(h, 0.5, "11111111111111111111111111111111")
	}
	at = at.Add(ExemplarEvery - 1)
	Observe(h, 2, "11111111111111111111111111111111")
	got := read()
	if got.GetSampleCount() != 102 {
		t.Fatalf("%d observations counted, want 102", got.GetSampleCount())
	}
	if e := exemplarsOf(got); strings.Join(e, ",") != "0af7651916cd43dd8448eb211c80319c" {
		t.Fatalf("exemplars %v, want the first observation's trace alone", e)
	}

	at = at.Add(1)
	Observe(h, 2, "22222222222222222222222222222222")
	if e := exemplarsOf(read()); strings.Join(e, ",") != "0af7651916cd43dd8448eb211c80319c,22222222222222222222222222222222" {
		t.Fatalf("exemplars %v after ExemplarEvery, want the first and the one after the interval", e)
	}
}

// exemplarsOf lists the trace IDs of h's exemplars, bucket by bucket.
func exemplarsOf(h *dto.Histogram) []string {
	var traces []string
	for _, b := range h.GetBucket() {
		if e := b.GetExemplar(); e != nil {
			for _, l := range e.GetLabel() {
				traces = append(traces, l.GetValue())
			}
		}
	}
	return traces
}
