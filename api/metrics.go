package api

import (
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/tracing"
)

// metrics are the API's Prometheus collectors, all prefixed hookgate_.
type metrics struct {
	requests          *prometheus.CounterVec
	latency           *prometheus.HistogramVec
	eventsAccepted    prometheus.Counter
	deliveriesCreated prometheus.Counter
	// filterRejected and filterFailed count the (event, webhook) pairs a
	// filter kept apart: by answering false, or by failing on the event.
	filterRejected, filterFailed prometheus.Counter
	// bodyRefusals counts bodies refused unread: budget, timeout.
	bodyRefusals *prometheus.CounterVec
	// inboundRefusals counts inbound posts refused: unverified,
	// throttled (429 after too many), busy (concurrency caps).
	inboundRefusals *prometheus.CounterVec
	// inboundAccepted counts inbound posts verified and committed, by
	// provider: a label of at most the registered providers.
	inboundAccepted *prometheus.CounterVec
	// storeErrors counts answers whose cause is the store's, the API's
	// share of hookgate_store_errors_total.
	storeErrors prometheus.Counter
}

// newMetrics registers the API's collectors; providers are the names of
// the registered platform providers, whose series start at zero.
func newMetrics(reg *prometheus.Registry, providers []string) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_http_requests_total", Help: "HTTP requests by route and status.",
		}, []string{"route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hookgate_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"}),
		eventsAccepted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookgate_events_accepted_total", Help: "Events accepted (202), not counting idempotent replays.",
		}),
		deliveriesCreated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookgate_deliveries_created_total", Help: "Delivery rows created for accepted events.",
		}),
		filterRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookgate_filter_rejected_total", Help: "Deliveries not created because the webhook's filter answered false on the event (one per event and webhook).",
		}),
		filterFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookgate_filter_failed_total", Help: "Deliveries not created because the webhook's filter failed on the event (a missing field, a wrong type, its cost limit), counted as no match.",
		}),
		bodyRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_request_bodies_refused_total", Help: "Request bodies refused before they were read whole, by reason (budget, timeout).",
		}, []string{"reason"}),
		inboundRefusals: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_inbound_refused_total", Help: "Inbound posts refused, by reason (unverified, throttled, busy).",
		}, []string{"reason"}),
		inboundAccepted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_inbound_accepted_total", Help: "Inbound posts verified and committed, by platform provider.",
		}, []string{"provider"}),
	}
	// The dispatcher counts its own store errors under the same name, with
	// component="dispatcher" and the same help text.
	storeErrors := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: delivery.StoreErrorsName, Help: delivery.StoreErrorsHelp,
		ConstLabels: prometheus.Labels{"component": "api"},
	}, []string{"op"})
	m.storeErrors = storeErrors.WithLabelValues("request")
	for _, p := range providers {
		m.inboundAccepted.WithLabelValues(p)
	}
	for _, reason := range []string{"budget", "timeout"} {
		m.bodyRefusals.WithLabelValues(reason)
	}
	for _, reason := range []string{"unverified", "throttled", "busy"} {
		m.inboundRefusals.WithLabelValues(reason)
	}
	reg.MustRegister(m.requests, m.latency, m.eventsAccepted, m.deliveriesCreated, m.filterRejected, m.filterFailed, m.bodyRefusals, m.inboundRefusals, m.inboundAccepted, storeErrors)
	// A registry may already hold the runtime collectors (a caller's own).
	_ = reg.Register(collectors.NewGoCollector())
	_ = reg.Register(collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// observe counts a request and its latency, with its trace ID as the
// latency's exemplar when it started a span.
func (m *metrics) observe(route string, status int, elapsed time.Duration, traceID string) {
	m.requests.WithLabelValues(route, strconv.Itoa(status)).Inc()
	tracing.Observe(m.latency.WithLabelValues(route), elapsed.Seconds(), traceID)
}
