package redisstream

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"time"
	"unicode"

	"github.com/redis/go-redis/v9"

	"github.com/hookgate/hookgate"
)

// SourceKind describes the redis-stream source kind to the registry.
var SourceKind = hookgate.DestinationKind{
	Name:   Name,
	Fields: []string{"url", "stream", "group", "bodyField", "auth", "tls"},
	Secret: []string{"auth.password"},
}

// Defaults of a redis-stream source's fields.
const (
	// DefaultGroup is the consumer group a source reads as.
	DefaultGroup = "hookgate"
	// DefaultBodyField is the entry's field that holds the message; the
	// redis-stream destination writes the body there.
	DefaultBodyField = "body"
)

// RegisterSource registers the redis-stream source kind in r, dialing
// with dial (nil for a plain dialer).
func RegisterSource(r *hookgate.Sources, dial hookgate.DialFunc) error {
	return r.Register(SourceKind, &Source{Dial: dial})
}

// Source consumes Redis streams as a consumer group: each entry is one
// message, its ID the entry's ID, its body the bodyField's value and its
// headers the other fields. Its zero value works.
type Source struct {
	// Dial opens connections; nil for a plain net.Dialer.
	Dial hookgate.DialFunc
	// Consumer is the consumer's name in the group; default "hookgate-"
	// and the host's name. One node consumes a source at a time, so
	// nodes on one host may share it.
	Consumer string
	// Block is how long one XREADGROUP waits for entries; default 1 s.
	// A stop waits for it at most.
	Block time.Duration
	// ClaimIdle is how long an entry whose handling failed stays pending
	// before it is claimed again (XAUTOCLAIM) and handed over once more;
	// default 10 s.
	ClaimIdle time.Duration
	// Timeout bounds one command other than the blocking read; default
	// ProbeTimeout.
	Timeout time.Duration
	// Backoff is the first wait before another try after the broker
	// failed, doubled up to 5 s; default 100 ms.
	Backoff time.Duration
}

// sourceConfig is a source's redis-stream configuration, checked.
type sourceConfig struct {
	opts                     *redis.Options
	stream, group, bodyField string
}

// parseSource checks s's configuration (its TLS settings checked by the
// API before), returning an invalid-input error
// naming the field at fault (config.<field>).
func parseSource(s *hookgate.Source) (sourceConfig, error) {
	c := s.Config
	opts, err := parseURL("config.url", c.URL)
	if err != nil {
		return sourceConfig{}, err
	}
	serverName := ""
	if opts.TLSConfig != nil {
		serverName = opts.TLSConfig.ServerName
	}
	if opts.TLSConfig, err = c.BrokerTLS("config.tls", serverName, opts.TLSConfig != nil); err != nil {
		return sourceConfig{}, err
	}
	opts.Username, opts.Password = c.Auth.Username, c.Auth.Password
	if c.Auth.Password != "" && strings.ContainsAny(c.Auth.Username, " \r\n") {
		return sourceConfig{}, hookgate.InvalidParam("config.auth.username", c.Auth.Username, "config.auth.username may not contain spaces or line breaks")
	}
	if c.Auth.Token != "" {
		return sourceConfig{}, hookgate.InvalidParam("config.auth.token", hookgate.Redacted, "a redis-stream source takes config.auth.username and password, not a token")
	}
	if c.Auth.Username != "" && c.Auth.Password == "" {
		return sourceConfig{}, hookgate.MissingParam("config.auth.password")
	}
	out := sourceConfig{opts: opts, group: DefaultGroup, bodyField: DefaultBodyField}
	for name, raw := range c.Fields {
		var dst *string
		switch name {
		case "stream":
			dst = &out.stream
		case "group":
			dst = &out.group
		case "bodyField":
			dst = &out.bodyField
		default:
			return sourceConfig{}, hookgate.InvalidParam("config."+name, name, "a redis-stream source has no field %s (it takes url, stream, group, bodyField and auth)", name)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			return sourceConfig{}, hookgate.InvalidParam("config."+name, string(raw), "config.%s must be a string", name)
		}
		if len(*dst) == 0 || len(*dst) > MaxStreamLength || strings.IndexFunc(*dst, unicode.IsControl) >= 0 {
			return sourceConfig{}, hookgate.InvalidParam("config."+name, *dst, "config.%s is 1-%d bytes without control characters", name, MaxStreamLength)
		}
	}
	if out.stream == "" {
		return sourceConfig{}, hookgate.MissingParam("config.stream")
	}
	return out, nil
}

