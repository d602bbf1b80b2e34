package amqp

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"

	amqp091 "github.com/rabbitmq/amqp091-go"

	"github.com/hookgate/hookgate"
)

// MaxIdleChannels is how many channels in confirm mode a pooled
// connection keeps open between sends; more are opened while more sends
// run at once, and closed after.
const MaxIdleChannels = 16

// dial opens a connection to b's broker within ctx: through dial (a plain
// net.Dialer when nil), TLS for amqps:// (the system's roots, or the
// configuration's CA bundle, and its client certificate), as
// b's user, named name in the broker's list of connections.
func dial(ctx context.Context, dial hookgate.DialFunc, b brokerConfig, name string) (*amqp091.Connection, error) {
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(ProbeTimeout)
	}
	cfg := amqp091.Config{
		Vhost:      b.uri.Vhost,
		Properties: amqp091.NewConnectionProperties(),
		Dial: func(network, addr string) (net.Conn, error) {
			conn, err := dial(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			// The TLS and AMQP handshakes end by the deadline; the library
			// clears it once the connection is open, heartbeats take over.
			if err := conn.SetDeadline(deadline); err != nil {
				_ = conn.Close()
				return nil, err
			}
			return conn, nil
		},
	}
	cfg.Properties.SetClientConnectionName(name)
	cfg.TLSClientConfig = b.tls // nil for amqp://
	if b.username != "" {
		cfg.SASL = []amqp091.Authentication{&amqp091.PlainAuth{Username: b.username, Password: b.password}}
	}
	// Without credentials, the library's default: guest, guest (which
	// RabbitMQ takes from loopback alone).
	return amqp091.DialConfig(b.url, cfg)
}

// pool is one broker's connection, as one user, shared by the webhooks
// that name them, and its idle channels in confirm mode. The connection is
// dialed at first use; when it closes (the broker restarted, went away),
// the watcher forgets it and its channels, and the next send dials again.
type pool struct {
	broker   brokerConfig
	dial     hookgate.DialFunc
	dialSlot chan struct{} // one dial at a time; waited for within a send's context

	mu     sync.Mutex
	conn   *amqp091.Connection
	idle   []*confirmChannel
	closed bool
}

// confirmChannel is a channel in confirm mode that makes one publish at a
// time, with what the broker sends back on it: returned (unroutable)
// messages, and why it closed.
type confirmChannel struct {
	conn    *amqp091.Connection
	ch      *amqp091.Channel
	returns chan amqp091.Return
	closes  chan *amqp091.Error
}

func newPool(b brokerConfig, d hookgate.DialFunc) *pool {
	return &pool{broker: b, dial: d, dialSlot: make(chan struct{}, 1)}
}

// errClosed is a send after the destination closed.
var errClosed = errors.New("the amqp destination is closed (the node is draining)")

// connection returns the open connection, dialing one within ctx when
// there is none.
func (p *pool) connection(ctx context.Context) (*amqp091.Connection, error) {
	select {
	case p.dialSlot <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-p.dialSlot }()
	p.mu.Lock()
	conn, closed := p.conn, p.closed
	p.mu.Unlock()
	if closed {
		return nil, errClosed
	}
	if conn != nil && !conn.IsClosed() {
		return conn, nil
	}
	conn, err := dial(ctx, p.dial, p.broker, "hookgate")
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		_ = conn.Close()
		return nil, errClosed
	}
	p.conn, p.idle = conn, nil
	p.mu.Unlock()
	go p.watch(conn, conn.NotifyClose(make(chan *amqp091.Error, 1)))
	return conn, nil
}

// watch forgets conn and its channels once it closes, so that the next
// send reconnects: the library does not.
func (p *pool) watch(conn *amqp091.Connection, closes <-chan *amqp091.Error) {
	for range closes { // the library closes it once the connection is closed
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.conn == conn {
		p.conn, p.idle = nil, nil
	}
}

// acquire returns an idle channel (reused true), or opens one in confirm
// mode within ctx.
func (p *pool) acquire(ctx context.Context) (c *confirmChannel, reused bool, err error) {
	p.mu.Lock()
	for len(p.idle) > 0 {
		c := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		if !c.ch.IsClosed() && !c.conn.IsClosed() {
			p.mu.Unlock()
			return c, true, nil
		}
	}
	p.mu.Unlock()
	conn, err := p.connection(ctx)
	if err != nil {
		return nil, false, err
	}
	// Opening a channel and turning confirms on are calls the library
	// makes without a context: waited for within ctx, and closed when
	// they end after it.
	type opened struct {
		c   *confirmChannel
		err error
	}
	done := make(chan opened, 1)
	go func() {
		c, err := openConfirmChannel(conn)
		done <- opened{c, err}
	}()
	select {
	case o := <-done:
		return o.c, false, o.err
	case <-ctx.Done():
		go func() {
			if o := <-done; o.c != nil {
				_ = o.c.ch.Close()
			}
		}()
		return nil, false, ctx.Err()
	}
}

// openConfirmChannel opens a channel on conn in confirm mode.
func openConfirmChannel(conn *amqp091.Connection) (*confirmChannel, error) {
	ch, err := conn.Channel()
	if err != nil {
		return nil, err
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return nil, err
	}
	return &confirmChannel{conn: conn, ch: ch,
		returns: ch.NotifyReturn(make(chan amqp091.Return, 4)),
		closes:  ch.NotifyClose(make(chan *amqp091.Error, 1)),
	}, nil
}

// release gives c back to the pool after a publish that ended cleanly
// (confirmed, negatively or not); a channel of a connection that was
// replaced, or closed, is dropped.
func (p *pool) release(c *confirmChannel) {
	p.mu.Lock()
	if !p.closed && p.conn == c.conn && !c.ch.IsClosed() && len(p.idle) < MaxIdleChannels {
		p.idle = append(p.idle, c)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	_ = c.ch.Close()
}

// discard closes c: its publish did not end cleanly (no confirm in time, a
// closed channel), so what comes on it later belongs to no send.
func (p *pool) discard(c *confirmChannel) { _ = c.ch.Close() }

// close closes the connection; later sends fail.
func (p *pool) close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	p.idle = nil
	if p.conn == nil {
		return nil
	}
	err := p.conn.Close()
	p.conn = nil
	if errors.Is(err, amqp091.ErrClosed) {
		return nil
	}
	return err
}
