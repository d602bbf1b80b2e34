package natsdest

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate"
)

// SourceKind describes the nats source kind to the registry.
var SourceKind = hookgate.DestinationKind{
	Name:   Name,
	Fields: []string{"url", "subject", "stream", "durable", "auth"},
	Secret: []string{"auth.password", "auth.token"},
}

// RegisterSource registers the nats source driver in r: it dials with
// dial (nil for a plain dialer).
func RegisterSource(r *hookgate.Sources, dial hookgate.DialFunc) error {
	return r.Register(SourceKind, &Source{Dial: dial})
}

// Defaults of a Source.
const (
	DefaultFetchWait   = 5 * time.Second
	DefaultNakDelay    = 5 * time.Second
	DefaultBatch       = 64
	DefaultConnectWait = 5 * time.Second
	DefaultAckWait     = 30 * time.Second
	// maxBackoff bounds the wait between two connections to a broker
	// that does not answer.
	maxBackoff = 30 * time.Second
)

// Source consumes a JetStream stream with a durable pull consumer and
// explicit acks: a message is acknowledged once its handler returned nil
// (and the server confirmed the ack), terminated when the handler rejects
// it, and handed back for a redelivery after NakDelay on any other error.
// Its zero value works.
type Source struct {
	// Dial opens connections; nil for a plain net.Dialer.
	Dial hookgate.DialFunc
	// FetchWait is how long one pull request waits for messages; default
	// DefaultFetchWait. The consumer's lag is read between two that found
	// none.
	FetchWait time.Duration
	// NakDelay is how long a message whose handler failed waits before
	// its redelivery; default DefaultNakDelay.
	NakDelay time.Duration
	// Batch is how many messages one pull request asks for; default
	// DefaultBatch.
	Batch int
	// AckWait is how long the server waits for a message's ack before it
	// delivers the message again: a handler that outlives it, or an ack
	// lost with the connection, makes the message come again (known by
	// its ID). Default DefaultAckWait.
	AckWait time.Duration
}

// sourceConfig is a source's nats configuration, checked.
type sourceConfig struct {
	conn                     conn
	subject, stream, durable string
}

// parseSource checks s's configuration, returning an invalid-input error
// naming the field at fault (config.<field>).
func parseSource(s *hookgate.Source) (sourceConfig, error) {
	cn, err := parseConn(sourceField, s.Config)
	if err != nil {
		return sourceConfig{}, err
	}
	out := sourceConfig{conn: cn}
	for name, raw := range s.Config.Fields {
		var v *string
		switch name {
		case "subject":
			v = &out.subject
		case "stream":
			v = &out.stream
		case "durable":
			v = &out.durable
		default:
			return sourceConfig{}, hookgate.InvalidParam("config."+name, name, "a nats source has no field %s (it takes url, subject, stream, durable and auth)", name)
		}
		if err := json.Unmarshal(raw, v); err != nil {
			return sourceConfig{}, hookgate.InvalidParam("config."+name, string(raw), "config.%s must be a string", name)
		}
	}
	if out.subject == "" {
		return sourceConfig{}, hookgate.MissingParam("config.subject")
	}
	if err := checkSubject("config.subject", out.subject, true); err != nil {
		return sourceConfig{}, err
	}
	if _, given := s.Config.Fields["stream"]; given {
		if err := checkName("config.stream", out.stream); err != nil {
			return sourceConfig{}, err
		}
	}
	if _, given := s.Config.Fields["durable"]; given {
		if err := checkName("config.durable", out.durable); err != nil {
			return sourceConfig{}, err
		}
	} else {
		out.durable = "hookgate-" + s.ID
		if err := checkName("id", out.durable); err != nil {
			return sourceConfig{}, err
		}
	}
	return out, nil
}

// Check checks s's configuration.
func (d *Source) Check(s *hookgate.Source) error {
	_, err := parseSource(s)
	return err
}

// Probe connects to s's broker with s's credentials and checks that the
// stream exists (the one config.stream names, or the one that captures
// config.subject) and captures the subject, within ProbeTimeout, on a
// connection of its own: no consumer is made and no message taken.
func (d *Source) Probe(ctx context.Context, s *hookgate.Source) error {
	c, err := parseSource(s)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	var denied denials
	nc, err := nats.Connect(c.conn.url, append(options(c.conn, d.Dial, ProbeTimeout, &denied), nats.NoReconnect())...)
	if err != nil {
		return connectRefused(sourceField, c.conn, s.Config.URL, err)
	}
	defer nc.Close()
	_, err = findStream(ctx, nc, &denied, c)
	var he *hookgate.Error
	if errors.As(err, &he) {
		return he
	}
	return lookupRefused(sourceField, s.Config.URL, c.subject, err)
}

// findStream returns the stream c names, or the one that captures c's
// subject, checking that it does: an invalid-input error naming
// config.stream or config.subject when it does not.
func findStream(ctx context.Context, nc *nats.Conn, denied *denials, c sourceConfig) (string, error) {
	name := c.stream
	if name == "" {
		var err error
		if name, err = lookUpStream(ctx, nc, denied, c.subject); err != nil {
			return "", err
		}
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return "", err
	}
	stream, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) && c.stream != "" {
		return "", hookgate.InvalidParam("config.stream", c.stream, "the NATS server at config.url has no stream %q", c.stream)
	}
	if err != nil {
		return "", err
	}
	subjects := stream.CachedInfo().Config.Subjects
	if !slices.ContainsFunc(subjects, func(s string) bool { return captures(s, c.subject) }) {
		return "", hookgate.InvalidParam("config.subject", c.subject, "the stream %s captures %v, not every subject of config.subject %q", name, subjects, c.subject)
	}
	return name, nil
}

