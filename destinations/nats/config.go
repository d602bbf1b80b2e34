package natsdest

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/hookgate/hookgate"
)

// Limits on a nats configuration.
const (
	// MaxSubjectLength bounds a subject, in bytes.
	MaxSubjectLength = 256
	// MaxNameLength bounds a stream's or a durable consumer's name, in
	// bytes.
	MaxNameLength = 255
	// DefaultPort is the NATS client port, when the URL names none.
	DefaultPort = "4222"
)

// conn is how to reach a broker: its address and credentials, checked.
// It names the pooled connection webhooks share: the same broker as the
// same user, with the same secret.
type conn struct {
	// url is the server's address, nats://host:port or tls://host:port.
	url                       string
	username, password, token string
	// tls are the TLS settings of a tls:// URL (a client certificate, the
	// CAs trusted), host the server's name for its certificate.
	tls  hookgate.WebhookTLS
	host string
}

// config is a webhook's nats destination, checked.
type config struct {
	conn    conn
	subject string
}

// fieldName is the name of a configuration's field as an error names it:
// destination.subject for a webhook, config.subject for a source.
type fieldName string

func (p fieldName) of(field string) string { return string(p) + "." + field }

// Prefixes of the fields' names in errors.
const (
	destinationField fieldName = "destination"
	sourceField      fieldName = "config"
)

// parse checks w's configuration, returning an invalid-input error naming
// the field at fault.
func parse(w *hookgate.Webhook) (config, error) {
	c := w.DestinationConfig
	cn, err := parseConn(destinationField, c)
	if err != nil {
		return config{}, err
	}
	out := config{conn: cn}
	for name, raw := range c.Fields {
		switch name {
		case "subject":
			if err := json.Unmarshal(raw, &out.subject); err != nil {
				return config{}, hookgate.InvalidParam("destination.subject", string(raw), "destination.subject must be a string")
			}
		default:
			return config{}, hookgate.InvalidParam("destination."+name, name, "a nats destination has no field %s (it takes url, subject and auth)", name)
		}
	}
	if out.subject == "" {
		return config{}, hookgate.MissingParam("destination.subject")
	}
	if err := checkSubject("destination.subject", out.subject, false); err != nil {
		return config{}, err
	}
	return out, nil
}

// parseConn checks the address and the credentials of c.
func parseConn(prefix fieldName, c hookgate.DestinationConfig) (conn, error) {
	u, err := parseURL(prefix.of("url"), c.URL)
	if err != nil {
		return conn{}, err
	}
	a := c.Auth
	switch {
	case a.Token != "" && (a.Username != "" || a.Password != ""):
		return conn{}, hookgate.InvalidParam(prefix.of("auth.token"), hookgate.Redacted, "%s takes a token or a username and password, not both", prefix.of("auth"))
	case a.Username != "" && a.Password == "":
		return conn{}, hookgate.MissingParam(prefix.of("auth.password"))
	case a.Password != "" && a.Username == "":
		return conn{}, hookgate.MissingParam(prefix.of("auth.username"))
	case strings.IndexFunc(a.Username, isSpaceOrControl) >= 0:
		return conn{}, hookgate.InvalidParam(prefix.of("auth.username"), a.Username, "%s may not contain spaces or control characters", prefix.of("auth.username"))
	}
	host := ""
	if pu, err := url.Parse(u); err == nil {
		host = pu.Hostname()
	}
	if _, err := c.BrokerTLS(prefix.of("tls"), host, strings.HasPrefix(u, "tls://")); err != nil {
		return conn{}, err
	}
	return conn{url: u, username: a.Username, password: a.Password, token: a.Token, tls: c.TLS, host: host}, nil
}

// parseURL checks a broker address, nats://host:port or tls://host:port
// (TLS, the server's certificate checked against the system's roots), and
// returns it with its port.
func parseURL(param, raw string) (string, error) {
	if raw == "" {
		return "", hookgate.MissingParam(param)
	}
	if len(raw) > hookgate.MaxURLLength {
		return "", hookgate.InvalidParam(param, raw, "%s must be at most %d bytes", param, hookgate.MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", hookgate.InvalidParam(param, raw, "%s is not a valid URL", param)
	}
	if u.Scheme != "nats" && u.Scheme != "tls" {
		return "", hookgate.InvalidParam(param, raw, "%s must be a nats:// or tls:// URL", param)
	}
	if u.User != nil {
		return "", hookgate.InvalidParam(param, nil, "%s may not hold credentials: put them in %s", param, strings.TrimSuffix(param, ".url")+".auth")
	}
	if u.Hostname() == "" {
		return "", hookgate.InvalidParam(param, raw, "%s has no host", param)
	}
	port := u.Port()
	if port == "" {
		port = DefaultPort
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return "", hookgate.InvalidParam(param, raw, "%s has port %s; a port is 1-65535", param, port)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", hookgate.InvalidParam(param, raw, "%s takes no path, query or fragment: nats://host:port", param)
	}
	host := u.Hostname()
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	return u.Scheme + "://" + host + ":" + port, nil
}

// checkSubject checks a subject: dot-separated tokens, none empty, without
// spaces or control characters, at most MaxSubjectLength bytes. A subject
// that messages are published to takes no wildcard; a consumer's filter
// may take * as a token and > as its last.
func checkSubject(param, s string, wildcards bool) error {
	if len(s) > MaxSubjectLength {
		return hookgate.InvalidParam(param, s, "%s must be at most %d bytes", param, MaxSubjectLength)
	}
	if strings.IndexFunc(s, isSpaceOrControl) >= 0 {
		return hookgate.InvalidParam(param, s, "%s may not contain spaces or control characters", param)
	}
	tokens := strings.Split(s, ".")
	for i, t := range tokens {
		switch {
		case t == "":
			return hookgate.InvalidParam(param, s, "%s is tokens separated by dots (orders.created), none of them empty", param)
		case !wildcards && strings.ContainsAny(t, "*>"):
			return hookgate.InvalidParam(param, s, "%s is the subject each message is published to: it may not contain the wildcards * and >", param)
		case wildcards && (t == ">" && i != len(tokens)-1 || t != "*" && t != ">" && strings.ContainsAny(t, "*>")):
			return hookgate.InvalidParam(param, s, "%s takes * as a whole token and > as its last token only", param)
		}
	}
	return nil
}

// checkName checks a stream's or a durable consumer's name: 1 to
// MaxNameLength bytes, without spaces, control characters, dots,
// wildcards or path separators (the server makes a directory of it).
func checkName(param, name string) error {
	if name == "" || len(name) > MaxNameLength || strings.IndexFunc(name, isSpaceOrControl) >= 0 || strings.ContainsAny(name, ".*>/\\") {
		return hookgate.InvalidParam(param, name, "%s is 1-%d bytes without spaces, dots, * > / or \\", param, MaxNameLength)
	}
	return nil
}

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// captures reports whether a stream's subject (wildcards allowed)
// captures every subject filter matches.
func captures(stream, filter string) bool {
	st, ft := strings.Split(stream, "."), strings.Split(filter, ".")
	for i, f := range ft {
		if i >= len(st) {
			return false
		}
		switch s := st[i]; {
		case s == ">":
			return true
		case f == ">":
			return false
		case s == "*" || s == f:
		default:
			return false
		}
	}
	return len(st) == len(ft)
}
