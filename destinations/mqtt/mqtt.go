// Package mqtt is the mqtt destination kind, and the mqtt source driver:
// a delivery is one MQTT 5 PUBLISH to a topic, whose payload is the body,
// unchanged, whose content type property is the body's, and whose user
// properties are the Standard Webhooks headers and the trace context,
// signed as an HTTP delivery is. Webhooks that reach the same broker as
// the same user share one connection. MQTT 5 is required: a broker that
// speaks only MQTT 3.1.1 has no user properties to carry the signature,
// and is refused at registration.
package mqtt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/signing"
)

// Name is the kind's name, the value of a webhook's destination.kind.
const Name = "mqtt"

// Kind describes the mqtt kind to the registry.
var Kind = hookgate.DestinationKind{
	Name:   Name,
	Fields: []string{"url", "topic", "qos", "auth"},
	Secret: []string{"auth.password"},
}

// ProbeTimeout bounds the CONNECT that checks a broker at registration.
const ProbeTimeout = 3 * time.Second

// Register registers the kind in r: it dials with dial (nil for a plain
// dialer) and gives one send at most timeout.
func Register(r *hookgate.Destinations, dial hookgate.DialFunc, timeout time.Duration) error {
	return r.Register(Kind, &Destination{Dial: dial, SendTimeout: timeout})
}

// Destination publishes deliveries to MQTT topics. Its zero value works.
type Destination struct {
	// Dial opens connections; nil for a plain net.Dialer.
	Dial hookgate.DialFunc
	// SendTimeout bounds one Send, the connection's CONNECT included;
	// default delivery.DefaultSendTimeout.
	SendTimeout time.Duration
	// Now defaults to time.Now; it dates the signature.
	Now func() time.Time

	mu     sync.Mutex
	pools  map[poolKey]*pool
	closed bool
}

// pool is the one connection of the webhooks that reach a broker as one
// user: made on first use, made again by the first Send after it is lost.
type pool struct {
	// clientID is the pool's, the same on every reconnection: it names
	// the URL and user by a hash, and this process by a random part, so
	// that two nodes never take each other's connection.
	clientID string
	password string
	// lock is held while a connection is made (a channel, so that a Send
	// waiting for it still honours its context).
	lock   chan struct{}
	client *paho.Client
	closed bool
}

// Check checks w's configuration.
func (d *Destination) Check(w *hookgate.Webhook) error {
	_, err := parse(w.DestinationConfig, forDestination)
	return err
}

// Probe connects to w's broker with w's credentials, on a connection of
// its own that it closes, within ProbeTimeout: nothing is published.
func (d *Destination) Probe(ctx context.Context, w *hookgate.Webhook) error {
	c, err := parse(w.DestinationConfig, forDestination)
	if err != nil {
		return err
	}
	return probe(ctx, d.Dial, c, w.DestinationConfig.URL, forDestination)
}

// probe makes one MQTT 5 connection to c's broker, on a clean session of
// its own, and closes it; its errors name the field at fault in k's terms.
// A broker whose maximum QoS is below c's is refused naming qos: every
// PUBLISH would be.
func probe(ctx context.Context, dial hookgate.DialFunc, c config, rawURL string, k kindOf) error {
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	client, ca, err := probeConnect(ctx, dial, c, rawURL, k)
	if err != nil {
		return err
	}
	_ = client.Disconnect(&paho.Disconnect{})
	if ca.Properties != nil && ca.Properties.MaximumQoS != nil && *ca.Properties.MaximumQoS < c.qos {
		return hookgate.InvalidParam(k.field("qos"), c.qos, "the broker at %s takes QoS %d at most, not %d", k.field("url"), *ca.Properties.MaximumQoS, c.qos)
	}
	return nil
}

