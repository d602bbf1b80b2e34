package amqp

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/hookgate/hookgate"
)

// MaxNameLength bounds an exchange's name, a routing key and a queue's
// name: an AMQP short string.
const MaxNameLength = 255

// config is a webhook's amqp destination, checked.
type config struct {
	// broker is where to connect and as whom.
	broker brokerConfig
	// exchange is "" for the default exchange, which routes to the queue
	// named by routingKey.
	exchange, routingKey string
}

// brokerConfig is a broker's address and credentials, checked.
type brokerConfig struct {
	// url is the address as given, uri as parsed (its vhost decoded).
	url string
	uri amqp091.URI
	// username and password are the credentials of destination.auth (or
	// config.auth); empty, the broker's default user (guest) is used.
	username, password string
	// tls is the TLS of an amqps:// broker (nil for amqp://), and
	// tlsDigest tells its settings apart in a pool's key.
	tls       *tls.Config
	tlsDigest [sha256.Size]byte
}

// poolKey names one pooled connection: webhooks that reach the same
// broker as the same user, with the same TLS settings, share it.
type poolKey struct {
	url, username string
	tls           [sha256.Size]byte
}

func (b brokerConfig) key() poolKey {
	return poolKey{url: b.url, username: b.username, tls: b.tlsDigest}
}

// parse checks w's configuration, returning an invalid-input error naming
// the field at fault.
func parse(w *hookgate.Webhook) (config, error) {
	c := w.DestinationConfig
	b, err := parseBroker("destination", c)
	if err != nil {
		return config{}, err
	}
	out := config{broker: b}
	var hasExchange, hasKey bool
	for name, raw := range c.Fields {
		switch name {
		case "exchange":
			hasExchange = true
			if err := unmarshalString(raw, &out.exchange); err != nil {
				return config{}, hookgate.InvalidParam("destination.exchange", string(raw), `destination.exchange must be a string ("" for the default exchange)`)
			}
		case "routingKey":
			hasKey = true
			if err := unmarshalString(raw, &out.routingKey); err != nil {
				return config{}, hookgate.InvalidParam("destination.routingKey", string(raw), "destination.routingKey must be a string")
			}
		default:
			return config{}, hookgate.InvalidParam("destination."+name, name, "an amqp destination has no field %s (it takes url, exchange, routingKey and auth)", name)
		}
	}
	if !hasExchange {
		return config{}, hookgate.MissingParam("destination.exchange")
	}
	if err := checkName("destination.exchange", out.exchange, true); err != nil {
		return config{}, err
	}
	if !hasKey || out.routingKey == "" {
		return config{}, hookgate.MissingParam("destination.routingKey")
	}
	if err := checkName("destination.routingKey", out.routingKey, false); err != nil {
		return config{}, err
	}
	return out, nil
}

// unmarshalString reads raw into s, refusing anything but a JSON string
// (null included).
func unmarshalString(raw json.RawMessage, s *string) error {
	if len(raw) == 0 || raw[0] != '"' {
		return errors.New("not a string")
	}
	return json.Unmarshal(raw, s)
}

// checkName checks an exchange's name, a routing key or a queue's name:
// at most MaxNameLength bytes of UTF-8 without control characters, empty
// only where empty may be.
func checkName(param, v string, empty bool) error {
	if v == "" && empty {
		return nil
	}
	if v == "" || len(v) > MaxNameLength || strings.IndexFunc(v, unicode.IsControl) >= 0 {
		return hookgate.InvalidParam(param, v, "%s is 1-%d bytes without control characters", param, MaxNameLength)
	}
	return nil
}

// parseBroker checks a broker's address and credentials, c.URL and
// c.Auth, naming the fields under prefix (destination, config).
func parseBroker(prefix string, c hookgate.DestinationConfig) (brokerConfig, error) {
	uri, err := parseURL(prefix+".url", c.URL)
	if err != nil {
		return brokerConfig{}, err
	}
	a := c.Auth
	if a.Token != "" {
		return brokerConfig{}, hookgate.InvalidParam(prefix+".auth.token", hookgate.Redacted, "an amqp broker takes %s.auth.username and password, not a token", prefix)
	}
	if a.Username != "" && a.Password == "" {
		return brokerConfig{}, hookgate.MissingParam(prefix + ".auth.password")
	}
	if a.Password != "" && a.Username == "" {
		return brokerConfig{}, hookgate.MissingParam(prefix + ".auth.username")
	}
	if len(a.Username) > MaxNameLength || strings.IndexFunc(a.Username, unicode.IsControl) >= 0 {
		return brokerConfig{}, hookgate.InvalidParam(prefix+".auth.username", a.Username, "%s.auth.username is at most %d bytes without control characters", prefix, MaxNameLength)
	}
	tc, err := c.BrokerTLS(prefix+".tls", uri.Host, uri.Scheme == "amqps")
	if err != nil {
		return brokerConfig{}, err
	}
	return brokerConfig{url: c.URL, uri: uri, username: a.Username, password: a.Password, tls: tc, tlsDigest: c.TLSDigest()}, nil
}

// parseURL checks a broker's address, amqp://host:port/vhost or amqps://
// for TLS, and returns it parsed.
func parseURL(param, raw string) (amqp091.URI, error) {
	if raw == "" {
		return amqp091.URI{}, hookgate.MissingParam(param)
	}
	if len(raw) > hookgate.MaxURLLength {
		return amqp091.URI{}, hookgate.InvalidParam(param, raw, "%s must be at most %d bytes", param, hookgate.MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return amqp091.URI{}, hookgate.InvalidParam(param, nil, "%s is not a valid URL", param)
	}
	if u.User != nil {
		return amqp091.URI{}, hookgate.InvalidParam(param, nil, "%s may not hold credentials: put them in %s", param, strings.TrimSuffix(param, ".url")+".auth")
	}
	if u.Scheme != "amqp" && u.Scheme != "amqps" {
		return amqp091.URI{}, hookgate.InvalidParam(param, raw, "%s must be an amqp:// or amqps:// URL", param)
	}
	if u.Hostname() == "" {
		return amqp091.URI{}, hookgate.InvalidParam(param, raw, "%s has no host", param)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return amqp091.URI{}, hookgate.InvalidParam(param, raw, "%s has port %s; a port is 1-65535", param, p)
		}
	}
	// The client library reads TLS files and timeouts from the query: none
	// of that is a tenant's to choose.
	if u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return amqp091.URI{}, hookgate.InvalidParam(param, raw, "%s takes no query and no fragment: amqp://host:port/vhost", param)
	}
	uri, err := amqp091.ParseURI(raw)
	if err != nil {
		return amqp091.URI{}, hookgate.InvalidParam(param, raw, "%s: %s (amqp://host:port/vhost)", param, err)
	}
	if len(uri.Vhost) > MaxNameLength || strings.IndexFunc(uri.Vhost, unicode.IsControl) >= 0 {
		return amqp091.URI{}, hookgate.InvalidParam(param, raw, "%s names a virtual host of 1-%d bytes without control characters", param, MaxNameLength)
	}
	return uri, nil
}
