package client

import (
	"context"
	"net/http"
	"time"
)

// Redrive states.
const (
	RedriveRunning  = "running"
	RedriveFinished = "finished"
	RedriveFailed   = "failed"
)

// MaxRedriveIDs is the most delivery IDs one redrive may name.
const MaxRedriveIDs = 1000

// RedriveFilter selects the event deliveries of a redrive; the zero
// value selects every exhausted one.
type RedriveFilter struct {
	// Webhook is a webhook ID or uid.
	Webhook   string `json:"webhook,omitempty"`
	EventType string `json:"eventType,omitempty"`
	// Status is exhausted (the default, the same as failed), failed or
	// succeeded.
	Status DeliveryStatus `json:"status,omitempty"`
	Since  time.Time      `json:"since,omitzero"`
	Until  time.Time      `json:"until,omitzero"`
}

// RedriveRequest is what a redrive queues again: the deliveries named by
// IDs (at most MaxRedriveIDs), or those Filter selects; exactly one is set.
type RedriveRequest struct {
	IDs    []string       `json:"ids,omitempty"`
	Filter *RedriveFilter `json:"filter,omitempty"`
	// IdempotencyKey, when set, makes a repeat of this request answer the
	// redrive it started.
	IdempotencyKey string `json:"-"`
}

// Redrive is a bulk requeue of deliveries, running in the background.
type Redrive struct {
	ID    string `json:"id"`
	State string `json:"state"`
	// Matched counts the deliveries found so far; Requeued those of them
	// queued again (the others' webhook is not active, or they were
	// pending).
	Matched   int64     `json:"matched"`
	Requeued  int64     `json:"requeued"`
	StartedAt time.Time `json:"startedAt"`
	// FinishedAt is zero while the redrive runs.
	FinishedAt time.Time `json:"finishedAt"`
	// Error says why a failed redrive stopped.
	Error string `json:"error,omitempty"`
}

// RedriveDeliveries starts a redrive (the server answers 202) and answers
// it running; GetRedrive follows it.
func (c *Client) RedriveDeliveries(ctx context.Context, project string, in RedriveRequest) (*Redrive, error) {
	body := in
	if body.Filter != nil {
		f := *body.Filter
		f.Since, f.Until = utcOrZero(f.Since), utcOrZero(f.Until)
		body.Filter = &f
	}
	var out Redrive
	r := request{method: http.MethodPost, path: projectPath(project, "deliveries", "redrive"), body: body, want: http.StatusAccepted, out: &out}
	if in.IdempotencyKey != "" {
		r.header = http.Header{"Idempotency-Key": {in.IdempotencyKey}}
	}
	return &out, c.do(ctx, r)
}

// GetRedrive reads a redrive's progress.
func (c *Client) GetRedrive(ctx context.Context, project, id string) (*Redrive, error) {
	var out Redrive
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "redrives", id), want: http.StatusOK, out: &out})
}

func utcOrZero(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC()
}
