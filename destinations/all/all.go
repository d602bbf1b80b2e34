// Package all registers every destination kind: the one place a new kind
// is added, with one line (and its import).
package all

import (
	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
	desthttp "github.com/hookgate/hookgate/destinations/http"
)

// New returns the registry of every destination kind, HTTP's sending with
// sender.
func New(sender *delivery.Sender) *hookgate.Destinations {
	r := hookgate.NewDestinations()
	must(desthttp.Register(r, sender))
	return r
}

// must stops at a registration that fails: only a name registered twice
// does, a mistake in New that the first run shows.
func must(err error) {
	if err != nil {
		panic(err)
	}
}
