// Package providers registers the platform providers Hookgate ships. A new
// provider is a package under platforms/ and one line here.
package providers

import (
	"github.com/hookgate/hookgate/platforms"
	"github.com/hookgate/hookgate/platforms/discord"
	"github.com/hookgate/hookgate/platforms/generic"
	"github.com/hookgate/hookgate/platforms/slack"
	"github.com/hookgate/hookgate/platforms/telegram"
	"github.com/hookgate/hookgate/platforms/whatsapp"
)

// All returns a registry of every provider, in the order the API, the CLI
// and the dashboard list them.
func All() *platforms.Registry {
	r := &platforms.Registry{}
	r.Register(telegram.New())
	r.Register(discord.New())
	r.Register(whatsapp.New())
	r.Register(slack.New())
	r.Register(generic.New())
	return r
}
