package hookgate

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/json"
	"maps"
)

// DestinationConfig configures a webhook's destination of a kind other
// than HTTP (whose configuration is the webhook's own request fields). It is
// stored sealed as a whole: the broker's address is as private as a
// webhook's URL, and Auth holds credentials.
type DestinationConfig struct {
	// URL is the broker's address, such as redis://host:6379/0; the
	// webhook's URL holds the same.
	URL string `json:"url"`
	// Fields holds the kind's other fields (such as stream and maxLen) as
	// they were given, JSON values by name; the kind's Check reads them.
	Fields map[string]json.RawMessage `json:"fields,omitempty"`
	// Auth holds the credentials the broker takes; never in URL.
	Auth DestinationAuth `json:"auth,omitzero"`
	// TLS is the client certificate presented to the broker and the CAs
	// trusted for it instead of the system's, for the kind's TLS URLs
	// (rediss://, tls://, amqps://, mqtts://); a kind refuses it with a
	// plain URL.
	TLS WebhookTLS `json:"tls,omitzero"`
}

// DestinationAuth is how a destination authenticates to its broker.
type DestinationAuth struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	// Token is a bearer token, for brokers that take one instead of a
	// user and password (NATS); a kind that takes none refuses it.
	Token string `json:"token,omitempty"`
}

// IsZero reports whether c configures nothing: the webhook is HTTP's.
func (c *DestinationConfig) IsZero() bool {
	return c.URL == "" && len(c.Fields) == 0 && c.Auth == (DestinationAuth{}) && c.TLS.IsZero()
}

// TLSConfig returns the configuration of a TLS connection to c's broker
// named serverName: c.TLS's client certificate, and its CA bundle as the
// only roots when it has one, else the system's. c.TLS must have passed
// CheckAt.
func (c *DestinationConfig) TLSConfig(serverName string) (*tls.Config, error) {
	cfg, err := c.TLS.Config()
	if err != nil {
		return nil, err
	}
	cfg.ServerName = serverName
	return cfg, nil
}

// Clone returns a copy of c that shares nothing with it.
func (c DestinationConfig) Clone() DestinationConfig {
	c.Fields = maps.Clone(c.Fields)
	return c
}

// Prober is a Destination that can check, at registration, that w's
// broker answers, without publishing anything to it (a PING, say). The API
// calls it after Check, so that a broker that does not answer is refused
// when the webhook is registered rather than found at its first delivery.
type Prober interface {
	// Probe returns an invalid-input error naming the field at fault when
	// w's broker does not answer within ctx.
	Probe(ctx context.Context, w *Webhook) error
}

// BrokerTLS returns the TLS configuration of a connection to c's broker
// named serverName when its URL is a TLS one (secure), nil when it is not.
// TLS settings with a plain URL are refused, naming param (such as
// destination.tls), since they would not be used.
func (c *DestinationConfig) BrokerTLS(param, serverName string, secure bool) (*tls.Config, error) {
	if !secure {
		if !c.TLS.IsZero() {
			return nil, InvalidParam(param, nil, "%s applies to a TLS URL only; %s is not one", param, RedactURL(c.URL))
		}
		return nil, nil
	}
	return c.TLSConfig(serverName)
}

// TLSDigest is a digest of c's TLS settings, for a pool of connections to
// tell them apart: a new certificate, a new connection.
func (c *DestinationConfig) TLSDigest() [sha256.Size]byte {
	return sha256.Sum256([]byte(c.TLS.ClientCertificate + "\x00" + c.TLS.ClientKey + "\x00" + c.TLS.CABundle))
}
