// Package natsdest is the nats destination kind, in destinations/nats: a
// delivery is one message published to a NATS JetStream subject and
// acknowledged by the stream that captures it, whose headers are the
// Standard Webhooks headers, the content type and the trace context, and
// whose body is the event, signed as an HTTP delivery is. Its message ID
// (Nats-Msg-Id) is the delivery's ID, so that the stream drops a retry it
// already holds. Webhooks that reach the same broker with the same
// credentials share one connection. The package also holds the kind's
// source driver (source.go).
package natsdest

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/signing"
)

// Name is the kind's name, the value of a webhook's destination.kind.
const Name = "nats"

// Kind describes the nats kind to the registry.
var Kind = hookgate.DestinationKind{
	Name:   Name,
	Fields: []string{"url", "subject", "auth"},
	Secret: []string{"auth.password", "auth.token"},
}

// ProbeTimeout bounds the test contact at registration: the connection
// and the lookup of the stream.
const ProbeTimeout = 3 * time.Second

// Register registers the kind in r: it dials with dial (nil for a plain
// dialer) and gives one send at most timeout.
func Register(r *hookgate.Destinations, dial hookgate.DialFunc, timeout time.Duration) error {
	return r.Register(Kind, &Destination{Dial: dial, SendTimeout: timeout})
}

// Destination publishes deliveries to JetStream. Its zero value works.
type Destination struct {
	// Dial opens connections; nil for a plain net.Dialer.
	Dial hookgate.DialFunc
	// SendTimeout bounds one Send, the connecting included; default
	// delivery.DefaultSendTimeout.
	SendTimeout time.Duration
	// Now defaults to time.Now; it dates the signature.
	Now func() time.Time

	init  sync.Once
	conns *pool
}

// pool returns the destination's connections, made on first use.
func (d *Destination) pool() *pool {
	d.init.Do(func() { d.conns = &pool{dial: d.Dial, timeout: d.Timeout(), now: d.now} })
	return d.conns
}

// Check checks w's configuration.
func (d *Destination) Check(w *hookgate.Webhook) error {
	_, err := parse(w)
	return err
}

// Timeout is the longest one Send takes.
func (d *Destination) Timeout() time.Duration {
	if d.SendTimeout > 0 {
		return d.SendTimeout
	}
	return delivery.DefaultSendTimeout
}

// Close closes every pooled connection; a Send after it fails, retryable.
func (d *Destination) Close() error {
	d.pool().close()
	return nil
}

func (d *Destination) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Probe connects to w's broker with w's credentials, on a connection of
// its own that it closes, and looks up the stream that captures w's
// subject, within ProbeTimeout: nothing is published. A subject no stream
// captures is refused, naming destination.subject: a publish to it would
// never be acknowledged.
func (d *Destination) Probe(ctx context.Context, w *hookgate.Webhook) error {
	c, err := parse(w)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	var denied denials
	nc, err := nats.Connect(c.conn.url, append(options(c.conn, d.Dial, ProbeTimeout, &denied), nats.NoReconnect())...)
	if err != nil {
		return connectRefused(destinationField, c.conn, w.DestinationConfig.URL, err)
	}
	defer nc.Close()
	_, err = lookUpStream(ctx, nc, &denied, c.subject)
	return lookupRefused(destinationField, w.DestinationConfig.URL, c.subject, err)
}

// lookUpStream returns the name of the stream that captures subject.
func lookUpStream(ctx context.Context, nc *nats.Conn, denied *denials, subject string) (string, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return "", err
	}
	ctx, stop := denied.wait(ctx, "$JS.API.STREAM.NAMES")
	defer stop()
	name, err := js.StreamNameBySubject(ctx, subject)
	if denial := refused(ctx); err != nil && denial != nil {
		return "", denial
	}
	return name, err
}

