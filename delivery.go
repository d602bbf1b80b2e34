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

// Delivery is one event on its way to one webhook. It is both the audit
// record and the job: the delivery engine claims due rows from the store. Its
// ID is the webhook-id header of every request it makes.
type Delivery struct {
	ID             string
	ProjectID      string
	EventID        string
	WebhookID      string
	EventType      string
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
	ID              string
	DeliveryID      string
	Attempt         int
	StartedAt       time.Time
	DurationMs      int64
	StatusCode      int
	ResponseHeaders map[string]string
	ResponseBody    string
	Error           string
}