// errFatal marks an error no reconnection can mend: Consume returns it.
type errFatal struct{ err error }

func (e errFatal) Error() string { return e.err.Error() }
func (e errFatal) Unwrap() error { return e.err }

// Consume takes s's messages until ctx ends: it connects, makes (or
// updates) the durable pull consumer, and fetches, handing each message
// to handle and acknowledging it as handle says. A lost connection is
// reconnected by nats.go, and a connection nats.go gives up is made again
// here, after a wait that grows to 30 s, each told to r. It returns nil
// when ctx ends, or the error of a configuration the broker refuses (its
// credentials, a stream that is not there, a consumer it will not make).
func (d *Source) Consume(ctx context.Context, s *hookgate.Source, handle hookgate.SourceHandler, r hookgate.SourceReporter) error {
	c, err := parseSource(s)
	if err != nil {
		return err
	}
	backoff := time.Second
	for {
		err := d.consume(ctx, c, handle, r)
		if ctx.Err() != nil {
			return nil
		}
		if errors.As(err, new(errFatal)) {
			r.Connected(err)
			return err
		}
		r.Connected(err)
		if !sleep(ctx, backoff) {
			return nil
		}
		backoff = min(2*backoff, maxBackoff)
	}
}

// sleep waits for d or for ctx to end, reporting whether ctx is still on.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// consume runs one connection: it returns when ctx ends, on an error
// marked errFatal, or when the connection or the consumer is gone.
func (d *Source) consume(ctx context.Context, c sourceConfig, handle hookgate.SourceHandler, r hookgate.SourceReporter) error {
	var denied denials
	opts := append(options(c.conn, d.Dial, DefaultConnectWait, &denied),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err == nil {
				err = errors.New("disconnected from the NATS server")
			}
			r.Connected(err)
		}),
		nats.ReconnectHandler(func(*nats.Conn) { r.Connected(nil) }))
	nc, err := nats.Connect(c.conn.url, opts...)
	if err != nil {
		if errors.Is(err, nats.ErrAuthorization) {
			return errFatal{err}
		}
		return err
	}
	defer nc.Close()
	setup, cancel := context.WithTimeout(ctx, DefaultConnectWait)
	defer cancel()
	stream, err := findStream(setup, nc, &denied, c)
	if errors.As(err, new(*hookgate.Error)) || errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, nats.ErrPermissionViolation) {
		return errFatal{err}
	}
	if err != nil {
		return err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	cons, err := js.CreateOrUpdateConsumer(setup, stream, jetstream.ConsumerConfig{
		Durable:       c.durable,
		FilterSubject: c.subject,
		AckPolicy:     jetstream.AckExplicitPolicy,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckWait:       cmp.Or(d.AckWait, DefaultAckWait),
	})
	if errors.As(err, new(*jetstream.APIError)) {
		return errFatal{err}
	}
	if err != nil {
		return err
	}
	r.Connected(nil)
	for ctx.Err() == nil {
		if nc.IsClosed() {
			return errors.New("the connection to the NATS server was closed")
		}
		n, err := d.fetch(ctx, cons, stream, handle, r)
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted):
			return err
		case err != nil:
			if !sleep(ctx, time.Second) {
				return nil
			}
		case n == 0:
			if info, err := cons.Info(ctx); err == nil {
				r.Lag(int64(info.NumPending))
			}
		}
	}
	return nil
}

// fetch takes one batch and handles its messages, returning how many it
// handled.
func (d *Source) fetch(ctx context.Context, cons jetstream.Consumer, stream string, handle hookgate.SourceHandler, r hookgate.SourceReporter) (int, error) {
	wait := d.FetchWait
	if wait <= 0 {
		wait = DefaultFetchWait
	}
	batchSize := d.Batch
	if batchSize <= 0 {
		batchSize = DefaultBatch
	}
	fctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	batch, err := cons.Fetch(batchSize, jetstream.FetchContext(fctx))
	if err != nil {
		return 0, err
	}
	n := 0
	for m := range batch.Messages() {
		if ctx.Err() != nil {
			_ = m.Nak() // not handed over: delivered again at once, to whichever node consumes next
			continue
		}
		n++
		d.handle(ctx, m, stream, handle, r)
	}
	if err := batch.Error(); err != nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, nats.ErrTimeout) {
		return n, err
	}
	return n, nil
}

// handle hands m to handle and settles it as handle says: an ack the
// server confirms after nil, a termination (no redelivery) after
// ErrMessageRejected, a negative ack with NakDelay after anything else.
func (d *Source) handle(ctx context.Context, m jetstream.Msg, stream string, handle hookgate.SourceHandler, r hookgate.SourceReporter) {
	meta, metaErr := m.Metadata()
	id := m.Headers().Get(jetstream.MsgIDHeader)
	if id == "" && metaErr == nil {
		id = stream + ":" + strconv.FormatUint(meta.Sequence.Stream, 10)
	}
	headers := make(map[string]string, len(m.Headers()))
	for k, v := range m.Headers() {
		if len(v) > 0 {
			headers[k] = v[0]
		}
	}
	err := handle(ctx, hookgate.SourceMessage{ID: id, Headers: headers, Body: m.Data()})
	switch {
	case err == nil:
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), DefaultConnectWait)
		_ = m.DoubleAck(actx) // unconfirmed: the message comes again, and is known by its ID
		cancel()
	case errors.Is(err, hookgate.ErrMessageRejected):
		_ = m.Term()
	default:
		delay := d.NakDelay
		if delay <= 0 {
			delay = DefaultNakDelay
		}
		_ = m.NakWithDelay(delay)
	}
	if metaErr == nil {
		r.Lag(int64(meta.NumPending))
	}
}
