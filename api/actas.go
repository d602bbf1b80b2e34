package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"time"

	"github.com/hookgate/hookgate"
)

// The dashboard (package ui) calls this API in process, on behalf of a
// signed-in session, without holding the session's API key: the request's
// context names the key. A remote client cannot set a context value, so
// only code in this process can act so.

type actAsKey struct{}

// actor is who an in-process request acts as.
type actor struct {
	admin bool
	keyID string
	// portal, with projectID and caps, is a consumer portal session.
	portal    bool
	projectID string
	caps      []string
}

// ActAs returns ctx for an in-process request acting as the project key
// keyID, or as the admin when keyID is "". The key is looked up on every
// request: a revoked key stops working at once.
func ActAs(ctx context.Context, keyID string) context.Context {
	return context.WithValue(ctx, actAsKey{}, actor{admin: keyID == "", keyID: keyID})
}

// ServeAs serves the in-process request r acting as the project key keyID,
// or as the admin when keyID is "" (see ActAs).
func (s *Server) ServeAs(w http.ResponseWriter, r *http.Request, keyID string) {
	s.ServeHTTP(w, r.WithContext(ActAs(r.Context(), keyID)))
}

// Identify finds who token, given by a client at remoteAddr, belongs to;
// EUnauthorized when nobody. Failures count against the address as the
// API's own do: past the limit the error is ERateLimited, with the wait in
// RetryAfter.
func (s *Server) Identify(ctx context.Context, token, remoteAddr string) (*hookgate.Identity, error) {
	p, err := s.principal(ctx, token)
	if hookgate.ErrorCode(err) == hookgate.EUnauthorized {
		if wait := s.authFails.fail(clientAddr(remoteAddr)); wait > 0 {
			return nil, &hookgate.Error{Code: hookgate.ERateLimited, RetryAfter: wait,
				Message: fmt.Sprintf("too many failed authentications from this address; try again in %s", wait.Round(time.Second))}
		}
	}
	if err != nil {
		return nil, err
	}
	return &hookgate.Identity{Admin: p.admin, KeyID: p.keyID, ProjectID: p.projectID, ProjectSlug: p.projectSlug, Role: p.role}, nil
}

// AdminKeyID names the current admin key, for sessions that act as it: a
// new admin key ends them. It is Config.AdminKeyTag when set.
func (s *Server) AdminKeyID() string {
	if s.cfg.AdminKeyTag != "" {
		return s.cfg.AdminKeyTag
	}
	sum := sha256.Sum256([]byte("hookgate admin key " + s.cfg.AdminKey))
	return hex.EncodeToString(sum[:8])
}

// UserAgent is the User-Agent of the requests sent to receivers, which
// the dashboard shows in the requests it reconstructs.
func (s *Server) UserAgent() string { return s.cfg.Sender.UserAgent }

// Providers returns the names of the platform providers the server
// accepts, in the order they were registered, for the dashboard's forms.
func (s *Server) Providers() []string { return s.cfg.Providers.Names() }

// Mount serves h at pattern (such as "/ui/") beside the API, with its
// logging and metrics.
func (s *Server) Mount(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// actingPrincipal is the principal of an in-process request, if it is one.
func (s *Server) actingPrincipal(ctx context.Context) (*principal, bool, error) {
	a, ok := ctx.Value(actAsKey{}).(actor)
	if !ok {
		return nil, false, nil
	}
	if a.admin {
		return &principal{admin: true}, true, nil
	}
	if a.portal {
		return s.portalPrincipal(ctx, a)
	}
	k, err := s.store.FindAPIKey(ctx, a.keyID)
	if hookgate.ErrorCode(err) == hookgate.ENotFound {
		return nil, true, errBadKey
	}
	if err != nil {
		return nil, true, err
	}
	proj, err := s.store.FindProject(ctx, k.ProjectID)
	if hookgate.ErrorCode(err) == hookgate.ENotFound {
		return nil, true, errBadKey
	}
	if err != nil {
		return nil, true, err
	}
	return &principal{keyID: k.ID, projectID: k.ProjectID, projectSlug: proj.Slug, role: k.Role}, true, nil
}
