package hookgate

import (
	"net/url"
	"strings"
)

// Redacted stands in for a credential in answers.
const Redacted = "********"

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

// credentialQueryWords are the pieces of a query parameter's name that make
// its value a credential (case-insensitive, anywhere in the name): token
// and access_token, key and api_key, secret, sig and signature, pass and
// password, pwd, auth, code, credential.
var credentialQueryWords = []string{"token", "key", "secret", "sig", "pass", "pwd", "auth", "code", "credential"}

// IsCredentialQueryName reports whether the value of a URL's query
// parameter name is a credential, to be answered redacted: a name that is
// a credential header's name, or that holds one of the words of
// credentialQueryWords.
func IsCredentialQueryName(name string) bool {
	if IsCredentialHeader(name) {
		return true
	}
	n := strings.ToLower(name)
	for _, w := range credentialQueryWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// RedactURL returns raw with the value of every query parameter named like
// a credential (IsCredentialQueryName) replaced by Redacted, the query's
// order and spelling kept otherwise. An empty value stays empty: there is
// nothing to hide.
func RedactURL(raw string) string {
	base, query, ok := strings.Cut(raw, "?")
	if !ok {
		return raw
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		name, value, _ := strings.Cut(p, "=")
		if value == "" {
			continue
		}
		if n, err := url.QueryUnescape(name); err == nil && IsCredentialQueryName(n) {
			parts[i] = name + "=" + Redacted
		}
	}
	return base + "?" + strings.Join(parts, "&")
}

// RecordURL is what an attempt keeps of the URL it called, stored unsealed
// with every attempt: RedactURL's rule for the query, and every path
// segment that looks like a token replaced by Redacted. Chat services'
// incoming-webhook URLs carry their secret in the path (Slack's
// /services/T…/B…/{token}, Discord's /api/webhooks/{id}/{token}), and a
// secret must not be copied into every attempt. A segment looks like a
// token when it has at least 16 characters, all letters, digits, '-' or
// '_', of at least two of the kinds lower-case, upper-case and digit:
// numeric IDs and lower-case words stay, and so does the host.
func RecordURL(raw string) string {
	raw = RedactURL(raw)
	rest, query, hasQuery := strings.Cut(raw, "?")
	scheme, afterScheme, ok := strings.Cut(rest, "://")
	if !ok {
		return raw
	}
	host, path, hasPath := strings.Cut(afterScheme, "/")
	if !hasPath {
		return raw
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if looksLikeToken(seg) {
			segs[i] = Redacted
		}
	}
	out := scheme + "://" + host + "/" + strings.Join(segs, "/")
	if hasQuery {
		out += "?" + query
	}
	return out
}

func looksLikeToken(seg string) bool {
	if len(seg) < 16 {
		return false
	}
	var lower, upper, digit bool
	for i := 0; i < len(seg); i++ {
		switch c := seg[i]; {
		case 'a' <= c && c <= 'z':
			lower = true
		case 'A' <= c && c <= 'Z':
			upper = true
		case '0' <= c && c <= '9':
			digit = true
		case c == '-', c == '_':
		default:
			return false
		}
	}
	n := 0
	for _, b := range []bool{lower, upper, digit} {
		if b {
			n++
		}
	}
	return n >= 2
}

// HasRedactedQuery reports whether raw holds the redaction mark as the value
// of a query parameter named like a credential: it was read redacted, and
// sent back.
func HasRedactedQuery(raw string) bool {
	_, query, ok := strings.Cut(raw, "?")
	if !ok {
		return false
	}
	for _, p := range strings.Split(query, "&") {
		name, value, _ := strings.Cut(p, "=")
		n, errN := url.QueryUnescape(name)
		v, errV := url.QueryUnescape(value)
		if errN == nil && errV == nil && v == Redacted && IsCredentialQueryName(n) {
			return true
		}
	}
	return false
}
