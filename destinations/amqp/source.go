package amqp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/hookgate/hookgate"
)

// SourceKind describes the amqp source kind to the registry.
var SourceKind = hookgate.DestinationKind{
	Name:   Name,
	Fields: []string{"url", "queue", "prefetch", "auth"},
	Secret: []string{"auth.password"},
}

// Limits and defaults of a source's configuration.
const (
	// DefaultPrefetch is how many unacknowledged messages the broker sends
	// ahead when config.prefetch is absent.
	DefaultPrefetch = 100
	// MaxPrefetch bounds config.prefetch (basic.qos takes 16 bits).
	MaxPrefetch = 65535
)

// Defaults of a Driver's zero value.
const (
	DefaultLagInterval  = 5 * time.Second
	DefaultRetryDelay   = time.Second
	DefaultReconnectMin = 500 * time.Millisecond
	DefaultReconnectMax = 30 * time.Second
	DefaultDialTimeout  = 10 * time.Second
)

// RegisterSource registers the amqp source driver in r; it dials with
// dial (nil for a plain dialer).
func RegisterSource(r *hookgate.Sources, dial hookgate.DialFunc) error {
	return r.Register(SourceKind, &Driver{Dial: dial})
}

// Driver consumes AMQP queues: hookgate.SourceDriver. Its zero value
// works.
type Driver struct {
	// Dial opens connections; nil for a plain net.Dialer.
	Dial hookgate.DialFunc
	// LagInterval is how often the queue's ready messages are counted for
	// the reporter; default DefaultLagInterval.
	LagInterval time.Duration
	// RetryDelay is how long a message whose handler failed is held before
	// it is given back to the queue, so that a failing store does not make
	// it spin; default DefaultRetryDelay.
	RetryDelay time.Duration
	// ReconnectMin and ReconnectMax bound the wait between two attempts to
	// reconnect, doubling from the one to the other; defaults
	// DefaultReconnectMin and DefaultReconnectMax.
	ReconnectMin, ReconnectMax time.Duration
}

// sourceConfig is a source's configuration, checked.
type sourceConfig struct {
	broker   brokerConfig
	queue    string
	prefetch int
}

// parseSource checks s's configuration, naming the field at fault
// (config.<field>).
func parseSource(s *hookgate.Source) (sourceConfig, error) {
	b, err := parseBroker("config", s.Config)
	if err != nil {
		return sourceConfig{}, err
	}
	out := sourceConfig{broker: b, prefetch: DefaultPrefetch}
	for name, raw := range s.Config.Fields {
		switch name {
		case "queue":
			if err := unmarshalString(raw, &out.queue); err != nil {
				return sourceConfig{}, hookgate.InvalidParam("config.queue", string(raw), "config.queue must be a string")
			}
		case "prefetch":
			if err := json.Unmarshal(raw, &out.prefetch); err != nil || out.prefetch < 1 || out.prefetch > MaxPrefetch {
				return sourceConfig{}, hookgate.InvalidParam("config.prefetch", string(raw), "config.prefetch must be an integer from 1 to %d", MaxPrefetch)
			}
		default:
			return sourceConfig{}, hookgate.InvalidParam("config."+name, name, "an amqp source has no field %s (it takes url, queue, prefetch and auth)", name)
		}
	}
	if out.queue == "" {
		return sourceConfig{}, hookgate.MissingParam("config.queue")
	}
	if err := checkName("config.queue", out.queue, false); err != nil {
		return sourceConfig{}, err
	}
	return out, nil
}

// Check checks s's configuration.
func (d *Driver) Check(s *hookgate.Source) error {
	_, err := parseSource(s)
	return err
}

// Probe connects to s's broker as its user and checks that its queue
// exists (a passive declare), within ProbeTimeout, taking no message.
func (d *Driver) Probe(ctx context.Context, s *hookgate.Source) error {
	c, err := parseSource(s)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	conn, err := dial(ctx, d.Dial, c.broker, "hookgate-probe")
	if err != nil {
		return probeError("config", c.broker, err)
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return probeError("config", c.broker, err)
	}
	defer ch.Close()
	if _, err := ch.QueueDeclarePassive(c.queue, false, false, false, false, nil); err != nil {
		switch code(err) {
		case amqp091.NotFound:
			return hookgate.InvalidParam("config.queue", c.queue, "the broker has no queue %q in its virtual host %q: declare it first", c.queue, c.broker.uri.Vhost)
		case amqp091.AccessRefused:
			return hookgate.InvalidParam("config.queue", c.queue, "the broker refuses the user the queue %q: %s", c.queue, describe(err))
		}
		return probeError("config", c.broker, err)
	}
	return nil
}

// Consume takes s's messages until ctx ends: each is handed to handle and
// acknowledged once handle returns nil; rejected (without a requeue: to
// the queue's dead-letter exchange, if it has one) when handle says
// hookgate.ErrMessageRejected; given back to the queue after RetryDelay on
// any other error. A lost connection is dialed again, after a wait that
// doubles from ReconnectMin to ReconnectMax (reset once connected); what
// was not acknowledged is the broker's to deliver again. It returns the
// error of a broker that refuses the configuration: no such queue, access
// refused.
func (d *Driver) Consume(ctx context.Context, s *hookgate.Source, handle hookgate.SourceHandler, r hookgate.SourceReporter) error {
	c, err := parseSource(s)
	if err != nil {
		return err
	}
	wait := d.reconnectMin()
	for {
		connected, err := d.session(ctx, c, handle, r)
		if ctx.Err() != nil {
			return nil
		}
		if err == nil {
			err = errors.New("the consumer stopped")
		}
		r.Connected(err)
		if refused(err) {
			return fmt.Errorf("amqp source %s: %s", hookgate.RedactURL(c.broker.url), describe(err))
		}
		if connected {
			wait = d.reconnectMin()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, d.reconnectMax())
	}
}

