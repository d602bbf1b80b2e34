// Package ui is Hookgate's web dashboard, served at /ui by the same binary:
// server-rendered html/template pages with a little hand-written JS, its
// assets embedded. A browser signs in with an owner or admin API key and
// gets an HttpOnly, SameSite=Strict session cookie; the key itself is not
// kept, in the browser or in the store. Pages call the API in process
// through the Go SDK, acting as the session's key (API.ServeAs), so the API's
// own checks apply to every page and button.
package ui

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"encoding/hex"
	"html/template"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/client"
)

//go:embed templates/*.html static/*
var assets embed.FS

// CookieName is the session cookie's name.
const CookieName = "hookgate_session"

// SecureCookie reports whether the session cookie is marked Secure for a
// dashboard served at publicURL: always, unless publicURL is plain http on
// a loopback host (127.0.0.0/8, ::1 or localhost), a server used on its own
// machine without TLS. Browsers count such addresses as secure contexts
// and keep a Secure cookie there too, but other clients may not. Behind a
// TLS-terminating proxy the server itself speaks plain HTTP, so the public
// URL, not the connection, decides: a public http URL gets a Secure cookie
// as well, and the dashboard then works over HTTPS only.
func SecureCookie(publicURL string) bool {
	pu, err := url.Parse(publicURL)
	if err != nil || pu.Scheme != "http" {
		return true
	}
	host := strings.ToLower(pu.Hostname())
	if host == "localhost" {
		return false
	}
	a, err := netip.ParseAddr(host)
	return err != nil || !a.IsLoopback()
}

// DefaultSessionTTL is how long a session lasts by default.
const DefaultSessionTTL = 12 * time.Hour

// API is what the dashboard needs of the API server, which it calls in
// process; *api.Server has it. The dashboard does not import package api.
type API interface {
	// ServeAs serves r in process, acting as the project key keyID, or as
	// the admin when keyID is "": the API's own checks apply.
	ServeAs(w http.ResponseWriter, r *http.Request, keyID string)
	// ServeAsPortal serves r in process for a consumer portal session:
	// only projectID, only the operations caps grant; the rest is 404.
	ServeAsPortal(w http.ResponseWriter, r *http.Request, projectID string, caps []string)
	// Identify finds who an API key, given at remoteAddr, belongs to:
	// EUnauthorized when nobody, ERateLimited (with RetryAfter) after too
	// many failures from the address.
	Identify(ctx context.Context, token, remoteAddr string) (*hookgate.Identity, error)
	// AdminKeyID names the current admin key; a new admin key ends the
	// sessions that act as the old one.
	AdminKeyID() string
	// UserAgent is the User-Agent of the requests sent to receivers.
	UserAgent() string
	// Providers names the platform providers the server takes, in the
	// order of its registry.
	Providers() []string
}

// Config configures the dashboard. API and Store are required.
type Config struct {
	// API is the server whose operations the pages call, in process.
	API API
	// Store keeps the sessions.
	Store hookgate.Store
	// SessionTTL is how long a session lasts from sign-in; default
	// DefaultSessionTTL.
	SessionTTL time.Duration
	// PublicURL is the address browsers open the dashboard at (serve's
	// --public-url, or its default http://{addr}). Forms are accepted from
	// its origin (see fromHere), and the session cookie is Secure unless it
	// is plain http on a loopback host (see SecureCookie). Empty: forms are
	// judged by the request's own origin, and the cookie is Secure.
	PublicURL string
	// TraceURL links each attempt's trace in the operator's tracing UI:
	// {traceId} (and {spanId}) in it are replaced by the attempt's. ""
	// shows the IDs without a link. Portal sessions never get the link.
	TraceURL string
	// Logger defaults to slog.Default(); Now to time.Now.
	Logger *slog.Logger
	Now    func() time.Time
}

// UI is the dashboard's handler.
type UI struct {
	cfg   Config
	mux   *http.ServeMux
	pages map[string]*template.Template
	// publicOrigin is PublicURL's origin ("" without one); secure marks
	// the session cookie Secure.
	publicOrigin string
	secure       bool
}

// New builds the dashboard.
func New(cfg Config) *UI {
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = DefaultSessionTTL
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	u := &UI{cfg: cfg, mux: http.NewServeMux(), pages: map[string]*template.Template{},
		publicOrigin: originOfURL(cfg.PublicURL), secure: SecureCookie(cfg.PublicURL)}
	for _, name := range []string{"signin", "projects", "webhooks", "webhook", "deliveries", "delivery", "events", "platforms", "live", "error", "webhook_edit", "webhook_delete", "redrive_confirm", "redrive", "event_types", "portal_open", "sources"} {
		u.pages[name] = template.Must(template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html", "templates/fields.html", "templates/ordering.html", "templates/"+name+".html"))
	}
	static, _ := fs.Sub(assets, "static")
	u.mux.Handle("GET /ui/static/", http.StripPrefix("/ui/static/", http.FileServerFS(static)))
	u.routes()
	return u
}

// ServeHTTP serves /ui/ with security headers on every answer: no page
// may be framed, except a portal's by the origins its project allows
// (see embed.go).
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	strictFraming(h)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("Cache-Control", "no-store")
	if token, rest, ok := splitURLSession(r.URL.Path); ok {
		u.serveURLSession(w, r, token, rest)
		return
	}
	u.mux.ServeHTTP(w, r)
}

// session is a signed-in request's session and its client.
type session struct {
	*hookgate.Session
	c *client.Client
	// ReturnURL, for a portal session, is its link's way back to the
	// producer's app ("" for none).
	ReturnURL string
	// Settings, for a portal session, are its project's portal settings:
	// who may frame it, and its theme.
	Settings hookgate.PortalSettings
}