// probeConnect connects to c's broker on a clean session of its own,
// within ctx, ignoring whatever the broker sends it; its errors name the
// field at fault in k's terms.
func probeConnect(ctx context.Context, dial hookgate.DialFunc, c config, rawURL string, k kindOf) (*paho.Client, *paho.Connack, error) {
	client, ca, err := connect(ctx, dial, c, session{clientID: "hookgate-probe-" + randomID(), timeout: ProbeTimeout,
		onPublish: func(paho.PublishReceived) (bool, error) { return true, nil }})
	if err == nil {
		return client, ca, nil
	}
	url := hookgate.RedactURL(rawURL)
	var ce *ConnectError
	switch {
	case errors.As(err, &ce) && ce.V311:
		return nil, nil, hookgate.InvalidParam(k.field("url"), url,
			"the broker at %s speaks only MQTT 3.1.1: it must speak MQTT 5, because the signature travels in MQTT 5 user properties", k.field("url"))
	case errors.As(err, &ce) && ce.Credentials():
		return nil, nil, hookgate.InvalidParam(k.field("auth.password"), hookgate.Redacted,
			"the broker at %s refused the credentials of %s: %s", k.field("url"), k.field("auth"), ce)
	case errors.As(err, &ce):
		return nil, nil, hookgate.InvalidParam(k.field("url"), url, "the broker at %s refused an MQTT 5 CONNECT: %s", k.field("url"), ce)
	}
	return nil, nil, hookgate.InvalidParam(k.field("url"), url,
		"the broker at %s did not answer an MQTT 5 CONNECT within %s: %s", k.field("url"), ProbeTimeout, describe(err))
}

// Timeout is the longest one Send takes.
func (d *Destination) Timeout() time.Duration {
	if d.SendTimeout > 0 {
		return d.SendTimeout
	}
	return delivery.DefaultSendTimeout
}

// Close disconnects every pooled connection; a Send after it fails,
// retryable.
func (d *Destination) Close() error {
	d.mu.Lock()
	pools := d.pools
	d.pools, d.closed = nil, true
	d.mu.Unlock()
	var errs []error
	for _, p := range pools {
		errs = append(errs, p.close())
	}
	return errors.Join(errs...)
}

// poolFor returns c's pool, made on first use; a webhook whose password
// changed gets a new one, and the old one is closed.
func (d *Destination) poolFor(c config) (*pool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errors.New("the mqtt destination is closed (the node is draining)")
	}
	if p, ok := d.pools[c.key]; ok {
		if p.password == c.password {
			return p, nil
		}
		go func() { _ = p.close() }() // the password changed: its connection is of no use
	}
	if d.pools == nil {
		d.pools = map[poolKey]*pool{}
	}
	p := &pool{
		clientID: "hookgate-" + shortHash(c.key.url+"\x00"+c.key.username) + "-" + randomID(),
		password: c.password,
		lock:     make(chan struct{}, 1),
	}
	d.pools[c.key] = p
	return p, nil
}

// get returns p's connection, connecting when it has none or lost it.
func (p *pool) get(ctx context.Context, dial hookgate.DialFunc, c config, timeout time.Duration) (*paho.Client, error) {
	select {
	case p.lock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.lock }()
	if p.closed {
		return nil, errors.New("the mqtt destination is closed (the node is draining)")
	}
	if p.client != nil {
		select {
		case <-p.client.Done():
			p.client = nil // lost: connect again
		default:
			return p.client, nil
		}
	}
	client, _, err := connect(ctx, dial, c, session{clientID: p.clientID, timeout: timeout})
	if err != nil {
		return nil, err
	}
	p.client = client
	return client, nil
}

// close disconnects p's connection, once a connection being made is.
func (p *pool) close() error {
	p.lock <- struct{}{}
	defer func() { <-p.lock }()
	p.closed = true
	if p.client == nil {
		return nil
	}
	c := p.client
	p.client = nil
	select {
	case <-c.Done():
		return nil
	default:
	}
	return c.Disconnect(&paho.Disconnect{})
}

