package client

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// CreateWebhook registers a webhook; the answer carries its secret.
func (c *Client) CreateWebhook(ctx context.Context, project string, in WebhookCreate) (*Webhook, error) {
	var out Webhook
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "webhooks"), body: in, want: http.StatusCreated, out: &out})
}

// ListWebhooks lists a project's webhooks.
func (c *Client) ListWebhooks(ctx context.Context, project string, opts *ListOptions) (*Page[Webhook], error) {
	var out Page[Webhook]
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "webhooks"), query: opts.values(), want: http.StatusOK, out: &out})
}

// GetWebhook reads a webhook by ID or uid.
func (c *Client) GetWebhook(ctx context.Context, project, id string) (*Webhook, error) {
	var out Webhook
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "webhooks", id), want: http.StatusOK, out: &out})
}

// UpdateWebhook changes a webhook.
func (c *Client) UpdateWebhook(ctx context.Context, project, id string, in WebhookUpdate) (*Webhook, error) {
	var out Webhook
	return &out, c.do(ctx, request{method: http.MethodPatch, path: projectPath(project, "webhooks", id), body: in, want: http.StatusOK, out: &out})
}

// DeleteWebhook deletes a webhook; its unfinished deliveries are cancelled.
func (c *Client) DeleteWebhook(ctx context.Context, project, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: projectPath(project, "webhooks", id), want: http.StatusNoContent})
}

// ActivateWebhook makes a deactivated or disabled webhook receive
// deliveries again; its paused deliveries are queued.
func (c *Client) ActivateWebhook(ctx context.Context, project, id string) (*Webhook, error) {
	var out Webhook
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "webhooks", id, "activate"), want: http.StatusOK, out: &out})
}

// DeactivateWebhook stops a webhook's deliveries; they wait, paused.
func (c *Client) DeactivateWebhook(ctx context.Context, project, id string) (*Webhook, error) {
	var out Webhook
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "webhooks", id, "deactivate"), want: http.StatusOK, out: &out})
}

// RecoverWebhook queues again the webhook's deliveries failed since the
// time, and creates those of events it missed then.
func (c *Client) RecoverWebhook(ctx context.Context, project, id string, since time.Time) (*Recovered, error) {
	var out Recovered
	body := struct {
		Since time.Time `json:"since"`
	}{since.UTC()}
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "webhooks", id, "recover"), body: body, want: http.StatusAccepted, out: &out})
}

// GetWebhookSecret reads a webhook's signing secret, and its URL in full,
// credential query values included.
func (c *Client) GetWebhookSecret(ctx context.Context, project, id string) (*Secret, error) {
	var out Secret
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "webhooks", id, "secret"), want: http.StatusOK, out: &out})
}

// RotateWebhookSecret replaces a webhook's signing secret; the old one
// keeps signing for the grace period.
func (c *Client) RotateWebhookSecret(ctx context.Context, project, id string, in SecretRotation) (*Secret, error) {
	var out Secret
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "webhooks", id, "secret", "rotate"), body: in, want: http.StatusOK, out: &out})
}

// TestWebhook sends a webhook.test event to the webhook now, and answers
// its delivery.
func (c *Client) TestWebhook(ctx context.Context, project, id string) (*Delivery, error) {
	var out Delivery
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "webhooks", id, "test"), want: http.StatusAccepted, out: &out})
}

// TestWebhookExpression runs a filter, a transform and transformHeaders on
// an event without saving them, and answers each result with its cost and
// time. An expression that does not compile is an *Error naming it (400).
func (c *Client) TestWebhookExpression(ctx context.Context, project string, in ExpressionTestInput) (*ExpressionTest, error) {
	var out ExpressionTest
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "webhooks", "test-expression"), body: in, want: http.StatusOK, out: &out})
}

// TriggerWebhook calls the webhook's receiver now and answers its
// response. Publisher keys may trigger.
func (c *Client) TriggerWebhook(ctx context.Context, project, id string, in Trigger) (*TriggerResult, error) {
	body, err := in.encode()
	if err != nil {
		return nil, fmt.Errorf("hookgate client: encoding the request: %w", err)
	}
	var out TriggerResult
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "webhooks", id, "trigger"), body: encoded(body), want: http.StatusOK, out: &out})
}
