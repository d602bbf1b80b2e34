package hookgate

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"time"
)

// DestinationHTTP is the kind of a webhook whose Destination is empty: a
// signed HTTP request to its URL, as every webhook was before kinds existed.
const DestinationHTTP = "http"

// Bounds on the wait a destination may ask for before the next attempt
// (Outcome.RetryAfter); the dispatcher holds every kind to them.
const (
	MinRetryAfter = time.Second
	MaxRetryAfter = 24 * time.Hour
)

// DialFunc opens a connection to a broker: the network policy's dialer, so
// that a name resolving to a denied address is refused when dialed. Every
// broker kind dials with one.
type DialFunc func(ctx context.Context, network, addr string) (net.Conn, error)

// Destination sends deliveries to one kind of receiver. The dispatcher
// calls Send from many goroutines at once.
type Destination interface {
	// Check reports what is wrong with w's configuration for this kind, as
	// an invalid-input error naming the field.
	Check(w *Webhook) error
	// Send makes one attempt to deliver m to w and classifies its outcome.
	// It returns when the attempt ended, within Timeout.
	Send(ctx context.Context, w *Webhook, m DeliveryMessage) Outcome
	// Timeout is the longest one Send may take: the dispatcher starts no
	// attempt that could outlive its lease.
	Timeout() time.Duration
	// Close releases what the destination holds (connections, caches).
	Close() error
}

// DeliveryMessage is one delivery as a destination sends it: an event and the
// delivery's ID, the same on every retry.
type DeliveryMessage struct {
	ID string
	// EventID is the event's ID, which expressions see as id.
	EventID   string
	EventType string
	EventTime time.Time
	Data      json.RawMessage
	// Trace is the attempt's own span in the event's trace: a destination
	// that carries headers sends it as traceparent (and tracestate).
	// Zero when the project turned trace headers off.
	Trace TraceContext
	// Probe marks a recovery probe's hookgate.ping: a webhook's transform
	// that fails on it is left out, and the envelope sent, so that a
	// webhook can always be probed.
	Probe bool
}

// OutcomeClass is what one attempt came to, as the dispatcher acts on it.
type OutcomeClass int

// Outcome classes.
const (
	// OutcomeSuccess: the receiver has the delivery.
	OutcomeSuccess OutcomeClass = iota
	// OutcomeRetryable: the attempt failed; the next one follows the retry
	// schedule (or Outcome.RetryAfter, if later).
	OutcomeRetryable
	// OutcomePermanent: no retry can do better; the delivery fails now
	// (with its exhausted event, unless Outcome.Disable).
	OutcomePermanent
)

// Outcome is the result of one Send.
type Outcome struct {
	Class OutcomeClass
	// Reason says, for a permanent failure, why no retry is made; it ends
	// the operator's log line ("delivery failed for good: <reason>"). What
	// a tenant reads is Attempt.Error.
	Reason string
	// RetryAfter, for a retryable failure, is how long the receiver asked
	// to be left alone; the dispatcher bounds it to [MinRetryAfter,
	// MaxRetryAfter] and waits the longer of it and the schedule's delay.
	RetryAfter time.Duration
	// Disable, with a permanent failure, asks that the webhook be disabled:
	// the receiver says it is gone for good.
	Disable bool
	// Attempt is the record of the attempt: the destination fills what it
	// knows (start, duration, status code, request, response, error); the
	// dispatcher adds the IDs and the attempt's number, and the start time
	// when the destination left it empty.
	Attempt Attempt
	// Cause is the full error behind a failure, for the operator's log;
	// Attempt.Error keeps what a tenant may see.
	Cause string
}

// Finish completes o's attempt, which began at start and ended at end:
// its duration and, for a failure (err not nil), the error a tenant reads
// (describe's words for err) and the cause an operator's log keeps (err
// itself). A broker kind ends each Send with it.
func (o Outcome) Finish(start, end time.Time, err error, describe func(error) string) Outcome {
	o.Attempt.DurationMs = end.Sub(start).Milliseconds()
	if err != nil {
		o.Attempt.Error = describe(err)
		o.Cause = err.Error()
	}
	return o
}

// Succeeded returns the outcome of an attempt the receiver accepted.
func Succeeded(a Attempt) Outcome { return Outcome{Class: OutcomeSuccess, Attempt: a} }

// Retryable returns the outcome of a failed attempt to be retried.
func Retryable(a Attempt, retryAfter time.Duration) Outcome {
	return Outcome{Class: OutcomeRetryable, Attempt: a, RetryAfter: retryAfter}
}

// Permanent returns the outcome of a failed attempt no retry can mend.
func Permanent(a Attempt, reason string) Outcome {
	return Outcome{Class: OutcomePermanent, Attempt: a, Reason: reason}
}

// DestinationKind describes a kind of destination to the registry.
type DestinationKind struct {
	// Name is the value of Webhook.Destination that selects the kind.
	Name string
	// Fields names the configuration fields of the kind, and Secret those
	// of them whose values are credentials: stored sealed and answered
	// redacted.
	Fields, Secret []string
}

// Destinations is the registry of destination kinds. Kinds are registered
// once, from one place, before the dispatcher starts; then it is only
// read, from any goroutine.
type Destinations struct {
	kinds map[string]registeredKind
}

type registeredKind struct {
	kind DestinationKind
	dest Destination
}

// NewDestinations returns an empty registry.
func NewDestinations() *Destinations {
	return &Destinations{kinds: map[string]registeredKind{}}
}

// Register adds a kind and the destination that sends for it. A name
// registered twice is refused.
func (r *Destinations) Register(k DestinationKind, d Destination) error {
	if k.Name == "" || d == nil {
		return errors.New("destination kind: a name and a destination are required")
	}
	if _, dup := r.kinds[k.Name]; dup {
		return fmt.Errorf("destination kind %q is already registered", k.Name)
	}
	r.kinds[k.Name] = registeredKind{kind: k, dest: d}
	return nil
}

// For returns the destination that sends for w: its kind's, HTTP's when w
// names none. An unknown kind is an invalid-input error on "destination".
func (r *Destinations) For(w *Webhook) (Destination, error) {
	name := w.DestinationKind()
	k, ok := r.kinds[name]
	if !ok {
		return nil, InvalidParam("destination.kind", name, "destination must be one of the registered kinds, not %q", name)
	}
	return k.dest, nil
}

// Check checks w's configuration with its kind.
func (r *Destinations) Check(w *Webhook) error {
	d, err := r.For(w)
	if err != nil {
		return err
	}
	return d.Check(w)
}

// Kinds returns the registered kinds, by name.
func (r *Destinations) Kinds() []DestinationKind {
	out := make([]DestinationKind, 0, len(r.kinds))
	for _, k := range r.kinds {
		out = append(out, k.kind)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Timeout is the longest Timeout of the registered destinations: the
// dispatcher's lease must exceed it.
func (r *Destinations) Timeout() time.Duration {
	var t time.Duration
	for _, k := range r.kinds {
		t = max(t, k.dest.Timeout())
	}
	return t
}

// Close closes every registered destination and returns their errors.
func (r *Destinations) Close() error {
	var errs []error
	for _, k := range r.Kinds() {
		if err := r.kinds[k.Name].dest.Close(); err != nil {
			errs = append(errs, fmt.Errorf("destination %s: %w", k.Name, err))
		}
	}
	return errors.Join(errs...)
}
