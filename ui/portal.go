package ui

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/hookgate/hookgate"
)

// portalPages decides, for each dashboard route, the capability a consumer
// portal session needs to open it; "" lets every portal session in (its
// sign-out, its theme's stylesheet and logo). Any route without an entry,
// and any page of another project, answers a portal session 404. The API
// checks the same capabilities again (api.ServeAsPortal) on every call a
// page makes.
var portalPages = map[string]string{
	"POST /ui/sign-out":                           "",
	"GET /ui/p/{project}/webhooks":                hookgate.CapWebhooks,
	"POST /ui/p/{project}/webhooks":               hookgate.CapWebhooks,
	"GET /ui/p/{project}/webhooks/{id}":           hookgate.CapWebhooks,
	"GET /ui/p/{project}/webhooks/{id}/edit":      hookgate.CapWebhooks,
	"POST /ui/p/{project}/webhooks/{id}/edit":     hookgate.CapWebhooks,
	"GET /ui/p/{project}/webhooks/{id}/delete":    hookgate.CapWebhooks,
	"POST /ui/p/{project}/webhooks/{id}/delete":   hookgate.CapWebhooks,
	"POST /ui/p/{project}/webhooks/{id}/{action}": hookgate.CapWebhooks,
	"GET /ui/p/{project}/webhooks/{id}/secret":    hookgate.CapSecrets,
	"GET /ui/p/{project}/deliveries":              hookgate.CapDeliveries,
	"GET /ui/p/{project}/deliveries/{id}":         hookgate.CapDeliveries,
	"POST /ui/p/{project}/deliveries/{id}/retry":  hookgate.CapDeliveries,
	"GET /ui/p/{project}/event-types":             hookgate.CapEventTypes,
	"GET /ui/p/{project}/portal.css":              "",
	"GET /ui/p/{project}/portal-logo":             "",
}

// Portal reports whether the session is a consumer portal session.
func (s *session) Portal() bool { return s.PortalLinkID != "" }

// Can reports whether the session may use capability c: a portal session
// only its own, any other session every one.
func (s *session) Can(c string) bool {
	return !s.Portal() || hookgate.HasCapability(s.Capabilities, c)
}

// portalMay reports whether the portal session se may open r.
func portalMay(r *http.Request, se *session) bool {
	need, ok := portalPages[r.Pattern]
	if !ok || (need != "" && !se.Can(need)) {
		return false
	}
	p := r.PathValue("project")
	return p == "" || p == se.ProjectID
}

// portalHome is where a portal session starts: its webhooks, or its
// deliveries when it may not see webhooks.
func portalHome(projectID string, caps []string) string {
	page := "webhooks"
	if !hookgate.HasCapability(caps, hookgate.CapWebhooks) && hookgate.HasCapability(caps, hookgate.CapDeliveries) {
		page = "deliveries"
	}
	return "/ui/p/" + url.PathEscape(projectID) + "/" + page
}

// notFound answers a portal session's request for a page it may not see,
// as for a page that does not exist.
func (u *UI) notFound(w http.ResponseWriter, se *session) {
	u.render(w, http.StatusNotFound, "error", view{Title: "Not found", Session: se, Error: "There is no such page."})
}

// openPortal is the second request of a link's open (startPortal is the
// first): it exchanges the token for a portal session, once. The session
// goes in a cookie when the probe cookie came back, else in the path
// (see embed.go). A second open, an expired or a revoked link get a page
// that says which (410), an unknown one 404; none of them a session.
func (u *UI) openPortal(w http.ResponseWriter, r *http.Request) {
	now := u.cfg.Now()
	token := randomToken()
	se := &hookgate.Session{Hash: tokenHash(token), CSRF: randomToken(), CreatedAt: now, ExpiresAt: now.Add(u.cfg.SessionTTL)}
	hash := hookgate.PortalTokenHash(r.PathValue("token"))
	link, err := u.cfg.Store.UsePortalLink(r.Context(), hash, se, now)
	if err != nil {
		if l, ferr := u.cfg.Store.FindPortalLinkByToken(r.Context(), hash); ferr == nil {
			allowFraming(w, u.portalSettings(r.Context(), l.ProjectID))
		}
		u.linkRefused(w, err)
		return
	}
	settings := u.portalSettings(r.Context(), link.ProjectID)
	allowFraming(w, settings)
	home := portalHome(link.ProjectID, link.Capabilities)
	if _, err := r.Cookie(probeCookie); err != nil {
		http.Redirect(w, r, urlSessionPrefix+token+strings.TrimPrefix(home, "/ui"), http.StatusSeeOther)
		return
	}
	http.SetCookie(w, u.cookie(probeCookie, "", "/ui/portal/", -1, settings.Embeddable()))
	u.setSessionCookie(w, token, se, settings.Embeddable())
	http.Redirect(w, r, home, http.StatusSeeOther)
}

// linkRefused shows why a link cannot be opened: used, expired or revoked
// (410), unknown (404).
func (u *UI) linkRefused(w http.ResponseWriter, err error) {
	status, title, msg := http.StatusGone, "Link no longer valid", ""
	switch hookgate.ErrorCode(err) {
	case hookgate.ENotFound:
		status, title, msg = http.StatusNotFound, "Link not valid", "This link is not valid. Check that you copied all of it, or ask for a new one."
	case hookgate.EPortalLinkUsed:
		msg = "This link was opened already: each link opens once. Ask for a new one."
	case hookgate.EPortalLinkExpired:
		msg = "This link expired. Ask for a new one."
	case hookgate.EPortalLinkRevoked:
		msg = "This link was revoked. Ask for a new one."
	default:
		u.cfg.Logger.Error("dashboard portal link", "err", err)
		status, title, msg = http.StatusInternalServerError, "Error", "Something went wrong; the server's log has the details."
	}
	u.render(w, status, "error", view{Title: title, Error: msg})
}
