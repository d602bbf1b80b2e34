package hookgate

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Webhook statuses.
const (
	// StatusActive webhooks receive deliveries.
	StatusActive = "active"
	// StatusDeactivated webhooks were switched off by a user; their pending
	// deliveries are paused.
	StatusDeactivated = "deactivated"
	// StatusDisabled webhooks were switched off by Hookgate after their
	// endpoint kept failing.
	StatusDisabled = "disabled"
)

// Auth types a webhook can use against its receiver.
const (
	AuthNone             = "none"
	AuthBasic            = "basic"
	AuthClientCredential = "client_credential"
)

// Payload encodings.
const (
	EncodingJSON   = "json"
	EncodingBase64 = "base64"
)

// Limits on webhook registrations.
const (
	MaxURLLength    = 2048
	MaxDescription  = 1024
	MaxEventFilters = 256
	// MaxFilterWildcards bounds the '*' of one event filter.
	MaxFilterWildcards = 3
	MaxEventTypeLength = 256
	MaxHeaders         = 50
	MaxQueryParams     = 50
	MaxMetadata        = 50
	MaxRateLimit       = 100000
	MaxSchemaBytes     = 64 << 10
	SecretPrefix       = "whsec_"
	minSecretBytes     = 24
	maxSecretBytes     = 64
)

// Webhook is an endpoint registered to receive events. Secret and the
// credentials in Auth are plain text here; stores encrypt them at rest.
type Webhook struct {
	ID          string
	ProjectID   string
	URL         string
	Description string
	// Events lists the event types delivered; empty means all. A '*' matches
	// any run of characters, so "order.*" matches "order.created".
	Events []string
	Secret string
	// PreviousSecret keeps signing until PreviousSecretExpiresAt after a
	// rotation.
	PreviousSecret          string
	PreviousSecretExpiresAt time.Time
	// Signature says which Standard Webhooks signatures the webhook's
	// requests carry, and holds its Ed25519 keys (signature.go).
	Signature Signature
	Auth      WebhookAuth
	// TLS holds the client certificate and the CAs of the webhook's
	// requests; zero for the defaults.
	TLS     WebhookTLS
	Headers map[string]string
	// PublicHeaders names the headers whose values are not secret; every
	// other header's value is answered redacted.
	PublicHeaders   []string
	Method          string
	QueryParams     []string
	PayloadEncoding string
	// RateLimit is the maximum requests per second to the endpoint; 0 means
	// no limit.
	RateLimit int
	Metadata  map[string]string
	// UID is a client-chosen ID, unique in the project, usable wherever
	// the ID is; empty when none was chosen.
	UID string
	// Schema is a JSON Schema that a trigger's data must match, or nil.
	Schema json.RawMessage
	// Then is the next step of a trigger chain, or nil.
	Then *Chain
	// TriggerOnly webhooks receive no events: only triggers call them.
	TriggerOnly bool
	// Destination names the kind of destination that receives the
	// webhook's deliveries (see Destinations); empty means DestinationHTTP,
	// configured by the fields above.
	Destination string
	// DestinationConfig configures a destination of another kind than
	// DestinationHTTP; zero for HTTP.
	DestinationConfig DestinationConfig
	// RetrySchedule overrides the project's (or the server's) retry
	// schedule for this webhook; empty when it does not.
	RetrySchedule Schedule
	// Timeout bounds each delivery request to this webhook, within the
	// server's send timeout; 0 when the server's applies.
	Timeout time.Duration
	// MaxAttempts caps the attempts of each delivery, the first included,
	// below what the schedule gives; 0 when the schedule alone decides.
	MaxAttempts int
	// Ordering is OrderingFIFO for deliveries in order per key, else
	// OrderingNone (or empty, read as none).
	Ordering string
	// OrderingKey is the JSON Pointer into the event whose value is the
	// ordering key of a FIFO webhook; empty makes the whole webhook one key.
	OrderingKey string
	// AutoRecover, when set, says whether the webhook is probed once
	// Hookgate disabled it (see Recovery); nil takes the project's setting.
	AutoRecover *bool
	// Breaker overrides the project's (or the server's) circuit breaker
	// settings for this webhook, field by field; zero when it does not.
	Breaker Breaker
	// Filter is a CEL expression over an event, of type bool: an event of
	// the webhook's types is delivered only when it is true (package
	// expressions); empty for every event of its types.
	Filter string
	// Transform is a CEL expression over an event whose result (a map, a
	// list or a string) is the body sent instead of the event's envelope;
	// empty for the envelope.
	Transform string
	// TransformHeaders is a CEL expression over an event whose result, a
	// map of strings, adds headers to each request; empty for none.
	TransformHeaders string
	Status           string
	CreatedAt        time.Time
	UpdatedAt        time.Time
}

