package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
)

type portalLinkOut struct {
	ID           string     `json:"id"`
	URL          string     `json:"url,omitempty" doc:"The link to hand over, {public URL}/ui/portal/{token}; shown only in the answer to its creation"`
	Capabilities []string   `json:"capabilities" doc:"What its session may do: webhooks, deliveries, secrets, eventTypes"`
	ReturnURL    string     `json:"returnUrl,omitempty"`
	CreatedBy    string     `json:"createdBy" doc:"The ID of the key that made it, or admin"`
	CreatedAt    time.Time  `json:"createdAt"`
	ExpiresAt    time.Time  `json:"expiresAt"`
	UsedAt       *time.Time `json:"usedAt" doc:"When it was opened; null until then"`
	RevokedAt    *time.Time `json:"revokedAt" doc:"When it was revoked; null unless it was"`
}

func toPortalLink(l *hookgate.PortalLink) portalLinkOut {
	out := portalLinkOut{ID: l.ID, Capabilities: l.Capabilities, ReturnURL: l.ReturnURL, CreatedBy: l.CreatedBy,
		CreatedAt: utc(l.CreatedAt), ExpiresAt: utc(l.ExpiresAt)}
	if !l.UsedAt.IsZero() {
		t := utc(l.UsedAt)
		out.UsedAt = &t
	}
	if !l.RevokedAt.IsZero() {
		t := utc(l.RevokedAt)
		out.RevokedAt = &t
	}
	return out
}

// portalLinkRoutes are the operations on a project's consumer portal links.
func (s *Server) portalLinkRoutes() []route {
	tags := "Portal"
	path := base + "/projects/{project}/portal-links"
	return []route{
		{op: op("createPortalLink", http.MethodPost, path, "Create a single-use link to the consumer portal of the project", accessOwner, http.StatusCreated, tags), handle: handle(s.handleCreatePortalLink)},
		{op: op("listPortalLinks", http.MethodGet, path, "List the project's portal links, newest first", accessOwner, http.StatusOK, tags), handle: handle(s.handleListPortalLinks)},
		{op: op("revokePortalLink", http.MethodDelete, path+"/{id}", "Revoke a portal link and end its sessions", accessOwner, http.StatusNoContent, tags), handle: handle(s.handleRevokePortalLink)},
	}
}

// handleCreatePortalLink handles createPortalLink: Create a single-use link to the consumer portal of the project.
func (s *Server) handleCreatePortalLink(ctx context.Context, in *struct {
	ProjectRef
	Body struct {
		ExpiresIn    string   `json:"expiresIn,omitempty" doc:"How long the link can be opened, as a Go duration (2h); default 1h, at most 168h"`
		Capabilities []string `json:"capabilities,omitempty" maxItems:"4" doc:"A subset of webhooks, deliveries, secrets, eventTypes; default all"`
		ReturnURL    string   `json:"returnUrl,omitempty" doc:"Where the portal sends the customer back to: an absolute http(s) URL of at most 2048 bytes"`
	}
}) (*struct{ Body portalLinkOut }, error) {
	var ttl time.Duration
	if v := in.Body.ExpiresIn; v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return nil, hookgate.InvalidParam("expiresIn", v, "expiresIn must be a positive Go duration such as 30m or 2h, at most 168h")
		}
		ttl = d
	}
	createdBy := "admin"
	if p, _ := ctx.Value(principalKey{}).(*principal); p != nil && !p.admin {
		createdBy = p.keyID
	}
	l, token, err := hookgate.NewPortalLink(projectID(ctx), createdBy,
		hookgate.PortalLinkInput{ExpiresIn: ttl, Capabilities: in.Body.Capabilities, ReturnURL: in.Body.ReturnURL}, s.now().UTC())
	if err != nil {
		return nil, err
	}
	if err := s.store.CreatePortalLink(ctx, l); err != nil {
		return nil, err
	}
	out := toPortalLink(l)
	out.URL = strings.TrimSuffix(s.cfg.PublicURL, "/") + "/ui/portal/" + token
	return &struct{ Body portalLinkOut }{Body: out}, nil
}

// handleListPortalLinks handles listPortalLinks: List the project's portal links, newest first.
func (s *Server) handleListPortalLinks(ctx context.Context, in *struct {
	ProjectRef
	PageParams
}) (*listOutput[portalLinkOut], error) {
	list, next, err := s.store.ListPortalLinks(ctx, projectID(ctx), in.page())
	if err != nil {
		return nil, err
	}
	return listOf(list, next, toPortalLink), nil
}

// handleRevokePortalLink handles revokePortalLink: Revoke a portal link and end its sessions.
func (s *Server) handleRevokePortalLink(ctx context.Context, in *struct {
	ProjectRef
	ID string `path:"id"`
}) (*struct{}, error) {
	if _, err := s.store.RevokePortalLink(ctx, projectID(ctx), in.ID, s.now().UTC()); err != nil {
		if hookgate.ErrorCode(err) == hookgate.ENotFound {
			return nil, &hookgate.Error{Code: hookgate.ENotFound, Param: "id", Value: in.ID, Message: "portal link not found: " + in.ID + " is no portal link of this project"}
		}
		return nil, err
	}
	return nil, nil
}