// Check checks s's configuration.
func (d *Source) Check(s *hookgate.Source) error {
	_, err := parseSource(s)
	return err
}

// Probe checks, within ProbeTimeout, that s's broker answers and lets
// its user read the stream as the group, and creates the group at the
// stream's end (and the stream) when missing: what is added from then
// on becomes events, even before a node first consumes the source.
func (d *Source) Probe(ctx context.Context, s *hookgate.Source) error {
	c, err := parseSource(s)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, ProbeTimeout)
	defer cancel()
	client := redis.NewClient(clientOptions(c.opts, d.Dial, ProbeTimeout, 1))
	defer client.Close()
	if err := client.Ping(ctx).Err(); err != nil {
		return probeError(s, err)
	}
	if err := createGroup(ctx, client, c, "$"); err != nil {
		return probeError(s, err)
	}
	if _, err := client.XInfoGroups(ctx, c.stream).Result(); err != nil {
		return probeError(s, err)
	}
	return nil
}

// probeError names the field a failed probe points at.
func probeError(s *hookgate.Source, err error) error {
	switch {
	case redis.HasErrorPrefix(err, "WRONGTYPE"):
		return hookgate.InvalidParam("config.stream", string(s.Config.Fields["stream"]), "config.stream names a key that holds another type of value than a stream")
	case redis.HasErrorPrefix(err, "NOPERM"):
		return hookgate.InvalidParam("config.stream", string(s.Config.Fields["stream"]), "the broker's ACL does not let config.auth.username read the stream as a group: %s", describe(err))
	case redis.HasErrorPrefix(err, "WRONGPASS"), redis.HasErrorPrefix(err, "NOAUTH"):
		return hookgate.InvalidParam("config.auth.password", hookgate.Redacted, "the Redis server refused the credentials: %s", describe(err))
	}
	return hookgate.InvalidParam("config.url", hookgate.RedactURL(s.Config.URL),
		"the Redis server at config.url did not answer within %s: %s", ProbeTimeout, describe(err))
}

// createGroup creates c's group at start ("$" the stream's end, "0" its
// beginning), and the stream when missing; a group that exists is left
// as it is.
func createGroup(ctx context.Context, client *redis.Client, c sourceConfig, start string) error {
	err := client.XGroupCreateMkStream(ctx, c.stream, c.group, start).Err()
	if err != nil && redis.HasErrorPrefix(err, "BUSYGROUP") {
		return nil
	}
	return err
}

func (d *Source) consumer() string {
	if d.Consumer != "" {
		return d.Consumer
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "node"
	}
	return "hookgate-" + host
}

func orDefault(v, def time.Duration) time.Duration {
	if v > 0 {
		return v
	}
	return def
}

