// Package amqp is the amqp destination kind: a delivery is one message
// published to an exchange of an AMQP 0-9-1 broker (RabbitMQ) with a
// routing key, persistent, mandatory and confirmed by the broker, whose
// headers are the Standard Webhooks headers and the trace context, signed
// as an HTTP delivery is. Webhooks that reach the same broker as the same
// user share one connection and its channels. The package also holds the
// amqp source driver (source.go), which consumes a queue.
package amqp

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/signing"
)

// Name is the kind's name, the value of a webhook's destination.kind.
const Name = "amqp"

// Kind describes the amqp kind to the registry.
var Kind = hookgate.DestinationKind{
	Name:   Name,
	Fields: []string{"url", "exchange", "routingKey", "auth"},
	Secret: []string{"auth.password"},
}

// ProbeTimeout bounds the test contact with a broker at registration.
const ProbeTimeout = 3 * time.Second

// Register registers the kind in r: it dials with dial (nil for a plain
// dialer) and gives one send at most timeout.
func Register(r *hookgate.Destinations, dial hookgate.DialFunc, timeout time.Duration) error {
	return r.Register(Kind, &Destination{Dial: dial, SendTimeout: timeout})
}

// Destination publishes deliveries to AMQP exchanges. Its zero value works.
type Destination struct {
	// Dial opens connections; nil for a plain net.Dialer.
	Dial hookgate.DialFunc
	// SendTimeout bounds one Send, from the dial to the broker's confirm;
	// default delivery.DefaultSendTimeout.
	SendTimeout time.Duration
	// Now defaults to time.Now; it dates the signature and the message.
	Now func() time.Time

	mu     sync.Mutex
	pools  map[poolKey]*pool
	closed bool
}

// Check checks w's configuration.
func (d *Destination) Check(w *hookgate.Webhook) error {
	_, err := parse(w)
	return err
}

// Probe connects to w's broker as its user, with a connection of its own
// that it closes, and for a named exchange checks that it exists (a
// passive declare), within ProbeTimeout: nothing is published.
func (d *Destination) Probe(ctx context.Context, w *hookgate.Webhook) error {
	c, err := parse(w)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	conn, err := dial(ctx, d.Dial, c.broker, "hookgate-probe")
	if err != nil {
		return probeError("destination", c.broker, err)
	}
	defer conn.Close()
	if c.exchange == "" {
		return nil
	}
	ch, err := conn.Channel()
	if err != nil {
		return probeError("destination", c.broker, err)
	}
	defer ch.Close()
	if err := ch.ExchangeDeclarePassive(c.exchange, "direct", false, false, false, false, nil); err != nil {
		if code(err) == amqp091.NotFound {
			return hookgate.InvalidParam("destination.exchange", c.exchange, "the broker has no exchange %q in its virtual host %q: declare it first, or use \"\" for the default exchange", c.exchange, c.broker.uri.Vhost)
		}
		return probeError("destination", c.broker, err)
	}
	return nil
}

// probeError names the field a failed contact with b's broker is about:
// its credentials when it refused them, else its address.
func probeError(prefix string, b brokerConfig, err error) error {
	switch code(err) {
	case amqp091.AccessRefused:
		if isLoginRefused(err) {
			return hookgate.InvalidParam(prefix+".auth.password", hookgate.Redacted, "the broker at %s.url refused the credentials of %s.auth: %s", prefix, prefix, describe(err))
		}
	case amqp091.NotAllowed:
		return hookgate.InvalidParam(prefix+".url", hookgate.RedactURL(b.url), "the broker at %s.url refused the virtual host %q: %s", prefix, b.uri.Vhost, describe(err))
	}
	return hookgate.InvalidParam(prefix+".url", hookgate.RedactURL(b.url), "the broker at %s.url did not answer within %s: %s", prefix, ProbeTimeout, describe(err))
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
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	var errs []error
	for k, p := range d.pools {
		errs = append(errs, p.close())
		delete(d.pools, k)
	}
	return errors.Join(errs...)
}

// pool returns the pool of b's broker and user, made on first use.
func (d *Destination) pool(b brokerConfig) (*pool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errClosed
	}
	if p, ok := d.pools[b.key()]; ok {
		if p.broker.password == b.password {
			return p, nil
		}
		_ = p.close() // the password changed: its connection is of no use
	}
	if d.pools == nil {
		d.pools = map[poolKey]*pool{}
	}
	p := newPool(b, d.Dial)
	d.pools[b.key()] = p
	return p, nil
}

