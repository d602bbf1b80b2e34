package natsdest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate"
)

// IdleTimeout is how long a pooled connection no delivery used stays
// open: a broker no webhook names any more (or a password changed) is let
// go, rather than reconnected to for ever.
const IdleTimeout = 10 * time.Minute

// pool holds one connection per broker and credentials, made on first use
// and shared by the webhooks that name them.
type pool struct {
	dial    hookgate.DialFunc
	timeout time.Duration
	now     func() time.Time

	mu     sync.Mutex
	conns  map[conn]*pooled
	swept  time.Time
	closed bool
}

// pooled is one connection, or the connecting to it: ready is closed once
// nc (or err) is set.
type pooled struct {
	ready  chan struct{}
	nc     *nats.Conn
	js     jetstream.JetStream
	err    error
	denied denials
	// used is when a delivery last took the connection; under pool.mu.
	used time.Time
}

// get returns the connection to c, connecting on first use. A connection
// being made is shared: get waits for it within ctx, while the connecting
// goes on for the next delivery. A connection that failed, or that nats.go
// gave up (closed), is made again.
func (p *pool) get(ctx context.Context, c conn) (*pooled, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errClosed
	}
	now := p.now()
	p.sweep(now)
	pc, ok := p.conns[c]
	if ok && pc.isReady() && (pc.err != nil || pc.nc.IsClosed()) {
		ok = false
	}
	if !ok {
		pc = &pooled{ready: make(chan struct{})}
		if p.conns == nil {
			p.conns = map[conn]*pooled{}
		}
		p.conns[c] = pc
		go p.connect(c, pc)
	}
	pc.used = now
	p.mu.Unlock()
	select {
	case <-pc.ready:
		if pc.err != nil {
			return nil, pc.err
		}
		return pc, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("the connection to the NATS server is not made yet: %w", ctx.Err())
	}
}

var errClosed = errors.New("the nats destination is closed (the node is draining)")

// connect makes pc's connection. One that failed is dropped from the pool,
// so that the next delivery tries again; one made after the pool closed is
// closed.
func (p *pool) connect(c conn, pc *pooled) {
	nc, err := nats.Connect(c.url, options(c, p.dial, p.timeout, &pc.denied)...)
	var js jetstream.JetStream
	if err == nil {
		js, err = jetstream.New(nc)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err == nil && p.closed {
		nc.Close()
		err = errClosed
	}
	pc.nc, pc.js, pc.err = nc, js, err
	if err != nil && p.conns[c] == pc {
		delete(p.conns, c)
	}
	close(pc.ready)
}

func (pc *pooled) isReady() bool {
	select {
	case <-pc.ready:
		return true
	default:
		return false
	}
}

// sweep closes the connections no delivery took for IdleTimeout, at most
// once a minute. Under p.mu.
func (p *pool) sweep(now time.Time) {
	if now.Sub(p.swept) < time.Minute {
		return
	}
	p.swept = now
	for c, pc := range p.conns {
		if pc.isReady() && now.Sub(pc.used) > max(IdleTimeout, 2*p.timeout) {
			if pc.nc != nil {
				pc.nc.Close()
			}
			delete(p.conns, c)
		}
	}
}

// close closes every connection; connections still being made are closed
// when they are.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for c, pc := range p.conns {
		if pc.isReady() && pc.nc != nil {
			pc.nc.Close()
		}
		delete(p.conns, c)
	}
}

// publish publishes m with JetStream and waits for its ack within ctx, or
// for the server's refusal to let the user publish to its subject. One
// publish is one attempt: nats.go retries nothing.
func (pc *pooled) publish(ctx context.Context, m *nats.Msg) (*jetstream.PubAck, error) {
	ctx, stop := pc.denied.wait(ctx, m.Subject)
	defer stop()
	ack, err := pc.js.PublishMsg(ctx, m, jetstream.WithRetryAttempts(0))
	if err != nil {
		if denial := refused(ctx); denial != nil {
			return nil, denial
		}
	}
	return ack, err
}