// Consume reads s's stream as its group until ctx ends. Each entry goes
// to handle; it is acknowledged (XACK) when handle returns nil, and when
// it returns ErrMessageRejected too: Redis has no dead letters, so a
// rejected entry stays in the stream, read but never handed over again.
// An entry whose handling failed otherwise stays pending and is claimed
// again (XAUTOCLAIM) once idle for ClaimIdle, as are those of a consumer
// that went away. A group that disappears (a broker restarted empty) is
// made again at the stream's beginning, so that nothing added since is
// missed. WRONGTYPE and NOPERM end it with an error.
func (d *Source) Consume(ctx context.Context, s *hookgate.Source, handle hookgate.SourceHandler, r hookgate.SourceReporter) error {
	c, err := parseSource(s)
	if err != nil {
		return err
	}
	block := orDefault(d.Block, time.Second)
	timeout := orDefault(d.Timeout, ProbeTimeout)
	client := redis.NewClient(clientOptions(c.opts, d.Dial, timeout+block, 2))
	defer client.Close()
	run := &consumption{d: d, c: c, client: client, handle: handle, r: r, consumer: d.consumer(), block: block,
		idle: orDefault(d.ClaimIdle, 10*time.Second), claimFrom: "0-0", groupStart: "$"}
	backoff := orDefault(d.Backoff, 100*time.Millisecond)
	wait := backoff
	// connected is what r was last told: nil before it was told anything.
	var connected *bool
	tell := func(err error) {
		if up := err == nil; connected == nil || *connected != up {
			connected = &up
			r.Connected(err)
		}
	}
	for ctx.Err() == nil {
		err := run.round(ctx)
		switch {
		case err == nil:
			tell(nil)
			wait = backoff
			continue
		case ctx.Err() != nil:
			return nil
		case redis.HasErrorPrefix(err, "WRONGTYPE"), redis.HasErrorPrefix(err, "NOPERM"):
			tell(errors.New(describe(err)))
			return err
		case redis.HasErrorPrefix(err, "NOGROUP"):
			run.groupStart, run.grouped = "0", false
		case errors.Is(err, errHandler):
			// The store failed: the entry comes again; wait a little.
		default:
			tell(errors.New(describe(err)))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
		wait = min(2*wait, 5*time.Second)
	}
	return nil
}

// errHandler marks a round that stopped at an entry its handler failed.
var errHandler = errors.New("an entry's handling failed")

// consumption is one Consume's state.
type consumption struct {
	d                     *Source
	c                     sourceConfig
	client                *redis.Client
	handle                hookgate.SourceHandler
	r                     hookgate.SourceReporter
	consumer              string
	block, idle           time.Duration
	claimFrom, groupStart string
	grouped               bool
	lagAt                 time.Time
}

// round makes sure of the group, hands over the entries pending for
// longer than idle, then waits up to block for new ones and hands them
// over, and reports the lag at most every second.
func (p *consumption) round(ctx context.Context) error {
	if !p.grouped {
		if err := createGroup(ctx, p.client, p.c, p.groupStart); err != nil {
			return err
		}
		p.grouped = true
	}
	msgs, next, err := p.client.XAutoClaim(ctx, &redis.XAutoClaimArgs{Stream: p.c.stream, Group: p.c.group, MinIdle: p.idle,
		Start: p.claimFrom, Count: 100, Consumer: p.consumer}).Result()
	if err != nil {
		return err
	}
	p.claimFrom = next
	if err := p.deliver(ctx, msgs); err != nil {
		return err
	}
	streams, err := p.client.XReadGroup(ctx, &redis.XReadGroupArgs{Group: p.c.group, Consumer: p.consumer,
		Streams: []string{p.c.stream, ">"}, Count: 100, Block: p.block}).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		return err
	}
	for _, st := range streams {
		if err := p.deliver(ctx, st.Messages); err != nil {
			return err
		}
	}
	if time.Since(p.lagAt) >= time.Second {
		p.lagAt = time.Now()
		groups, err := p.client.XInfoGroups(ctx, p.c.stream).Result()
		if err != nil {
			return err
		}
		for _, g := range groups {
			if g.Name == p.c.group {
				p.r.Lag(g.Lag)
			}
		}
	}
	return nil
}

// deliver hands msgs over in order and acknowledges each handled or
// rejected one; it stops at the first other failure, leaving the rest
// pending.
func (p *consumption) deliver(ctx context.Context, msgs []redis.XMessage) error {
	for _, m := range msgs {
		err := p.handle(ctx, p.message(m))
		if err != nil && !errors.Is(err, hookgate.ErrMessageRejected) {
			return errHandler
		}
		if err := p.client.XAck(ctx, p.c.stream, p.c.group, m.ID).Err(); err != nil {
			return err
		}
	}
	return nil
}

// message is entry m as a source message: the body field's value as the
// body, the other fields as headers.
func (p *consumption) message(m redis.XMessage) hookgate.SourceMessage {
	out := hookgate.SourceMessage{ID: m.ID, Headers: make(map[string]string, len(m.Values))}
	for k, v := range m.Values {
		s, _ := v.(string)
		if k == p.c.bodyField {
			out.Body = []byte(s)
			continue
		}
		out.Headers[k] = s
	}
	return out
}