func (d *Destination) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Send publishes m to w's exchange and waits for the broker's confirm:
// an ack is a success; a message returned as unroutable, a nack, a closed
// connection or channel, an exchange that does not exist are retryable;
// a permission refused is permanent.
func (d *Destination) Send(ctx context.Context, w *hookgate.Webhook, m hookgate.DeliveryMessage) hookgate.Outcome {
	start := d.now()
	a := hookgate.Attempt{StartedAt: start, RequestMethod: "PUBLISH", RequestURL: hookgate.RedactURL(w.DestinationConfig.URL)}
	c, err := parse(w)
	if err != nil {
		return finish(hookgate.Permanent(a, ReasonMisconfigured), start, d.now(), err)
	}
	a.RequestURL += "#" + c.exchange + "/" + c.routingKey
	msg, body, err := publishing(ctx, w, m, start)
	if err != nil {
		return finish(hookgate.Permanent(a, delivery.UnsendableReason(err, ReasonUnsendable)), start, d.now(), err)
	}
	a.RequestHeaders, a.RequestBody = recorded(msg), body.Recorded()
	body.Redact(a.RequestHeaders)
	p, err := d.pool(c.broker)
	if err != nil {
		return finish(hookgate.Retryable(a, 0), start, d.now(), err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout())
	defer cancel()
	o, err := publish(ctx, p, c, msg, a)
	return finish(o, start, d.now(), err)
}

// publish makes one publish of msg on a channel of p and waits for its
// confirm within ctx.
func publish(ctx context.Context, p *pool, c config, msg amqp091.Publishing, a hookgate.Attempt) (hookgate.Outcome, error) {
	ch, reused, err := p.acquire(ctx)
	if err != nil {
		return classify(a, err), err
	}
	confirm, err := ch.ch.PublishWithDeferredConfirmWithContext(ctx, c.exchange, c.routingKey, true, false, msg)
	if err != nil && reused && errors.Is(err, amqp091.ErrClosed) {
		// An idle channel whose connection the broker closed a moment ago:
		// nothing was sent, so the attempt goes on over a new connection.
		p.discard(ch)
		if ch, _, err = p.acquire(ctx); err != nil {
			return classify(a, err), err
		}
		confirm, err = ch.ch.PublishWithDeferredConfirmWithContext(ctx, c.exchange, c.routingKey, true, false, msg)
	}
	if err != nil {
		p.discard(ch)
		return classify(a, err), err
	}
	acked, err := confirm.WaitContext(ctx)
	if err != nil {
		p.discard(ch)
		return hookgate.Retryable(a, 0), fmt.Errorf("no confirm of the message: %w", err)
	}
	if !acked {
		select {
		case cause := <-ch.closes: // the broker closed the channel: why
			p.discard(ch)
			if cause == nil {
				cause = amqp091.ErrClosed
			}
			return classify(a, cause), cause
		default:
		}
		p.release(ch)
		return hookgate.Retryable(a, 0), errNack
	}
	// RabbitMQ sends basic.return before the basic.ack of a mandatory
	// message it could not route, and the library hands both over in
	// that order: a return is there by now, if there is one.
	select {
	case r := <-ch.returns:
		p.release(ch)
		if r.MessageId == msg.MessageId {
			return hookgate.Retryable(a, 0), unroutable{exchange: c.exchange, key: c.routingKey, code: r.ReplyCode, text: r.ReplyText}
		}
		// A return of another message on a channel that makes one publish
		// at a time cannot happen; refuse to call this one delivered.
		return hookgate.Retryable(a, 0), fmt.Errorf("the broker returned another message (%s) than this one", r.MessageId)
	default:
	}
	p.release(ch)
	a.ResponseBody = "basic.ack"
	return hookgate.Succeeded(a), nil
}

// errNack is a message the broker refused to take (basic.nack): an
// internal error of its queue, which a retry may not meet.
var errNack = errors.New("the broker refused the message (basic.nack): retried")

// unroutable is a message the broker returned: no queue is bound to the
// exchange for the routing key.
type unroutable struct {
	exchange, key string
	code          uint16
	text          string
}

func (u unroutable) Error() string {
	ex := strconv.Quote(u.exchange)
	if u.exchange == "" {
		ex = "the default exchange"
	}
	return fmt.Sprintf("the broker returned the message as unroutable (%d %s): no queue is bound to %s for routing key %q; retried, as a queue may be bound later", u.code, u.text, ex, u.key)
}

// Reasons of the kind's permanent failures.
const (
	ReasonMisconfigured = "its amqp configuration is not valid"
	ReasonUnsendable    = "its message cannot be made"
	ReasonAccessRefused = "the broker refuses its user the publish (ACCESS_REFUSED)"
	ReasonVhostRefused  = "the broker refuses its user the virtual host (NOT_ALLOWED)"
)

// classify turns a failed publish into an outcome. The broker refusing
// the user the exchange (ACCESS_REFUSED on the channel) or the virtual
// host is the broker saying this configuration cannot work, whatever the
// wait: permanent, until an operator grants the permission or changes the
// webhook. Anything else is retryable: no connection, a timeout, a restart
// (CONNECTION_FORCED), credentials refused at login (fixed by a PATCH
// before the next attempt), an exchange that does not exist (NOT_FOUND: it
// may be declared later).
func classify(a hookgate.Attempt, err error) hookgate.Outcome {
	switch code(err) {
	case amqp091.AccessRefused:
		if !isLoginRefused(err) {
			return hookgate.Permanent(a, ReasonAccessRefused)
		}
	case amqp091.NotAllowed:
		if strings.Contains(reason(err), "access to vhost") {
			return hookgate.Permanent(a, ReasonVhostRefused)
		}
	}
	return hookgate.Retryable(a, 0)
}

// code is the AMQP reply code of err, 0 when it has none.
func code(err error) int {
	var e *amqp091.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return 0
}

func reason(err error) string {
	var e *amqp091.Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return ""
}

// isLoginRefused tells the broker refusing the credentials (at the
// connection's start) from refusing an authenticated user a resource.
func isLoginRefused(err error) bool {
	return errors.Is(err, amqp091.ErrCredentials) || strings.Contains(reason(err), "Login was refused")
}

// finish completes o's attempt (hookgate.Outcome.Finish), a failure
// described in this kind's words.
func finish(o hookgate.Outcome, start, end time.Time, err error) hookgate.Outcome {
	return o.Finish(start, end, err, describe)
}

// describe says what went wrong in words a tenant may read.
func describe(err error) string {
	var ne net.Error
	var ae *amqp091.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout() ||
		errors.As(err, &ae) && !ae.Server && strings.HasSuffix(ae.Reason, "i/o timeout"):
		return "the AMQP broker did not answer in time"
	case code(err) == amqp091.NotFound:
		return "the AMQP broker answered: " + reason(err) + " (the exchange may be declared later: retried)"
	case errors.As(err, &ae) && ae.Server:
		return "the AMQP broker answered: " + ae.Reason
	case errors.As(err, &ae):
		return "the connection to the AMQP broker closed: " + ae.Reason
	case errors.As(err, new(*net.OpError)):
		return "could not reach the AMQP broker: " + err.Error()
	}
	return err.Error()
}

