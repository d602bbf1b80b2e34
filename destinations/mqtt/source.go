package mqtt

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/hookgate/hookgate"
)

// SourceKind describes the mqtt source kind to the registry.
var SourceKind = hookgate.DestinationKind{
	Name:   Name,
	Fields: []string{"url", "topic", "qos", "shareGroup", "auth"},
	Secret: []string{"auth.password"},
}

// Defaults of a Source.
const (
	// DefaultSessionExpiry is how long the broker keeps a source's
	// session, and the messages that come for it, while no node is
	// connected.
	DefaultSessionExpiry = 24 * time.Hour
	// DefaultRetryDelay is the first wait before connecting again after a
	// connection is lost or a handler failed; it doubles up to
	// DefaultMaxRetryDelay while connections fail.
	DefaultRetryDelay    = 100 * time.Millisecond
	DefaultMaxRetryDelay = 5 * time.Second
)

// ReceiveMaximum is how many unacknowledged QoS 1 and 2 messages a
// consumer lets the broker send ahead of the one being handled.
const ReceiveMaximum = 64

// RegisterSource registers the mqtt source driver in r, dialing with dial
// (nil for a plain dialer).
func RegisterSource(r *hookgate.Sources, dial hookgate.DialFunc) error {
	return r.Register(SourceKind, &Source{Dial: dial})
}

// Source consumes MQTT topics: a persistent session (clean start false)
// with a client ID of the source's, subscribed to the source's topic
// filter, whose messages are acknowledged only once the handler returned
// nil. Its zero value works.
type Source struct {
	// Dial opens connections; nil for a plain net.Dialer.
	Dial hookgate.DialFunc
	// Node names this node in the client ID of a source with a share
	// group, whose nodes each keep a session; default the host's name.
	Node string
	// SessionExpiry defaults to DefaultSessionExpiry.
	SessionExpiry time.Duration
	// RetryDelay and MaxRetryDelay default to DefaultRetryDelay and
	// DefaultMaxRetryDelay.
	RetryDelay, MaxRetryDelay time.Duration
	// ConnectTimeout bounds one CONNECT and SUBSCRIBE; default
	// ProbeTimeout.
	ConnectTimeout time.Duration
}

// Check checks s's configuration.
func (d *Source) Check(s *hookgate.Source) error {
	_, err := parse(s.Config, forSource)
	return err
}

// Probe connects to s's broker with s's credentials and subscribes to its
// topic filter on a session of its own, without retained messages, then
// disconnects: a filter the broker refuses is refused naming config.topic.
// No message is taken from the source's own session.
func (d *Source) Probe(ctx context.Context, s *hookgate.Source) error {
	c, err := parse(s.Config, forSource)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	client, _, err := probeConnect(ctx, d.Dial, c, s.Config.URL, forSource)
	if err != nil {
		return err
	}
	defer func() { _ = client.Disconnect(&paho.Disconnect{}) }()
	if err := subscribe(ctx, client, c.topic, c.qos, 2); err != nil {
		var se *SubscribeError
		if errors.As(err, &se) {
			return hookgate.InvalidParam("config.topic", c.topic, "the broker refused a subscription to config.topic: %s", se)
		}
		return hookgate.InvalidParam("config.url", hookgate.RedactURL(s.Config.URL), "the broker at config.url did not answer a SUBSCRIBE: %s", describe(err))
	}
	return nil
}

// SubscribeError is a subscription the broker refused, with the SUBACK's
// reason code: no reconnection mends it.
type SubscribeError struct {
	Code   byte
	Filter string
}

// Error says what the broker answered.
func (e *SubscribeError) Error() string {
	var why string
	switch e.Code {
	case 0x87:
		why = "not authorized"
	case 0x8F:
		why = "topic filter invalid"
	case 0x9E:
		why = "shared subscriptions not supported"
	case 0xA2:
		why = "wildcard subscriptions not supported"
	default:
		why = "refused"
	}
	return fmt.Sprintf("the broker refused the subscription to %q (SUBACK reason 0x%02X %s)", e.Filter, e.Code, why)
}

// subscribe subscribes client to filter at qos; retain handling 1 sends
// the retained messages only when the subscription is new, 2 never.
func subscribe(ctx context.Context, client *paho.Client, filter string, qos, retain byte) error {
	ack, err := client.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: filter, QoS: qos, RetainHandling: retain}}})
	if ack != nil && len(ack.Reasons) > 0 && ack.Reasons[0] >= 0x80 {
		return &SubscribeError{Code: ack.Reasons[0], Filter: filter}
	}
	return err
}

