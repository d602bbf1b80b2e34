package client

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"
)

// Ptr returns a pointer to v, for the optional fields of updates:
// client.WebhookUpdate{Description: client.Ptr("billing")}.
func Ptr[T any](v T) *T { return &v }

// Page is one page of a list, and the cursor of the next one ("" at the
// end).
type Page[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"nextCursor"`
}

// ListOptions pages a list: Limit items (the server's default, 50, when 0;
// at most 250) after Cursor, a previous page's NextCursor.
type ListOptions struct {
	Limit  int
	Cursor string
}

// Project is a tenant: its webhooks, events and keys are its own.
type Project struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Slug string `json:"slug"`
	// RetrySchedule is the waits between attempts, as Go durations.
	RetrySchedule []string `json:"retrySchedule"`
	// AutoRecover says whether the project's webhooks that Hookgate
	// disabled are probed and enabled again; nil for the server's (on).
	AutoRecover *bool `json:"autoRecover"`
	// Breaker is the project's own circuit breaker settings, which its
	// webhooks take unless they set their own; nil for the server's.
	Breaker *Breaker `json:"breaker"`
	// Portal is how the project's consumer portal is embedded and looks.
	Portal Portal `json:"portal"`
	// TraceHeaders says whether the project's receivers get traceparent
	// and tracestate headers.
	TraceHeaders bool      `json:"traceHeaders"`
	CreatedAt    time.Time `json:"createdAt"`
	UpdatedAt    time.Time `json:"updatedAt"`
}

// Portal is a project's consumer portal settings as read.
type Portal struct {
	// AllowedOrigins may frame the portal; empty: it cannot be framed.
	AllowedOrigins []string    `json:"allowedOrigins"`
	Theme          PortalTheme `json:"theme"`
}

// PortalTheme is the portal's look. ProductName "" shows "Webhooks
// portal", AccentColor "" Hookgate's blue; Applied is the accent as
// shown in each mode, kept at 4.5:1 contrast.
type PortalTheme struct {
	ProductName string      `json:"productName"`
	AccentColor string      `json:"accentColor"`
	Mode        string      `json:"mode"`
	Logo        *PortalLogo `json:"logo"`
	Applied     struct {
		Light PortalAccent `json:"light"`
		Dark  PortalAccent `json:"dark"`
	} `json:"applied"`
}

// PortalLogo describes the uploaded logo.
type PortalLogo struct {
	ContentType string `json:"contentType"`
	Size        int    `json:"size"`
	SHA256      string `json:"sha256"`
	Width       int    `json:"width"`
	Height      int    `json:"height"`
}

// PortalAccent is an accent colour as applied: Color for links and
// buttons, OnColor for the text on buttons.
type PortalAccent struct {
	Color   string `json:"color"`
	OnColor string `json:"onColor"`
}

// PortalSettings changes a project's portal: a field set changes it.
// AllowedOrigins set to an empty slice makes the portal not embeddable.
type PortalSettings struct {
	AllowedOrigins *[]string          `json:"allowedOrigins,omitempty"`
	Theme          *PortalThemeUpdate `json:"theme,omitempty"`
}

// PortalThemeUpdate changes the fields that are set; "" takes a field's
// default, and removes the logo. Logo is a data URL (see LogoDataURL).
type PortalThemeUpdate struct {
	ProductName *string `json:"productName,omitempty"`
	AccentColor *string `json:"accentColor,omitempty"`
	Mode        *string `json:"mode,omitempty"`
	Logo        *string `json:"logo,omitempty"`
}

// LogoDataURL returns an image (PNG, JPEG or GIF, at most 64 KiB and
// 512×512 pixels) as the data URL PortalThemeUpdate.Logo takes.
func LogoDataURL(image []byte) string {
	return "data:" + http.DetectContentType(image) + ";base64," + base64.StdEncoding.EncodeToString(image)
}

// ProjectCreate is a new project. Slug defaults to one made from Name;
// RetrySchedule, AutoRecover and Breaker to the server's.
type ProjectCreate struct {
	Name          string   `json:"name"`
	Slug          string   `json:"slug,omitempty"`
	RetrySchedule []string `json:"retrySchedule,omitempty"`
	AutoRecover   *bool    `json:"autoRecover,omitempty"`
	Breaker       *Breaker `json:"breaker,omitempty"`
	// Portal sets the consumer portal's embedding and theme.
	Portal *PortalSettings `json:"portal,omitempty"`
	// TraceHeaders false sends the project's receivers no trace headers.
	TraceHeaders *bool `json:"traceHeaders,omitempty"`
}

// ProjectUpdate changes the fields that are set; Breaker the fields of
// the project's breaker settings that are set. ClearAutoRecover and
// ClearBreaker remove the project's autoRecover and breaker settings, so
// that the server's apply.
type ProjectUpdate struct {
	Name          *string  `json:"name,omitempty"`
	Slug          *string  `json:"slug,omitempty"`
	RetrySchedule []string `json:"retrySchedule,omitempty"`
	AutoRecover   *bool    `json:"autoRecover,omitempty"`
	Breaker       *Breaker `json:"breaker,omitempty"`
	// Portal changes the consumer portal's fields that are set.
	Portal *PortalSettings `json:"portal,omitempty"`
	// TraceHeaders, when set, turns the project's trace headers on or off.
	TraceHeaders     *bool `json:"traceHeaders,omitempty"`
	ClearAutoRecover bool  `json:"-"`
	ClearBreaker     bool  `json:"-"`
}

// MarshalJSON writes u as PATCH takes it: a cleared setting as null.
func (u ProjectUpdate) MarshalJSON() ([]byte, error) {
	type plain ProjectUpdate
	return withNulls(plain(u), map[string]bool{"autoRecover": u.ClearAutoRecover, "breaker": u.ClearBreaker})
}

// withNulls marshals v with the fields named in clear, when true, as null.
func withNulls(v any, clear map[string]bool) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	for name, on := range clear {
		if !on {
			continue
		}
		if m == nil {
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, err
			}
		}
		m[name] = json.RawMessage("null")
	}
	if m == nil {
		return b, nil
	}
	return json.Marshal(m)
}

// KeyRole is what a project key may do.
type KeyRole string

const (
	// RoleOwner manages the project's webhooks, keys and everything else.
	RoleOwner KeyRole = "owner"
	// RolePublisher sends events and triggers webhooks only.
	RolePublisher KeyRole = "publisher"
)

// Key is a project API key. Key, the secret itself, is set only in the
// answer of CreateKey.
type Key struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      KeyRole   `json:"role"`
	Key       string    `json:"key,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
}

