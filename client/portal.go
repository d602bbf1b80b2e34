package client

import (
	"context"
	"net/http"
	"time"
)

// Portal capabilities: what a portal session may see and do.
const (
	CapabilityWebhooks   = "webhooks"
	CapabilityDeliveries = "deliveries"
	CapabilitySecrets    = "secrets"
	CapabilityEventTypes = "eventTypes"
)

// PortalLinkCreate asks for a consumer portal link; its zero value is a
// link of every capability that can be opened for an hour.
type PortalLinkCreate struct {
	// ExpiresIn is how long the link can be opened, as a Go duration
	// ("2h"); default 1h, at most 168h.
	ExpiresIn string `json:"expiresIn,omitempty"`
	// Capabilities is a subset of the Capability constants; empty: all.
	Capabilities []string `json:"capabilities,omitempty"`
	// ReturnURL is where the portal sends the customer back to.
	ReturnURL string `json:"returnUrl,omitempty"`
}

// PortalLink is a single-use link to a project's consumer portal. URL is
// set only in the answer to its creation: hand it to the customer, who
// opens it once.
type PortalLink struct {
	ID           string     `json:"id"`
	URL          string     `json:"url,omitempty"`
	Capabilities []string   `json:"capabilities"`
	ReturnURL    string     `json:"returnUrl,omitempty"`
	CreatedBy    string     `json:"createdBy"`
	CreatedAt    time.Time  `json:"createdAt"`
	ExpiresAt    time.Time  `json:"expiresAt"`
	UsedAt       *time.Time `json:"usedAt"`
	RevokedAt    *time.Time `json:"revokedAt"`
}

// CreatePortalLink creates a single-use link to the project's consumer
// portal (owner or admin key).
func (c *Client) CreatePortalLink(ctx context.Context, project string, in PortalLinkCreate) (*PortalLink, error) {
	var out PortalLink
	return &out, c.do(ctx, request{method: http.MethodPost, path: projectPath(project, "portal-links"), body: in, want: http.StatusCreated, out: &out})
}

// ListPortalLinks lists the project's portal links, the newest first,
// without their URLs.
func (c *Client) ListPortalLinks(ctx context.Context, project string, opts *ListOptions) (*Page[PortalLink], error) {
	var out Page[PortalLink]
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "portal-links"), query: opts.values(), want: http.StatusOK, out: &out})
}

// RevokePortalLink revokes a portal link and ends its sessions at once.
func (c *Client) RevokePortalLink(ctx context.Context, project, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: projectPath(project, "portal-links", id), want: http.StatusNoContent})
}
