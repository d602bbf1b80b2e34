package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/hookgate/hookgate/client"
)

// destinationFlags choose a webhook's destination kind on create and
// update; with a kind other than http, the URL argument (or update's
// --url) is the broker's address.
type destinationFlags struct {
	kind, stream, username, password, token string
	subject, exchange, routingKey, topic    string
	maxLen                                  int64
	qos                                     int
	tls                                     tlsFlags
	fs                                      *pflag.FlagSet
}

func (f *destinationFlags) add(fs *pflag.FlagSet) {
	f.fs = fs
	f.tls.prefix = "destination-"
	fs.StringVar(&f.kind, "destination-kind", "", "where deliveries go: http (the default), redis-stream, nats, amqp or mqtt, with the URL as the broker's address (redis://host:6379/0, nats://host:4222, amqp://host:5672/vhost, mqtt://host:1883)")
	fs.StringVar(&f.stream, "destination-stream", "", "redis-stream: the stream deliveries are appended to")
	fs.Int64Var(&f.maxLen, "destination-max-len", 0, "redis-stream: trim the stream to about this many entries (XADD MAXLEN ~); 0 for no trimming")
	fs.StringVar(&f.subject, "destination-subject", "", "nats: the JetStream subject deliveries are published to")
	fs.StringVar(&f.exchange, "destination-exchange", "", "amqp: the exchange deliveries are published to (\"\" for the default exchange)")
	fs.StringVar(&f.routingKey, "destination-routing-key", "", "amqp: the routing key of each message")
	fs.StringVar(&f.topic, "destination-topic", "", "mqtt: the topic deliveries are published to")
	fs.IntVar(&f.qos, "destination-qos", 1, "mqtt: the QoS of each message, 0, 1 or 2")
	fs.StringVar(&f.username, "destination-username", "", "the broker's user, with --destination-password")
	fs.StringVar(&f.password, "destination-password", "", "the broker's password")
	fs.StringVar(&f.token, "destination-token", "", "nats: the broker's token, instead of a user and password")
	fs.StringVar(&f.tls.cert, "destination-tls-cert", "", "a PEM file: the client certificate presented to the broker over a TLS URL (rediss://…); with --destination-tls-key")
	fs.StringVar(&f.tls.key, "destination-tls-key", "", "a PEM file: the private key of --destination-tls-cert")
	fs.StringVar(&f.tls.ca, "destination-tls-ca", "", "a PEM file of CA certificates: the only CAs trusted for the broker, instead of the system's")
}

// kindFlags are the flags that configure a kind other than http.
var kindFlags = []string{"destination-stream", "destination-max-len", "destination-subject", "destination-exchange",
	"destination-routing-key", "destination-topic", "destination-qos", "destination-username", "destination-password", "destination-token",
	"destination-tls-cert", "destination-tls-key", "destination-tls-ca"}

// changed names the kind flags given.
func (f *destinationFlags) changed() []string {
	var out []string
	for _, name := range kindFlags {
		if f.fs != nil && f.fs.Changed(name) {
			out = append(out, "--"+name)
		}
	}
	return out
}

// destination builds the destination the flags name, at url; nil when no
// kind other than http is chosen. Another kind's flags without a kind are
// an error, not ignored.
func (f *destinationFlags) destination(url string) (*client.Destination, error) {
	if f.kind == "" || f.kind == client.DestinationHTTP {
		if given := f.changed(); len(given) > 0 {
			return nil, fmt.Errorf("%s need --destination-kind", strings.Join(given, ", "))
		}
		if f.kind == client.DestinationHTTP {
			return &client.Destination{Kind: client.DestinationHTTP}, nil
		}
		return nil, nil
	}
	if url == "" {
		return nil, errors.New("--destination-kind " + f.kind + " needs the broker's address: give --url")
	}
	d := &client.Destination{Kind: f.kind, URL: url, Stream: f.stream, MaxLen: f.maxLen,
		Subject: f.subject, RoutingKey: f.routingKey, Topic: f.topic}
	if f.fs != nil && f.fs.Changed("destination-exchange") {
		d.Exchange = &f.exchange
	}
	if f.kind == client.DestinationMQTT || f.fs != nil && f.fs.Changed("destination-qos") {
		d.QoS = &f.qos
	}
	if f.username != "" || f.password != "" || f.token != "" {
		d.Auth = &client.DestinationAuth{Username: f.username, Password: f.password, Token: f.token}
	}
	t, err := f.tls.settings()
	if err != nil {
		return nil, err
	}
	d.TLS = t
	return d, nil
}

// destinationLine describes a webhook's destination in one line.
func destinationLine(d *client.Destination) string {
	if d == nil || d.Kind == "" || d.Kind == client.DestinationHTTP {
		return client.DestinationHTTP
	}
	parts := []string{d.Kind, d.URL}
	if d.Stream != "" {
		parts = append(parts, "stream "+d.Stream)
	}
	if d.MaxLen > 0 {
		parts = append(parts, fmt.Sprintf("max length ~%d", d.MaxLen))
	}
	if d.Subject != "" {
		parts = append(parts, "subject "+d.Subject)
	}
	if d.Exchange != nil {
		parts = append(parts, fmt.Sprintf("exchange %q", *d.Exchange))
	}
	if d.RoutingKey != "" {
		parts = append(parts, "routing key "+d.RoutingKey)
	}
	if d.Topic != "" {
		parts = append(parts, "topic "+d.Topic)
	}
	if d.QoS != nil {
		parts = append(parts, fmt.Sprintf("QoS %d", *d.QoS))
	}
	if d.Auth != nil && d.Auth.Username != "" {
		parts = append(parts, "as "+d.Auth.Username)
	}
	if d.Auth != nil && d.Auth.Token != "" {
		parts = append(parts, "with a token")
	}
	if d.TLSInfo != nil {
		parts = append(parts, "TLS "+tlsLine(d.TLSInfo))
	}
	return strings.Join(parts, ", ")
}