// KeyCreate is a new key.
type KeyCreate struct {
	Name string  `json:"name"`
	Role KeyRole `json:"role"`
}

// WebhookStatus is whether a webhook receives deliveries.
type WebhookStatus string

const (
	WebhookActive      WebhookStatus = "active"
	WebhookDeactivated WebhookStatus = "deactivated" // by a user
	WebhookDisabled    WebhookStatus = "disabled"    // by Hookgate, after failing for too long
)

// AuthType is how Hookgate authenticates to a webhook's receiver.
type AuthType string

const (
	AuthNone             AuthType = "none"
	AuthBasic            AuthType = "basic"
	AuthClientCredential AuthType = "client_credential" // OAuth2 client credentials
)

// Auth is a webhook's authentication to its receiver. Read back, passwords
// and client secrets are "********".
type Auth struct {
	Type         AuthType `json:"type"`
	Username     string   `json:"username,omitempty"`
	Password     string   `json:"password,omitempty"`
	ClientID     string   `json:"clientID,omitempty"`
	ClientSecret string   `json:"clientSecret,omitempty"`
	TokenURL     string   `json:"tokenURL,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
}

// TLS is what a webhook sends of its TLS settings: PEM text. With
// ClientCertificate and ClientKey (both or neither) its requests, and its
// OAuth2 token requests, present that client certificate (mTLS); with
// CABundle they trust only those CAs instead of the system's. Answers
// never hold them: a read shows TLSInfo.
type TLS struct {
	ClientCertificate string `json:"clientCertificate,omitempty"`
	ClientKey         string `json:"clientKey,omitempty"`
	CABundle          string `json:"caBundle,omitempty"`
}

// Destination kinds.
const (
	DestinationHTTP        = "http"
	DestinationRedisStream = "redis-stream"
	DestinationNATS        = "nats"
	DestinationAMQP        = "amqp"
	DestinationMQTT        = "mqtt"
)

// Destination is where a webhook's deliveries go (docs/destinations.md):
// Kind "http" (or empty) for a signed HTTP request to the webhook's URL,
// configured by its own fields; "redis-stream" for an entry appended to
// Stream on the Redis server at URL (redis://host:6379/0, rediss:// for
// TLS), the stream trimmed to about MaxLen entries when it is set;
// "nats" for a JetStream publish to Subject (URL nats://host:4222);
// "amqp" for a message published to Exchange with RoutingKey (URL
// amqp://host:5672/vhost); "mqtt" for a message published to Topic at
// QoS (URL mqtt://host:1883).
type Destination struct {
	Kind       string           `json:"kind"`
	URL        string           `json:"url,omitempty"`
	Stream     string           `json:"stream,omitempty"`
	MaxLen     int64            `json:"maxLen,omitempty"`
	Subject    string           `json:"subject,omitempty"`
	Exchange   *string          `json:"exchange,omitempty"`
	RoutingKey string           `json:"routingKey,omitempty"`
	Topic      string           `json:"topic,omitempty"`
	QoS        *int             `json:"qos,omitempty"`
	Auth       *DestinationAuth `json:"auth,omitempty"`
	// TLS, sent with a TLS URL (rediss://…), is the client certificate
	// presented to the broker and the CAs trusted for it. Never answered:
	// a change that leaves it out keeps it for the same URL; TLSInfo
	// describes it in answers.
	TLS     *TLS     `json:"tls,omitempty"`
	TLSInfo *TLSInfo `json:"-"`
}

// UnmarshalJSON reads an answer's destination, whose tls is a TLSInfo.
func (d *Destination) UnmarshalJSON(b []byte) error {
	type plain Destination
	var v struct {
		plain
		TLS *TLSInfo `json:"tls"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*d = Destination(v.plain)
	d.TLSInfo = v.TLS
	return nil
}