// DestinationKind returns the kind of w's destination: Destination, or
// DestinationHTTP when it is empty.
func (w *Webhook) DestinationKind() string {
	if w.Destination == "" {
		return DestinationHTTP
	}
	return w.Destination
}

// WebhookAuth is how deliveries authenticate to the receiver.
type WebhookAuth struct {
	Type         string   `json:"type"`
	Username     string   `json:"username,omitempty"`
	Password     string   `json:"password,omitempty"`
	ClientID     string   `json:"clientID,omitempty"`
	ClientSecret string   `json:"clientSecret,omitempty"`
	TokenURL     string   `json:"tokenURL,omitempty"`
	Scopes       []string `json:"scopes,omitempty"`
}

// Subscribes reports whether the webhook wants events of type eventType.
func (w *Webhook) Subscribes(eventType string) bool {
	return !w.TriggerOnly && MatchesFilters(w.Events, eventType)
}

// MatchesFilters reports whether eventType matches any of filters; an empty
// list matches every type but the operational ones, which only a pattern
// beginning with OperationalPrefix matches.
func MatchesFilters(filters []string, eventType string) bool {
	op := IsOperational(eventType)
	if len(filters) == 0 {
		return !op
	}
	for _, f := range filters {
		if op && !strings.HasPrefix(f, OperationalPrefix) {
			continue
		}
		if matchGlob(f, eventType) {
			return true
		}
	}
	return false
}

