package mqtt

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"net"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hookgate/hookgate"
)

// Limits on an mqtt configuration.
const (
	// MaxTopicLength bounds a topic or topic filter, in bytes: MQTT
	// allows 65,535, a topic of more than this is a mistake.
	MaxTopicLength = 1024
	// MaxShareGroupLength bounds a source's share group, in bytes.
	MaxShareGroupLength = 128
	// DefaultQoS is the QoS of a destination or source that names none.
	DefaultQoS = 1
)

// config is a checked mqtt configuration, a webhook's destination or a
// source's.
type config struct {
	// addr is the broker's host:port; tls is set for mqtts://.
	addr string
	tls  *tls.Config
	// key names the pooled connection: URL and username.
	key      poolKey
	username string
	password string
	// topic is the topic (a destination's) or the topic filter (a
	// source's); qos its QoS; shareGroup, a source's, the group of its
	// shared subscription.
	topic      string
	qos        byte
	shareGroup string
}

// poolKey names one pooled connection: webhooks that reach the same broker
// as the same user share it.
type poolKey struct {
	url, username string
	// tls is a digest of the TLS settings: a new certificate, a new
	// connection.
	tls [sha256.Size]byte
}

// kindOf is what a configuration is for: it names the fields in errors
// (destination.topic, config.topic) and says which fields are taken.
type kindOf struct {
	prefix string
	source bool
}

var (
	forDestination = kindOf{prefix: "destination"}
	forSource      = kindOf{prefix: "config", source: true}
)

// field names a field in an error: destination.topic, config.qos.
func (k kindOf) field(name string) string { return k.prefix + "." + name }

// name is what the configuration is for, in an error's words.
func (k kindOf) name() string {
	if k.source {
		return "source"
	}
	return "destination"
}

// parse checks c, returning an invalid-input error naming the field at
// fault.
func parse(c hookgate.DestinationConfig, k kindOf) (config, error) {
	out, err := parseURL(c.URL, k)
	if err != nil {
		return config{}, err
	}
	if c.Auth.Token != "" {
		return config{}, hookgate.InvalidParam(k.field("auth.token"), hookgate.Redacted, "an mqtt %s takes %s and password, not a token", k.name(), k.field("auth.username"))
	}
	if c.Auth.Username != "" && c.Auth.Password == "" {
		return config{}, hookgate.MissingParam(k.field("auth.password"))
	}
	if c.Auth.Username == "" && c.Auth.Password != "" {
		return config{}, hookgate.MissingParam(k.field("auth.username"))
	}
	if !utf8.ValidString(c.Auth.Username) || strings.ContainsRune(c.Auth.Username, 0) || len(c.Auth.Username) > 65535 {
		return config{}, hookgate.InvalidParam(k.field("auth.username"), c.Auth.Username, "%s must be UTF-8 text without NUL", k.field("auth.username"))
	}
	if len(c.Auth.Password) > 65535 {
		return config{}, hookgate.InvalidParam(k.field("auth.password"), hookgate.Redacted, "%s is at most 65535 bytes", k.field("auth.password"))
	}
	out.username, out.password = c.Auth.Username, c.Auth.Password
	out.key = poolKey{url: c.URL, username: c.Auth.Username, tls: c.TLSDigest()}
	serverName := ""
	if out.tls != nil {
		serverName = out.tls.ServerName
	}
	if out.tls, err = c.BrokerTLS(k.field("tls"), serverName, out.tls != nil); err != nil {
		return config{}, err
	}
	qos := DefaultQoS
	for name, raw := range c.Fields {
		switch {
		case name == "topic":
			if err := json.Unmarshal(raw, &out.topic); err != nil {
				return config{}, hookgate.InvalidParam(k.field("topic"), string(raw), "%s must be a string", k.field("topic"))
			}
		case name == "qos":
			if err := json.Unmarshal(raw, &qos); err != nil || qos < 0 || qos > 2 {
				return config{}, hookgate.InvalidParam(k.field("qos"), string(raw), "%s must be 0, 1 or 2", k.field("qos"))
			}
		case name == "shareGroup" && k.source:
			if err := json.Unmarshal(raw, &out.shareGroup); err != nil {
				return config{}, hookgate.InvalidParam(k.field("shareGroup"), string(raw), "%s must be a string", k.field("shareGroup"))
			}
			if err := checkShareGroup(out.shareGroup, k); err != nil {
				return config{}, err
			}
		default:
			takes := "url, topic, qos and auth"
			if k.source {
				takes = "url, topic, qos, shareGroup and auth"
			}
			return config{}, hookgate.InvalidParam(k.field(name), name, "an mqtt %s has no field %s (it takes %s)", k.name(), name, takes)
		}
	}
	out.qos = byte(qos)
	if out.topic == "" {
		return config{}, hookgate.MissingParam(k.field("topic"))
	}
	if k.source {
		return out, checkFilter(out.topic, k)
	}
	return out, checkTopic(out.topic, k)
}

