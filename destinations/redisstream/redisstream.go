// Package redisstream is the redis-stream destination kind: a delivery is
// one entry appended to a Redis stream (XADD … MAXLEN ~ N), whose fields
// are the Standard Webhooks headers, the content type, the trace context
// and the body, signed as an HTTP delivery is. Webhooks that reach the
// same broker as the same user share one pooled client.
package redisstream

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/signing"
)

// Name is the kind's name, the value of a webhook's destination.kind.
const Name = "redis-stream"

// Kind describes the redis-stream kind to the registry.
var Kind = hookgate.DestinationKind{
	Name:   Name,
	Fields: []string{"url", "stream", "maxLen", "auth"},
	Secret: []string{"auth.password"},
}

// ProbeTimeout bounds the PING that checks a broker at registration.
const ProbeTimeout = 3 * time.Second

// Register registers the kind in r: it dials with dial (nil for a plain
// dialer) and gives one send at most timeout.
func Register(r *hookgate.Destinations, dial hookgate.DialFunc, timeout time.Duration) error {
	return r.Register(Kind, &Destination{Dial: dial, SendTimeout: timeout})
}

// Destination appends deliveries to Redis streams. Its zero value works.
type Destination struct {
	// Dial opens connections; nil for a plain net.Dialer.
	Dial hookgate.DialFunc
	// SendTimeout bounds one Send; default delivery.DefaultSendTimeout.
	SendTimeout time.Duration
	// Now defaults to time.Now; it dates the signature.
	Now func() time.Time

	mu      sync.Mutex
	clients map[poolKey]*pooled
	closed  bool
}

// pooled is a client and the password it was made with: a webhook whose
// password changed gets a new client.
type pooled struct {
	client   *redis.Client
	password string
}

// Check checks w's configuration.
func (d *Destination) Check(w *hookgate.Webhook) error {
	_, err := parse(w)
	return err
}

// Probe sends a PING to w's broker, with a client of its own that it
// closes, within ProbeTimeout: nothing is published.
func (d *Destination) Probe(ctx context.Context, w *hookgate.Webhook) error {
	c, err := parse(w)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	client := redis.NewClient(d.options(c, ProbeTimeout, 1))
	defer client.Close()
	if err := client.Ping(ctx).Err(); err != nil {
		return hookgate.InvalidParam("destination.url", hookgate.RedactURL(w.DestinationConfig.URL),
			"the Redis server at destination.url did not answer a PING within %s: %s", ProbeTimeout, describe(err))
	}
	return nil
}

// Timeout is the longest one Send takes.
func (d *Destination) Timeout() time.Duration {
	if d.SendTimeout > 0 {
		return d.SendTimeout
	}
	return delivery.DefaultSendTimeout
}

// Close closes every pooled client; a Send after it fails, retryable.
func (d *Destination) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.closed = true
	var errs []error
	for k, p := range d.clients {
		errs = append(errs, p.client.Close())
		delete(d.clients, k)
	}
	return errors.Join(errs...)
}

// client returns the pooled client for c, made on first use. The client
// reconnects on its own: a broker that restarts is dialed again by the
// next command.
func (d *Destination) client(c config) (*redis.Client, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errors.New("the redis-stream destination is closed (the node is draining)")
	}
	if p, ok := d.clients[c.key]; ok {
		if p.password == c.opts.Password {
			return p.client, nil
		}
		_ = p.client.Close() // the password changed: its connections are of no use
	}
	if d.clients == nil {
		d.clients = map[poolKey]*pooled{}
	}
	p := &pooled{client: redis.NewClient(d.options(c, d.Timeout(), 0)), password: c.opts.Password}
	d.clients[c.key] = p
	return p.client, nil
}

// options are c's client options (see clientOptions).
func (d *Destination) options(c config, timeout time.Duration, poolSize int) *redis.Options {
	return clientOptions(c.opts, d.Dial, timeout, poolSize)
}

// clientOptions are a client's options from base, dialing through dial
// (with TLS for rediss://, which a custom dialer must do itself). The
// client makes no retries of its own (MaxRetries -1): a destination's
// retry schedule does, so that one attempt is one XADD, and a source's
// loop does.
func clientOptions(base *redis.Options, dial hookgate.DialFunc, timeout time.Duration, poolSize int) *redis.Options {
	o := *base
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout = timeout, timeout, timeout
	o.MaxRetries = -1
	o.DisableIdentity = true
	o.Protocol = 2
	if poolSize > 0 {
		o.PoolSize = poolSize
	}
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	tlsConfig := o.TLSConfig
	o.TLSConfig = nil
	o.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := dial(ctx, network, addr)
		if err != nil || tlsConfig == nil {
			return conn, err
		}
		tc := tls.Client(conn, tlsConfig.Clone())
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = conn.Close()
			return nil, err
		}
		return tc, nil
	}
	return &o
}

func (d *Destination) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

