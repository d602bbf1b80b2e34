// Package providers lists the platform providers Hookgate knows. A new
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

// All returns every provider by name.
func All() map[string]platforms.Provider {
	m := map[string]platforms.Provider{}
	for _, p := range []platforms.Provider{telegram.New(), discord.New(), whatsapp.New(), slack.New(), generic.New()} {
		m[p.Name()] = p
	}
	return m
}