// DestinationAuth holds a broker's credentials, never put in its URL: a
// user and password, or a token (NATS).
type DestinationAuth struct {
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Token    string `json:"token,omitempty"`
}

// TLSInfo is what a read shows of a webhook's TLS settings.
type TLSInfo struct {
	// ClientCertificate describes the client certificate's leaf; nil when
	// there is none.
	ClientCertificate *CertificateInfo `json:"clientCertificate"`
	// CABundle describes the CAs trusted; nil when the system's are.
	CABundle *CABundleInfo `json:"caBundle"`
}

// CertificateInfo describes a certificate; SHA256 is the hex SHA-256 of
// its DER, its fingerprint.
type CertificateInfo struct {
	Subject   string    `json:"subject"`
	Issuer    string    `json:"issuer"`
	NotBefore time.Time `json:"notBefore"`
	NotAfter  time.Time `json:"notAfter"`
	SHA256    string    `json:"sha256"`
}

// CABundleInfo counts the certificates of a CA bundle and names them.
type CABundleInfo struct {
	Certificates int      `json:"certificates"`
	Subjects     []string `json:"subjects"`
}

// Chain makes a trigger of this webhook call another with its answer.
type Chain struct {
	Webhook string    `json:"webhook"`
	Map     *ChainMap `json:"map,omitempty"`
}

