package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/hookgate/hookgate/client"
)

// BrokerScenarios are the broker scenarios, in the order "brokers" runs
// them: each measures webhooks of one destination kind delivering to a
// broker on this machine, beside an HTTP receiver in the same run.
var BrokerScenarios = []string{"broker-redis-stream", "broker-nats", "broker-amqp", "broker-mqtt"}

// The brokers' default addresses: this machine's, on their usual ports.
const (
	DefaultRedisURL = "redis://127.0.0.1:6379/0"
	DefaultNATSURL  = "nats://127.0.0.1:4222"
	DefaultAMQPURL  = "amqp://127.0.0.1:5672/"
	DefaultMQTTURL  = "mqtt://127.0.0.1:1883"
)

// Brokers are where the broker scenarios deliver. Each URL must name a
// loopback IPv4 address: the bench's servers allow no other destination.
type Brokers struct {
	// RedisURL is broker-redis-stream's Redis; default DefaultRedisURL.
	RedisURL string
	// NATSURL is broker-nats's NATS server, with JetStream; default
	// DefaultNATSURL.
	NATSURL string
	// AMQPURL is broker-amqp's broker (with its virtual host), and
	// AMQPUsername and AMQPPassword its credentials; default
	// DefaultAMQPURL, guest and guest.
	AMQPURL, AMQPUsername, AMQPPassword string
	// MQTTURL is broker-mqtt's MQTT 5 broker; default DefaultMQTTURL.
	MQTTURL string
}

// withDefaults returns b with the default of each field left empty.
func (b Brokers) withDefaults() Brokers {
	set := func(v *string, def string) {
		if *v == "" {
			*v = def
		}
	}
	set(&b.RedisURL, DefaultRedisURL)
	set(&b.NATSURL, DefaultNATSURL)
	set(&b.AMQPURL, DefaultAMQPURL)
	set(&b.AMQPUsername, "guest")
	set(&b.AMQPPassword, "guest")
	set(&b.MQTTURL, DefaultMQTTURL)
	return b
}

// brokerKind is what a broker scenario measures: a destination kind and
// how the bench reads its broker.
type brokerKind struct {
	// name is the destination kind.
	name string
	// flag sets the broker's URL, url reads it and scheme is the URL's.
	flag, scheme string
	url          func(Brokers) string
	// open connects to the broker, makes what a webhook of the kind
	// delivers to (a stream, an exchange and its queue…) and starts
	// reading it into rec; an error means the broker did not answer, or
	// refused, and the scenario is skipped.
	open func(ctx context.Context, b Brokers, rec *receiver) (brokerReader, error)
}

// brokerReader reads what a webhook delivers to a broker.
type brokerReader interface {
	// destination is the webhook's destination.
	destination() client.Destination
	// close stops reading and deletes what open made.
	close() error
}

// brokerKinds are the broker scenarios' kinds, by scenario.
var brokerKinds = map[string]brokerKind{
	"broker-redis-stream": {name: "redis-stream", flag: "--redis-url", scheme: "redis", url: func(b Brokers) string { return b.RedisURL }, open: openRedis},
	"broker-nats":         {name: "nats", flag: "--nats-url", scheme: "nats", url: func(b Brokers) string { return b.NATSURL }, open: openNATS},
	"broker-amqp":         {name: "amqp", flag: "--amqp-url", scheme: "amqp", url: func(b Brokers) string { return b.AMQPURL }, open: openAMQP},
	"broker-mqtt":         {name: "mqtt", flag: "--mqtt-url", scheme: "mqtt", url: func(b Brokers) string { return b.MQTTURL }, open: openMQTT},
}

// brokerTimeout bounds the bench's own set-up and clean-up calls to a
// broker: a broker that does not answer within it is skipped.
const brokerTimeout = 5 * time.Second

// checkBrokerURL refuses the URL of kind's broker unless it has the
// kind's scheme and a loopback IPv4 address: the bench's servers allow
// 127.0.0.0/8 alone, and the bench loads nothing but this machine.
func checkBrokerURL(kind brokerKind, raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != kind.scheme || u.Host == "" {
		return fmt.Errorf("%s %q: want %s://127.0.0.1:port", kind.flag, raw, kind.scheme)
	}
	if ip := net.ParseIP(u.Hostname()); ip == nil || ip.To4() == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s %q: want a broker on a loopback IPv4 address (127.0.0.0/8): the bench loads this machine alone", kind.flag, raw)
	}
	if u.User != nil {
		return fmt.Errorf("%s: no credentials in the URL", kind.flag)
	}
	return nil
}

