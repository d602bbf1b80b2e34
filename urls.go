package hookgate

import (
	"net/url"
	"strings"
)

// SameOrigin reports whether two absolute URLs name the same origin: scheme,
// host and port, the port a scheme implies counted as given. Stored
// credentials go only where they were sent to: a URL that moves to another
// origin (another host, another port, or from https to http) needs them
// sent again. A URL that does not parse is no origin at all.
func SameOrigin(a, b string) bool {
	ua, errA := url.Parse(a)
	ub, errB := url.Parse(b)
	if errA != nil || errB != nil || ua.Host == "" || ub.Host == "" {
		return false
	}
	return strings.EqualFold(ua.Scheme, ub.Scheme) &&
		strings.EqualFold(strings.TrimSuffix(ua.Hostname(), "."), strings.TrimSuffix(ub.Hostname(), ".")) &&
		effectivePort(ua) == effectivePort(ub)
}

func effectivePort(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "http":
		return "80"
	case "https":
		return "443"
	}
	return ""
}