func (d *Destination) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Send publishes m to w's topic and classifies the answer: at QoS 1 and 2,
// the PUBACK or PUBREC/PUBCOMP with a reason code below 0x80 is a success,
// recorded as the attempt's response body (0x10, no matching subscribers,
// among them); at QoS 0, the PUBLISH written is. Reason codes 0x87 (not
// authorized) and 0x90 (topic name invalid) are permanent, anything else
// retryable.
func (d *Destination) Send(ctx context.Context, w *hookgate.Webhook, m hookgate.DeliveryMessage) hookgate.Outcome {
	start := d.now()
	a := hookgate.Attempt{StartedAt: start, RequestMethod: "PUBLISH", RequestURL: hookgate.RedactURL(w.DestinationConfig.URL)}
	c, err := parse(w.DestinationConfig, forDestination)
	if err != nil {
		return finish(hookgate.Permanent(a, ReasonMisconfigured), start, d.now(), err)
	}
	pub, body, err := publication(ctx, w, m, c, start)
	if err != nil {
		return finish(hookgate.Permanent(a, delivery.UnsendableReason(err, ReasonUnsendable)), start, d.now(), err)
	}
	a.RequestURL += "#" + c.topic
	a.RequestHeaders, a.RequestBody = recorded(pub), body.Recorded()
	body.Redact(a.RequestHeaders)
	p, err := d.poolFor(c)
	if err != nil {
		return finish(hookgate.Retryable(a, 0), start, d.now(), err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout())
	defer cancel()
	client, err := p.get(ctx, d.Dial, c, d.Timeout())
	if err != nil {
		return finish(hookgate.Retryable(a, 0), start, d.now(), err)
	}
	resp, err := client.Publish(ctx, pub)
	if err == nil && (resp == nil || resp.ReasonCode < 0x80) {
		a.ResponseBody = acknowledged(c.qos, resp)
		return finish(hookgate.Succeeded(a), start, d.now(), nil)
	}
	if err == nil {
		err = &PublishError{Code: resp.ReasonCode, Reason: reasonString(resp)}
	} else if resp != nil {
		err = &PublishError{Code: resp.ReasonCode, Reason: reasonString(resp)}
	}
	return finish(classify(a, err), start, d.now(), err)
}

// Reasons of the kind's permanent failures.
const (
	ReasonMisconfigured = "its mqtt configuration is not valid"
	ReasonUnsendable    = "its message cannot be made"
	ReasonNotAuthorized = "the broker does not let its user publish to the topic (reason 0x87, not authorized)"
	ReasonTopicInvalid  = "the broker does not take the topic (reason 0x90, topic name invalid)"
	ReasonQoS           = "the broker does not take the destination's QoS"
)

// PublishError is a PUBLISH the broker refused, with the reason code of
// its PUBACK or PUBREC.
type PublishError struct {
	Code   byte
	Reason string
}

// Error says what the broker answered.
func (e *PublishError) Error() string {
	s := fmt.Sprintf("the broker refused the message (reason 0x%02X %s)", e.Code, pubackReason(e.Code))
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// pubackReason names the reason codes of PUBACK and PUBREC.
func pubackReason(code byte) string {
	switch code {
	case 0x00:
		return "success"
	case 0x10:
		return "no matching subscribers"
	case 0x80:
		return "unspecified error"
	case 0x83:
		return "implementation specific error"
	case 0x87:
		return "not authorized"
	case 0x90:
		return "topic name invalid"
	case 0x91:
		return "packet identifier in use"
	case 0x97:
		return "quota exceeded"
	case 0x99:
		return "payload format invalid"
	}
	return "refused"
}

func reasonString(r *paho.PublishResponse) string {
	if r == nil || r.Properties == nil {
		return ""
	}
	return r.Properties.ReasonString
}

// acknowledged is the broker's answer to a PUBLISH, as the attempt's
// response body.
func acknowledged(qos byte, r *paho.PublishResponse) string {
	if qos == 0 {
		return "written (QoS 0: the broker confirms nothing)"
	}
	ack := "PUBACK"
	if qos == 2 {
		ack = "PUBCOMP"
	}
	var code byte
	if r != nil {
		code = r.ReasonCode
	}
	s := fmt.Sprintf("%s 0x%02X %s", ack, code, pubackReason(code))
	if rs := reasonString(r); rs != "" {
		s += ": " + rs
	}
	return s
}

// classify turns a failed PUBLISH into an outcome. 0x87 (the broker's ACL
// forbids the user to publish to the topic) and 0x90 (the broker does not
// take the topic's name) are the broker saying this webhook cannot work
// whatever the wait, and so is a QoS above the broker's maximum: permanent.
// Anything else (no connection, a refused CONNECT, a timeout, a quota, a
// restart) is retryable.
func classify(a hookgate.Attempt, err error) hookgate.Outcome {
	var pe *PublishError
	switch {
	case errors.As(err, &pe) && pe.Code == 0x87:
		return hookgate.Permanent(a, ReasonNotAuthorized)
	case errors.As(err, &pe) && pe.Code == 0x90:
		return hookgate.Permanent(a, ReasonTopicInvalid)
	case errors.Is(err, paho.ErrInvalidArguments):
		return hookgate.Permanent(a, ReasonQoS)
	}
	return hookgate.Retryable(a, 0)
}

// finish completes o's attempt (hookgate.Outcome.Finish), a failure
// described in this kind's words.
func finish(o hookgate.Outcome, start, end time.Time, err error) hookgate.Outcome {
	return o.Finish(start, end, err, describe)
}

// describe says what went wrong in words a tenant may read.
func describe(err error) string {
	var ne net.Error
	var ce *ConnectError
	var pe *PublishError
	switch {
	case delivery.IsTransformError(err):
		return err.Error()
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "the MQTT broker did not answer in time"
	case errors.As(err, &ce), errors.As(err, &pe):
		return "the MQTT broker answered: " + err.Error()
	case errors.As(err, new(*net.OpError)):
		return "could not reach the MQTT broker: " + err.Error()
	}
	return "the MQTT connection failed: " + err.Error()
}

// publication returns m as w's PUBLISH: the body, the same bytes an HTTP
// receiver gets (delivery.Render), its content type, and as user
// properties the Standard Webhooks headers, signed at now as
// delivery.Sender signs a request, the trace context when m has one, and
// the headers of the webhook's transformHeaders in name order.
func publication(ctx context.Context, w *hookgate.Webhook, m hookgate.DeliveryMessage, c config, now time.Time) (*paho.Publish, delivery.Body, error) {
	body, err := delivery.Render(ctx, w, m)
	if err != nil {
		return nil, body, err
	}
	signer, err := delivery.Signer(w, now)
	if err != nil {
		return nil, body, err
	}
	ts := now.Unix()
	props := paho.UserProperties{
		{Key: signing.HeaderID, Value: m.ID},
		{Key: signing.HeaderTimestamp, Value: strconv.FormatInt(ts, 10)},
		{Key: signing.HeaderSignature, Value: signer.Sign(m.ID, ts, body.Bytes)},
	}
	if kids := signer.KeyIDs(); kids != "" {
		props = append(props, paho.UserProperty{Key: signing.HeaderKeyID, Value: kids})
	}
	if tp := m.Trace.Traceparent(); tp != "" {
		props = append(props, paho.UserProperty{Key: "traceparent", Value: tp})
		if m.Trace.State != "" {
			props = append(props, paho.UserProperty{Key: "tracestate", Value: m.Trace.State})
		}
	}
	if len(body.Header) > 0 {
		for _, k := range body.HeaderNames() {
			props = append(props, paho.UserProperty{Key: k, Value: body.Header[k]})
		}
	}
	return &paho.Publish{
		QoS:        c.qos,
		Topic:      c.topic,
		Payload:    body.Bytes,
		Properties: &paho.PublishProperties{ContentType: body.ContentType, User: props},
	}, body, nil
}

// recorded are the PUBLISH's user properties and content type, as the
// attempt's request headers.
func recorded(p *paho.Publish) map[string]string {
	h := make(map[string]string, len(p.Properties.User)+1)
	for _, u := range p.Properties.User {
		h[u.Key] = u.Value
	}
	h["content-type"] = p.Properties.ContentType
	return h
}

// randomID is 12 random hex digits.
func randomID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
