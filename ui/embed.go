package ui

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/hookgate/hookgate"
)

// Embedding the consumer portal in a producer's app.
//
// A project whose portal.allowedOrigins names origins has its portal
// pages served with Content-Security-Policy frame-ancestors naming exactly
// those origins (and no X-Frame-Options); every other page, the operator
// dashboard's above all, keeps frame-ancestors 'none' and X-Frame-Options
// DENY. Inside a frame of another site the browser sends only a
// SameSite=None cookie, so such a portal's session cookie is SameSite=None,
// Secure and Partitioned (CHIPS: kept in a jar of the embedding site
// alone, which browsers that block third-party cookies still accept).
//
// Opening a link is two requests. The first checks the link without using
// it, sets a probe cookie with the session cookie's attributes and answers
// a page that moves on by itself (a meta refresh, so that the next request
// is started by this dashboard's page, not by the producer's). The second
// uses the link: when the probe came back the session goes in a cookie;
// when it did not, the browser refuses this site's cookies here, and the
// session's token travels in the path instead: /ui/s/{token}/… serves the
// dashboard's /ui/… as that session, and every link, form and redirect of
// the pages it serves keeps the prefix.

const (
	// probeCookie tells the second request of an open that the browser
	// keeps this dashboard's cookies where the link was opened.
	probeCookie = "hookgate_cookie_check"
	// urlSessionPrefix starts the paths that carry a portal session's
	// token.
	urlSessionPrefix = "/ui/s/"
)

// csp is the dashboard's Content-Security-Policy with the given
// frame-ancestors.
func csp(frameAncestors string) string {
	return "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors " + frameAncestors + "; base-uri 'none'"
}

// strictFraming sets the headers that keep every page out of frames.
func strictFraming(h http.Header) {
	h.Set("Content-Security-Policy", csp("'none'"))
	h.Set("X-Frame-Options", "DENY")
}

// allowFraming lets the origins s allows frame the answer; nothing
// changes when it allows none.
func allowFraming(w http.ResponseWriter, s hookgate.PortalSettings) {
	if !s.Embeddable() {
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", csp(strings.Join(s.AllowedOrigins, " ")))
	h.Del("X-Frame-Options")
}

// cookie is a dashboard cookie: for an embeddable portal SameSite=None,
// Secure and Partitioned, so that a frame of another site keeps it;
// otherwise SameSite=Strict, Secure unless the dashboard is plain http on
// loopback. maxAge < 0 deletes it.
func (u *UI) cookie(name, value, path string, maxAge int, embeddable bool) *http.Cookie {
	c := &http.Cookie{Name: name, Value: value, Path: path, HttpOnly: true, Secure: u.secure, SameSite: http.SameSiteStrictMode, MaxAge: maxAge}
	if embeddable {
		c.SameSite, c.Secure, c.Partitioned = http.SameSiteNoneMode, true, true
	}
	return c
}

// urlTokenKey is the context key of a token given in the path.
type urlTokenKey struct{}

// urlToken returns the session token the request's path carried, if any.
func urlToken(r *http.Request) (string, bool) {
	t, ok := r.Context().Value(urlTokenKey{}).(string)
	return t, ok
}

// splitURLSession splits /ui/s/{token}/{rest} into the token and
// /ui/{rest}; ok is false for any other path.
func splitURLSession(path string) (token, rest string, ok bool) {
	tail, found := strings.CutPrefix(path, urlSessionPrefix)
	if !found {
		return "", "", false
	}
	token, rest, found = strings.Cut(tail, "/")
	if !found || token == "" || rest == "" {
		return "", "", false
	}
	return token, "/ui/" + rest, true
}

// serveURLSession serves /ui/s/{token}/… as /ui/… for the portal session
// of token, keeping the prefix in every link, form and redirect.
func (u *UI) serveURLSession(w http.ResponseWriter, r *http.Request, token, rest string) {
	r2 := r.Clone(context.WithValue(r.Context(), urlTokenKey{}, token))
	r2.URL.Path, r2.URL.RawPath = rest, ""
	rw := &prefixWriter{w: w, prefix: urlSessionPrefix + token + "/", status: http.StatusOK}
	u.mux.ServeHTTP(rw, r2)
	rw.finish()
}

// prefixWriter holds an answer back to put prefix in front of the
// dashboard paths it names: its Location, and the href, action and src
// attributes of an HTML body. The static assets keep their paths.
type prefixWriter struct {
	w      http.ResponseWriter
	prefix string
	status int
	body   bytes.Buffer
}

func (p *prefixWriter) Header() http.Header { return p.w.Header() }

func (p *prefixWriter) WriteHeader(status int) { p.status = status }

func (p *prefixWriter) Write(b []byte) (int, error) { return p.body.Write(b) }

// finish sends the answer, prefixed.
func (p *prefixWriter) finish() {
	h := p.w.Header()
	if loc := h.Get("Location"); loc != "" {
		h.Set("Location", p.prefixed(loc))
	}
	body := p.body.Bytes()
	if strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		body = prefixLinks(body, p.prefix)
	}
	h.Set("Content-Length", strconv.Itoa(len(body)))
	p.w.WriteHeader(p.status)
	_, _ = p.w.Write(body)
}

