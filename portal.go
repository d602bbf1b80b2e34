package hookgate

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/url"
	"slices"
	"strconv"
	"time"
)

// Portal capabilities: what a portal session may see and do in its project.
const (
	// CapWebhooks: list, register, edit, test, (de)activate, recover and
	// delete webhooks, and read their stats.
	CapWebhooks = "webhooks"
	// CapDeliveries: list deliveries, read their attempts, retry one.
	CapDeliveries = "deliveries"
	// CapSecrets: reveal and rotate a webhook's signing secret.
	CapSecrets = "secrets"
	// CapEventTypes: read the project's catalog of event types.
	CapEventTypes = "eventTypes"
)

// PortalCapabilities lists every capability in its canonical order, which
// is also the default of a link that names none.
var PortalCapabilities = []string{CapWebhooks, CapDeliveries, CapSecrets, CapEventTypes}

// Portal link limits.
const (
	// DefaultPortalLinkTTL is how long a link can be opened when its
	// creator gives no expiresIn.
	DefaultPortalLinkTTL = time.Hour
	// MaxPortalLinkTTL bounds expiresIn.
	MaxPortalLinkTTL = 7 * 24 * time.Hour
	// MaxReturnURLLen bounds a link's returnUrl, in bytes.
	MaxReturnURLLen = 2048
)

// Error codes of UsePortalLink, besides ENotFound for a token no link has.
// They are not API error codes: the dashboard turns them into a page that
// says which (410).
const (
	EPortalLinkUsed    = "portal_link_used"
	EPortalLinkExpired = "portal_link_expired"
	EPortalLinkRevoked = "portal_link_revoked"
)

// PortalLink is a single-use link a producer hands to its customer: opened
// once, before ExpiresAt and unrevoked, it starts a portal session limited to
// ProjectID and Capabilities. The store keeps the hash of its token, never
// the token.
type PortalLink struct {
	ID        string
	ProjectID string
	// TokenHash is the hex SHA-256 of the token in the link's URL.
	TokenHash    string
	Capabilities []string
	// ReturnURL is where the portal sends the customer back to; may be "".
	ReturnURL string
	// CreatedBy is the ID of the key that made the link, or "admin".
	CreatedBy string
	CreatedAt time.Time
	ExpiresAt time.Time
	// UsedAt and RevokedAt are zero until the link is opened or revoked.
	UsedAt    time.Time
	RevokedAt time.Time
}

// Refusal says why l cannot be opened at now: EPortalLinkRevoked,
// EPortalLinkUsed or EPortalLinkExpired, in that order; nil when it can.
func (l *PortalLink) Refusal(now time.Time) error {
	switch {
	case !l.RevokedAt.IsZero():
		return Errorf(EPortalLinkRevoked, "this link was revoked")
	case !l.UsedAt.IsZero():
		return Errorf(EPortalLinkUsed, "this link was used already; ask for a new one")
	case !now.Before(l.ExpiresAt):
		return Errorf(EPortalLinkExpired, "this link expired; ask for a new one")
	}
	return nil
}

// PortalLinkInput is what a producer asks for; the zero value is a link of
// every capability, valid DefaultPortalLinkTTL, with no return URL.
type PortalLinkInput struct {
	// ExpiresIn is the link's lifetime; 0 takes DefaultPortalLinkTTL.
	ExpiresIn    time.Duration
	Capabilities []string
	ReturnURL    string
}

// NewPortalLink checks in and returns a link of projectID made by createdBy
// at now, with the token its URL carries. Errors are EInvalidParameter
// naming expiresIn, capabilities[i] or returnUrl.
func NewPortalLink(projectID, createdBy string, in PortalLinkInput, now time.Time) (*PortalLink, string, error) {
	ttl := in.ExpiresIn
	if ttl == 0 {
		ttl = DefaultPortalLinkTTL
	}
	if ttl < 0 || ttl > MaxPortalLinkTTL {
		return nil, "", InvalidParam("expiresIn", in.ExpiresIn.String(), "expiresIn must be above 0 and at most %s", "168h (7 days)")
	}
	caps, err := CheckPortalCapabilities(in.Capabilities)
	if err != nil {
		return nil, "", err
	}
	if err := CheckReturnURL(in.ReturnURL); err != nil {
		return nil, "", err
	}
	token := newPortalToken()
	return &PortalLink{
		ID:           NewID(PrefixPortalLink, now),
		ProjectID:    projectID,
		TokenHash:    PortalTokenHash(token),
		Capabilities: caps,
		ReturnURL:    in.ReturnURL,
		CreatedBy:    createdBy,
		CreatedAt:    now,
		ExpiresAt:    now.Add(ttl),
	}, token, nil
}

// CheckPortalCapabilities returns caps in canonical order without
// repeats, or every capability when caps is empty; EInvalidParameter naming
// capabilities[i] for one that is not a capability.
func CheckPortalCapabilities(caps []string) ([]string, error) {
	if len(caps) == 0 {
		return slices.Clone(PortalCapabilities), nil
	}
	for i, c := range caps {
		if !slices.Contains(PortalCapabilities, c) {
			return nil, InvalidParam("capabilities["+strconv.Itoa(i)+"]", c, "capabilities[%d] must be one of webhooks, deliveries, secrets, eventTypes", i)
		}
	}
	var out []string
	for _, c := range PortalCapabilities {
		if slices.Contains(caps, c) {
			out = append(out, c)
		}
	}
	return out, nil
}

// CheckReturnURL accepts "" or an absolute http(s) URL of at most
// MaxReturnURLLen bytes; EInvalidParameter naming returnUrl.
func CheckReturnURL(raw string) error {
	if raw == "" {
		return nil
	}
	if len(raw) > MaxReturnURLLen {
		return InvalidParam("returnUrl", raw[:64]+"…", "returnUrl must be at most %d bytes", MaxReturnURLLen)
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return InvalidParam("returnUrl", raw, "returnUrl must be an absolute http or https URL without credentials")
	}
	return nil
}

// HasCapability reports whether caps holds c.
func HasCapability(caps []string, c string) bool { return slices.Contains(caps, c) }

// PortalTokenHash returns the hex SHA-256 of a link's token, which is what
// the store keeps and looks links up by.
func PortalTokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// newPortalToken returns 32 random bytes in unpadded base64url (43
// characters), safe in a URL path.
func newPortalToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on supported platforms.
	return base64.RawURLEncoding.EncodeToString(b[:])
}