// BrokerFigures are a broker scenario's figures beside an HTTP
// receiver's, measured in the same run on servers configured alike.
type BrokerFigures struct {
	// Kind is the destination kind, URL its broker.
	Kind string `json:"kind"`
	URL  string `json:"url"`
	// DeliveriesPerS is the kind's under the throughput scenario's flood,
	// HTTPDeliveriesPerS the HTTP receiver's under the same flood, and
	// RatioToHTTP the first over the second.
	DeliveriesPerS     float64 `json:"deliveries_per_s"`
	HTTPDeliveriesPerS float64 `json:"http_deliveries_per_s"`
	RatioToHTTP        float64 `json:"ratio_to_http"`
	// CPUMsPerDelivery and HTTPCPUMsPerDelivery are the server's CPU time
	// per delivery under the same flood (as Result.CPUMsPerDelivery), to
	// the kind's broker and to the HTTP receiver.
	CPUMsPerDelivery     float64 `json:"cpu_ms_per_delivery"`
	HTTPCPUMsPerDelivery float64 `json:"http_cpu_ms_per_delivery"`
	// OfferedPerS is the steady rate of the latency legs, the latency
	// scenario's (--rate).
	OfferedPerS float64 `json:"offered_per_s"`
	// SendToArrivalMs is from sending each event (the time its data
	// carries) to its message's arrival at the bench's reader of the
	// broker, at OfferedPerS; HTTPSendToArrivalMs the same to the HTTP
	// receiver.
	SendToArrivalMs     Latency `json:"send_to_arrival_ms"`
	HTTPSendToArrivalMs Latency `json:"http_send_to_arrival_ms"`
}

// leg is one of a broker scenario's four runs.
type leg struct {
	broker  bool // to the kind's broker, else to an HTTP receiver
	latency bool // the latency scenario's steady rate, else the throughput scenario's flood
}

// brokerLegs are run in this order, broker, HTTP, HTTP, broker, so that a
// drift of the machine during the scenario weighs on both alike.
var brokerLegs = []leg{{broker: true}, {}, {latency: true}, {broker: true, latency: true}}

// runBroker runs broker scenario name: four legs, each on a server of its
// own configured as the throughput scenario's, with one webhook: to the
// kind's broker or to an HTTP receiver, under the throughput scenario's
// flood (deliveries/s) and the latency scenario's steady rate
// (send-to-arrival latency). The result is the broker's flood leg, as the
// throughput scenario reports its run, with Broker comparing the legs.
// A kind whose broker does not answer, or that this build has no
// destination for, is skipped: the result says why.
func runBroker(ctx context.Context, cfg Config, name string) (*Result, error) {
	kind := brokerKinds[name]
	var res []*Result
	for _, lg := range brokerLegs {
		r, skipped, err := runLeg(ctx, cfg, name, kind, lg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", legLabel(name, kind, lg), err)
		}
		if skipped != "" {
			return &Result{Scenario: name, Skipped: skipped}, nil
		}
		res = append(res, r)
	}
	flood, httpFlood, httpSteady, steady := res[0], res[1], res[2], res[3]
	r := flood
	b := &BrokerFigures{Kind: kind.name, URL: kind.url(cfg.Brokers), DeliveriesPerS: flood.DeliveriesPerS, HTTPDeliveriesPerS: httpFlood.DeliveriesPerS,
		CPUMsPerDelivery: flood.CPUMsPerDelivery, HTTPCPUMsPerDelivery: httpFlood.CPUMsPerDelivery,
		OfferedPerS: float64(cfg.Rate), SendToArrivalMs: steady.sendToArrival, HTTPSendToArrivalMs: httpSteady.sendToArrival}
	if b.HTTPDeliveriesPerS > 0 {
		b.RatioToHTTP = b.DeliveriesPerS / b.HTTPDeliveriesPerS
	}
	r.Broker = b
	for _, o := range res[1:] {
		r.Errors += o.Errors
		r.Lost += o.Lost
		r.Duplicates += o.Duplicates
		r.RSSMBPeak = max(r.RSSMBPeak, o.RSSMBPeak)
	}
	return r, nil
}

// legLabel names a leg in progress reports and errors.
func legLabel(name string, kind brokerKind, lg leg) string {
	to, load := "http", "throughput"
	if lg.broker {
		to = kind.name
	}
	if lg.latency {
		load = "latency"
	}
	return name + " " + to + " " + load
}