// ChainMap says what of an answer the next step gets.
type ChainMap struct {
	Data        string            `json:"data,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	QueryParams map[string]string `json:"queryParams,omitempty"`
}

// Webhook is a registered endpoint. Secret is set only in the answer of
// CreateWebhook; GetWebhookSecret reads it later. URL shows the values of
// query parameters named like credentials (token, key, secret, sig…) as
// "********"; GetWebhookSecret answers it in full, and an update that sends
// it back as read keeps the stored one.
type Webhook struct {
	ID          string   `json:"id"`
	UID         string   `json:"uid,omitempty"`
	ProjectID   string   `json:"projectId"`
	URL         string   `json:"url"`
	Description string   `json:"description"`
	Events      []string `json:"events"`
	Secret      string   `json:"secret,omitempty"`
	Auth        Auth     `json:"auth"`
	// TLS describes the webhook's TLS settings; nil when it has none.
	TLS *TLSInfo `json:"tls"`
	// Destination is where its deliveries go, Kind "http" for a signed
	// request to URL; a broker's Auth.Password reads "********".
	Destination     *Destination      `json:"destination,omitempty"`
	Headers         map[string]string `json:"headers"`
	PublicHeaders   []string          `json:"publicHeaders"`
	QueryParams     []string          `json:"queryParams"`
	Method          string            `json:"method"`
	PayloadEncoding string            `json:"payloadEncoding"`
	RateLimit       int               `json:"rateLimit"`
	Metadata        map[string]string `json:"metadata"`
	Schema          json.RawMessage   `json:"schema,omitempty"`
	Then            *Chain            `json:"then,omitempty"`
	TriggerOnly     bool              `json:"triggerOnly"`
	// RetrySchedule, Timeout and MaxAttempts are the webhook's own
	// delivery settings: empty and nil where it takes its project's or
	// the server's. Delivery holds the settings in force.
	RetrySchedule []string `json:"retrySchedule"`
	Timeout       *string  `json:"timeout"`
	MaxAttempts   *int     `json:"maxAttempts"`
	// AutoRecover is the webhook's own: nil where it takes its project's
	// or the server's (Delivery.AutoRecover is the one in force).
	AutoRecover *bool `json:"autoRecover"`
	// Breaker is the webhook's own circuit breaker settings; nil where it
	// takes its project's or the server's (Delivery.Breaker holds those in
	// force). Circuit is its circuit breaker as it stands.
	Breaker  *Breaker         `json:"breaker"`
	Delivery DeliverySettings `json:"delivery"`
	Circuit  Circuit          `json:"circuit"`
	// Signature is the signatures its requests carry, and the public keys
	// of v1a (verify with Verify, or JWKSVerifier).
	Signature WebhookSignature `json:"signature"`
	// Ordering is OrderingFIFO when the events of one ordering key reach
	// the webhook in the order they were accepted, one at a time; the key
	// is the value at the JSON Pointer OrderingKey in the event ("": the
	// whole webhook is one key).
	Ordering    Ordering `json:"ordering"`
	OrderingKey string   `json:"orderingKey"`
	// Filter, Transform and TransformHeaders are the webhook's CEL
	// expressions (docs/filters.md); "" when it has none.
	Filter           string        `json:"filter"`
	Transform        string        `json:"transform"`
	TransformHeaders string        `json:"transformHeaders"`
	Status           WebhookStatus `json:"status"`
	// Recovery is set while Hookgate keeps the webhook disabled: its
	// recovery probes.
	Recovery  *Recovery `json:"recovery,omitempty"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Recovery is the probing of a webhook Hookgate disabled: a signed
// hookgate.ping at each step of the server's recovery schedule until one
// is answered 2xx (the webhook is enabled again) or 410, or EndsAt.
type Recovery struct {
	// State is "probing" (NextProbeAt is set), "gone" (a probe was
	// answered 410), "ended" (EndsAt passed) or "off" (autoRecover in
	// force is false).
	State          string     `json:"state"`
	DisabledAt     time.Time  `json:"disabledAt"`
	NextProbeAt    *time.Time `json:"nextProbeAt"`
	EndsAt         time.Time  `json:"endsAt"`
	Probes         int        `json:"probes"`
	LastProbeAt    *time.Time `json:"lastProbeAt"`
	LastStatusCode int        `json:"lastStatusCode"`
	LastError      string     `json:"lastError"`
}

// DeliverySettings are the delivery settings in force for a webhook, each
// with where it comes from ("webhook", "project" or "server").
type DeliverySettings struct {
	RetrySchedule struct {
		Value []string `json:"value"`
		From  string   `json:"from"`
	} `json:"retrySchedule"`
	Timeout struct {
		Value string `json:"value"`
		From  string `json:"from"`
	} `json:"timeout"`
	MaxAttempts struct {
		Value int    `json:"value"`
		From  string `json:"from"`
	} `json:"maxAttempts"`
	AutoRecover struct {
		Value bool   `json:"value"`
		From  string `json:"from"`
	} `json:"autoRecover"`
	Breaker struct {
		// Failures is 0 when the breaker is off.
		Failures struct {
			Value int    `json:"value"`
			From  string `json:"from"`
		} `json:"failures"`
		Cooldown struct {
			Value string `json:"value"`
			From  string `json:"from"`
		} `json:"cooldown"`
	} `json:"breaker"`
}

// Breaker is a circuit breaker's settings, a webhook's or a project's.
// After Failures consecutive failed attempts (1 to 1000; 0 turns the
// breaker off) a webhook's deliveries wait, with no attempt counted, for
// Cooldown (such as "30s", 1s to 10m; it doubles after each failed probe,
// up to 10m); then one is sent as a probe. A nil field takes the next
// level's: the project's, then the server's (10 failures, 30s unless
// serve's --breaker-failures and --breaker-cooldown say otherwise).
type Breaker struct {
	Failures *int    `json:"failures,omitempty"`
	Cooldown *string `json:"cooldown,omitempty"`
}

// Circuit states.
const (
	CircuitClosed   = "closed"
	CircuitOpen     = "open"
	CircuitHalfOpen = "half_open"
)

// Circuit is a webhook's circuit breaker as it stands, the same on every
// node: closed (deliveries go), open (they wait until NextProbeAt) or
// half_open (one delivery is in flight as the probe). Since and OpenedAt
// are nil for a circuit that never failed.
type Circuit struct {
	State               string     `json:"state"`
	Since               *time.Time `json:"since"`
	ConsecutiveFailures int        `json:"consecutiveFailures"`
	NextProbeAt         *time.Time `json:"nextProbeAt"`
	OpenedAt            *time.Time `json:"openedAt"`
	// Cooldown is the wait of the current opening; nil while closed.
	Cooldown *string `json:"cooldown"`
}

// WebhookCreate is a new webhook; only URL is required. Events filters the
// event types it receives ("order.*"; none: all); Secret defaults to a new
// whsec_ secret; Method to POST; RateLimit (deliveries a second, 0 for
// none).
type WebhookCreate struct {
	// URL is required for an HTTP webhook; a webhook of another
	// Destination kind takes Destination.URL.
	URL             string            `json:"url,omitempty"`
	Destination     *Destination      `json:"destination,omitempty"`
	UID             string            `json:"uid,omitempty"`
	Description     string            `json:"description,omitempty"`
	Events          []string          `json:"events,omitempty"`
	Secret          string            `json:"secret,omitempty"`
	Auth            *Auth             `json:"auth,omitempty"`
	TLS             *TLS              `json:"tls,omitempty"`
	Headers         map[string]string `json:"headers,omitempty"`
	PublicHeaders   []string          `json:"publicHeaders,omitempty"`
	QueryParams     []string          `json:"queryParams,omitempty"`
	Method          string            `json:"method,omitempty"`
	PayloadEncoding string            `json:"payloadEncoding,omitempty"`
	RateLimit       int               `json:"rateLimit,omitempty"`
	Metadata        map[string]string `json:"metadata,omitempty"`
	Schema          json.RawMessage   `json:"schema,omitempty"`
	Then            *Chain            `json:"then,omitempty"`
	TriggerOnly     bool              `json:"triggerOnly,omitempty"`
	// RetrySchedule (waits such as "10s"), Timeout (such as "5s", at most
	// the server's send timeout) and MaxAttempts (at least 1) override the
	// project's and the server's; leave them out to take those.
	RetrySchedule []string `json:"retrySchedule,omitempty"`
	Timeout       string   `json:"timeout,omitempty"`
	MaxAttempts   int      `json:"maxAttempts,omitempty"`
	// Ordering OrderingFIFO delivers the events of one key in order, one
	// at a time; OrderingKey is a JSON Pointer into the event, such as
	// "/data/customerId" (empty: the whole webhook is one key).
	Ordering    Ordering `json:"ordering,omitempty"`
	OrderingKey string   `json:"orderingKey,omitempty"`
	// Filter is a CEL expression over the event, of type bool: an event is
	// delivered only when it is true, such as data.total > 100.
	Filter string `json:"filter,omitempty"`
	// Transform is a CEL expression whose result, a map, a list or a
	// string, is the body sent instead of the event's envelope;
	// TransformHeaders one whose result, a map of strings, adds headers.
	Transform        string `json:"transform,omitempty"`
	TransformHeaders string `json:"transformHeaders,omitempty"`
	// AutoRecover, when set, says whether the webhook is probed and
	// enabled again once Hookgate disabled it; nil takes the project's.
	AutoRecover *bool `json:"autoRecover,omitempty"`
	// Breaker overrides the project's (and the server's) circuit breaker
	// settings, field by field.
	Breaker *Breaker `json:"breaker,omitempty"`
	// Signature chooses the signatures; nil for v1.
	Signature *SignatureSettings `json:"signature,omitempty"`
}

// SignatureSettings chooses a webhook's signatures: Scheme v1 (HMAC-SHA256
// with the secret), v1a (Ed25519) or v1+v1a. On a change, GracePeriod (a
// Go duration; default 24h) is how long the previous scheme's signatures
// are still sent beside the new one's.
type SignatureSettings struct {
	Scheme      string `json:"scheme"`
	GracePeriod string `json:"gracePeriod,omitempty"`
}

// WebhookSignature is a webhook's signatures as read: its scheme (and the
// previous one during a change), and its Ed25519 public key ("whpk_…")
// with its kid, and the previous key during a rotation's grace.
type WebhookSignature struct {
	Scheme                  string     `json:"scheme"`
	PreviousScheme          string     `json:"previousScheme,omitempty"`
	PreviousSchemeExpiresAt *time.Time `json:"previousSchemeExpiresAt,omitempty"`
	PublicKey               string     `json:"publicKey,omitempty"`
	KeyID                   string     `json:"keyId,omitempty"`
	PreviousPublicKey       string     `json:"previousPublicKey,omitempty"`
	PreviousKeyID           string     `json:"previousKeyId,omitempty"`
	PreviousKeyExpiresAt    *time.Time `json:"previousKeyExpiresAt,omitempty"`
}

// WebhookUpdate changes the fields that are set; a set slice or map
// replaces the whole field, and an empty one that is not nil clears it
// (Events: []string{} subscribes to every event type). A nil one leaves
// the field as it is.
type WebhookUpdate struct {
	URL         *string  `json:"url,omitempty"`
	UID         *string  `json:"uid,omitempty"`
	Description *string  `json:"description,omitempty"`
	Events      []string `json:"events,omitzero"`
	Auth        *Auth    `json:"auth,omitempty"`
	// TLS replaces the webhook's TLS settings whole (the key is never
	// read back, so send all three as wanted); ClearTLS removes them.
	TLS *TLS `json:"tls,omitempty"`
	// Destination replaces the destination whole; a Password of
	// "********" keeps the stored one for the same URL and username.
	Destination     *Destination      `json:"destination,omitempty"`
	Headers         map[string]string `json:"headers,omitzero"`
	PublicHeaders   []string          `json:"publicHeaders,omitzero"`
	QueryParams     []string          `json:"queryParams,omitzero"`
	Method          *string           `json:"method,omitempty"`
	PayloadEncoding *string           `json:"payloadEncoding,omitempty"`
	RateLimit       *int              `json:"rateLimit,omitempty"`
	Metadata        map[string]string `json:"metadata,omitzero"`
	Schema          json.RawMessage   `json:"schema,omitempty"`
	Then            *Chain            `json:"then,omitempty"`
	TriggerOnly     *bool             `json:"triggerOnly,omitempty"`
	// RetrySchedule replaces the webhook's own schedule; []string{}
	// clears it.
	RetrySchedule []string `json:"retrySchedule,omitzero"`
	Timeout       *string  `json:"timeout,omitempty"`
	MaxAttempts   *int     `json:"maxAttempts,omitempty"`
	// Ordering changes the ordering; OrderingNone also removes the
	// ordering key unless OrderingKey is set.
	Ordering    *Ordering `json:"ordering,omitempty"`
	OrderingKey *string   `json:"orderingKey,omitempty"`
	AutoRecover *bool     `json:"autoRecover,omitempty"`
	// Filter, Transform and TransformHeaders replace the webhook's CEL
	// expressions; "" removes one.
	Filter           *string `json:"filter,omitempty"`
	Transform        *string `json:"transform,omitempty"`
	TransformHeaders *string `json:"transformHeaders,omitempty"`
	// Breaker changes the fields of the webhook's own circuit breaker
	// settings that are set.
	Breaker *Breaker `json:"breaker,omitempty"`
	// Signature changes the scheme of its signatures.
	Signature *SignatureSettings `json:"signature,omitempty"`
	// ClearTimeout, ClearMaxAttempts, ClearAutoRecover and ClearBreaker
	// remove the webhook's own timeout, cap, autoRecover and breaker
	// settings, so that the server's, the schedule's and the project's
	// apply.
	ClearTimeout     bool `json:"-"`
	ClearMaxAttempts bool `json:"-"`
	ClearAutoRecover bool `json:"-"`
	ClearBreaker     bool `json:"-"`
	ClearTLS         bool `json:"-"`
}

// MarshalJSON writes u as PATCH takes it: a cleared setting as null.
func (u WebhookUpdate) MarshalJSON() ([]byte, error) {
	type plain WebhookUpdate
	return withNulls(plain(u), map[string]bool{"timeout": u.ClearTimeout, "maxAttempts": u.ClearMaxAttempts, "autoRecover": u.ClearAutoRecover, "breaker": u.ClearBreaker, "tls": u.ClearTLS})
}

// Secret is a webhook's signing secret; during a rotation's grace period
// the previous one still signs until PreviousSecretExpiresAt. URL, set by
// GetWebhookSecret only, is the webhook's URL in full: every other answer
// shows the values of its credential query parameters as "********".
type Secret struct {
	Secret                  string    `json:"secret"`
	PreviousSecretExpiresAt time.Time `json:"previousSecretExpiresAt"`
	URL                     string    `json:"url,omitempty"`
}

// SecretRotation rotates a secret: to Secret, or a new one when empty; the
// old one keeps signing for GracePeriod (a Go duration; the server's
// default when empty, "0s" to stop at once).
type SecretRotation struct {
	Secret      string `json:"secret,omitempty"`
	GracePeriod string `json:"gracePeriod,omitempty"`
}

// Recovered counts what RecoverWebhook queued: failed deliveries queued
// again, and deliveries created for events the webhook missed.
type Recovered struct {
	Requeued int `json:"requeued"`
	Created  int `json:"created"`
}

// Event is a message sent to a project's webhooks.
type Event struct {
	ID             string          `json:"id"`
	Type           string          `json:"type"`
	Data           json.RawMessage `json:"data"`
	IdempotencyKey string          `json:"idempotencyKey,omitempty"`
	// Deliveries is how many webhooks it was sent to.
	Deliveries int       `json:"deliveries"`
	CreatedAt  time.Time `json:"createdAt"`
}

// EventSend is an event to send. Data is any value that encodes as JSON;
// a json.RawMessage is sent byte for byte, so receivers get it as written.
// A repeat with the same IdempotencyKey within 24 hours answers the event
// it created instead of creating another; the server compares the repeat's
// Type and Data as JSON values (spacing and key order aside, numbers as
// written), so the same event sent by another client is a repeat too.
type EventSend struct {
	Type           string `json:"type"`
	Data           any    `json:"data"`
	IdempotencyKey string `json:"idempotencyKey,omitempty"`
}

// EventAccepted is a committed event: its deliveries are queued.
type EventAccepted struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Deliveries int       `json:"deliveries"`
	CreatedAt  time.Time `json:"createdAt"`
	// Replayed is true when an idempotency key answered an event created
	// before: the call created nothing.
	Replayed bool `json:"replayed"`
}

