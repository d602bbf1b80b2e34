package redisstream

import (
	"crypto/sha256"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"unicode"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate"
)

// Limits on a redis-stream configuration.
const (
	// MaxStreamLength bounds the stream's name (a Redis key), in bytes.
	MaxStreamLength = 256
	// MaxMaxLen bounds maxLen: a stream longer than this is not a buffer
	// for webhooks but a database.
	MaxMaxLen = 1_000_000_000
)

// config is a webhook's redis-stream destination, checked.
type config struct {
	// opts are the connection's options from the URL, credentials from
	// auth; Dialer is left to the destination.
	opts *redis.Options
	// key names the connection pool the webhook shares: URL and username.
	key poolKey
	// stream is the key of the stream, maxLen its approximate bound (0
	// for none).
	stream string
	maxLen int64
}

// poolKey names one pooled client: webhooks that reach the same broker as
// the same user share it.
type poolKey struct {
	url, username string
	// tls is a digest of the TLS settings: a new certificate, a new client.
	tls [sha256.Size]byte
}

// parse checks w's configuration, returning an invalid-input error naming
// the field at fault.
func parse(w *hookgate.Webhook) (config, error) {
	c := w.DestinationConfig
	opts, err := parseURL("destination.url", c.URL)
	if err != nil {
		return config{}, err
	}
	opts.Username, opts.Password = c.Auth.Username, c.Auth.Password
	if c.Auth.Password != "" && strings.ContainsAny(c.Auth.Username, " \r\n") {
		return config{}, hookgate.InvalidParam("destination.auth.username", c.Auth.Username, "destination.auth.username may not contain spaces or line breaks")
	}
	if c.Auth.Token != "" {
		return config{}, hookgate.InvalidParam("destination.auth.token", hookgate.Redacted, "a redis-stream destination takes destination.auth.username and password, not a token")
	}
	if c.Auth.Username != "" && c.Auth.Password == "" {
		return config{}, hookgate.MissingParam("destination.auth.password")
	}
	serverName := ""
	if opts.TLSConfig != nil {
		serverName = opts.TLSConfig.ServerName
	}
	if opts.TLSConfig, err = c.BrokerTLS("destination.tls", serverName, opts.TLSConfig != nil); err != nil {
		return config{}, err
	}
	out := config{opts: opts, key: poolKey{url: c.URL, username: c.Auth.Username, tls: c.TLSDigest()}}
	for name, raw := range c.Fields {
		switch name {
		case "stream":
			if err := json.Unmarshal(raw, &out.stream); err != nil {
				return config{}, hookgate.InvalidParam("destination.stream", string(raw), "destination.stream must be a string")
			}
		case "maxLen":
			if err := json.Unmarshal(raw, &out.maxLen); err != nil || out.maxLen < 1 || out.maxLen > MaxMaxLen {
				return config{}, hookgate.InvalidParam("destination.maxLen", string(raw), "destination.maxLen must be an integer from 1 to %d", MaxMaxLen)
			}
		default:
			return config{}, hookgate.InvalidParam("destination."+name, name, "a redis-stream destination has no field %s (it takes url, stream, maxLen and auth)", name)
		}
	}
	if out.stream == "" {
		return config{}, hookgate.MissingParam("destination.stream")
	}
	if len(out.stream) > MaxStreamLength || strings.IndexFunc(out.stream, unicode.IsControl) >= 0 {
		return config{}, hookgate.InvalidParam("destination.stream", out.stream, "destination.stream is 1-%d bytes without control characters", MaxStreamLength)
	}
	return out, nil
}

// parseURL checks a broker address, redis://host:port/db or rediss:// for
// TLS, and returns its connection options; errors name param.
func parseURL(param, raw string) (*redis.Options, error) {
	if raw == "" {
		return nil, hookgate.MissingParam(param)
	}
	if len(raw) > hookgate.MaxURLLength {
		return nil, hookgate.InvalidParam(param, raw, "%s must be at most %d bytes", param, hookgate.MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, hookgate.InvalidParam(param, raw, "%s is not a valid URL", param)
	}
	if u.Scheme != "redis" && u.Scheme != "rediss" {
		return nil, hookgate.InvalidParam(param, raw, "%s must be a redis:// or rediss:// URL", param)
	}
	if u.User != nil {
		return nil, hookgate.InvalidParam(param, nil, "%s may not hold credentials: put them in destination.auth", param)
	}
	if u.Hostname() == "" {
		return nil, hookgate.InvalidParam(param, raw, "%s has no host", param)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return nil, hookgate.InvalidParam(param, raw, "%s has port %s; a port is 1-65535", param, p)
		}
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, hookgate.InvalidParam(param, raw, "%s takes no query and no fragment: redis://host:port/db", param)
	}
	opts, err := redis.ParseURL(raw)
	if err != nil {
		return nil, hookgate.InvalidParam(param, raw, "%s: %s (redis://host:port/db, db a number)", param, err)
	}
	return opts, nil
}