// matchGlob matches s against pattern where '*' stands for any run of
// characters (including none). The literal pieces between the stars are
// found left to right with strings.Index, so a match costs about
// len(s) per piece: with at most MaxFilterWildcards stars it is linear.
func matchGlob(pattern, s string) bool {
	pieces := strings.Split(pattern, "*")
	if len(pieces) == 1 {
		return pattern == s
	}
	first, last := pieces[0], pieces[len(pieces)-1]
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, p := range pieces[1 : len(pieces)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// ApplyDefaults fills the fields a registration may leave out.
func (w *Webhook) ApplyDefaults() {
	if w.Method == "" {
		w.Method = http.MethodPost
	}
	if w.PayloadEncoding == "" {
		w.PayloadEncoding = EncodingJSON
	}
	if w.Auth.Type == "" {
		w.Auth.Type = AuthNone
	}
	if w.Status == "" {
		w.Status = StatusActive
	}
	if w.Ordering == "" {
		w.Ordering = OrderingNone
	}
}

var (
	eventTypePattern  = regexp.MustCompile(`^[A-Za-z0-9_.\-]+$`)
	eventFilterRegexp = regexp.MustCompile(`^[A-Za-z0-9_.\-*]+$`)
	paramNamePattern  = regexp.MustCompile(`^[A-Za-z0-9_.\-\[\]]{1,128}$`)
	uidPattern        = regexp.MustCompile(`^[a-zA-Z0-9_.-]{1,64}$`)
)

// reservedHeaders may not be set by a registration (nor by a trigger's
// caller): they are computed for each request (framing, hop-by-hop, the
// body's encoding), would let a registration forge a signature, or would
// make Hookgate claim to be a proxy forwarding someone else's request.
var reservedHeaders = map[string]bool{
	"host": true, "content-length": true, "transfer-encoding": true, "connection": true,
	"te": true, "trailer": true, "upgrade": true, "keep-alive": true, "proxy-connection": true,
	"content-encoding": true, "expect": true,
	"forwarded": true, "via": true, "x-real-ip": true, "x-client-ip": true, "true-client-ip": true,
	"webhook-id": true, "webhook-timestamp": true, "webhook-signature": true,
}

// isReservedHeader reports whether name is reserved: in reservedHeaders, or
// one of the X-Forwarded-* family.
func isReservedHeader(name string) bool {
	n := strings.ToLower(name)
	return reservedHeaders[n] || strings.HasPrefix(n, "x-forwarded-")
}

// Validate checks every field of a webhook whose defaults are applied. The
// returned *Error names the JSON parameter at fault.
func (w *Webhook) Validate() error {
	if err := w.validateDestination(); err != nil {
		return err
	}
	if len(w.Description) > MaxDescription {
		return InvalidParam("description", w.Description, "description must be at most %d bytes", MaxDescription)
	}
	if len(w.Events) > MaxEventFilters {
		return InvalidParam("events", len(w.Events), "at most %d event filters", MaxEventFilters)
	}
	for _, f := range w.Events {
		if len(f) == 0 || len(f) > MaxEventTypeLength || !eventFilterRegexp.MatchString(f) {
			return InvalidParam("events", f, "an event filter is 1-%d characters of letters, digits, '_', '-', '.' and '*'", MaxEventTypeLength)
		}
		if strings.Count(f, "*") > MaxFilterWildcards {
			return InvalidParam("events", f, "an event filter has at most %d '*'", MaxFilterWildcards)
		}
	}
	if err := ValidateSecret("secret", w.Secret); err != nil {
		return err
	}
	if err := w.Auth.validate(); err != nil {
		return err
	}
	if err := ValidateHeaders("headers", w.Headers); err != nil {
		return err
	}
	if len(w.PublicHeaders) > MaxHeaders {
		return InvalidParam("publicHeaders", len(w.PublicHeaders), "at most %d public headers", MaxHeaders)
	}
	for _, h := range w.PublicHeaders {
		if !validHeaderName(h) {
			return InvalidParam("publicHeaders", h, "%q is not a valid header name", h)
		}
		if IsCredentialHeader(h) {
			return InvalidParam("publicHeaders", h, "header %s is named like a credential and cannot be public", h)
		}
	}
	if w.Auth.Type != AuthNone {
		for k := range w.Headers {
			if strings.EqualFold(k, "Authorization") {
				return InvalidParam("headers."+k, k, "an Authorization header would be overwritten by auth of type %s: use one or the other", w.Auth.Type)
			}
		}
	}
	switch w.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodGet, http.MethodDelete:
	default:
		return InvalidParam("method", w.Method, "method must be one of POST, PUT, PATCH, GET, DELETE")
	}
	if len(w.QueryParams) > MaxQueryParams {
		return InvalidParam("queryParams", len(w.QueryParams), "at most %d query parameters", MaxQueryParams)
	}
	for _, q := range w.QueryParams {
		if !paramNamePattern.MatchString(q) {
			return InvalidParam("queryParams", q, "a query parameter name is 1-128 letters, digits or any of _ . - [ ]")
		}
	}
	switch w.PayloadEncoding {
	case EncodingJSON, EncodingBase64:
	default:
		return InvalidParam("payloadEncoding", w.PayloadEncoding, "payloadEncoding must be json or base64")
	}
	if w.RateLimit < 0 || w.RateLimit > MaxRateLimit {
		return InvalidParam("rateLimit", w.RateLimit, "rateLimit must be between 1 and %d requests per second, or 0 for none", MaxRateLimit)
	}
	if err := ValidateMetadata(w.Metadata); err != nil {
		return err
	}
	if w.TriggerOnly && len(w.Events) > 0 {
		return InvalidParam("events", w.Events, "a triggerOnly webhook receives no events: leave events out")
	}
	if err := ValidateUID("uid", w.UID); err != nil {
		return err
	}
	if len(w.Schema) > MaxSchemaBytes {
		return InvalidParam("schema", nil, "schema must be at most %d bytes", MaxSchemaBytes)
	}
	if w.Then != nil {
		if err := w.Then.validate(); err != nil {
			return err
		}
	}
	if _, err := ParseRetrySchedule("retrySchedule", w.RetrySchedule.Strings()); err != nil {
		return err
	}
	if w.Timeout < 0 {
		return InvalidParam("timeout", FormatDuration(w.Timeout), "timeout must be above 0")
	}
	if w.MaxAttempts < 0 || w.MaxAttempts > MaxRetries+1 {
		return InvalidParam("maxAttempts", w.MaxAttempts, "maxAttempts must be between 1 and %d", MaxRetries+1)
	}
	if err := w.validateOrdering(); err != nil {
		return err
	}
	if err := w.Breaker.Validate("breaker"); err != nil {
		return err
	}
	switch w.Status {
	case StatusActive, StatusDeactivated, StatusDisabled:
	default:
		return InvalidParam("status", w.Status, "status must be active, deactivated or disabled")
	}
	return nil
}

// validateDestination checks the URL of an HTTP webhook; a webhook of
// another kind has its URL and fields checked by its kind (Destinations),
// and may not set the fields that only an HTTP request has.
func (w *Webhook) validateDestination() error {
	if w.DestinationKind() == DestinationHTTP {
		if !w.DestinationConfig.IsZero() {
			return InvalidParam("destination", DestinationHTTP, "a destination of kind http is configured by the webhook's own fields (url, auth, headers…)")
		}
		if err := ValidateURL("url", w.URL); err != nil {
			return err
		}
		return notRedacted("url", w.URL)
	}
	if w.URL != w.DestinationConfig.URL {
		return InvalidParam("url", w.URL, "a webhook of kind %s takes its address from destination.url: leave url out or send the same", w.Destination)
	}
	httpOnly := []struct {
		param string
		set   bool
	}{
		{"auth", w.Auth.Type != AuthNone}, {"headers", len(w.Headers) > 0}, {"publicHeaders", len(w.PublicHeaders) > 0},
		{"method", w.Method != http.MethodPost}, {"queryParams", len(w.QueryParams) > 0},
		{"payloadEncoding", w.PayloadEncoding != EncodingJSON}, {"tls", !w.TLS.IsZero()},
		{"schema", len(w.Schema) > 0}, {"then", w.Then != nil}, {"triggerOnly", w.TriggerOnly},
	}
	for _, f := range httpOnly {
		if f.set {
			return InvalidParam(f.param, nil, "%s applies to HTTP webhooks only, not to one of kind %s (credentials go in destination.auth)", f.param, w.Destination)
		}
	}
	return nil
}

func (a *WebhookAuth) validate() error {
	switch a.Type {
	case AuthNone:
		if a.Username != "" || a.Password != "" || a.ClientID != "" || a.ClientSecret != "" || a.TokenURL != "" || len(a.Scopes) > 0 {
			return InvalidParam("auth", a.Type, "auth of type none takes no other fields")
		}
	case AuthBasic:
		if a.Username == "" {
			return MissingParam("auth.username")
		}
		if strings.Contains(a.Username, ":") {
			return InvalidParam("auth.username", a.Username, "a basic auth username may not contain ':'")
		}
		if a.Password == "" {
			return MissingParam("auth.password")
		}
		if a.ClientID != "" || a.ClientSecret != "" || a.TokenURL != "" || len(a.Scopes) > 0 {
			return InvalidParam("auth", a.Type, "auth of type basic takes only username and password")
		}
	case AuthClientCredential:
		if a.ClientID == "" {
			return MissingParam("auth.clientID")
		}
		if a.ClientSecret == "" {
			return MissingParam("auth.clientSecret")
		}
		if a.TokenURL == "" {
			return MissingParam("auth.tokenURL")
		}
		if err := ValidateURL("auth.tokenURL", a.TokenURL); err != nil {
			return err
		}
		if err := notRedacted("auth.tokenURL", a.TokenURL); err != nil {
			return err
		}
		if a.Username != "" || a.Password != "" {
			return InvalidParam("auth", a.Type, "auth of type client_credential takes clientID, clientSecret, tokenURL and scopes")
		}
		for _, s := range a.Scopes {
			if s == "" || strings.ContainsAny(s, " \t\r\n") {
				return InvalidParam("auth.scopes", s, "a scope is a non-empty string without spaces")
			}
		}
	default:
		return InvalidParam("auth.type", a.Type, "auth.type must be none, basic or client_credential")
	}
	return nil
}

// ValidateURL checks that raw is an absolute http or https URL with a host
// and no user info (credentials belong in auth, where they are kept secret).
func ValidateURL(param, raw string) error {
	if raw == "" {
		return MissingParam(param)
	}
	if len(raw) > MaxURLLength {
		return InvalidParam(param, raw, "%s must be at most %d bytes", param, MaxURLLength)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return InvalidParam(param, raw, "%s is not a valid URL", param)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return InvalidParam(param, raw, "%s must be an absolute http or https URL", param)
	}
	if u.Hostname() == "" {
		return InvalidParam(param, raw, "%s has no host", param)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return InvalidParam(param, raw, "%s has port %s; a port is 1-65535", param, p)
		}
	}
	if numericHost(u.Hostname()) {
		if a, err := netip.ParseAddr(u.Hostname()); err != nil || !a.Is4() {
			return InvalidParam(param, raw, "%s has a numeric host that is not a dotted IPv4 address (such as 127.1, 0x7f000001 or 0177.0.0.1); write the address in full", param)
		}
	}
	if u.User != nil {
		return InvalidParam(param, raw, "%s may not hold credentials; use auth", param)
	}
	if u.Fragment != "" {
		return InvalidParam(param, raw, "%s may not have a fragment", param)
	}
	return nil
}

