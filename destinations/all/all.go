// Package all registers every destination kind: the one place a new kind
// is added, with one line (and its import).
package all

import (
	"net/http"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	"github.com/hookgate/hookgate/destinations/amqp"
	desthttp "github.com/hookgate/hookgate/destinations/http"
	"github.com/hookgate/hookgate/destinations/mqtt"
	natsdest "github.com/hookgate/hookgate/destinations/nats"
	"github.com/hookgate/hookgate/destinations/redisstream"
)

// New returns the registry of every destination kind, HTTP's sending with
// sender; the brokers are dialed as sender dials (under its network
// policy) and given its timeout.
func New(sender *delivery.Sender) *hookgate.Destinations {
	r := hookgate.NewDestinations()
	must(desthttp.Register(r, sender))
	must(redisstream.Register(r, dialOf(sender), sender.Timeout()))
	must(mqtt.Register(r, dialOf(sender), sender.Timeout()))
	must(amqp.Register(r, dialOf(sender), sender.Timeout()))
	must(natsdest.Register(r, dialOf(sender), sender.Timeout()))
	return r
}

// Sources returns the registry of every source kind; the brokers are
// dialed as sender dials (under its network policy).
func Sources(sender *delivery.Sender) *hookgate.Sources {
	r := hookgate.NewSources()
	must(redisstream.RegisterSource(r, dialOf(sender)))
	must(mqtt.RegisterSource(r, dialOf(sender)))
	must(amqp.RegisterSource(r, dialOf(sender)))
	must(natsdest.RegisterSource(r, dialOf(sender)))
	return r
}

// dialOf is the dialer of sender's transport, which holds the network
// policy (netguard.Policy.Transport); nil, for a plain dialer, when its
// client has no such transport (tests).
func dialOf(sender *delivery.Sender) hookgate.DialFunc {
	if t, ok := sender.Client.Transport.(*http.Transport); ok && t.DialContext != nil {
		return t.DialContext
	}
	return nil
}

// must stops at a registration that fails: only a name registered twice
// does, a mistake in New that the first run shows.
func must(err error) {
	if err != nil {
		panic(err)
	}
}
