package api

import (
	"context"
	"net/http"

	"github.com/hookgate/hookgate"
)

// ActAsPortal returns ctx for an in-process request of a consumer portal
// session: it acts in projectID only, and may call only the operations
// that caps grant (portalAccess); any other answers 404.
func ActAsPortal(ctx context.Context, projectID string, caps []string) context.Context {
	return context.WithValue(ctx, actAsKey{}, actor{portal: true, projectID: projectID, caps: caps})
}

// ServeAsPortal serves the in-process request r of a consumer portal
// session of projectID with caps (see ActAsPortal).
func (s *Server) ServeAsPortal(w http.ResponseWriter, r *http.Request, projectID string, caps []string) {
	s.ServeHTTP(w, r.WithContext(ActAsPortal(r.Context(), projectID, caps)))
}

// portalPrincipal is the principal of a portal session. It may do what an
// owner key of its project may, within portalAccess; a deleted project
// ends it.
func (s *Server) portalPrincipal(ctx context.Context, a actor) (*principal, bool, error) {
	proj, err := s.store.FindProject(ctx, a.projectID)
	if hookgate.ErrorCode(err) == hookgate.ENotFound {
		return nil, true, errBadKey
	}
	if err != nil {
		return nil, true, err
	}
	return &principal{portal: true, projectID: proj.ID, projectSlug: proj.Slug, role: hookgate.RoleOwner, caps: a.caps}, true, nil
}