// EventListOptions filters ListEvents.
type EventListOptions struct {
	ListOptions
	// Type keeps events of this type.
	Type string
	// IncludeOperational also lists Hookgate's own events (webhook.test).
	IncludeOperational bool
}

// DeliveryStatus is where a delivery is.
type DeliveryStatus string

const (
	DeliveryPending   DeliveryStatus = "pending"
	DeliverySucceeded DeliveryStatus = "succeeded"
	DeliveryFailed    DeliveryStatus = "failed"
	DeliveryPaused    DeliveryStatus = "paused"
	DeliveryCancelled DeliveryStatus = "cancelled"
	// DeliveryExhausted is a filter only, never a delivery's status: the
	// failed event deliveries (dead letters).
	DeliveryExhausted DeliveryStatus = "exhausted"
)

// DeliveryKind tells an event's delivery from a trigger's record and a
// recovery probe's.
type DeliveryKind string

const (
	KindEvent   DeliveryKind = "event"
	KindTrigger DeliveryKind = "trigger"
	// KindProbe is a recovery probe (a hookgate.ping) of a disabled
	// webhook: never queued, never sent again.
	KindProbe DeliveryKind = "probe"
)

// Delivery is one event sent to one webhook, over its attempts.
type Delivery struct {
	ID             string         `json:"id"`
	EventID        string         `json:"eventId"`
	EventType      string         `json:"eventType"`
	WebhookID      string         `json:"webhookId"`
	Kind           DeliveryKind   `json:"kind"`
	Status         DeliveryStatus `json:"status"`
	Attempts       int            `json:"attempts"`
	LastStatusCode int            `json:"lastStatusCode"`
	LastError      string         `json:"lastError"`
	// NextAttemptAt is zero when no attempt is scheduled, also while the
	// delivery waits behind an older one of its ordering key.
	NextAttemptAt time.Time `json:"nextAttemptAt"`
	// OrderingKey is the key of a FIFO webhook's delivery; nil for
	// another's.
	OrderingKey *string   `json:"orderingKey,omitempty"`
	ChainID     string    `json:"chainId,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

// DeliveryListOptions filters ListDeliveries.
type DeliveryListOptions struct {
	ListOptions
	Webhook string // ID or uid
	Event   string // event ID
	Status  DeliveryStatus
	Kind    DeliveryKind
	// EventType keeps deliveries of events of that type.
	EventType string
	// Since and Until, when not zero, keep deliveries created in
	// [Since, Until).
	Since, Until time.Time
}

// Attempt is one request of a delivery and its answer.
type Attempt struct {
	ID         string `json:"id"`
	DeliveryID string `json:"deliveryId"`
	// Attempt numbers the delivery's attempts from 1.
	Attempt   int       `json:"attempt"`
	StartedAt time.Time `json:"startedAt"`
	// Duration is from the request's start to the answer's end, in whole
	// milliseconds cut down, as the API gives it: 0 for an attempt that
	// took under a millisecond (print it as such, not as "0s").
	Duration time.Duration `json:"-"`
	// StatusCode is 0 when no answer came; Error says why.
	StatusCode     int               `json:"statusCode"`
	Error          string            `json:"error"`
	RequestMethod  string            `json:"requestMethod,omitempty"`
	RequestURL     string            `json:"requestUrl,omitempty"`
	RequestHeaders map[string]string `json:"requestHeaders,omitempty"`
	// RequestBody is the body sent (its first 64 KiB) when the webhook's
	// transform made it; "" when the body was the event's envelope.
	RequestBody string `json:"requestBody,omitempty"`
	// Node is the node that made the attempt; "" for an attempt made before
	// nodes were recorded.
	Node string `json:"node"`
	// ResponseBody is the answer's beginning; base64 when
	// ResponseBodyEncoding is "base64".
	ResponseBody         string            `json:"responseBody"`
	ResponseBodyEncoding string            `json:"responseBodyEncoding,omitempty"`
	ResponseHeaders      map[string]string `json:"responseHeaders"`
	// TraceID and SpanID name the attempt's span: the receiver's
	// traceparent is 00-{TraceID}-{SpanID}-…; "" for an attempt made
	// before traces were kept.
	TraceID string `json:"traceId"`
	SpanID  string `json:"spanId"`
}

// UnmarshalJSON reads durationMs into Duration.
func (a *Attempt) UnmarshalJSON(b []byte) error {
	type plain Attempt
	var w struct {
		plain
		DurationMs int64 `json:"durationMs"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*a = Attempt(w.plain)
	a.Duration = time.Duration(w.DurationMs) * time.Millisecond
	return nil
}

