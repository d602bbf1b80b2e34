package client

import (
	"context"
	"net/http"
)

// CreatePlatform connects a messaging platform to the project.
func (c *Client) CreatePlatform(ctx context.Context, project string, in PlatformCreate) (*Platform, error) {
	var out Platform
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "platforms"), body: in, want: http.StatusCreated, out: &out})
}

// ListPlatforms lists the project's platforms.
func (c *Client) ListPlatforms(ctx context.Context, project string, opts *ListOptions) (*Page[Platform], error) {
	var out Page[Platform]
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "platforms"), query: opts.values(), want: http.StatusOK, out: &out})
}

// GetPlatform reads a platform, its credentials redacted.
func (c *Client) GetPlatform(ctx context.Context, project, id string) (*Platform, error) {
	var out Platform
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "platforms", id), want: http.StatusOK, out: &out})
}

// UpdatePlatform changes a platform.
func (c *Client) UpdatePlatform(ctx context.Context, project, id string, in PlatformUpdate) (*Platform, error) {
	var out Platform
	return &out, c.do(ctx, request{method: http.MethodPatch, path: projectPath(project, "platforms", id), body: in, want: http.StatusOK, out: &out})
}

// DeletePlatform deletes a platform; its inbound URL stops answering.
func (c *Client) DeletePlatform(ctx context.Context, project, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: projectPath(project, "platforms", id), want: http.StatusNoContent})
}

// RegisterPlatformWebhook registers Hookgate's inbound URL with the
// platform (Telegram's setWebhook, for one).
func (c *Client) RegisterPlatformWebhook(ctx context.Context, project, id string) (*Registration, error) {
	var out Registration
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "platforms", id, "register-webhook"), want: http.StatusOK, out: &out})
}

// UnregisterPlatformWebhook removes the registration from the platform.
func (c *Client) UnregisterPlatformWebhook(ctx context.Context, project, id string) (*Registration, error) {
	var out Registration
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "platforms", id, "unregister-webhook"), want: http.StatusOK, out: &out})
}

// PlatformWebhookStatus asks the platform where it posts.
func (c *Client) PlatformWebhookStatus(ctx context.Context, project, id string) (*PlatformStatus, error) {
	var out PlatformStatus
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "platforms", id, "webhook-status"), want: http.StatusOK, out: &out})
}

// SendMessage sends a text message through a platform. A platform's refusal
// is an *Error with status 502 and CodeProviderError; the message is still
// recorded, with status failed, in ListMessages.
func (c *Client) SendMessage(ctx context.Context, project string, in MessageSend) (*Message, error) {
	var out Message
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "messages"), body: in, want: http.StatusCreated, out: &out})
}

// ListMessages lists sent messages, the newest first.
func (c *Client) ListMessages(ctx context.Context, project string, opts *MessageListOptions) (*Page[Message], error) {
	var out Page[Message]
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "messages"), query: opts.values(), want: http.StatusOK, out: &out})
}