// publishing is m's message: the body an HTTP receiver gets, its content
// type, the event type as the type property, the delivery's ID as the
// message ID, persistent, dated now, with the Standard Webhooks headers
// signed at now as delivery.Sender signs a request, the trace context
// when m has one, and the headers of the webhook's transformHeaders. The
// body and its content type are delivery.Render's.
func publishing(ctx context.Context, w *hookgate.Webhook, m hookgate.DeliveryMessage, now time.Time) (amqp091.Publishing, delivery.Body, error) {
	body, err := delivery.Render(ctx, w, m)
	if err != nil {
		return amqp091.Publishing{}, body, err
	}
	signer, err := delivery.Signer(w, now)
	if err != nil {
		return amqp091.Publishing{}, body, err
	}
	ts := now.Unix()
	h := make(amqp091.Table, 5+len(body.Header))
	for k, v := range body.Header {
		h[k] = v
	}
	h[signing.HeaderID] = m.ID
	h[signing.HeaderTimestamp] = strconv.FormatInt(ts, 10)
	h[signing.HeaderSignature] = signer.Sign(m.ID, ts, body.Bytes)
	if kids := signer.KeyIDs(); kids != "" {
		h[signing.HeaderKeyID] = kids
	}
	if tp := m.Trace.Traceparent(); tp != "" {
		h["traceparent"] = tp
		if m.Trace.State != "" {
			h["tracestate"] = m.Trace.State
		}
	}
	return amqp091.Publishing{
		Headers:      h,
		ContentType:  body.ContentType,
		DeliveryMode: amqp091.Persistent,
		MessageId:    m.ID,
		Timestamp:    now,
		Type:         m.EventType,
		Body:         body.Bytes,
	}, body, nil
}

// recorded are msg's headers and its content type, as the attempt's
// request headers.
func recorded(msg amqp091.Publishing) map[string]string {
	h := make(map[string]string, len(msg.Headers)+1)
	for k, v := range msg.Headers {
		h[k] = v.(string)
	}
	h["content-type"] = msg.ContentType
	return h
}