// runLeg runs one leg of broker scenario name. It returns why the
// scenario is skipped, instead of a result, when the kind's broker does not
// answer or the server has no such kind of destination.
func runLeg(ctx context.Context, cfg Config, name string, kind brokerKind, lg leg) (r *Result, skipped string, err error) {
	label := legLabel(name, kind, lg)
	var in client.WebhookCreate
	rec, err := newSeqReceiver(!lg.broker)
	if err != nil {
		return nil, "", err
	}
	if lg.broker {
		cfg.Progress(label, "connect", 0, 1)
		reader, err := kind.open(ctx, cfg.Brokers, rec)
		if err != nil {
			return nil, fmt.Sprintf("no %s broker answers at %s, or it refused the bench's set-up: %v", kind.name, kind.url(cfg.Brokers), err), nil
		}
		defer func() {
			if cerr := reader.close(); cerr != nil && err == nil {
				err = fmt.Errorf("cleaning up the broker: %w", cerr)
			}
		}()
		cfg.Progress(label, "connect", 1, 1)
		d := reader.destination()
		in.Destination = &d
	} else {
		defer rec.close()
		in.URL = rec.url("/ok/0")
	}
	srv, err := startServer(ctx, serverOptions{executable: cfg.Executable, databaseURL: cfg.DatabaseURL, sendTimeout: scenarioSendTimeout, schedule: backlogSchedule, pprofAddr: cfg.PprofAddr})
	if err != nil {
		return nil, "", err
	}
	defer srv.stop()
	key, _, err := srv.setupWebhooks([]client.WebhookCreate{in})
	if err != nil {
		if lg.broker && kindMissing(err) {
			return nil, "this build has no " + kind.name + " destination", nil
		}
		return nil, "", err
	}
	sp := spec{endpoints: 1, batch: 1, timed: true, producers: cfg.Concurrency}
	if lg.latency {
		sp.drive = func(ctx context.Context, l *loader) { l.steadySeq(ctx, cfg.Rate, max(cfg.Concurrency, cfg.Rate/10)) }
	} else {
		sp.drive = func(ctx context.Context, l *loader) { l.floodSeq(ctx, cfg.Concurrency) }
	}
	l := newLoader(srv.bases(), key, false, cfg.Concurrency)
	r, err = loadAndMeasure(ctx, cfg, label, sp, l, rec, []string{""}, srv.pids(), cfg.probe)
	if err != nil {
		return nil, "", err
	}
	r.Endpoints, r.RSSMBPeak = 1, srv.rss.Peak()
	r.sendToArrival = percentiles(sendToArrival(rec, l.snapshot()))
	return r, "", nil
}

// kindMissing reports whether err is the server refusing a webhook's
// destination kind, one this build does not have: a 400 naming
// destination.kind.
func kindMissing(err error) bool {
	var e *client.Error
	return errors.As(err, &e) && e.Status == http.StatusBadRequest && e.Parameter == "destination.kind"
}

// newSeqReceiver returns a receiver that keys arrivals by the seq in each
// event's data (see arrive), listening for HTTP on a loopback port when
// listen is set; a broker's reader records into one that does not.
func newSeqReceiver(listen bool) (*receiver, error) {
	r := &receiver{arrivals: map[string]time.Time{}, sent: map[string]time.Time{}, bySeq: true}
	if !listen {
		return r, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	r.addr = ln.Addr().String()
	r.srv = &http.Server{Handler: http.HandlerFunc(r.serve), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = r.srv.Serve(ln) }()
	return r, nil
}

// seqBody is the event the broker scenarios send: its data carries its seq,
// which names it to the readers, and the time it was sent.
func seqBody(seq int64, sent time.Time) []byte {
	return fmt.Appendf(nil, `{"type":"order.created","data":{"seq":%d,"sentNs":%d,"amount":"19.99","currency":"EUR"}}`, seq, sent.UnixNano())
}

// seqOf reads the seq and the send time of a delivered event's body, the
// Standard Webhooks envelope {type, timestamp, data} that every kind
// delivers unchanged.
func seqOf(body []byte) (key string, sent time.Time, ok bool) {
	var m struct {
		Data struct {
			Seq    *int64 `json:"seq"`
			SentNs int64  `json:"sentNs"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &m) != nil || m.Data.Seq == nil {
		return "", time.Time{}, false
	}
	return deliveryKey(strconv.FormatInt(*m.Data.Seq, 10), ""), time.Unix(0, m.Data.SentNs), true
}

// arrive records a delivered event's body that arrived at at: the first
// arrival of its seq, and the send time its data carries. A repeat, or a
// body without a seq, counts as a repeat, as a request without a
// webhook-id does.
func (r *receiver) arrive(body []byte, at time.Time) {
	key, sent, ok := seqOf(body)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.last = at
	if _, seen := r.arrivals[key]; seen || !ok {
		r.repeats++
		return
	}
	r.arrivals[key], r.sent[key] = at, sent
}

// sendToArrival returns, sorted, the time from each accepted event's send
// to its first arrival at rec, a receiver by seq.
func sendToArrival(rec *receiver, acc []accepted) []time.Duration {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make([]time.Duration, 0, len(acc))
	for _, a := range acc {
		k := deliveryKey(a.id, "")
		if at, ok := rec.arrivals[k]; ok {
			out = append(out, max(0, at.Sub(rec.sent[k])))
		}
	}
	slices.Sort(out)
	return out
}