// MarshalJSON writes Duration as durationMs, as the API does.
func (a Attempt) MarshalJSON() ([]byte, error) {
	type plain Attempt
	return json.Marshal(struct {
		plain
		DurationMs int64 `json:"durationMs"`
	}{plain(a), a.Duration.Milliseconds()})
}

// Trigger is a synchronous call of a webhook. Data is sent as the body
// (a json.RawMessage byte for byte); Timeout is a Go duration, at most the
// server's send timeout.
type Trigger struct {
	Data        any               `json:"data,omitempty"`
	Headers     map[string]string `json:"headers,omitempty"`
	QueryParams map[string]any    `json:"queryParams,omitempty"`
	Timeout     string            `json:"timeout,omitempty"`
}

// TriggerResult is the receiver's answer to a trigger. A receiver's
// failure is a result (Error true), not an error of the call.
type TriggerResult struct {
	// ReferenceID is the delivery recording the call, also its webhook-id.
	ReferenceID string `json:"referenceId"`
	// Status is the receiver's HTTP status; 0 when no answer came.
	Status int `json:"status"`
	// Data is the receiver's body: JSON, else a JSON string, else base64
	// (DataEncoding "base64"); null when empty.
	Data         json.RawMessage `json:"data"`
	DataEncoding string          `json:"dataEncoding,omitempty"`
	Error        bool            `json:"error"`
	Truncated    bool            `json:"truncated,omitempty"`
	Reason       string          `json:"reason,omitempty"`
	ChainID      string          `json:"chainId,omitempty"`
	Steps        []TriggerStep   `json:"steps,omitempty"`
}

