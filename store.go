package hookgate

import (
	"context"
	"time"
)

// Page selects one page of a list, newest first.
type Page struct {
	// Limit is the page size; the store treats 0 as DefaultPageLimit.
	Limit int
	// Cursor is the nextCursor of the previous page, or empty for the first.
	Cursor string
}

// Page size bounds.
const (
	DefaultPageLimit = 50
	MaxPageLimit     = 250
)

// EventFilter narrows a list of events.
type EventFilter struct {
	Page
	// Type, when set, keeps only events of that type; a type ending in
	// ".*" keeps those beginning with what comes before the '*'.
	Type string
	// Operational includes Hookgate's own events (hookgate.*) in a list
	// without Type; they are left out by default.
	Operational bool
}

// DeliveryFilter narrows a list of deliveries.
type DeliveryFilter struct {
	Page
	WebhookID string
	EventID   string
	Status    string
	// Kind, when set, keeps only deliveries of that kind (KindEvent or
	// KindTrigger).
	Kind string
	// EventType, when set, keeps only deliveries of events of that type.
	EventType string
	// Since and Until, when not zero, keep deliveries created in
	// [Since, Until).
	Since, Until time.Time
}

// Store keeps everything Hookgate knows. Every method that takes a projectID
// scopes its work to that project: a resource of another project is reported
// as ENotFound. Methods return *Error values with codes ENotFound and
// EConflict where they say so; any other error is internal.
type Store interface {
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the store's connections after in-flight writes finish.
	Close() error

	// CreateProject stores p; EConflict when the slug is taken.
	CreateProject(ctx context.Context, p *Project) error
	// FindProject finds a project by ID or slug; ENotFound.
	FindProject(ctx context.Context, ref string) (*Project, error)
	// ListProjects lists projects, newest first.
	ListProjects(ctx context.Context, page Page) (list []*Project, next string, err error)
	// UpdateProject saves p's settings; ENotFound, EConflict. The portal's
	// logo is replaced when p.Portal.Theme.Logo carries Data, removed when
	// it is nil, and kept otherwise.
	UpdateProject(ctx context.Context, p *Project) error
	// PublicKeys returns the Ed25519 public keys of a project's webhooks
	// that sign at now: current ones, and previous ones in their grace.
	PublicKeys(ctx context.Context, projectID string, now time.Time) ([]PublicKey, error)
	// FindPortalLogo returns the project's portal logo with its Data;
	// ENotFound when it has none.
	FindPortalLogo(ctx context.Context, projectID string) (*PortalLogo, error)
	// DeleteProject deletes a project and everything it owns; ENotFound.
	DeleteProject(ctx context.Context, id string) error

	// CreateAPIKey stores k.
	CreateAPIKey(ctx context.Context, k *APIKey) error
	// FindAPIKey finds a key by its ID alone, for authentication; ENotFound.
	FindAPIKey(ctx context.Context, id string) (*APIKey, error)
	// ListAPIKeys lists a project's keys.
	ListAPIKeys(ctx context.Context, projectID string, page Page) ([]*APIKey, string, error)
	// DeleteAPIKey revokes a key; ENotFound.
	DeleteAPIKey(ctx context.Context, projectID, id string) error

	// CreateWebhook stores w, encrypting its secrets; EConflict when its
	// uid is taken, and EInvalidParameter naming then when w.Then (an
	// ID) fails CheckChain. The chain is checked in the transaction that
	// writes w, so concurrent writes cannot together close a cycle.
	CreateWebhook(ctx context.Context, w *Webhook) error
	// FindWebhook finds a webhook by its ID or its uid, with its secrets
	// decrypted; ENotFound.
	FindWebhook(ctx context.Context, projectID, ref string) (*Webhook, error)
	// ListWebhooks lists a project's webhooks.
	ListWebhooks(ctx context.Context, projectID string, page Page) ([]*Webhook, string, error)
	// UpdateWebhook saves every field of w but its status; ENotFound,
	// EConflict when its uid is taken, and EInvalidParameter naming then
	// when w.Then differs from the stored chain and fails CheckChain,
	// checked as CreateWebhook does.
	UpdateWebhook(ctx context.Context, w *Webhook) error
	// SetWebhookStatus changes a webhook's status and, in the same
	// transaction, pauses its pending deliveries (status other than active)
	// or resumes its paused ones (active); ENotFound. StatusDisabled starts
	// a Recovery, any other status ends the webhook's.
	SetWebhookStatus(ctx context.Context, projectID, id, status string, now time.Time) (*Webhook, error)
	// FindRecoveries returns the recoveries of those of a project's
	// webhooks named by ids that have one, by webhook ID.
	FindRecoveries(ctx context.Context, projectID string, ids []string) (map[string]*Recovery, error)
	// DeleteWebhook deletes a webhook and cancels its unfinished deliveries,
	// which stay readable for audit; ENotFound.
	DeleteWebhook(ctx context.Context, projectID, id string) error

	// CreateEventType stores t; EConflict when the name is taken.
	CreateEventType(ctx context.Context, t *EventType) error
	// FindEventType finds an event type by name; ENotFound.
	FindEventType(ctx context.Context, projectID, name string) (*EventType, error)
	// ListEventTypes lists a project's event types by name.
	ListEventTypes(ctx context.Context, projectID string, page Page) ([]*EventType, string, error)
	// UpdateEventType saves t's description and schema; ENotFound.
	UpdateEventType(ctx context.Context, t *EventType) error
	// DeleteEventType deletes an event type; ENotFound.
	DeleteEventType(ctx context.Context, projectID, name string) error

	// CreateEvents accepts events for a project: each event and one pending
	// delivery per active webhook subscribed to its type are committed
	// together before it returns. An input whose IdempotencyKey was used
	// within IdempotencyWindow yields the original event and creates nothing.
	// Results are in input order.
	CreateEvents(ctx context.Context, projectID string, in []EventInput) ([]*Event, error)
	// CreateDirectEvent accepts an event for one webhook only, whatever its
	// filter; ENotFound, and EConflict when the webhook is not active.
	CreateDirectEvent(ctx context.Context, projectID, webhookID string, in EventInput) (*Event, *Delivery, error)
	// FindEvent finds an event; ENotFound.
	FindEvent(ctx context.Context, projectID, id string) (*Event, error)
	// ListEvents lists a project's events, newest first.
	ListEvents(ctx context.Context, projectID string, f EventFilter) ([]*Event, string, error)

	// FindDelivery finds a delivery; ENotFound.
	FindDelivery(ctx context.Context, projectID, id string) (*Delivery, error)
	// ListDeliveries lists a project's deliveries, newest first.
	ListDeliveries(ctx context.Context, projectID string, f DeliveryFilter) ([]*Delivery, string, error)
	// RecoverWebhook queues again a webhook's failed deliveries created since
	// since and creates those it lacks for the events since then; ENotFound,
	// and EConflict when the webhook is not active.
	RecoverWebhook(ctx context.Context, projectID, webhookID string, since, now time.Time) (requeued, created int, err error)
	// CreateRedrive stores a running redrive leased to its creator until
	// leaseUntil, or returns, with created false, the one the project's
	// same idempotency key created before.
	CreateRedrive(ctx context.Context, r *Redrive, leaseUntil time.Time) (got *Redrive, created bool, err error)
	// FindRedrive finds a redrive; ENotFound.
	FindRedrive(ctx context.Context, projectID, id string) (*Redrive, error)
	// TakeOverRedrive leases a running redrive whose lease expired by now
	// until leaseUntil, and reports whether it did.
	TakeOverRedrive(ctx context.Context, projectID, id string, now, leaseUntil time.Time) (bool, error)
	// ExpiredRedrives lists at most limit running redrives whose lease
	// expired by now, oldest first: those a stopped node left.
	ExpiredRedrives(ctx context.Context, now time.Time, limit int) ([]*Redrive, error)
	// StepRedrive requeues the next batch of a running redrive and reports
	// whether the redrive is over for the caller.
	StepRedrive(ctx context.Context, projectID, id string, now, leaseUntil time.Time) (bool, error)
	// FailRedrive ends a running redrive as failed, with the error msg.
	FailRedrive(ctx context.Context, projectID, id, msg string, now time.Time) error
	// ListAttempts lists a page of a delivery's attempts, the latest first.
	ListAttempts(ctx context.Context, projectID, deliveryID string, page Page) ([]*Attempt, string, error)
	// CreateSession stores a dashboard session.
	CreateSession(ctx context.Context, s *Session) error
	// FindSession finds the session whose token hashes to hash, unless it
	// expired by now; ENotFound.
	FindSession(ctx context.Context, hash string, now time.Time) (*Session, error)
	// DeleteSession ends a session, and every session expired by now.
	DeleteSession(ctx context.Context, hash string, now time.Time) error
	// CreatePortalLink stores l.
	CreatePortalLink(ctx context.Context, l *PortalLink) error
	// ListPortalLinks lists a project's portal links, newest first.
	ListPortalLinks(ctx context.Context, projectID string, page Page) ([]*PortalLink, string, error)
	// FindPortalLink finds a project's portal link; ENotFound.
	FindPortalLink(ctx context.Context, projectID, id string) (*PortalLink, error)
	// FindPortalLinkByToken finds the link whose token hashes to
	// tokenHash, used or not; ENotFound.
	FindPortalLinkByToken(ctx context.Context, tokenHash string) (*PortalLink, error)
	// RevokePortalLink marks a link revoked at now (a link revoked before
	// keeps its first time) and, in the same transaction, deletes the
	// sessions it opened; ENotFound.
	RevokePortalLink(ctx context.Context, projectID, id string, now time.Time) (*PortalLink, error)
	// UsePortalLink marks the link whose token hashes to tokenHash used at
	// now, only when it is unused, unexpired and unrevoked, and stores se
	// as its portal session (PortalLinkID, ProjectID and Capabilities taken
	// from the link), in one transaction: of concurrent uses exactly one
	// wins. ENotFound for no such link, else EPortalLinkRevoked,
	// EPortalLinkUsed or EPortalLinkExpired, in that order.
	UsePortalLink(ctx context.Context, tokenHash string, se *Session, now time.Time) (*PortalLink, error)
	// AttemptStats sums up the attempts started in [since, until) of one
	// webhook, or of the whole project when webhookID is "", and with an
	// interval above 0, splits them into a series of that interval;
	// ENotFound when the webhook is not the project's.
	AttemptStats(ctx context.Context, projectID, webhookID string, since, until time.Time, interval time.Duration) (*AttemptStats, error)
	// FindCircuits returns the circuits of a project's webhooks named, by
	// webhook ID; a webhook left out has a closed circuit with no failure.
	FindCircuits(ctx context.Context, projectID string, webhookIDs []string) (map[string]*Circuit, error)
	// SaveTrigger records an invocation of a trigger: its delivery (kind
	// KindTrigger, never pending) and its attempt, in one transaction. A
	// delivery that exists already (a retry by hand) takes the attempt's
	// outcome. request is the caller's input, kept sealed for a retry.
	SaveTrigger(ctx context.Context, d *Delivery, a *Attempt, request []byte) error
	// FindTriggerRequest returns the input a trigger delivery was made
	// with; ENotFound, and EConflict when retention purged it.
	FindTriggerRequest(ctx context.Context, projectID, id string) ([]byte, error)
	// CreatePlatform stores p, encrypting its credentials.
	CreatePlatform(ctx context.Context, p *Platform) error
	// FindPlatform finds a project's platform with its credentials
	// decrypted; ENotFound.
	FindPlatform(ctx context.Context, projectID, id string) (*Platform, error)
	// FindPlatformByID finds a platform by its ID alone, for the public
	// inbound URL; ENotFound.
	FindPlatformByID(ctx context.Context, id string) (*Platform, error)
	// ListPlatforms lists a project's platforms, newest first.
	ListPlatforms(ctx context.Context, projectID string, page Page) ([]*Platform, string, error)
	// UpdatePlatform saves p's name, credentials, API base URL and
	// registration; ENotFound.
	UpdatePlatform(ctx context.Context, p *Platform) error
	// TouchPlatform records when the platform last posted.
	TouchPlatform(ctx context.Context, id string, at time.Time) error
	// DeletePlatform deletes a platform; ENotFound. Its messages stay.
	DeletePlatform(ctx context.Context, projectID, id string) error
	// CreateMessage records a message sent through a platform.
	CreateMessage(ctx context.Context, m *Message) error
	// ListMessages lists a project's sent messages, newest first, those
	// of one platform when platformID is set.
	ListMessages(ctx context.Context, projectID, platformID string, page Page) ([]*Message, string, error)

	// CreateSource stores src, its configuration sealed.
	CreateSource(ctx context.Context, src *Source) error
	// FindSource finds a project's source, with its last state; ENotFound.
	FindSource(ctx context.Context, projectID, id string) (*Source, error)
	// ListSources lists a project's sources, newest first.
	ListSources(ctx context.Context, projectID string, page Page) ([]*Source, string, error)
	// UpdateSource saves src's name, configuration, event type, status
	// and UpdatedAt; ENotFound. A node consuming it sees the change at
	// its next claim (UpdatedAt differs) and starts again.
	UpdateSource(ctx context.Context, src *Source) error
	// DeleteSource deletes a project's source; ENotFound.
	DeleteSource(ctx context.Context, projectID, id string) error
	// ClaimSources leases to node, until until, every active source whose
	// lease is free, expired at now, or node's already (renewed), and
	// returns them: one node of a cluster holds a source at a time.
	ClaimSources(ctx context.Context, node string, now, until time.Time) ([]*Source, error)
	// ReleaseSources gives up node's leases: of the sources ids, or all
	// of them when ids is empty (a drain), so another node may take them
	// at once. node "" releases every node's leases (a node alone on its
	// store, at start: those it finds were a dead process's).
	ReleaseSources(ctx context.Context, node string, ids ...string) error
	// SaveSourceState saves st as the state of a project's source when
	// node holds its lease; false when it does not (any more).
	SaveSourceState(ctx context.Context, projectID, id, node string, st SourceState) (bool, error)

	// RetryDelivery queues a delivery again, due now, keeping its ID (the
	// webhook-id its receiver sees); ENotFound, and EConflict while its
	// webhook is not active.
	RetryDelivery(ctx context.Context, projectID, id string, now time.Time) (*Delivery, error)
}
