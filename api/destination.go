package api

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"strings"

	"github.com/hookgate/hookgate"
)

// destinationIn is a request's destination object, read: its kind (""
// for http) and, for another kind, its configuration.
type destinationIn struct {
	kind   string
	config hookgate.DestinationConfig
	// tlsSent says the request named destination.tls (null to remove it):
	// without it, a change keeps the stored TLS for the same broker.
	tlsSent bool
}

// parseDestination reads raw, a destination object, against the
// registered kinds: every field must be one its kind names, each error
// names the field (destination.kind, destination.url…).
func (s *Server) parseDestination(raw rawJSON) (destinationIn, error) {
	if raw.isNull() {
		return destinationIn{}, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return destinationIn{}, hookgate.InvalidParam("destination", nil, `destination must be an object such as {"kind": "redis-stream", "url": "redis://host:6379/0", "stream": "events"}`)
	}
	kind := hookgate.DestinationHTTP
	if k, ok := fields["kind"]; ok {
		if err := json.Unmarshal(k, &kind); err != nil {
			return destinationIn{}, hookgate.InvalidParam("destination.kind", string(k), "destination.kind must be a string")
		}
		delete(fields, "kind")
	}
	if kind == hookgate.DestinationHTTP {
		for name := range fields {
			return destinationIn{}, hookgate.InvalidParam("destination."+name, name, "a destination of kind http is configured by the webhook's own fields (url, auth, headers…), not destination.%s", name)
		}
		return destinationIn{}, nil
	}
	k, ok := s.destinationKind(kind)
	if !ok {
		return destinationIn{}, hookgate.InvalidParam("destination.kind", kind, "destination.kind must be one of %s, not %q", strings.Join(s.destinationKindNames(), ", "), kind)
	}
	config, tlsSent, err := brokerConfig("destination", "a destination", k, fields)
	if err != nil {
		return destinationIn{}, err
	}
	return destinationIn{kind: kind, config: config, tlsSent: tlsSent}, nil
}

// brokerConfig reads the fields of a broker's configuration (a webhook's
// destination, a source's config) against its kind k: url, auth and tls
// for every kind, and the fields k names; each error names the field under
// prefix (destination.url, config.stream…), what (such as "a source")
// telling the field's owner. tlsSent says whether tls was named, null
// included.
func brokerConfig(prefix, what string, k hookgate.DestinationKind, fields map[string]json.RawMessage) (out hookgate.DestinationConfig, tlsSent bool, err error) {
	for name, v := range fields {
		switch {
		case name == "url":
			if err := json.Unmarshal(v, &out.URL); err != nil {
				return out, false, hookgate.InvalidParam(prefix+".url", nil, "%s.url must be a string", prefix)
			}
		case name == "auth":
			dec := json.NewDecoder(bytes.NewReader(v))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&out.Auth); err != nil {
				return out, false, hookgate.InvalidParam(prefix+".auth", nil, `%s.auth is {"username": "…", "password": "…"} or {"token": "…"}`, prefix)
			}
		case name == "tls":
			tlsSent = true
			if string(v) == "null" {
				continue
			}
			dec := json.NewDecoder(bytes.NewReader(v))
			dec.DisallowUnknownFields()
			if err := dec.Decode(&out.TLS); err != nil {
				return out, false, hookgate.InvalidParam(prefix+".tls", nil, `%s.tls is {"clientCertificate": "PEM", "clientKey": "PEM", "caBundle": "PEM"}`, prefix)
			}
		case slices.Contains(k.Fields, name):
			if out.Fields == nil {
				out.Fields = map[string]json.RawMessage{}
			}
			out.Fields[name] = v
		default:
			return out, false, hookgate.InvalidParam(prefix+"."+name, name, "%s of kind %s has no field %s (it takes %s)", what, k.Name, name, strings.Join(k.Fields, ", "))
		}
	}
	return out, tlsSent, nil
}

// destinationKind returns the registered kind named name.
func (s *Server) destinationKind(name string) (hookgate.DestinationKind, bool) {
	if s.cfg.Destinations == nil {
		return hookgate.DestinationKind{}, false
	}
	for _, k := range s.cfg.Destinations.Kinds() {
		if k.Name == name {
			return k, true
		}
	}
	return hookgate.DestinationKind{}, false
}

// destinationKindNames names the kinds a webhook may take, http first.
func (s *Server) destinationKindNames() []string {
	names := []string{hookgate.DestinationHTTP}
	if s.cfg.Destinations != nil {
		for _, k := range s.cfg.Destinations.Kinds() {
			if k.Name != hookgate.DestinationHTTP {
				names = append(names, k.Name)
			}
		}
	}
	return names
}

