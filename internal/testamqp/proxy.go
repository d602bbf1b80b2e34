package testamqp

import (
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"
)

// Proxy forwards loopback TCP connections to the broker. Stopped, it
// listens no more and has cut every connection through it: to a client,
// the broker is down. Started again, it listens on the same port.
type Proxy struct {
	t      testing.TB
	target string
	addr   string

	// tls, when set, makes the proxy a TLS server in front of the broker.
	tls *tls.Config

	mu    sync.Mutex
	l     net.Listener
	conns map[net.Conn]struct{}
	wg    sync.WaitGroup
}

// StartProxy starts a proxy to RabbitMQ on a free loopback port; it stops
// when t ends.
func StartProxy(t testing.TB) *Proxy {
	t.Helper()
	Require(t)
	p := &Proxy{t: t, target: Addr, conns: map[net.Conn]struct{}{}}
	p.listen("127.0.0.1:0")
	p.addr = p.l.Addr().String()
	t.Cleanup(p.Stop)
	return p
}

// StartTLSProxy is StartProxy for a proxy that is a TLS server with
// config (its certificate, and the client certificates it requires), in
// front of the broker's plain port: amqps:// to a real broker.
func StartTLSProxy(t testing.TB, config *tls.Config) *Proxy {
	t.Helper()
	Require(t)
	p := &Proxy{t: t, target: Addr, conns: map[net.Conn]struct{}{}, tls: config}
	p.listen("127.0.0.1:0")
	p.addr = p.l.Addr().String()
	t.Cleanup(p.Stop)
	return p
}

// Addr is the proxy's host:port.
func (p *Proxy) Addr() string { return p.addr }

func (p *Proxy) listen(addr string) {
	p.t.Helper()
	l, err := net.Listen("tcp", addr)
	if err != nil {
		p.t.Fatalf("proxy: %v", err)
	}
	if p.tls != nil {
		l = tls.NewListener(l, p.tls)
	}
	p.mu.Lock()
	p.l = l
	p.mu.Unlock()
	p.wg.Add(1)
	go p.accept(l)
}

func (p *Proxy) accept(l net.Listener) {
	defer p.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		p.mu.Lock()
		if p.l != l { // stopped meanwhile
			p.mu.Unlock()
			_ = c.Close()
			_ = up.Close()
			return
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

// pipe copies from src to dst until either ends, then closes both.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	_, _ = io.Copy(dst, src)
	_ = dst.Close()
	_ = src.Close()
	p.mu.Lock()
	delete(p.conns, src)
	delete(p.conns, dst)
	p.mu.Unlock()
}

// Stop closes the listener and every connection through the proxy, and
// waits for its goroutines; stopping a stopped proxy does nothing.
func (p *Proxy) Stop() {
	p.mu.Lock()
	l := p.l
	p.l = nil
	if l != nil {
		_ = l.Close()
	}
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// Start listens again on the proxy's port.
func (p *Proxy) Start() {
	p.t.Helper()
	p.mu.Lock()
	running := p.l != nil
	p.mu.Unlock()
	if !running {
		p.listen(p.addr)
	}
}