// TriggerStep is one call of a chain.
type TriggerStep struct {
	ReferenceID string `json:"referenceId"`
	Status      int    `json:"status"`
	Error       bool   `json:"error"`
}

// EventType is an entry of a project's event catalog.
type EventType struct {
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Schema      json.RawMessage `json:"schema"`
	CreatedAt   time.Time       `json:"createdAt"`
	UpdatedAt   time.Time       `json:"updatedAt"`
}

// EventTypeCreate is a new catalog entry; Schema, a JSON Schema, checks the
// data of events of this type when set.
type EventTypeCreate struct {
	Name        string          `json:"name"`
	Description string          `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
}

// EventTypeUpdate changes the fields that are set.
type EventTypeUpdate struct {
	Description *string         `json:"description,omitempty"`
	Schema      json.RawMessage `json:"schema,omitempty"`
}

// Platform is a connected messaging platform (telegram, discord, whatsapp,
// slack, generic). Credentials are read back with secrets as "********".
type Platform struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Provider    string          `json:"provider"`
	APIBaseURL  string          `json:"apiBaseUrl"`
	Credentials json.RawMessage `json:"credentials"`
	// InboundURL is where the platform posts to Hookgate.
	InboundURL string `json:"inboundUrl"`
	Registered bool   `json:"registered"`
	// LastInboundAt is zero before the first inbound post.
	LastInboundAt time.Time `json:"lastInboundAt"`
	CreatedAt     time.Time `json:"createdAt"`
	UpdatedAt     time.Time `json:"updatedAt"`
}

// PlatformCreate connects a platform. Credentials is the provider's object
// (for telegram {"botToken": …}); APIBaseURL overrides the provider's API
// address.
type PlatformCreate struct {
	Provider    string `json:"provider"`
	Name        string `json:"name,omitempty"`
	Credentials any    `json:"credentials"`
	APIBaseURL  string `json:"apiBaseUrl,omitempty"`
}

// PlatformUpdate changes the fields that are set; in Credentials a value of
// "********" keeps the stored one.
type PlatformUpdate struct {
	Name        *string `json:"name,omitempty"`
	Credentials any     `json:"credentials,omitempty"`
	APIBaseURL  *string `json:"apiBaseUrl,omitempty"`
}

// Registration is the outcome of registering (or unregistering) Hookgate's
// inbound URL with a platform.
type Registration struct {
	PlatformID       string          `json:"platformId"`
	Provider         string          `json:"provider"`
	InboundURL       string          `json:"inboundUrl"`
	Registered       bool            `json:"registered"`
	ProviderResponse json.RawMessage `json:"providerResponse"`
}

// PlatformStatus is what the platform reports of the registration.
type PlatformStatus struct {
	PlatformID string `json:"platformId"`
	Provider   string `json:"provider"`
	InboundURL string `json:"inboundUrl"`
	// URL is the address the platform posts to; Registered is whether it
	// is InboundURL.
	URL              string          `json:"url"`
	Registered       bool            `json:"registered"`
	PendingUpdates   int             `json:"pendingUpdates,omitempty"`
	LastError        string          `json:"lastError,omitempty"`
	LastErrorAt      time.Time       `json:"lastErrorAt"`
	ProviderResponse json.RawMessage `json:"providerResponse,omitempty"`
}

// MessageSend is a message to send through a platform to To (a chat or
// channel ID, or a phone number).
type MessageSend struct {
	PlatformID string `json:"platformId"`
	To         string `json:"to"`
	Text       string `json:"text"`
}

// MessageStatus is whether the platform took a message.
type MessageStatus string

const (
	MessageSent   MessageStatus = "sent"
	MessageFailed MessageStatus = "failed"
)

// Message is a sent message and the platform's answer.
type Message struct {
	ID                string        `json:"id"`
	PlatformID        string        `json:"platformId"`
	To                string        `json:"to"`
	Text              string        `json:"text"`
	Status            MessageStatus `json:"status"`
	ProviderMessageID string        `json:"providerMessageId"`
	Error             string        `json:"error,omitempty"`
	CreatedAt         time.Time     `json:"createdAt"`
}

// MessageListOptions filters ListMessages.
type MessageListOptions struct {
	ListOptions
	Platform string // platform ID
}

// Ordering is how a webhook's deliveries are ordered.
type Ordering string

// Orderings.
const (
	OrderingNone Ordering = "none"
	OrderingFIFO Ordering = "fifo"
)

// ExpressionTestInput is what TestWebhookExpression runs: at least one of
// Filter, Transform and TransformHeaders, compiled as a webhook's, on Event
// or on the stored event EventID (one of the two), with Metadata as the
// webhook's own metadata.
type ExpressionTestInput struct {
	Filter           string            `json:"filter,omitempty"`
	Transform        string            `json:"transform,omitempty"`
	TransformHeaders string            `json:"transformHeaders,omitempty"`
	Event            *SampleEvent      `json:"event,omitempty"`
	EventID          string            `json:"eventId,omitempty"`
	Metadata         map[string]string `json:"metadata,omitempty"`
}

// SampleEvent is an event given to TestWebhookExpression. Data is any value
// that encodes as JSON; an empty ID is a new event ID and a zero Timestamp
// now.
type SampleEvent struct {
	Type      string    `json:"type"`
	Data      any       `json:"data,omitempty"`
	ID        string    `json:"id,omitempty"`
	Timestamp time.Time `json:"timestamp,omitzero"`
}

// ExpressionTest is the result of TestWebhookExpression: one for each
// expression given, nil for the others. An expression that fails on the
// event, or runs over its cost limit, has Error set: a result, not an error
// of the call.
type ExpressionTest struct {
	Filter           *FilterTest    `json:"filter,omitempty"`
	Transform        *TransformTest `json:"transform,omitempty"`
	TransformHeaders *HeadersTest   `json:"transformHeaders,omitempty"`
}

// FilterTest is a filter's result on the event. Cost is the evaluation's
// actual cost (the limit is 1,000,000) and DurationUs its time in
// microseconds. Matched is false when Error is set: ingest counts a filter
// that fails on an event as no match.
type FilterTest struct {
	Matched    bool   `json:"matched"`
	Cost       uint64 `json:"cost"`
	DurationUs int64  `json:"durationUs"`
	Error      string `json:"error"`
}

// TransformTest is a transform's result on the event: the body that would
// be sent, the JSON value for ContentType application/json or a JSON string
// for text/plain; null when Error is set.
type TransformTest struct {
	Body        json.RawMessage `json:"body"`
	ContentType string          `json:"contentType"`
	Cost        uint64          `json:"cost"`
	DurationUs  int64           `json:"durationUs"`
	Error       string          `json:"error"`
}

// HeadersTest is transformHeaders' result on the event: the headers that
// would be added.
type HeadersTest struct {
	Headers    map[string]string `json:"headers"`
	Cost       uint64            `json:"cost"`
	DurationUs int64             `json:"durationUs"`
	Error      string            `json:"error"`
}