// setDestination gives w the destination in (of a request that sent
// one): http again when in is, with the webhook's own fields; another
// kind with its configuration, and its address as w's URL. A password sent
// back redacted keeps the stored one, as long as the broker and the user
// stay the same.
func setDestination(w *hookgate.Webhook, in destinationIn, urlSent bool) error {
	old := w.DestinationConfig
	w.Destination, w.DestinationConfig = in.kind, in.config
	if in.kind == "" {
		return nil
	}
	if err := keepBrokerSecrets("destination", &w.DestinationConfig, old, in.tlsSent); err != nil {
		return err
	}
	if !urlSent {
		w.URL = w.DestinationConfig.URL
	}
	return nil
}

// keepBrokerSecrets gives c, a broker's configuration sent under prefix
// (destination, config), the stored password or token of old where c
// sends back ********, for the same url (and username), and old's TLS
// settings when c names none: never answered, their PEM cannot be sent
// back, so a change that leaves them out keeps them, for the same url.
func keepBrokerSecrets(prefix string, c *hookgate.DestinationConfig, old hookgate.DestinationConfig, tlsSent bool) error {
	if c.Auth.Password == redacted {
		if old.Auth.Password == "" || old.URL != c.URL || old.Auth.Username != c.Auth.Username {
			return hookgate.InvalidParam(prefix+".auth.password", redacted, "send the password itself: ******** keeps the stored one only for the same %s.url and username", prefix)
		}
		c.Auth.Password = old.Auth.Password
	}
	if c.Auth.Token == redacted {
		if old.Auth.Token == "" || old.URL != c.URL {
			return hookgate.InvalidParam(prefix+".auth.token", redacted, "send the token itself: ******** keeps the stored one only for the same %s.url", prefix)
		}
		c.Auth.Token = old.Auth.Token
	}
	if !tlsSent && old.URL == c.URL {
		c.TLS = old.TLS
	}
	return nil
}

// checkDestination checks the destination of a webhook of another kind
// than http with its kind, judges the broker's address against the
// network policy and, when probe is set and the kind can, checks that the
// broker answers.
func (s *Server) checkDestination(ctx context.Context, w *hookgate.Webhook, probe bool) error {
	if s.cfg.Destinations == nil {
		return hookgate.InvalidParam("destination.kind", w.Destination, "destination.kind must be http on this server")
	}
	d, err := s.cfg.Destinations.For(w)
	if err != nil {
		return err
	}
	if err := w.DestinationConfig.TLS.CheckAt(s.now(), "destination.tls"); err != nil {
		return err
	}
	if err := d.Check(w); err != nil {
		return err
	}
	if err := s.checkNetwork("destination.url", w.DestinationConfig.URL); err != nil {
		return err
	}
	if p, ok := d.(hookgate.Prober); ok && probe {
		return p.Probe(ctx, w)
	}
	return nil
}

// destinationChanged reports whether a change of w from before reaches a
// different broker, or the same one differently: the change is probed.
func destinationChanged(before, w *hookgate.Webhook) bool {
	return before.Destination != w.Destination || !reflect.DeepEqual(before.DestinationConfig, w.DestinationConfig)
}

// toDestination renders w's destination for an answer: its kind alone
// for http, else its configuration with the password redacted.
func toDestination(w *hookgate.Webhook) map[string]any {
	out := map[string]any{"kind": w.DestinationKind()}
	if w.DestinationKind() == hookgate.DestinationHTTP {
		return out
	}
	for name, v := range toBrokerConfig(w.DestinationConfig, true) {
		out[name] = v
	}
	return out
}

// toBrokerConfig renders a broker's configuration for an answer: its url
// redacted, its fields, auth with the password and token as ********, and
// tls described (never its PEM). emptyUser keeps an empty username beside
// a password, as a destination's answer has always shown it.
func toBrokerConfig(c hookgate.DestinationConfig, emptyUser bool) map[string]any {
	out := map[string]any{"url": hookgate.RedactURL(c.URL)}
	for name, v := range c.Fields {
		out[name] = v
	}
	if c.Auth != (hookgate.DestinationAuth{}) {
		a := map[string]string{}
		if c.Auth.Username != "" || emptyUser && c.Auth.Token == "" {
			a["username"] = c.Auth.Username
		}
		if c.Auth.Password != "" {
			a["password"] = redacted
		}
		if c.Auth.Token != "" {
			a["token"] = redacted
		}
		out["auth"] = a
	}
	if !c.TLS.IsZero() {
		out["tls"] = toTLS(&c.TLS)
	}
	return out
}
