package hookgate

import (
	"encoding/json"
	"strings"
	"time"
)

// Operational events are the events Hookgate itself sends about a project's
// webhooks and deliveries. Their types begin with OperationalPrefix, which
// producers may not use, and only webhooks whose filter names them (a
// pattern beginning with the prefix, such as "hookgate.*") receive them.
const (
	OperationalPrefix = "hookgate."
	// EventWebhookDisabled: Hookgate disabled a webhook (410 Gone, or every
	// attempt failed for the disable-after period).
	EventWebhookDisabled = "hookgate.webhook.disabled"
	// EventCircuitOpened: a webhook's circuit breaker opened after
	// consecutive failed attempts; EventCircuitClosed: its probe succeeded.
	EventCircuitOpened = "hookgate.webhook.circuit_opened"
	EventCircuitClosed = "hookgate.webhook.circuit_closed"
	// EventDeliveryExhausted: a delivery failed its last scheduled attempt.
	EventDeliveryExhausted = "hookgate.delivery.exhausted"
	// EventWebhookRecovered: a webhook Hookgate disabled answered a
	// recovery probe with a 2xx and was enabled again.
	EventWebhookRecovered = "hookgate.webhook.recovered"
	// EventCertificateExpiring: a webhook's client certificate expires
	// within CertificateExpiryNotice; sent once per certificate.
	EventCertificateExpiring = "hookgate.webhook.certificate_expiring"
	// EventPing is the type of a recovery probe: an event sent to the one
	// disabled webhook it probes, never fanned out.
	EventPing = "hookgate.ping"
)

// IsOperational reports whether an event type is reserved for Hookgate.
func IsOperational(eventType string) bool { return strings.HasPrefix(eventType, OperationalPrefix) }

// IdempotencyWindow is how long an Idempotency-Key returns the event it first
// created.
const IdempotencyWindow = 24 * time.Hour

// Event is a message a producer sent. It is never changed after it is
// accepted.
type Event struct {
	ID        string
	ProjectID string
	Type      string
	Data      json.RawMessage
	// IdempotencyKey is the key the producer sent, if any.
	IdempotencyKey string
	// Deliveries is the number of delivery rows created for the event.
	Deliveries int
	// Trace is the trace the event belongs to, with Hookgate's span that
	// accepted it: its attempts are children of that span. Zero for an
	// event accepted before traces were kept (see TraceOfEvent).
	Trace     TraceContext
	CreatedAt time.Time
	// Replayed is set by Store.CreateEvents when an idempotency key returned
	// this earlier event instead of creating one.
	Replayed bool
	// Adopted is set by Store.CreateEvents when every delivery of the
	// event was handed to this node's Adopter at its creation, or born due
	// later at the Adopter's word: none needs a claim now.
	Adopted bool
	// Filtered and FilterFailed are set by Store.CreateEvents: how many of
	// the webhooks subscribed to the event's type its filter kept from the
	// event, by answering false (Filtered) or by failing on it
	// (FilterFailed, a missing field or its cost limit).
	Filtered, FilterFailed int
}

// EventInput is one event to accept.
type EventInput struct {
	Type           string
	Data           json.RawMessage
	IdempotencyKey string
	// Trace is the accepting span's trace context; zero starts a trace
	// for the event (ChildOf).
	Trace TraceContext
	// BodyHash is a digest of what the producer sent. When IdempotencyKey
	// was used within the window for a different BodyHash, the input is
	// refused with EIdempotencyConflict; empty compares with nothing (a
	// platform's retries, whose bodies may vary).
	BodyHash string
	// LegacyBodyHash, when set, is another digest of the same input that a
	// key claimed by an earlier version may hold: it counts as the same
	// body too.
	LegacyBodyHash string
}

// EventType is an entry of a project's optional event catalog. When Schema is
// set, the data of events of this type must validate against it.
type EventType struct {
	ProjectID   string
	Name        string
	Description string
	// Schema is a JSON Schema document, or nil.
	Schema    json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}
