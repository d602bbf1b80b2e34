package hookgate

import "time"

// Redrive states.
const (
	// RedriveRunning redrives still walk their deliveries.
	RedriveRunning = "running"
	// RedriveFinished redrives walked every delivery they select.
	RedriveFinished = "finished"
	// RedriveFailed redrives stopped on an error, told in their Error.
	RedriveFailed = "failed"
)

// Redrive limits.
const (
	// MaxRedriveIDs is the most delivery IDs one redrive may name.
	MaxRedriveIDs = 1000
	// RedriveBatch is the most deliveries one step of a redrive walks, in
	// one short transaction, so that ingest is never held up for long.
	RedriveBatch = 500
	// RedriveLease is how long a node may go without finishing a step
	// before another node that serves the redrive takes it over.
	RedriveLease = 30 * time.Second
)

// RedriveSelection is what a redrive queues again: the deliveries named by
// IDs, or, when IDs is empty, the event deliveries in Status matching the
// other fields that are set.
type RedriveSelection struct {
	IDs       []string  `json:"ids,omitempty"`
	WebhookID string    `json:"webhookId,omitempty"`
	EventType string    `json:"eventType,omitempty"`
	Status    string    `json:"status,omitempty"`
	Since     time.Time `json:"since,omitzero"`
	Until     time.Time `json:"until,omitzero"`
}

// Redrive is a bulk requeue of deliveries, walked in the background in
// delivery ID order, a batch at a time. Matched counts the deliveries it
// found so far; Requeued those of them it queued again (the others'
// webhook is not active, or they were already pending).
type Redrive struct {
	ID             string
	ProjectID      string
	State          string
	Selection      RedriveSelection
	Matched        int64
	Requeued       int64
	StartedAt      time.Time
	FinishedAt     time.Time
	Error          string
	IdempotencyKey string
	// BodyHash tells the request an IdempotencyKey first created the
	// redrive with from another.
	BodyHash string
}
