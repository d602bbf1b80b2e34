package bench

import (
	"context"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hookgate/hookgate/client"
)

// natsReader reads a JetStream stream of its own, which captures its
// subject, with an ordered consumer; close deletes the stream.
type natsReader struct {
	url, stream, subject string
	conn                 *nats.Conn
	js                   jetstream.JetStream
	consuming            jetstream.ConsumeContext
}

// openNATS connects to b.NATSURL, creates a stream (file storage, the
// server's default) for a new subject, and starts consuming it: the
// nats destination publishes only to a subject that a stream captures.
func openNATS(ctx context.Context, b Brokers, rec *receiver) (brokerReader, error) {
	nc, err := nats.Connect(b.NATSURL, nats.Name("hookgate-bench"), nats.Timeout(brokerTimeout))
	if err != nil {
		return nil, err
	}
	suffix := randomHex(6)
	r := &natsReader{url: b.NATSURL, stream: "HOOKGATE_BENCH_" + strings.ToUpper(suffix), subject: "hookgate.bench." + suffix, conn: nc}
	if err := r.start(ctx, rec); err != nil {
		_ = r.close() // what start made, if anything: its error says less than err
		return nil, err
	}
	return r, nil
}

func (r *natsReader) start(ctx context.Context, rec *receiver) error {
	ctx, cancel := context.WithTimeout(ctx, brokerTimeout)
	defer cancel()
	js, err := jetstream.New(r.conn)
	if err != nil {
		return err
	}
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: r.stream, Subjects: []string{r.subject}}); err != nil {
		return err
	}
	r.js = js
	cons, err := js.OrderedConsumer(ctx, r.stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return err
	}
	r.consuming, err = cons.Consume(func(m jetstream.Msg) { rec.arrive(m.Data(), time.Now()) })
	return err
}

func (r *natsReader) destination() client.Destination {
	return client.Destination{Kind: client.DestinationNATS, URL: r.url, Subject: r.subject}
}

func (r *natsReader) close() error {
	if r.consuming != nil {
		r.consuming.Stop()
	}
	var err error
	if r.js != nil {
		ctx, cancel := context.WithTimeout(context.Background(), brokerTimeout)
		defer cancel()
		err = r.js.DeleteStream(ctx, r.stream)
	}
	r.conn.Close()
	return err
}
