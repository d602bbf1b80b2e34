package bench

import (
	"context"
	"errors"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookgate/hookgate/client"
)

// amqpRoutingKey is the routing key the bench's webhooks publish with.
const amqpRoutingKey = "bench"

// amqpReader consumes a durable queue of its own, bound to a durable direct
// exchange of its own; close deletes both.
type amqpReader struct {
	url, username, password, name string
	conn                          *amqp.Connection
	ch                            *amqp.Channel
	done                          chan struct{}
}

// openAMQP connects to b.AMQPURL as b.AMQPUsername, declares an exchange
// and a queue bound to it, and starts consuming the queue (with automatic
// acknowledgement: the bench reads, it does not process).
func openAMQP(ctx context.Context, b Brokers, rec *receiver) (brokerReader, error) {
	conn, err := amqp.DialConfig(b.AMQPURL, amqp.Config{
		SASL: []amqp.Authentication{&amqp.PlainAuth{Username: b.AMQPUsername, Password: b.AMQPPassword}},
		Dial: amqp.DefaultDial(brokerTimeout),
	})
	if err != nil {
		return nil, err
	}
	r := &amqpReader{url: b.AMQPURL, username: b.AMQPUsername, password: b.AMQPPassword, name: "hookgate-bench-" + randomHex(6), conn: conn}
	if err := r.start(rec); err != nil {
		_ = r.close() // what start made, if anything: its error says less than err
		return nil, err
	}
	return r, nil
}

func (r *amqpReader) start(rec *receiver) error {
	ch, err := r.conn.Channel()
	if err != nil {
		return err
	}
	r.ch = ch
	if err := ch.ExchangeDeclare(r.name, amqp.ExchangeDirect, true, false, false, false, nil); err != nil {
		return err
	}
	if _, err := ch.QueueDeclare(r.name, true, false, false, false, nil); err != nil {
		return err
	}
	if err := ch.QueueBind(r.name, amqpRoutingKey, r.name, false, nil); err != nil {
		return err
	}
	deliveries, err := ch.Consume(r.name, r.name, true, true, false, false, nil)
	if err != nil {
		return err
	}
	r.done = make(chan struct{})
	go func() {
		defer close(r.done)
		for d := range deliveries {
			rec.arrive(d.Body, time.Now())
		}
	}()
	return nil
}

func (r *amqpReader) destination() client.Destination {
	exchange := r.name
	return client.Destination{Kind: client.DestinationAMQP, URL: r.url, Exchange: &exchange, RoutingKey: amqpRoutingKey,
		Auth: &client.DestinationAuth{Username: r.username, Password: r.password}}
}

func (r *amqpReader) close() error {
	var errs []error
	if r.ch != nil {
		if r.done != nil {
			errs = append(errs, r.ch.Cancel(r.name, false))
			<-r.done
		}
		_, err := r.ch.QueueDelete(r.name, false, false, false)
		errs = append(errs, err, r.ch.ExchangeDelete(r.name, false, false))
	}
	errs = append(errs, r.conn.Close())
	return errors.Join(errs...)
}
