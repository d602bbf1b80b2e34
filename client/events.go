package client

import (
	"context"
	"fmt"
	"net/http"
)

// SendEvent sends an event to the project's subscribed webhooks. The answer
// comes once the event and its deliveries are committed. With an
// IdempotencyKey, a repeat answers the event created before (Replayed).
func (c *Client) SendEvent(ctx context.Context, project string, in EventSend) (*EventAccepted, error) {
	body, err := in.encode()
	if err != nil {
		return nil, fmt.Errorf("hookgate client: encoding the request: %w", err)
	}
	var out EventAccepted
	var h http.Header
	r := request{method: http.MethodPost, path: projectPath(project, "events"), body: encoded(body), want: http.StatusAccepted, out: &out, respHeader: &h}
	if in.IdempotencyKey != "" {
		r.header = http.Header{"Idempotency-Key": {in.IdempotencyKey}}
	}
	if err := c.do(ctx, r); err != nil {
		return nil, err
	}
	out.Replayed = out.Replayed || h.Get("Idempotent-Replayed") == "true"
	return &out, nil
}

// MaxBatch is the most events SendEvents takes at once.
const MaxBatch = 1000

// SendEvents sends up to MaxBatch events in one request, committed
// together, and answers them in order; Replayed marks those an
// idempotency key answered with an event sent before.
func (c *Client) SendEvents(ctx context.Context, project string, events []EventSend) ([]EventAccepted, error) {
	body, err := encodeBatch(events)
	if err != nil {
		return nil, fmt.Errorf("hookgate client: encoding the request: %w", err)
	}
	var out struct {
		Data []EventAccepted `json:"data"`
	}
	if err := c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "events", "batch"), body: encoded(body), want: http.StatusAccepted, out: &out}); err != nil {
		return nil, err
	}
	return out.Data, nil
}

// ListEvents lists a project's events, the newest first.
func (c *Client) ListEvents(ctx context.Context, project string, opts *EventListOptions) (*Page[Event], error) {
	var out Page[Event]
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "events"), query: opts.values(), want: http.StatusOK, out: &out})
}

// GetEvent reads an event with its data.
func (c *Client) GetEvent(ctx context.Context, project, id string) (*Event, error) {
	var out Event
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "events", id), want: http.StatusOK, out: &out})
}

// ListEventDeliveries lists an event's deliveries, one a webhook.
func (c *Client) ListEventDeliveries(ctx context.Context, project, id string, opts *ListOptions) (*Page[Delivery], error) {
	var out Page[Delivery]
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "events", id, "deliveries"), query: opts.values(), want: http.StatusOK, out: &out})
}

// CreateEventType adds an event type to the project's catalog.
func (c *Client) CreateEventType(ctx context.Context, project string, in EventTypeCreate) (*EventType, error) {
	var out EventType
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "event-types"), body: in, want: http.StatusCreated, out: &out})
}

// ListEventTypes lists the catalog, by name.
func (c *Client) ListEventTypes(ctx context.Context, project string, opts *ListOptions) (*Page[EventType], error) {
	var out Page[EventType]
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "event-types"), query: opts.values(), want: http.StatusOK, out: &out})
}

// GetEventType reads an event type.
func (c *Client) GetEventType(ctx context.Context, project, name string) (*EventType, error) {
	var out EventType
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "event-types", name), want: http.StatusOK, out: &out})
}

// UpdateEventType changes an event type.
func (c *Client) UpdateEventType(ctx context.Context, project, name string, in EventTypeUpdate) (*EventType, error) {
	var out EventType
	return &out, c.do(ctx, request{method: http.MethodPatch, path: projectPath(project, "event-types", name), body: in, want: http.StatusOK, out: &out})
}

// DeleteEventType removes an event type from the catalog.
func (c *Client) DeleteEventType(ctx context.Context, project, name string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: projectPath(project, "event-types", name), want: http.StatusNoContent})
}
