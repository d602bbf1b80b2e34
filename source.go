package hookgate

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"
)

// PrefixSource names a project's broker sources.
const PrefixSource = "src_"

// Source statuses.
const (
	SourceActive = "active"
	// SourceDeactivated: a user paused it; no node consumes it.
	SourceDeactivated = "deactivated"
)

// Source is a project's subscription to a broker: each message it takes
// becomes an event of the project, acknowledged to the broker only once
// the event is committed (docs/sources.md).
type Source struct {
	ID        string
	ProjectID string
	// Name is the user's label for the source.
	Name string
	// Kind names the broker kind (see Sources): nats, amqp, mqtt,
	// redis-stream.
	Kind string
	// Config is the broker's address, the kind's fields (subject, queue,
	// topic, stream…) and credentials; stored sealed as a whole.
	Config DestinationConfig
	// EventType says how a message's event type is found.
	EventType SourceEventType
	Status    string
	CreatedAt time.Time
	UpdatedAt time.Time
	// State is the last state a node consuming the source reported.
	State SourceState
	// LeaseNode is the node that holds the source, until LeaseUntil: the
	// one node of a cluster that consumes it (zero when none does).
	LeaseNode  string
	LeaseUntil time.Time
}

// SourceEventType says where a message's event type comes from: a header
// (a message header, AMQP property or MQTT 5 user property, a Redis stream
// field), or a JSON Pointer into the body; Default when that finds none
// (empty: such a message is rejected).
type SourceEventType struct {
	Header  string `json:"header,omitempty"`
	Pointer string `json:"pointer,omitempty"`
	Default string `json:"default,omitempty"`
}

// SourceState is what a source's consumer last reported, as the API and
// the dashboard show it.
type SourceState struct {
	// Node is the node consuming the source; empty when none is.
	Node      string
	Connected bool
	// Lag is how many messages wait in the broker, where the broker says
	// (-1 where it does not).
	Lag int64
	// Received counts messages taken since the consumer started, Accepted
	// those that became events (or were already, by their ID), Rejected
	// those that cannot become one (see ErrMessageRejected).
	Received, Accepted, Rejected int64
	LastMessageAt                time.Time
	LastError                    string
	LastErrorAt                  time.Time
	UpdatedAt                    time.Time
}

// SourceMessage is one message a source took from its broker.
type SourceMessage struct {
	// ID is the broker's identity of the message, the same on every
	// redelivery (a message ID header or property, a stream entry ID);
	// empty when the broker gives none. Events are de-duplicated on it
	// within the idempotency window.
	ID string
	// Headers are the message's headers (properties, user properties,
	// fields other than the body), by their names as sent.
	Headers map[string]string
	Body    []byte
}

// ErrMessageRejected, returned (wrapped) by a SourceHandler, says that a
// message cannot become an event whatever the wait (not JSON, no type):
// the consumer acknowledges it negatively, without a redelivery (to the
// queue's dead-letter exchange where the broker has one) and goes on.
var ErrMessageRejected = errors.New("the message cannot become an event")

// SourceHandler turns one message into an event. nil: the event is
// committed (or was, by the message's ID) and the message may be
// acknowledged. ErrMessageRejected: drop it. Any other error: the event
// is not committed; leave the message to be delivered again.
type SourceHandler func(ctx context.Context, m SourceMessage) error

// SourceReporter is told what a consumer sees of its broker.
type SourceReporter interface {
	// Connected reports a connection made (err nil) or lost (err why).
	Connected(err error)
	// Lag reports how many messages wait in the broker.
	Lag(n int64)
}

// SourceDriver consumes one kind of broker.
type SourceDriver interface {
	// Check reports what is wrong with s's configuration for this kind,
	// as an invalid-input error naming the field (config.<field>).
	Check(s *Source) error
	// Probe checks, at registration, that s's broker answers and that
	// what s names there exists (the stream, the queue…), within ctx,
	// taking no message: an invalid-input error naming the field at fault.
	Probe(ctx context.Context, s *Source) error
	// Consume takes s's messages until ctx ends, handing each to handle
	// and acknowledging it as handle says. It reconnects on its own after
	// the broker goes away, telling r, and returns only when ctx ends (nil)
	// or on an error no reconnection can mend (a configuration the broker
	// refuses), which the caller records and retries later.
	Consume(ctx context.Context, s *Source, handle SourceHandler, r SourceReporter) error
}

// Sources is the registry of source kinds; registered once, before the
// server starts, then only read.
type Sources struct {
	kinds map[string]registeredSource
}

type registeredSource struct {
	kind   DestinationKind
	driver SourceDriver
}

// NewSources returns an empty registry.
func NewSources() *Sources { return &Sources{kinds: map[string]registeredSource{}} }

// Register adds a kind (its Name, Fields and Secret fields, as a
// destination kind's) and its driver. A name registered twice is refused.
func (r *Sources) Register(k DestinationKind, d SourceDriver) error {
	if k.Name == "" || d == nil {
		return errors.New("source kind: a name and a driver are required")
	}
	if _, dup := r.kinds[k.Name]; dup {
		return fmt.Errorf("source kind %q is already registered", k.Name)
	}
	r.kinds[k.Name] = registeredSource{kind: k, driver: d}
	return nil
}

// For returns the driver of s's kind; an unknown kind is an invalid-input
// error on "kind".
func (r *Sources) For(s *Source) (SourceDriver, error) {
	k, ok := r.kinds[s.Kind]
	if !ok {
		return nil, InvalidParam("kind", s.Kind, "kind must be one of the registered source kinds, not %q", s.Kind)
	}
	return k.driver, nil
}

// Kinds returns the registered kinds, by name.
func (r *Sources) Kinds() []DestinationKind {
	out := make([]DestinationKind, 0, len(r.kinds))
	for _, k := range r.kinds {
		out = append(out, k.kind)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