// notRedacted refuses a URL that holds the redaction mark as a credential
// query value: the mark is what answers show, not a credential to store.
func notRedacted(param, raw string) error {
	if HasRedactedQuery(raw) {
		return InvalidParam(param, raw, "%s holds the redaction mark %s as a query value: send the value itself", param, Redacted)
	}
	return nil
}

// numericHost reports whether a URL host would be read as an IPv4 address
// by resolvers and browsers: its last label is a number, decimal or 0x
// hex. Only the canonical dotted form of those is accepted, so that what
// the network policy judges is what will be dialed.
func numericHost(host string) bool {
	labels := strings.Split(strings.TrimSuffix(host, "."), ".")
	last := strings.ToLower(labels[len(labels)-1])
	if last == "" {
		return false
	}
	if h, ok := strings.CutPrefix(last, "0x"); ok {
		last = h
		return strings.Trim(last, "0123456789abcdef") == ""
	}
	return strings.Trim(last, "0123456789") == ""
}

// ValidateMetadata checks a webhook's metadata, the parameter metadata: at
// most MaxMetadata entries, keys of 1-128 bytes and values of at most 1024.
func ValidateMetadata(md map[string]string) error {
	if len(md) > MaxMetadata {
		return InvalidParam("metadata", len(md), "at most %d metadata entries", MaxMetadata)
	}
	for k, v := range md {
		if k == "" || len(k) > 128 || len(v) > 1024 {
			return InvalidParam("metadata."+k, v, "metadata keys are 1-128 bytes and values at most 1024 bytes")
		}
	}
	return nil
}

