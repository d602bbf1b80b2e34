package hookgate

import "time"

// Session is a dashboard session: a browser signed in with an API key. The
// browser holds a random token; the store keeps its hash, and the key the
// session acts as, never the key itself.
type Session struct {
	// Hash is the hex SHA-256 of the browser's token.
	Hash string
	// KeyID is the project key the session acts as; empty for the admin
	// key, which AdminKey then names (a hash prefix of it).
	KeyID    string
	AdminKey string
	// CSRF is the token every form of the session must carry.
	CSRF      string
	CreatedAt time.Time
	ExpiresAt time.Time
	// PortalLinkID, for a portal session, is the link it was opened with;
	// such a session acts in ProjectID only, within Capabilities, and ends
	// when its link is revoked. KeyID and AdminKey are then empty.
	PortalLinkID string
	ProjectID    string
	Capabilities []string
}

// Identity is who an API key belongs to: the admin, or a project's key with
// its role.
type Identity struct {
	Admin       bool
	KeyID       string
	ProjectID   string
	ProjectSlug string
	Role        Role
}
