package ui

import (
	"net/url"
	"reflect"
	"strconv"
	"strings"

	"github.com/hookgate/hookgate/client"
)

// The destination fieldset's fields: the kind, and each kind's own
// (shown for their kind only, where the browser supports :has).
const (
	fieldDestKind       = "destKind"
	fieldDestStream     = "destStream"
	fieldDestMaxLen     = "destMaxLen"
	fieldDestSubject    = "destSubject"
	fieldDestExchange   = "destExchange"
	fieldDestRoutingKey = "destRoutingKey"
	fieldDestTopic      = "destTopic"
	fieldDestQoS        = "destQos"
	fieldDestUsername   = "destUsername"
	fieldDestPassword   = "destPassword"
	fieldDestToken      = "destToken"
)

// destinationParams maps the API's destination.<field> parameters to the
// form's fields.
var destinationParams = map[string]string{
	"destination.kind": fieldDestKind, "destination.stream": fieldDestStream, "destination.maxLen": fieldDestMaxLen,
	"destination.subject": fieldDestSubject, "destination.exchange": fieldDestExchange, "destination.routingKey": fieldDestRoutingKey,
	"destination.topic": fieldDestTopic, "destination.qos": fieldDestQoS, "destination.auth.username": fieldDestUsername,
	"destination.auth.password": fieldDestPassword, "destination.auth.token": fieldDestToken, "destination.auth": fieldDestUsername,
	"destination.url": "url",
}

// withDestinationFields extends fieldOf with the destination's parameters.
func withDestinationFields(fieldOf func(param string) string) func(param string) string {
	return func(param string) string {
		if f, ok := destinationParams[param]; ok {
			return f
		}
		if strings.HasPrefix(param, "destination.") {
			return fieldDestKind
		}
		return fieldOf(param)
	}
}

// destinationOf reads the destination the form asks for at u, the URL
// field: nil for HTTP. Only the fields of the kind chosen are read (the
// others are hidden); a number that is not one is refused naming its
// parameter, as the API would.
func destinationOf(v url.Values, u string) (*client.Destination, error) {
	kind := strings.TrimSpace(v.Get(fieldDestKind))
	if kind == "" || kind == client.DestinationHTTP {
		return nil, nil
	}
	d := &client.Destination{Kind: kind, URL: u}
	get := func(f string) string { return strings.TrimSpace(v.Get(f)) }
	switch kind {
	case client.DestinationRedisStream:
		d.Stream = get(fieldDestStream)
		if s := get(fieldDestMaxLen); s != "" {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n < 1 {
				return nil, badField("destination.maxLen", "destination.maxLen must be a whole number of at least 1 (empty: no trimming)")
			}
			d.MaxLen = n
		}
	case client.DestinationNATS:
		d.Subject = get(fieldDestSubject)
	case client.DestinationAMQP:
		ex := get(fieldDestExchange)
		d.Exchange, d.RoutingKey = &ex, get(fieldDestRoutingKey)
	case client.DestinationMQTT:
		d.Topic = get(fieldDestTopic)
		q, err := strconv.Atoi(get(fieldDestQoS))
		if err != nil {
			q = 1
		}
		d.QoS = &q
	}
	user, pass, token := get(fieldDestUsername), v.Get(fieldDestPassword), v.Get(fieldDestToken)
	if kind != client.DestinationNATS {
		token = ""
	}
	if user != "" || pass != "" || token != "" {
		d.Auth = &client.DestinationAuth{Username: user, Password: pass, Token: token}
	}
	return d, nil
}

// badField is a refusal of a form field, worded as the API words one.
func badField(param, detail string) error {
	return &client.Error{Status: 400, Title: "Bad Request", Detail: detail, Parameter: param}
}

// ownDestination is wh's destination as the edit form shows it; its
// password and token are never shown (left empty, they are kept).
func ownDestination(wh *client.Webhook, v url.Values) {
	d := wh.Destination
	if d == nil || d.Kind == "" {
		v.Set(fieldDestKind, client.DestinationHTTP)
		return
	}
	v.Set(fieldDestKind, d.Kind)
	v.Set(fieldDestStream, d.Stream)
	if d.MaxLen > 0 {
		v.Set(fieldDestMaxLen, strconv.FormatInt(d.MaxLen, 10))
	}
	v.Set(fieldDestSubject, d.Subject)
	if d.Exchange != nil {
		v.Set(fieldDestExchange, *d.Exchange)
	}
	v.Set(fieldDestRoutingKey, d.RoutingKey)
	v.Set(fieldDestTopic, d.Topic)
	if d.QoS != nil {
		v.Set(fieldDestQoS, strconv.Itoa(*d.QoS))
	}
	if d.Auth != nil {
		v.Set(fieldDestUsername, d.Auth.Username)
	}
}

// patchDestination adds to p the destination typed when it differs from
// wh's: a password or token left empty keeps the stored one (sent back
// redacted), and going back to HTTP sends the URL with it. changed
// reports whether it added one.
func patchDestination(p *client.WebhookUpdate, wh *client.Webhook, v url.Values) (changed bool, err error) {
	if !v.Has(fieldDestKind) {
		return false, nil
	}
	u := strings.TrimSpace(v.Get("url"))
	d, err := destinationOf(v, u)
	if err != nil {
		return false, err
	}
	was := wh.Destination
	wasHTTP := was == nil || was.Kind == "" || was.Kind == client.DestinationHTTP
	if d == nil {
		if wasHTTP {
			return false, nil
		}
		p.Destination, p.URL = &client.Destination{Kind: client.DestinationHTTP}, &u
		return true, nil
	}
	if !wasHTTP && was.Auth != nil && d.URL == was.URL {
		// Left empty: the stored credential, sent back as read.
		if d.Auth == nil {
			d.Auth = &client.DestinationAuth{}
		}
		if d.Auth.Password == "" && was.Auth.Password != "" && d.Auth.Username == was.Auth.Username {
			d.Auth.Password = was.Auth.Password
		}
		if d.Auth.Token == "" && was.Auth.Token != "" {
			d.Auth.Token = was.Auth.Token
		}
		if *d.Auth == (client.DestinationAuth{}) {
			d.Auth = nil
		}
	}
	if !wasHTTP && sameDestination(d, was) {
		return false, nil
	}
	p.Destination = d
	return true, nil
}

// sameDestination reports whether the destination typed is the one read
// (its TLS settings, not in the form, aside: a change keeps them).
func sameDestination(typed, read *client.Destination) bool {
	r := *read
	r.TLS, r.TLSInfo = nil, nil
	return reflect.DeepEqual(*typed, r)
}
