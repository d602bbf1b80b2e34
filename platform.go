package hookgate

import (
	"encoding/json"
	"time"
)

// PrefixPlatform and PrefixMessage name platforms and sent messages.
const (
	PrefixPlatform = "plat_"
	PrefixMessage  = "mesg_"
)

// Platform is a project's connection to a messaging platform (or another
// source of webhooks): what Hookgate needs to verify what the provider
// posts to its inbound URL, to register that URL with the provider, and to
// send messages through it. Credentials are plain text here; stores
// encrypt them at rest.
type Platform struct {
	ID        string
	ProjectID string
	Provider  string
	Name      string
	// Credentials is the provider's JSON object of credentials, as checked
	// by the provider, with the values Hookgate generated.
	Credentials json.RawMessage
	// APIBaseURL is the provider's API; empty means its public API.
	APIBaseURL string
	// Registered says the inbound URL was registered with the provider.
	Registered    bool
	LastInboundAt time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Message statuses.
const (
	MessageSent   = "sent"
	MessageFailed = "failed"
)

// Message is a message sent through a platform, kept for audit.
type Message struct {
	ID                string
	ProjectID         string
	PlatformID        string
	To                string
	Text              string
	ProviderMessageID string
	Status            string
	// Error says why the provider refused or could not be reached.
	Error     string
	CreatedAt time.Time
}
