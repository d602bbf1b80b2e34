package delivery

import "github.com/prometheus/client_golang/prometheus"

// Operations of the dispatcher on the store, the op label of
// hookgate_store_errors_total{component="dispatcher"}.
const (
	opClaim     = "claim"     // claiming due deliveries, repairing ordered ones, making given-back rows due
	opRecord    = "record"    // recording attempts: each failed try of a batch
	opHeartbeat = "heartbeat" // this node's heartbeat
	opTakeOver  = "takeover"  // taking over silent nodes' leases
	opCircuits  = "circuits"  // reading and recording circuit breakers
	opDisable   = "disable"   // disabling failing or gone webhooks
)

// StoreErrorsName and StoreErrorsHelp name the counter of failed store
// queries and commits. The API counts its own under the same name with
// component="api": the registry requires one help text for one name.
const (
	StoreErrorsName = "hookgate_store_errors_total"
	StoreErrorsHelp = "Store queries and commits that failed, by component (api, dispatcher) and operation."
)

// newStoreErrors returns the dispatcher's store error counter, each
// operation's series present from the start so that rate() sees the
// first error.
func newStoreErrors() *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: StoreErrorsName, Help: StoreErrorsHelp,
		ConstLabels: prometheus.Labels{"component": "dispatcher"},
	}, []string{"op"})
	zeroSeries(c, opClaim, opRecord, opHeartbeat, opTakeOver, opCircuits, opDisable)
	return c
}

// newNodesLost returns the counter of nodes this node forgot because
// their heartbeat stopped.
func newNodesLost() prometheus.Counter {
	return prometheus.NewCounter(prometheus.CounterOpts{
		Name: "hookgate_nodes_lost_total",
		Help: "Nodes whose heartbeat stopped for the node timeout, forgotten by this node as it took their deliveries over (not those that stopped cleanly).",
	})
}

// storeError counts a failed store operation.
func (d *Dispatcher) storeError(op string) {
	d.storeErrors.WithLabelValues(op).Inc()
}

// newSpills is hookgate_delivery_spills_total: the claimed rows an
// endpoint had no room for, given back to the store due later
// (step="given_back"), and the rows due later for lack of room, given back
// or born so, made due at once when their endpoint ran dry
// (step="hastened", see hasten.go).
func newSpills() *prometheus.CounterVec {
	return prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "hookgate_delivery_spills_total",
		Help: "Claimed deliveries given back to the store because their endpoint held as many as it can send within a lease (given_back), and deliveries due later for lack of room (given back, or born so for a slow endpoint) made due at once when the endpoint ran dry (hastened).",
	}, []string{"step"})
}

// zeroSeries makes the series of each value of a one-label vector exist
// at zero from the start: rate() and increase() then see the first
// count, and a dashboard lists every value before it happens.
func zeroSeries(vec *prometheus.CounterVec, values ...string) {
	for _, v := range values {
		vec.WithLabelValues(v)
	}
}
