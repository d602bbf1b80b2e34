package client

import (
	"context"
	"net/http"
)

// ListDeliveries lists a project's deliveries, the newest first.
func (c *Client) ListDeliveries(ctx context.Context, project string, opts *DeliveryListOptions) (*Page[Delivery], error) {
	var out Page[Delivery]
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "deliveries"), query: opts.values(), want: http.StatusOK, out: &out})
}

// GetDelivery reads a delivery.
func (c *Client) GetDelivery(ctx context.Context, project, id string) (*Delivery, error) {
	var out Delivery
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "deliveries", id), want: http.StatusOK, out: &out})
}

// ListAttempts lists a delivery's attempts, the latest first.
func (c *Client) ListAttempts(ctx context.Context, project, id string, opts *ListOptions) (*Page[Attempt], error) {
	var out Page[Attempt]
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "deliveries", id, "attempts"), query: opts.values(), want: http.StatusOK, out: &out})
}

// RetryDelivery queues an event delivery for one more attempt now (the
// server answers 202), or runs a trigger again at once and answers it
// with the new attempt recorded (200).
func (c *Client) RetryDelivery(ctx context.Context, project, id string) (*Delivery, error) {
	var out Delivery
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "deliveries", id, "retry"), out: &out})
}