// refused tells the errors of a broker refusing the configuration, which
// no reconnection mends: the queue does not exist, the user may not read
// it or enter the virtual host (or it does not exist), the credentials
// are wrong. A connection limit reached is waited out.
func refused(err error) bool {
	switch code(err) {
	case amqp091.NotFound, amqp091.AccessRefused:
		return true
	case amqp091.NotAllowed:
		return !strings.Contains(reason(err), "limit")
	}
	return false
}

// session consumes over one connection until it closes or ctx ends;
// connected says whether it got as far as consuming.
func (d *Driver) session(ctx context.Context, c sourceConfig, handle hookgate.SourceHandler, r hookgate.SourceReporter) (connected bool, err error) {
	dctx, cancel := context.WithTimeout(ctx, DefaultDialTimeout)
	conn, err := dial(dctx, d.Dial, c.broker, "hookgate-source")
	cancel()
	if err != nil {
		return false, err
	}
	defer conn.Close()
	closes := conn.NotifyClose(make(chan *amqp091.Error, 1))
	ch, err := conn.Channel()
	if err != nil {
		return false, err
	}
	chCloses := ch.NotifyClose(make(chan *amqp091.Error, 1))
	if err := ch.Qos(c.prefetch, 0, false); err != nil {
		return false, err
	}
	// The lag is counted on a channel of its own: a passive declare of a
	// queue that went away closes the channel it is made on.
	lagCh, err := conn.Channel()
	if err != nil {
		return false, err
	}
	lag := func() error {
		q, err := lagCh.QueueDeclarePassive(c.queue, false, false, false, false, nil)
		if err == nil {
			r.Lag(int64(q.Messages))
		}
		return err
	}
	if err := lag(); err != nil {
		return false, err
	}
	deliveries, err := ch.ConsumeWithContext(ctx, c.queue, "", false, false, false, false, nil)
	if err != nil {
		return false, err
	}
	r.Connected(nil)
	tick := time.NewTicker(d.lagInterval())
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return true, nil
		case <-tick.C:
			if err := lag(); err != nil {
				return true, err
			}
		case m, ok := <-deliveries:
			if !ok {
				return true, closeCause(closes, chCloses)
			}
			if err := d.handle(ctx, m, handle); err != nil {
				return true, err
			}
		}
	}
}

// closeCause says why the deliveries stopped: the connection or the
// channel closed, or the broker cancelled the consumer (the queue was
// deleted).
func closeCause(closes ...<-chan *amqp091.Error) error {
	for _, c := range closes {
		select {
		case e := <-c:
			if e != nil {
				return e
			}
		default:
		}
	}
	return errors.New("the broker cancelled the consumer (the queue was deleted?)")
}

// handle hands m to h and settles it as h says. An error is the broker's
// (the connection closed meanwhile): m is unsettled, and the broker
// delivers it again.
func (d *Driver) handle(ctx context.Context, m amqp091.Delivery, h hookgate.SourceHandler) error {
	err := h(ctx, sourceMessage(m))
	switch {
	case err == nil:
		return m.Ack(false)
	case errors.Is(err, hookgate.ErrMessageRejected):
		return m.Nack(false, false)
	}
	select {
	case <-ctx.Done():
		return nil // closing the connection gives it back
	case <-time.After(d.retryDelay()):
	}
	return m.Nack(false, true)
}

// sourceMessage is m as a source message: its message ID property as the
// ID, its headers stringified with its content type, type and message ID.
func sourceMessage(m amqp091.Delivery) hookgate.SourceMessage {
	h := make(map[string]string, len(m.Headers)+3)
	for k, v := range m.Headers {
		h[k] = stringify(v)
	}
	for k, v := range map[string]string{"content-type": m.ContentType, "type": m.Type, "message-id": m.MessageId} {
		if v != "" {
			h[k] = v
		}
	}
	return hookgate.SourceMessage{ID: m.MessageId, Headers: h, Body: m.Body}
}

// stringify renders a header's value: strings and bytes as they are,
// numbers and booleans as Go prints them, a time in RFC 3339, tables and
// arrays as JSON.
func stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339)
	case int8, int16, int32, int64, uint8, uint16, uint32, float32, float64, int:
		return fmt.Sprint(x)
	case amqp091.Decimal:
		return fmt.Sprintf("%de-%d", x.Value, x.Scale)
	}
	if b, err := json.Marshal(v); err == nil {
		return string(b)
	}
	return fmt.Sprint(v)
}

func (d *Driver) lagInterval() time.Duration {
	if d.LagInterval > 0 {
		return d.LagInterval
	}
	return DefaultLagInterval
}

func (d *Driver) retryDelay() time.Duration {
	if d.RetryDelay > 0 {
		return d.RetryDelay
	}
	return DefaultRetryDelay
}

func (d *Driver) reconnectMin() time.Duration {
	if d.ReconnectMin > 0 {
		return d.ReconnectMin
	}
	return DefaultReconnectMin
}

func (d *Driver) reconnectMax() time.Duration {
	if d.ReconnectMax > 0 {
		return d.ReconnectMax
	}
	return DefaultReconnectMax
}