// prefixed returns a dashboard path with the prefix, anything else as it
// is.
func (p *prefixWriter) prefixed(path string) string {
	if rest, ok := strings.CutPrefix(path, "/ui/"); ok && !strings.HasPrefix(rest, "static/") {
		return p.prefix + rest
	}
	return path
}

// prefixLinks rewrites each attribute value that starts with a dashboard
// path (="/ui/…, as html/template writes href, action and src) to start
// with prefix instead of /ui/; the static assets are left as they are.
func prefixLinks(body []byte, prefix string) []byte {
	mark := []byte(`="/ui/`)
	var out bytes.Buffer
	for {
		i := bytes.Index(body, mark)
		if i < 0 {
			out.Write(body)
			return out.Bytes()
		}
		out.Write(body[:i+2])
		rest := body[i+2+len("/ui/"):]
		if bytes.HasPrefix(rest, []byte("static/")) {
			out.WriteString("/ui/")
		} else {
			out.WriteString(prefix)
		}
		body = rest
	}
}

// portalSettings returns a project's portal settings; none when it cannot
// be read.
func (u *UI) portalSettings(ctx context.Context, projectID string) hookgate.PortalSettings {
	p, err := u.cfg.Store.FindProject(ctx, projectID)
	if err != nil {
		return hookgate.PortalSettings{}
	}
	return p.Portal
}

// startPortal is the first request of a link's open: it checks the link
// without using it, sets the probe cookie and answers a page that opens
// the link (see the comment at the top).
func (u *UI) startPortal(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	link, err := u.cfg.Store.FindPortalLinkByToken(r.Context(), hookgate.PortalTokenHash(token))
	if err == nil {
		err = link.Refusal(u.cfg.Now())
	}
	var settings hookgate.PortalSettings
	if link != nil {
		settings = u.portalSettings(r.Context(), link.ProjectID)
		allowFraming(w, settings)
	}
	if err != nil {
		u.linkRefused(w, err)
		return
	}
	http.SetCookie(w, u.cookie(probeCookie, "1", "/ui/portal/", 300, settings.Embeddable()))
	u.render(w, http.StatusOK, "portal_open", view{Title: "Opening your portal", Next: "/ui/portal/" + token + "/open"})
}

// endedInFrame answers a request without a session that a frame or a
// token path made: the page says the session ended, framed as the
// project in its path allows, where a sign-in form would be of no use.
// It reports false for any other request, which goes to sign in.
func (u *UI) endedInFrame(w http.ResponseWriter, r *http.Request) bool {
	_, inURL := urlToken(r)
	if !inURL && r.Header.Get("Sec-Fetch-Dest") != "iframe" {
		return false
	}
	if p := r.PathValue("project"); p != "" {
		allowFraming(w, u.portalSettings(r.Context(), p))
	}
	u.render(w, http.StatusUnauthorized, "error", view{Title: "Session ended", Error: "Your session ended. Open the webhooks portal again from the app that showed it."})
	return true
}
