package ui

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// origin is a URL's scheme://host:port, as browsers compare origins: the
// scheme and host in lower case, the port always written (a scheme's
// default port when the URL has none). It is "" for a URL with no scheme
// or no host, such as "null", the Origin of a sandboxed or opaque page.
func origin(scheme, hostport string) string {
	scheme, hostport = strings.ToLower(scheme), strings.ToLower(hostport)
	if scheme == "" || hostport == "" {
		return ""
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), ""
	}
	if port == "" {
		switch scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		}
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}

// originOfURL is origin of an absolute URL; "" when it is not one.
func originOfURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return ""
	}
	return origin(u.Scheme, u.Host)
}

// hostOf is the host:port part of an origin.
func hostOf(o string) string {
	_, hp, _ := strings.Cut(o, "://")
	return hp
}

// fromHere reports whether a state-changing request comes from a page of
// this dashboard, by the origin the browser states: its Origin header, or
// without one the origin of its Referer. That origin must be, scheme
// included, the public URL's; or, for a request addressed to another host
// than the public URL's (a LAN address, localhost beside 127.0.0.1), the
// request's own origin: its Host, with https when it came in over TLS and
// http otherwise. So a page served over plain HTTP cannot post to a
// dashboard whose public URL is HTTPS, nor the reverse. A request with
// neither header (an old browser, or a privacy setting) is left to the
// CSRF token, which every form needs anyway.
func (u *UI) fromHere(r *http.Request) bool {
	got, stated := statedOrigin(r)
	if !stated {
		return true
	}
	if got == "" {
		return false // "null" or not a URL
	}
	if u.publicOrigin != "" && got == u.publicOrigin {
		return true
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	own := origin(scheme, r.Host)
	if u.publicOrigin != "" && hostOf(own) == hostOf(u.publicOrigin) {
		// Addressed to the public host: only the public URL's scheme will
		// do, whatever a TLS-terminating proxy in front made of it.
		return false
	}
	return got == own
}

// statedOrigin is the origin a request's browser states it comes from: its
// Origin header, or without one its Referer's origin ("" when the header
// is not an absolute URL); stated is false when it sends neither.
func statedOrigin(r *http.Request) (o string, stated bool) {
	h := r.Header.Get("Origin")
	if h == "" {
		h = r.Header.Get("Referer")
	}
	if h == "" {
		return "", false
	}
	return originOfURL(h), true
}

// dropsSecureCookie reports whether a browser on origin o would drop the
// Secure session cookie: o is plain http on a host that is not loopback
// (browsers keep Secure cookies on http://localhost and 127.0.0.0/8).
func (u *UI) dropsSecureCookie(o string) bool {
	if !u.secure || !strings.HasPrefix(o, "http://") {
		return false
	}
	return SecureCookie(o)
}