// ValidateHeaders checks header names and values, refusing those Hookgate
// sets itself.
func ValidateHeaders(param string, h map[string]string) error {
	if len(h) > MaxHeaders {
		return InvalidParam(param, len(h), "at most %d headers", MaxHeaders)
	}
	for k, v := range h {
		if !validHeaderName(k) {
			return InvalidParam(param, k, "%q is not a valid header name", k)
		}
		if isReservedHeader(k) {
			return InvalidParam(param+"."+k, k, "header %s is set by Hookgate and cannot be configured", k)
		}
		if !validHeaderValue(v) || len(v) > 4096 {
			return InvalidParam(param+"."+k, v, "header %s has an invalid value", k)
		}
	}
	return nil
}

func validHeaderName(s string) bool {
	if s == "" || len(s) > 256 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// IsCredentialHeader reports whether a header's value is a credential that
// must be redacted in responses.
func IsCredentialHeader(name string) bool {
	n := strings.ToLower(name)
	return n == "authorization" || n == "proxy-authorization" || n == "cookie" ||
		strings.Contains(n, "token") || strings.Contains(n, "key") || strings.Contains(n, "secret") ||
		strings.Contains(n, "password")
}

// ValidateSecret checks a signing secret: "whsec_" and the base64 of 24 to 64
// bytes. An empty secret is valid (one is generated).
func ValidateSecret(param, s string) error {
	if s == "" {
		return nil
	}
	if _, err := SecretBytes(s); err != nil {
		return InvalidParam(param, "********", "%s must be %s followed by the base64 of %d to %d bytes", param, SecretPrefix, minSecretBytes, maxSecretBytes)
	}
	return nil
}

// SecretBytes decodes a "whsec_" secret into the HMAC key.
func SecretBytes(s string) ([]byte, error) {
	if !strings.HasPrefix(s, SecretPrefix) {
		return nil, Errorf(EInvalidParameter, "secret must start with %s", SecretPrefix)
	}
	b, err := base64.StdEncoding.DecodeString(s[len(SecretPrefix):])
	if err != nil {
		return nil, Errorf(EInvalidParameter, "secret is not base64")
	}
	if len(b) < minSecretBytes || len(b) > maxSecretBytes {
		return nil, Errorf(EInvalidParameter, "secret must hold %d to %d bytes", minSecretBytes, maxSecretBytes)
	}
	return b, nil
}

// NewSecret returns a new random signing secret of 32 bytes.
func NewSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return SecretPrefix + base64.StdEncoding.EncodeToString(b)
}

