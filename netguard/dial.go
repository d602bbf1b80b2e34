package netguard

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Control is a net.Dialer Control function: it runs after the name is
// resolved and before the connection is made, so the policy judges the
// address actually dialed, whatever name, redirect or DNS answer led there.
func (p *Policy) Control(network, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("netguard: %q: %w", address, err)
	}
	if err := p.CheckAddr(ap.Addr()); err != nil {
		return &BlockedError{Addr: address, Err: err}
	}
	return nil
}

// BlockedError is a connection the policy refused. Its text names the
// address, for the operator's logs; Describe tells tenants only that it was
// blocked, so that errors are no oracle for what internal names resolve to.
type BlockedError struct {
	Addr string
	Err  error
}

func (e *BlockedError) Error() string {
	return "netguard: connection to " + e.Addr + " refused by the network policy: " + e.Err.Error()
}

func (e *BlockedError) Unwrap() error { return e.Err }

// MaxResponseHeaderBytes bounds the headers of an answer the transport
// reads; a larger answer is an error, not a memory cost.
const MaxResponseHeaderBytes = 64 << 10

// Dialer returns a dialer that refuses denied addresses.
func (p *Policy) Dialer(timeout time.Duration) *net.Dialer {
	return &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: p.Control}
}

// Transport returns an HTTP transport for outbound requests under the policy:
// it dials through Dialer and never takes a proxy from the environment (a
// proxy would make the dialed address the proxy's, not the receiver's).
func (p *Policy) Transport(dialTimeout time.Duration) *http.Transport {
	d := p.Dialer(dialTimeout)
	return &http.Transport{
		Proxy: nil,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		ForceAttemptHTTP2: true,
		MaxIdleConns:      1024,
		// As many as the dispatcher sends at once (256 by default): many
		// webhooks often share one host, and connections past the idle
		// cap are closed after each request and dialed again.
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// A receiver's headers are read up to this and no further: what is
		// kept of them is smaller still (delivery.MaxResponseHeaders).
		MaxResponseHeaderBytes: MaxResponseHeaderBytes,
	}
}

// Client returns an HTTP client under the policy that does not follow
// redirects: a receiver answers for itself and may not send Hookgate on.
func (p *Policy) Client(timeout time.Duration) *http.Client {
	return &http.Client{
		Transport: p.Transport(10 * time.Second),
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