// checkText checks what every topic and filter must be: 1 to
// MaxTopicLength bytes of UTF-8, without NUL or other control characters.
func checkText(topic string, k kindOf) error {
	if len(topic) > MaxTopicLength || !utf8.ValidString(topic) || strings.IndexFunc(topic, unicode.IsControl) >= 0 {
		return hookgate.InvalidParam(k.field("topic"), topic, "%s is 1-%d bytes of UTF-8 text without NUL or control characters", k.field("topic"), MaxTopicLength)
	}
	return nil
}

// checkTopic checks a topic to publish to: no wildcards, and no topic of
// the broker's own ($SYS/…).
func checkTopic(topic string, k kindOf) error {
	if err := checkText(topic, k); err != nil {
		return err
	}
	if strings.ContainsAny(topic, "+#") {
		return hookgate.InvalidParam(k.field("topic"), topic, "%s is a topic to publish to: it may not hold the wildcards + or #", k.field("topic"))
	}
	if strings.HasPrefix(topic, "$") {
		return hookgate.InvalidParam(k.field("topic"), topic, "%s may not start with $: such topics are the broker's own", k.field("topic"))
	}
	return nil
}

// checkFilter checks a topic filter to subscribe to: + stands for a whole
// level, # for the last level and all below it.
func checkFilter(filter string, k kindOf) error {
	if err := checkText(filter, k); err != nil {
		return err
	}
	if strings.HasPrefix(filter, "$share/") {
		return hookgate.InvalidParam(k.field("topic"), filter, "%s is a plain topic filter: give the share group in %s", k.field("topic"), k.field("shareGroup"))
	}
	levels := strings.Split(filter, "/")
	for i, l := range levels {
		if strings.ContainsAny(l, "+#") && len(l) > 1 || l == "#" && i != len(levels)-1 {
			return hookgate.InvalidParam(k.field("topic"), filter, "%s: + must stand for a whole level, and # for the last level", k.field("topic"))
		}
	}
	return nil
}

// checkShareGroup checks a shared subscription's group name: a single
// level, without wildcards.
func checkShareGroup(g string, k kindOf) error {
	if g == "" || len(g) > MaxShareGroupLength || !utf8.ValidString(g) || strings.ContainsAny(g, "/+#") || strings.IndexFunc(g, unicode.IsControl) >= 0 {
		return hookgate.InvalidParam(k.field("shareGroup"), g, "%s is 1-%d bytes of text without /, +, # or control characters", k.field("shareGroup"), MaxShareGroupLength)
	}
	return nil
}

// parseURL checks a broker address, mqtt://host:port or mqtts://host:port
// for TLS (ports 1883 and 8883 by default).
func parseURL(raw string, k kindOf) (config, error) {
	param := k.field("url")
	if raw == "" {
		return config{}, hookgate.MissingParam(param)
	}
	if len(raw) > hookgate.MaxURLLength {
		return config{}, hookgate.InvalidParam(param, raw, "%s must be at most %d bytes", param, hookgate.MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return config{}, hookgate.InvalidParam(param, nil, "%s is not a valid URL", param)
	}
	if u.User != nil {
		return config{}, hookgate.InvalidParam(param, nil, "%s may not hold credentials: put them in %s", param, k.field("auth"))
	}
	if u.Scheme != "mqtt" && u.Scheme != "mqtts" {
		return config{}, hookgate.InvalidParam(param, raw, "%s must be an mqtt:// or mqtts:// URL", param)
	}
	if u.Hostname() == "" {
		return config{}, hookgate.InvalidParam(param, raw, "%s has no host", param)
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return config{}, hookgate.InvalidParam(param, raw, "%s takes no path, query or fragment: mqtt://host:port (the topic is its own field)", param)
	}
	port := u.Port()
	if port == "" {
		port = "1883"
		if u.Scheme == "mqtts" {
			port = "8883"
		}
	} else if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
		return config{}, hookgate.InvalidParam(param, raw, "%s has port %s; a port is 1-65535", param, port)
	}
	out := config{addr: net.JoinHostPort(u.Hostname(), port)}
	if u.Scheme == "mqtts" {
		out.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	}
	return out, nil
}