// sessionToken is the request's session token: the one its path carries
// (only a portal session's is taken there), or its cookie's.
func sessionToken(r *http.Request) (token string, inURL bool) {
	if t, ok := urlToken(r); ok {
		return t, true
	}
	if ck, err := r.Cookie(CookieName); err == nil {
		return ck.Value, false
	}
	return "", false
}

// session returns the request's live session; nil when there is none.
func (u *UI) session(r *http.Request) *session {
	token, inURL := sessionToken(r)
	if token == "" {
		return nil
	}
	se, err := u.cfg.Store.FindSession(r.Context(), tokenHash(token), u.cfg.Now())
	if err != nil || (inURL && se.PortalLinkID == "") {
		return nil
	}
	if se.KeyID == "" && se.PortalLinkID == "" && se.AdminKey != u.cfg.API.AdminKeyID() {
		return nil // the admin key changed since
	}
	c, _ := client.New("http://hookgate.in-process", "", client.WithRetries(0),
		client.WithHTTPClient(&http.Client{Transport: inProcess{api: u.cfg.API, keyID: se.KeyID, portal: se.PortalLinkID != "",
			projectID: se.ProjectID, caps: se.Capabilities}}), client.WithUserAgent("hookgate-ui"))
	out := &session{Session: se, c: c}
	if se.PortalLinkID != "" {
		link, err := u.cfg.Store.FindPortalLink(r.Context(), se.ProjectID, se.PortalLinkID)
		if err != nil || !link.RevokedAt.IsZero() {
			return nil // revoking deletes the link's sessions; this is belt and braces
		}
		out.ReturnURL = link.ReturnURL
		p, err := u.cfg.Store.FindProject(r.Context(), se.ProjectID)
		if err != nil {
			return nil
		}
		out.Settings = p.Portal
	}
	return out
}

func tokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// signIn exchanges an owner or admin key for a session and sets its cookie.
func (u *UI) signIn(w http.ResponseWriter, r *http.Request, key string) (string, error) {
	id, err := u.cfg.API.Identify(r.Context(), key, r.RemoteAddr)
	if err != nil {
		return "", err
	}
	if !id.Admin && id.Role != hookgate.RoleOwner {
		return "", hookgate.Errorf(hookgate.EForbidden, "a publisher key cannot sign in: use an owner key of the project, or the admin key")
	}
	now := u.cfg.Now()
	token := randomToken()
	se := &hookgate.Session{Hash: tokenHash(token), KeyID: id.KeyID, CSRF: randomToken(), CreatedAt: now, ExpiresAt: now.Add(u.cfg.SessionTTL)}
	if id.Admin {
		se.AdminKey = u.cfg.API.AdminKeyID()
	}
	if err := u.cfg.Store.CreateSession(r.Context(), se); err != nil {
		return "", err
	}
	u.setSessionCookie(w, token, se, false)
	if id.Admin {
		return "/ui/projects", nil
	}
	return "/ui/p/" + url.PathEscape(id.ProjectSlug) + "/webhooks", nil
}

// setSessionCookie gives the browser the session's token; embeddable
// makes it a cookie a frame of another site keeps (see UI.cookie).
func (u *UI) setSessionCookie(w http.ResponseWriter, token string, se *hookgate.Session, embeddable bool) {
	c := u.cookie(CookieName, token, "/ui/", int(se.ExpiresAt.Sub(se.CreatedAt).Seconds()), embeddable)
	c.Expires = se.ExpiresAt
	http.SetCookie(w, c)
}

// signOut ends the request's session and clears its cookie, of either
// kind.
func (u *UI) signOut(w http.ResponseWriter, r *http.Request) {
	if token, _ := sessionToken(r); token != "" {
		_ = u.cfg.Store.DeleteSession(r.Context(), tokenHash(token), u.cfg.Now())
	}
	http.SetCookie(w, u.cookie(CookieName, "", "/ui/", -1, false))
	http.SetCookie(w, u.cookie(CookieName, "", "/ui/", -1, true))
}

// checkForm checks a state-changing request: it comes from this dashboard
// (fromHere), and its CSRF token is the session's.
func (u *UI) checkForm(r *http.Request, se *session) bool {
	if !u.fromHere(r) {
		return false
	}
	got := r.PostFormValue("csrf")
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(se.CSRF)) == 1
}

// inProcess serves the SDK's requests with the API handler, in this
// process, acting as a key or, with portal, as a portal session.
type inProcess struct {
	api       API
	keyID     string
	portal    bool
	projectID string
	caps      []string
}

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.RemoteAddr = "127.0.0.1:0"
	r.RequestURI = r.URL.RequestURI()
	w := &recorder{header: http.Header{}, status: http.StatusOK}
	if t.portal {
		t.api.ServeAsPortal(w, r, t.projectID, t.caps)
	} else {
		t.api.ServeAs(w, r, t.keyID)
	}
	return &http.Response{StatusCode: w.status, Status: http.StatusText(w.status), Header: w.header, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Body: io.NopCloser(bytes.NewReader(w.body.Bytes())), ContentLength: int64(w.body.Len()), Request: r}, nil
}

// recorder is the ResponseWriter of an in-process request.
type recorder struct {
	header http.Header
	status int
	wrote  bool
	body   bytes.Buffer
}

func (w *recorder) Header() http.Header { return w.header }

func (w *recorder) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
}

func (w *recorder) Write(b []byte) (int, error) {
	w.wrote = true
	return w.body.Write(b)
}