// Consume takes s's messages until ctx ends. Each message is handed to
// handle in the order received; it is acknowledged (PUBACK, or PUBREC at
// QoS 2) only once handle returned nil, or ErrMessageRejected (MQTT has no
// negative acknowledgement: acknowledged, it is dropped). On any other
// error the connection is closed before the acknowledgement, and opened
// again after a short delay: the broker redelivers every unacknowledged
// message of the persistent session then, the failed one first (MQTT
// redelivers only on a reconnection). QoS 0 messages are never
// redelivered.
func (d *Source) Consume(ctx context.Context, s *hookgate.Source, handle hookgate.SourceHandler, r hookgate.SourceReporter) error {
	c, err := parse(s.Config, forSource)
	if err != nil {
		return err
	}
	clientID := d.clientID(s, c)
	delay := d.retryDelay()
	for {
		progressed, err := d.session(ctx, c, clientID, handle, r)
		if ctx.Err() != nil {
			return nil
		}
		var ce *ConnectError
		var se *SubscribeError
		if errors.As(err, &se) || errors.As(err, &ce) && (ce.V311 || ce.Credentials()) {
			r.Connected(err)
			return err // the broker refuses this configuration: no reconnection mends it
		}
		var hf *handlerFailed
		if !errors.As(err, &hf) {
			r.Connected(err)
		}
		if progressed {
			delay = d.retryDelay()
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		delay = min(2*delay, d.maxRetryDelay())
	}
}

// clientID is s's client ID: the source's ID, and a hash of what the
// session subscribes to, so that a source whose broker, user, filter, QoS
// or group changes starts a new session instead of keeping the old one's
// subscription; with a share group, this node's name too, since each node
// of the group keeps a session.
func (d *Source) clientID(s *hookgate.Source, c config) string {
	id := "hookgate-" + s.ID + "-" + shortHash(c.key.url+"\x00"+c.username+"\x00"+c.topic+"\x00"+strconv.Itoa(int(c.qos))+"\x00"+c.shareGroup)
	if c.shareGroup != "" {
		node := d.Node
		if node == "" {
			node, _ = os.Hostname()
		}
		id += "-" + shortHash(node)
	}
	return id
}

// handlerFailed ends a connection whose handler failed: the message is to
// be redelivered, the broker is not at fault.
type handlerFailed struct{ err error }

func (e *handlerFailed) Error() string { return "the handler failed: " + e.err.Error() }
func (e *handlerFailed) Unwrap() error { return e.err }

// session makes one connection and takes messages on it until it is lost,
// a handler fails or ctx ends. progressed says whether it went well for a
// while: it subscribed and either ended by the connection's loss or
// handled a message before a handler failed; else the delay before the
// next connection grows, so that a handler failing again and again (its
// database down) is not retried ten times a second.
func (d *Source) session(ctx context.Context, c config, clientID string, handle hookgate.SourceHandler, r hookgate.SourceReporter) (bool, error) {
	ended := make(chan error, 1)
	end := func(err error) {
		select {
		case ended <- err:
		default:
		}
	}
	// conn is the connection, closed by a failing handler before paho
	// acknowledges the message it was handed.
	var (
		mu      sync.Mutex
		conn    net.Conn
		failed  bool
		handled bool
	)
	dial := d.Dial
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	keep := func(ctx context.Context, network, addr string) (net.Conn, error) {
		cn, err := dial(ctx, network, addr)
		mu.Lock()
		conn = cn
		mu.Unlock()
		return cn, err
	}
	onPublish := func(pr paho.PublishReceived) (bool, error) {
		mu.Lock()
		skip := failed
		mu.Unlock()
		if skip { // after a failure: not acknowledged either, as the connection is closed
			return true, nil
		}
		err := handle(ctx, message(pr.Packet))
		if err == nil || errors.Is(err, hookgate.ErrMessageRejected) {
			mu.Lock()
			handled = true
			mu.Unlock()
			return true, nil // paho acknowledges it when this returns
		}
		end(&handlerFailed{err: err}) // before the close, whose own error would come first
		mu.Lock()
		failed = true
		_ = conn.Close()
		mu.Unlock()
		return true, nil
	}
	cctx, cancel := context.WithTimeout(ctx, d.connectTimeout())
	defer cancel()
	client, _, err := connect(cctx, keep, c, session{
		clientID:   clientID,
		persistent: true,
		expiry:     d.sessionExpiry(),
		onPublish:  onPublish,
		onLost:     end,
		timeout:    d.connectTimeout(),
		receiveMax: ReceiveMaximum,
	})
	if err != nil {
		return false, err
	}
	defer func() {
		select {
		case <-client.Done():
		default:
			_ = client.Disconnect(&paho.Disconnect{})
		}
	}()
	filter := c.topic
	if c.shareGroup != "" {
		filter = "$share/" + c.shareGroup + "/" + c.topic
	}
	if err := subscribe(cctx, client, filter, c.qos, 1); err != nil {
		return false, err
	}
	r.Connected(nil)
	r.Lag(-1)
	select {
	case <-ctx.Done():
		return true, nil
	case err := <-ended:
		if err == nil {
			err = errors.New("the connection to the broker ended")
		}
		var hf *handlerFailed
		mu.Lock()
		defer mu.Unlock()
		return handled || !errors.As(err, &hf), err
	}
}

// message is p as a source message: its ID is its webhook-id user
// property, or its message-id one, else none (MQTT gives a message no
// identity of its own); its headers are its user properties and its
// content type.
func message(p *paho.Publish) hookgate.SourceMessage {
	m := hookgate.SourceMessage{Body: p.Payload, Headers: map[string]string{}}
	if p.Properties != nil {
		for _, u := range p.Properties.User {
			m.Headers[u.Key] = u.Value
		}
		if p.Properties.ContentType != "" {
			m.Headers["content-type"] = p.Properties.ContentType
		}
	}
	m.ID = m.Headers["webhook-id"]
	if m.ID == "" {
		m.ID = m.Headers["message-id"]
	}
	return m
}

func (d *Source) sessionExpiry() time.Duration {
	if d.SessionExpiry > 0 {
		return d.SessionExpiry
	}
	return DefaultSessionExpiry
}

func (d *Source) retryDelay() time.Duration {
	if d.RetryDelay > 0 {
		return d.RetryDelay
	}
	return DefaultRetryDelay
}

func (d *Source) maxRetryDelay() time.Duration {
	if d.MaxRetryDelay > 0 {
		return d.MaxRetryDelay
	}
	return DefaultMaxRetryDelay
}

func (d *Source) connectTimeout() time.Duration {
	if d.ConnectTimeout > 0 {
		return d.ConnectTimeout
	}
	return ProbeTimeout
}