// Send appends m to w's stream with XADD and classifies the answer: the
// entry's ID is a success, recorded as the attempt's response body; a
// WRONGTYPE or NOPERM error is permanent; any other failure is retryable.
func (d *Destination) Send(ctx context.Context, w *hookgate.Webhook, m hookgate.DeliveryMessage) hookgate.Outcome {
	start := d.now()
	a := hookgate.Attempt{StartedAt: start, RequestMethod: "XADD", RequestURL: hookgate.RedactURL(w.DestinationConfig.URL)}
	c, err := parse(w)
	if err != nil {
		return finish(hookgate.Permanent(a, ReasonMisconfigured), start, d.now(), err)
	}
	fields, body, err := entry(ctx, w, m, start)
	if err != nil {
		return finish(hookgate.Permanent(a, delivery.UnsendableReason(err, ReasonUnsendable)), start, d.now(), err)
	}
	a.RequestURL += "#" + c.stream
	a.RequestHeaders, a.RequestBody = recorded(fields), body.Recorded()
	body.Redact(a.RequestHeaders)
	client, err := d.client(c)
	if err != nil {
		return finish(hookgate.Retryable(a, 0), start, d.now(), err)
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout())
	defer cancel()
	args := &redis.XAddArgs{Stream: c.stream, ID: "*", Values: fields}
	if c.maxLen > 0 {
		args.MaxLen, args.Approx = c.maxLen, true
	}
	id, err := client.XAdd(ctx, args).Result()
	if err == nil {
		a.ResponseBody = id
		return finish(hookgate.Succeeded(a), start, d.now(), nil)
	}
	return finish(classify(a, err), start, d.now(), err)
}

// Reasons of the kind's permanent failures.
const (
	ReasonMisconfigured = "its redis-stream configuration is not valid"
	ReasonUnsendable    = "its entry cannot be made"
	ReasonWrongType     = "the stream's key holds another type of value (WRONGTYPE)"
	ReasonNoPermission  = "the broker's ACL does not let its user XADD to the stream (NOPERM)"
)

// classify turns a failed XADD into an outcome. WRONGTYPE (the key holds
// something other than a stream) and NOPERM (the user's ACL forbids XADD
// on the key) are the broker saying this webhook's configuration cannot
// work, whatever the wait: permanent, until an operator changes the key,
// the ACL or the webhook. Anything else (no connection, a timeout, a
// restart, an authentication that may be fixed, an OOM) is retryable.
func classify(a hookgate.Attempt, err error) hookgate.Outcome {
	switch {
	case redis.HasErrorPrefix(err, "WRONGTYPE"):
		return hookgate.Permanent(a, ReasonWrongType)
	case redis.HasErrorPrefix(err, "NOPERM"):
		return hookgate.Permanent(a, ReasonNoPermission)
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
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return "the Redis server did not answer in time"
	case errors.As(err, new(redis.Error)):
		return "the Redis server answered: " + err.Error()
	case errors.As(err, new(*net.OpError)):
		return "could not reach the Redis server: " + err.Error()
	}
	return err.Error()
}

// entry returns the fields of m's stream entry, in order: the Standard
// Webhooks headers, signed at now as delivery.Sender signs a request, the
// content type, the trace context when m has one, the headers of the
// webhook's transformHeaders in name order (but one named body, the
// entry's own field), and the body, the same bytes an HTTP receiver gets
// (delivery.Render).
func entry(ctx context.Context, w *hookgate.Webhook, m hookgate.DeliveryMessage, now time.Time) ([]any, delivery.Body, error) {
	body, err := delivery.Render(ctx, w, m)
	if err != nil {
		return nil, body, err
	}
	signer, err := delivery.Signer(w, now)
	if err != nil {
		return nil, body, err
	}
	ts := now.Unix()
	f := []any{
		signing.HeaderID, m.ID,
		signing.HeaderTimestamp, strconv.FormatInt(ts, 10),
		signing.HeaderSignature, signer.Sign(m.ID, ts, body.Bytes),
	}
	if kids := signer.KeyIDs(); kids != "" {
		f = append(f, signing.HeaderKeyID, kids)
	}
	f = append(f, "content-type", body.ContentType)
	if tp := m.Trace.Traceparent(); tp != "" {
		f = append(f, "traceparent", tp)
		if m.Trace.State != "" {
			f = append(f, "tracestate", m.Trace.State)
		}
	}
	if len(body.Header) > 0 {
		for _, k := range body.HeaderNames() {
			if !strings.EqualFold(k, "body") {
				f = append(f, k, body.Header[k])
			}
		}
	}
	return append(f, "body", body.Bytes), body, nil
}

// recorded are the entry's fields but the body, as the attempt's request
// headers.
func recorded(fields []any) map[string]string {
	h := make(map[string]string, len(fields)/2)
	for i := 0; i+1 < len(fields)-2; i += 2 {
		h[fields[i].(string)] = fields[i+1].(string)
	}
	return h
}