// ValidateEventType checks an event type name.
func ValidateEventType(param, t string) error {
	if t == "" {
		return MissingParam(param)
	}
	if len(t) > MaxEventTypeLength || !eventTypePattern.MatchString(t) {
		return InvalidParam(param, t, "%s is 1-%d letters, digits, '_', '-' or '.'", param, MaxEventTypeLength)
	}
	return nil
}

// ValidateUID checks a client-chosen webhook ID: 1-64 letters, digits, '_',
// '.' or '-', not beginning with the prefix of Hookgate's own IDs, so that a
// path segment names one webhook only. Empty is valid (no uid).
func ValidateUID(param, uid string) error {
	if uid == "" {
		return nil
	}
	if !uidPattern.MatchString(uid) {
		return InvalidParam(param, uid, "%s is 1-64 letters, digits, '_', '.' or '-'", param)
	}
	if strings.HasPrefix(uid, PrefixWebhook) {
		return InvalidParam(param, uid, "%s may not begin with %q, the prefix of Hookgate's webhook IDs", param, PrefixWebhook)
	}
	return nil
}

// IsWebhookID reports whether ref is a webhook's ID rather than its uid.
func IsWebhookID(ref string) bool { return strings.HasPrefix(ref, PrefixWebhook) }

// DecodeBase64Data returns the bytes that data, a JSON string of standard
// base64, encodes.
func DecodeBase64Data(data json.RawMessage) ([]byte, error) {
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, errors.New("data is not a JSON string")
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, errors.New("data is not valid base64")
	}
	return b, nil
}

// IsPublicHeader reports whether the value of w's header name may be shown:
// it is listed in PublicHeaders and not named like a credential.
func (w *Webhook) IsPublicHeader(name string) bool {
	if IsCredentialHeader(name) {
		return false
	}
	for _, h := range w.PublicHeaders {
		if strings.EqualFold(h, name) {
			return true
		}
	}
	return false
}
