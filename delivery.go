package hookgate

import "time"

// Delivery statuses.
const (
	DeliveryPending   = "pending"
	DeliverySucceeded = "succeeded"
	DeliveryFailed    = "failed"
	// DeliveryPaused deliveries wait for their webhook to be activated.
	DeliveryPaused    = "paused"
	DeliveryCancelled = "cancelled"
)

// Delivery kinds.
const (
	// KindEvent deliveries carry an event to a subscribed webhook; the
	// dispatcher sends them and retries them on the schedule.
	KindEvent = "event"
	// KindTrigger deliveries record a synchronous trigger: made at once,
	// answered to the caller, never retried automatically.
	KindTrigger = "trigger"
	// KindProbe deliveries record a recovery probe (a hookgate.ping) of a
	// disabled webhook: made by the prober, recorded with their attempt,
	// never queued or retried.
	KindProbe = "probe"
)

// Delivery is one event on its way to one webhook. It is both the audit
// record and the job: the delivery engine claims due rows from the store. Its
// ID is the webhook-id header of every request it makes.
type Delivery struct {
	ID        string
	ProjectID string
	EventID   string
	WebhookID string
	EventType string
	// Kind is KindEvent, KindTrigger or KindProbe; EventID and EventType are empty
	// for a trigger.
	Kind string
	// ChainID is shared by the steps of one trigger chain; empty outside
	// a chain.
	ChainID string
	// Ordered deliveries belong to a FIFO webhook: they reach it in the
	// order of their IDs, one in flight per OrderingKey at a time.
	Ordered        bool
	OrderingKey    string
	Status         string
	Attempts       int
	NextAttemptAt  time.Time
	LastStatusCode int
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// Attempt is one HTTP request made for a delivery.
type Attempt struct {
	ID         string
	DeliveryID string
	Attempt    int
	StartedAt  time.Time
	DurationMs int64
	StatusCode int
	// RequestMethod, RequestURL and RequestHeaders are what was sent,
	// credentials redacted.
	RequestMethod   string
	RequestURL      string
	RequestHeaders  map[string]string
	ResponseHeaders map[string]string
	// ResponseBody holds the first 64 KiB of the answer, as text, or in
	// base64 when ResponseBodyEncoding says so (a body that is not UTF-8).
	ResponseBody         string
	ResponseBodyEncoding string
	// RequestBody holds the first 64 KiB of the body sent when the
	// webhook's transform made it; "" when the body was the event's
	// envelope (or a trigger's input), which the event keeps.
	RequestBody string
	// Node is the name of the node that made the attempt; "" for an
	// attempt made before nodes were recorded.
	Node  string
	Error string
	// TraceID and SpanID name the attempt's span (lower-case hex), whose
	// parent is the event's; "" for an attempt made before traces were
	// kept.
	TraceID string
	SpanID  string
}
