package natsdest

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/hookgate/hookgate"
)

// Reconnection: a connection tries again for ever, a little after it was
// lost, so that a broker that restarts is found again within a second or
// two; a publish made while it is away fails at once (no buffering), as
// one attempt must.
const (
	reconnectWait      = 500 * time.Millisecond
	reconnectJitter    = 250 * time.Millisecond
	reconnectJitterTLS = time.Second
)

// dialer adapts a hookgate.DialFunc to nats.go's dialer, each dial bounded by
// timeout; nats.go makes the TLS handshake itself.
type dialer struct {
	dial    hookgate.DialFunc
	timeout time.Duration
}

// Dial opens one connection.
func (d dialer) Dial(network, addr string) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), d.timeout)
	defer cancel()
	if d.dial == nil {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	return d.dial(ctx, network, addr)
}

// options are the options of a connection to c: its credentials, its
// dialer, reconnection for ever without buffering, and the errors the
// server sends about it given to denied.
func options(c conn, dial hookgate.DialFunc, timeout time.Duration, denied *denials) []nats.Option {
	opts := []nats.Option{
		nats.Name("hookgate"),
		nats.Timeout(timeout),
		nats.SetCustomDialer(dialer{dial: dial, timeout: timeout}),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(reconnectWait),
		nats.ReconnectJitter(reconnectJitter, reconnectJitterTLS),
		nats.ReconnectBufSize(-1),
		nats.NoCallbacksAfterClientClose(),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			if sub == nil && denied != nil {
				denied.tell(err)
			}
		}),
	}
	if strings.HasPrefix(c.url, "tls://") {
		// The system's roots, or the CA bundle; the client certificate.
		// Checked when the configuration was (parseConn).
		dc := hookgate.DestinationConfig{TLS: c.tls}
		if cfg, err := dc.TLSConfig(c.host); err == nil {
			opts = append(opts, nats.Secure(cfg))
		}
	}
	switch {
	case c.token != "":
		opts = append(opts, nats.Token(c.token))
	case c.username != "":
		opts = append(opts, nats.UserInfo(c.username, c.password))
	}
	return opts
}

// publishDenied finds the subject of a publish the server refused in its
// permissions violation.
var publishDenied = regexp.MustCompile(`(?i)publish to "([^"]+)"`)

// denials tells the requests waiting on a subject that the server refused
// to let the connection's user publish to it. The server says so in an
// error of its own, not in an answer to the request, which would otherwise
// wait until its deadline.
type denials struct {
	mu      sync.Mutex
	next    uint64
	waiting map[string]map[uint64]context.CancelCauseFunc
}

// wait returns a context derived from ctx that ends, with the server's
// error as its cause, when a publish to subject is refused, and the
// function that stops the wait.
func (d *denials) wait(ctx context.Context, subject string) (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(ctx)
	d.mu.Lock()
	if d.waiting == nil {
		d.waiting = map[string]map[uint64]context.CancelCauseFunc{}
	}
	if d.waiting[subject] == nil {
		d.waiting[subject] = map[uint64]context.CancelCauseFunc{}
	}
	d.next++
	id := d.next
	d.waiting[subject][id] = cancel
	d.mu.Unlock()
	return ctx, func() {
		d.mu.Lock()
		delete(d.waiting[subject], id)
		if len(d.waiting[subject]) == 0 {
			delete(d.waiting, subject)
		}
		d.mu.Unlock()
		cancel(nil)
	}
}

// tell ends the waits on the subject err says was refused.
func (d *denials) tell(err error) {
	if !errors.Is(err, nats.ErrPermissionViolation) {
		return
	}
	m := publishDenied.FindStringSubmatch(err.Error())
	if m == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, cancel := range d.waiting[m[1]] {
		cancel(err)
	}
}

// refused returns the server's refusal that ended ctx, if one did.
func refused(ctx context.Context) error {
	if cause := context.Cause(ctx); errors.Is(cause, nats.ErrPermissionViolation) {
		return cause
	}
	return nil
}