// connectRefused is the invalid-input error of a connection that failed
// at registration: the credentials at fault when the server refused them,
// else the address.
func connectRefused(prefix fieldName, c conn, rawURL string, err error) error {
	if errors.Is(err, nats.ErrAuthorization) || errors.Is(err, nats.ErrAuthExpired) || errors.Is(err, nats.ErrAuthRevoked) {
		param := prefix.of("auth")
		switch {
		case c.token != "":
			param = prefix.of("auth.token")
		case c.password != "":
			param = prefix.of("auth.password")
		}
		return hookgate.InvalidParam(param, hookgate.Redacted, "the NATS server at %s refused the credentials of %s (authorization violation)", prefix.of("url"), prefix.of("auth"))
	}
	var ne net.Error
	if errors.Is(err, nats.ErrTimeout) || errors.As(err, &ne) && ne.Timeout() {
		return hookgate.InvalidParam(prefix.of("url"), hookgate.RedactURL(rawURL),
			"the NATS server at %s did not answer within %s: %s", prefix.of("url"), ProbeTimeout, describe(err))
	}
	return hookgate.InvalidParam(prefix.of("url"), hookgate.RedactURL(rawURL),
		"could not connect to the NATS server at %s: %s", prefix.of("url"), describe(err))
}

// lookupRefused is the invalid-input error of a stream lookup that failed
// at registration; nil for none.
func lookupRefused(prefix fieldName, rawURL, subject string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, jetstream.ErrStreamNotFound):
		return hookgate.InvalidParam(prefix.of("subject"), subject,
			"no JetStream stream captures %s %q on the NATS server at %s: a publish to it would never be acknowledged; create a stream whose subjects include it", prefix.of("subject"), subject, prefix.of("url"))
	case errors.Is(err, nats.ErrPermissionViolation):
		return hookgate.InvalidParam(prefix.of("auth.username"), nil,
			"the NATS user of %s may not look up streams ($JS.API.STREAM.NAMES): %s", prefix.of("auth"), err)
	case errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount):
		return hookgate.InvalidParam(prefix.of("url"), hookgate.RedactURL(rawURL), "the NATS server at %s has no JetStream for this account", prefix.of("url"))
	}
	return hookgate.InvalidParam(prefix.of("url"), hookgate.RedactURL(rawURL),
		"the NATS server at %s did not answer a stream lookup within %s: %s", prefix.of("url"), ProbeTimeout, describe(err))
}

// Send publishes m to w's subject with JetStream and classifies the
// answer: the stream's ack (its name, the message's sequence, whether it
// was a duplicate) is a success, recorded as the attempt's response body;
// a permissions violation on the subject, or a message larger than the
// server takes, is permanent; any other failure is retryable.
func (d *Destination) Send(ctx context.Context, w *hookgate.Webhook, m hookgate.DeliveryMessage) hookgate.Outcome {
	start := d.now()
	a := hookgate.Attempt{StartedAt: start, RequestMethod: "PUBLISH", RequestURL: hookgate.RedactURL(w.DestinationConfig.URL)}
	c, err := parse(w)
	if err != nil {
		return finish(hookgate.Permanent(a, ReasonMisconfigured), start, d.now(), err)
	}
	msg, body, err := message(ctx, w, m, c.subject, start)
	if err != nil {
		return finish(hookgate.Permanent(a, delivery.UnsendableReason(err, ReasonUnsendable)), start, d.now(), err)
	}
	a.RequestURL += "#" + c.subject
	a.RequestHeaders, a.RequestBody = recorded(msg.Header), body.Recorded()
	body.Redact(a.RequestHeaders)
	ctx, cancel := context.WithTimeout(ctx, d.Timeout())
	defer cancel()
	pc, err := d.pool().get(ctx, c.conn)
	if err != nil {
		return finish(hookgate.Retryable(a, 0), start, d.now(), err)
	}
	ack, err := pc.publish(ctx, msg)
	if err == nil {
		a.ResponseBody = ackBody(ack)
		return finish(hookgate.Succeeded(a), start, d.now(), nil)
	}
	return finish(classify(a, err), start, d.now(), err)
}

// Reasons of the kind's permanent failures.
const (
	ReasonMisconfigured = "its nats configuration is not valid"
	ReasonUnsendable    = "its message cannot be made"
	ReasonNoPermission  = "the NATS server does not let its user publish to the subject (permissions violation)"
	ReasonTooLarge      = "the message is larger than the NATS server's max_payload"
)

