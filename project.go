package hookgate

import (
	"regexp"
	"time"
)

// Project is a tenant: every webhook, event and key belongs to one.
type Project struct {
	ID   string
	Slug string
	Name string
	// RetrySchedule overrides the server's retry schedule for this project's
	// deliveries when not empty.
	RetrySchedule Schedule
	// AutoRecover, when set, says whether the project's webhooks that
	// Hookgate disabled are probed (see Recovery), unless a webhook says
	// otherwise; nil means they are.
	AutoRecover *bool
	// Breaker overrides the server's circuit breaker settings for this
	// project's webhooks, field by field; zero when it does not.
	Breaker Breaker
	// Portal is how the project's consumer portal is embedded and looks.
	Portal PortalSettings
	// TraceHeadersOff stops the traceparent and tracestate headers on the
	// project's deliveries; their attempts still have trace IDs.
	TraceHeadersOff bool
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidateSlug checks a project slug: lower-case letters, digits and dashes,
// 1 to 63 characters, not starting with a dash. A slug never holds an
// underscore and an ID always does, so a path segment is never ambiguous.
func ValidateSlug(slug string) error {
	if slug == "" {
		return MissingParam("slug")
	}
	if !slugPattern.MatchString(slug) {
		return InvalidParam("slug", slug, "slug must be 1-63 lower-case letters, digits or dashes, starting with a letter or digit")
	}
	return nil
}

// ValidateName checks a display name.
func ValidateName(param, name string) error {
	if name == "" {
		return MissingParam(param)
	}
	if len(name) > 200 {
		return InvalidParam(param, name, "%s must be at most 200 bytes", param)
	}
	return nil
}

// Role is what a project key may do.
type Role string

// Roles of project keys.
const (
	// RoleOwner may do everything within its project.
	RoleOwner Role = "owner"
	// RolePublisher may send events and trigger webhooks, and never read a
	// webhook's URL, headers, auth or secret.
	RolePublisher Role = "publisher"
)

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r == RoleOwner || r == RolePublisher }

// APIKey is a project key. Only a hash of its secret part is stored.
type APIKey struct {
	ID        string
	ProjectID string
	Name      string
	Role      Role
	// Hash is SHA-256 of the key's secret part.
	Hash      []byte
	CreatedAt time.Time
}