// classify turns a failed publish into an outcome. A permissions violation
// (the user may not publish to the subject) and a message larger than the
// server's max_payload are the broker saying this cannot work, whatever
// the wait: permanent, until an operator changes the permissions, the
// server or the webhook. Anything else (no connection, a timeout, no
// stream answering, a restart, credentials that may be fixed, a stream
// that is full) is retryable.
func classify(a hookgate.Attempt, err error) hookgate.Outcome {
	switch {
	case errors.Is(err, nats.ErrPermissionViolation):
		return hookgate.Permanent(a, ReasonNoPermission)
	case errors.Is(err, nats.ErrMaxPayload):
		return hookgate.Permanent(a, ReasonTooLarge)
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
	var api *jetstream.APIError
	switch {
	case delivery.IsTransformError(err):
		return err.Error()
	case errors.Is(err, nats.ErrPermissionViolation):
		return "the NATS server refused: " + err.Error()
	case errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders):
		return "no JetStream stream answered for the subject on the NATS server (no responders)"
	case errors.Is(err, nats.ErrReconnectBufExceeded) || errors.Is(err, nats.ErrConnectionClosed) ||
		errors.Is(err, nats.ErrConnectionReconnecting) || errors.Is(err, nats.ErrDisconnected) || errors.Is(err, errClosed):
		return "not connected to the NATS server: " + err.Error()
	case errors.Is(err, nats.ErrAuthorization):
		return "the NATS server refused the credentials (authorization violation)"
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, nats.ErrTimeout) || errors.As(err, &ne) && ne.Timeout():
		return "the NATS server did not answer in time: " + err.Error()
	case errors.As(err, &api):
		return "the NATS server answered: " + api.Error()
	case errors.Is(err, nats.ErrNoServers) || errors.As(err, new(*net.OpError)):
		return "could not reach the NATS server: " + err.Error()
	}
	return "NATS server: " + err.Error()
}

// message returns m as a JetStream message to subject: the Standard
// Webhooks headers, signed at now as delivery.Sender signs a request, the
// content type, the trace context when m has one, the message ID that
// lets the stream drop a duplicate, the headers of the webhook's
// transformHeaders (but one named as the message ID's), and the body, the
// same bytes an HTTP receiver gets (delivery.Render).
func message(ctx context.Context, w *hookgate.Webhook, m hookgate.DeliveryMessage, subject string, now time.Time) (*nats.Msg, delivery.Body, error) {
	body, err := delivery.Render(ctx, w, m)
	if err != nil {
		return nil, body, err
	}
	signer, err := delivery.Signer(w, now)
	if err != nil {
		return nil, body, err
	}
	ts := now.Unix()
	h := nats.Header{
		signing.HeaderID:        {m.ID},
		signing.HeaderTimestamp: {strconv.FormatInt(ts, 10)},
		signing.HeaderSignature: {signer.Sign(m.ID, ts, body.Bytes)},
		"content-type":          {body.ContentType},
		jetstream.MsgIDHeader:   {m.ID},
	}
	for k, v := range body.Header {
		if !strings.EqualFold(k, jetstream.MsgIDHeader) {
			h[k] = []string{v}
		}
	}
	if kids := signer.KeyIDs(); kids != "" {
		h[signing.HeaderKeyID] = []string{kids}
	}
	if tp := m.Trace.Traceparent(); tp != "" {
		h["traceparent"] = []string{tp}
		if m.Trace.State != "" {
			h["tracestate"] = []string{m.Trace.State}
		}
	}
	return &nats.Msg{Subject: subject, Header: h, Data: body.Bytes}, body, nil
}

// recorded are the message's headers, as the attempt's request headers.
func recorded(h nats.Header) map[string]string {
	out := make(map[string]string, len(h))
	for k, v := range h {
		out[k] = v[0]
	}
	return out
}

// ackBody is the stream's ack as the attempt records it.
func ackBody(ack *jetstream.PubAck) string {
	b, _ := json.Marshal(struct {
		Stream    string `json:"stream"`
		Seq       uint64 `json:"seq"`
		Duplicate bool   `json:"duplicate"`
	}{ack.Stream, ack.Sequence, ack.Duplicate})
	return string(b)
}
