// Package platforms is what a messaging provider implements for Hookgate:
// verify what it posts to Hookgate's inbound URL, turn it into events,
// register that URL with the provider, and send messages through it. Each
// provider is one package under platforms/ with one type implementing
// Provider, which describes itself (Info) and is registered in a Registry;
// platforms/providers registers every provider Hookgate ships.
package platforms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/netguard"
)

// Provider is one kind of platform.
type Provider interface {
	// Name is the provider's name in the API, such as "telegram".
	Name() string
	// DefaultBaseURL is the provider's public API, used when a platform
	// sets no apiBaseUrl; empty when the provider has no API to call.
	DefaultBaseURL() string
	// CheckCredentials validates a platform's credentials (a JSON object)
	// and returns them as stored: normalized, with generated values (such
	// as a verify token) filled in. Errors are *hookgate.Error naming the
	// field as "credentials.<field>".
	CheckCredentials(creds json.RawMessage) (json.RawMessage, error)
	// Info describes the provider: its credential fields, which are
	// secret, and its capabilities. Answers redact credentials by it
	// unless the provider is also a Redactor.
	Info() Info
	// MaxBody is the largest inbound post the provider sends, in bytes:
	// the server reads no more of a post, and refuses a longer one with
	// 413.
	MaxBody() int64
	// CheckHeader makes those checks of Verify that need no body: the
	// proof of origin is there and well formed, a signed timestamp is
	// fresh, a secret token matches. The server calls it before it reads
	// a post's body (in.Body is nil then), so that a post without a
	// plausible signature costs it no memory. An error means 401.
	CheckHeader(in *Inbound) error
	// Verify checks that an inbound request comes from the provider,
	// CheckHeader's checks included. A non-nil Reply is written as the
	// whole answer (a handshake, a PING) and nothing is stored. An error
	// means 401 and nothing stored.
	Verify(in *Inbound) (*Reply, error)
	// Normalize turns a verified post into events; none is fine (a
	// delivery receipt the project does not need, for instance, still
	// becomes platform.event).
	Normalize(in *Inbound) ([]Event, error)
	// Register gives the provider the inbound URL.
	Register(ctx context.Context, c *Call) (*Registration, error)
	// Unregister withdraws it; ErrUnsupported when the provider has no way.
	Unregister(ctx context.Context, c *Call) (json.RawMessage, error)
	// Status asks the provider what it has registered; ErrUnsupported when
	// it cannot tell.
	Status(ctx context.Context, c *Call) (*WebhookStatus, error)
	// Send sends text to a chat, channel or phone number.
	Send(ctx context.Context, c *Call, to, text string) (*Sent, error)
}

// Acknowledger is implemented by providers whose posts need a particular
// answer once accepted (Discord's deferred interaction response). Without
// it, an accepted post is answered 200 {"ok":true}.
type Acknowledger interface {
	Ack(in *Inbound) *Reply
}

// ErrUnsupported says the provider offers no such operation.
var ErrUnsupported = errors.New("the provider does not support this")

// Inbound is a request to a platform's inbound URL.
type Inbound struct {
	Method string
	Header http.Header
	Query  url.Values
	Body   []byte
	// Now is the time the request arrived, for timestamp windows.
	Now      time.Time
	Platform *hookgate.Platform
}

// Reply is an answer a provider's handshake needs.
type Reply struct {
	Status      int
	ContentType string
	Body        []byte
}

// Event is one normalized event from an inbound post.
type Event struct {
	// Type is one of the Event* types.
	Type    string
	Message *Message
	Chat    *Chat
	From    *User
	// Raw is the provider's payload (or the part of it this event is).
	Raw json.RawMessage
	// DedupKey is the provider's ID of what it posted, so that its
	// retries are recognised; empty when it gives none.
	DedupKey string
}

// Normalized event types.
const (
	EventMessageReceived     = "message.received"
	EventMessageEdited       = "message.edited"
	EventInteractionReceived = "interaction.received"
	EventMessageStatus       = "message.status"
	EventPlatform            = "platform.event"
)

// Message, Chat and User are the normalized parts of an event; fields
// that do not apply are left empty and omitted.
type Message struct {
	ID        string    `json:"id,omitempty"`
	Text      string    `json:"text,omitempty"`
	Timestamp time.Time `json:"timestamp,omitzero"`
	// Status is a receipt's status (WhatsApp sent, delivered, read).
	Status string `json:"status,omitempty"`
}

// Chat is where a message was posted.
type Chat struct {
	ID   string `json:"id,omitempty"`
	Type string `json:"type,omitempty"`
}

// User is who posted it.
type User struct {
	ID       string `json:"id,omitempty"`
	Name     string `json:"name,omitempty"`
	Username string `json:"username,omitempty"`
}

// Data returns the event's data as Hookgate sends it: {platform, message,
// chat, from, raw}.
func (e *Event) Data(p *hookgate.Platform) json.RawMessage {
	b, _ := json.Marshal(struct {
		Platform struct {
			ID       string `json:"id"`
			Provider string `json:"provider"`
		} `json:"platform"`
		Message *Message        `json:"message,omitempty"`
		Chat    *Chat           `json:"chat,omitempty"`
		From    *User           `json:"from,omitempty"`
		Raw     json.RawMessage `json:"raw"`
	}{Platform: struct {
		ID       string `json:"id"`
		Provider string `json:"provider"`
	}{p.ID, p.Provider}, Message: e.Message, Chat: e.Chat, From: e.From, Raw: rawOrNull(e.Raw)})
	return b
}

func rawOrNull(r json.RawMessage) json.RawMessage {
	if len(r) == 0 || !json.Valid(r) {
		return json.RawMessage("null")
	}
	return r
}

// Call is what an outbound call to the provider needs.
type Call struct {
	// Client is under the network policy and follows no redirects.
	Client *http.Client
	// BaseURL is the platform's apiBaseUrl or the provider's default,
	// without a trailing slash.
	BaseURL    string
	Platform   *hookgate.Platform
	InboundURL string
}

// Registration is the provider's answer to Register.
type Registration struct {
	// Registered says the provider now posts to the inbound URL; false
	// when the user must paste it somewhere (Slack without a
	// configuration token, generic sources).
	Registered bool
	// Response is what the provider answered, with no secret in it.
	Response json.RawMessage
	// Credentials, when set, replace the stored ones (a secret generated
	// for the registration).
	Credentials json.RawMessage
}

// WebhookStatus is what the provider says it has registered.
type WebhookStatus struct {
	URL string `json:"url"`
	// Registered says the provider's URL is this platform's inbound URL.
	Registered     bool   `json:"registered"`
	PendingUpdates int    `json:"pendingUpdates,omitempty"`
	LastError      string `json:"lastError,omitempty"`
	// LastErrorAt is when the provider last failed to post to it.
	LastErrorAt time.Time       `json:"lastErrorAt,omitzero"`
	Response    json.RawMessage `json:"providerResponse,omitempty"`
}

// Sent is the provider's answer to Send.
type Sent struct {
	ProviderMessageID string
	Response          json.RawMessage
}

// RetryAfterHeader reads a Retry-After header in seconds; 0 when absent.
func RetryAfterHeader(h http.Header) time.Duration {
	var secs float64
	if _, err := fmt.Sscan(h.Get("Retry-After"), &secs); err != nil || secs < 0 {
		return 0
	}
	// Bounded, so that a huge value cannot overflow the duration.
	return time.Duration(min(secs, 24*3600) * float64(time.Second))
}

// ProviderError is a provider's refusal, or its failure to answer.
type ProviderError struct {
	// Status is the provider's HTTP status; 0 when it could not be reached.
	Status int
	// Message is the provider's own words, for the user.
	Message string
	// RetryAfter is the wait a 429 asked for.
	RetryAfter time.Duration
}

func (e *ProviderError) Error() string {
	if e.Status == 0 {
		return "the provider could not be reached: " + e.Message
	}
	return fmt.Sprintf("the provider answered %d: %s", e.Status, e.Message)
}

// MaxProviderAnswer bounds what is read of a provider's answer.
const MaxProviderAnswer = 1 << 20

// Answer is a provider's HTTP answer, its body bounded by MaxProviderAnswer.
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a JSON request (body nil for none, a url.Values for a form) and
// returns the provider's answer, whatever its status. A transport failure
// is a *ProviderError with status 0, naming no URL.
func Do(ctx context.Context, c *http.Client, method, rawURL string, header http.Header, body any) (*Answer, error) {
	var rd io.Reader
	ct := ""
	switch b := body.(type) {
	case nil:
	case url.Values:
		rd, ct = strings.NewReader(b.Encode()), "application/x-www-form-urlencoded"
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd, ct = bytes.NewReader(j), "application/json"
	}
	if c == nil {
		return nil, errors.New("platforms: no HTTP client: calls go through the network policy's")
	}
	req, err := http.NewRequestWithContext(ctx, method, rawURL, rd)
	if err != nil {
		// The error would quote the URL, and a URL may hold a token.
		return nil, &ProviderError{Message: "the provider's URL is not valid"}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	req.Header.Set("Accept", "application/json")
	res, err := c.Do(req)
	if err != nil {
		return nil, &ProviderError{Message: transportReason(err)}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(io.LimitReader(res.Body, MaxProviderAnswer))
	if err != nil {
		return nil, &ProviderError{Status: res.StatusCode, Message: "reading the answer failed"}
	}
	return &Answer{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}

// transportReason names why no answer came without quoting the URL, which
// may hold a token (Telegram's does).
func transportReason(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case strings.Contains(err.Error(), "network policy"):
		return "the network policy refused the provider's address"
	}
	return netguard.Describe(err)
}

// Fresh checks a signature's timestamp, in Unix seconds as header gives
// it: it must lie within window of now, either way, so that a captured
// request cannot be replayed later. A zero now means the current time.
func Fresh(header, ts string, now time.Time, window time.Duration) error {
	if len(ts) == 0 || len(ts) > 12 || strings.Trim(ts, "0123456789") != "" {
		return fmt.Errorf("%s is not Unix seconds", header)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return fmt.Errorf("%s is not Unix seconds", header)
	}
	if now.IsZero() {
		now = time.Now()
	}
	if d := now.Sub(time.Unix(secs, 0)); d > window || d < -window {
		return fmt.Errorf("%s is %s from now, beyond %s", header, d.Round(time.Second), window)
	}
	return nil
}

// Equal compares two secrets in constant time.
func Equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// EqualMAC compares two MACs in constant time.
func EqualMAC(a, b []byte) bool { return hmac.Equal(a, b) }

// Scrub replaces every secret in s by the redaction mark, so that a
// provider's message or an error can be shown: tokens are never echoed.
func Scrub(s string, secrets ...string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, Redacted)
			for _, esc := range []string{url.PathEscape(sec), url.QueryEscape(sec)} {
				if esc != sec {
					s = strings.ReplaceAll(s, esc, Redacted)
				}
			}
		}
	}
	return s
}

// MinSecretLength is the fewest characters of a secret that a user
// chooses to prove where inbound posts come from (a Telegram webhook
// secret, a generic source's HMAC secret, password or API key): a shorter
// one could be guessed.
const MinSecretLength = 16

// DefaultMaxBody is the largest inbound post a messaging provider sends:
// their updates are small.
const DefaultMaxBody = 256 << 10

// CheckSecretLength refuses a chosen secret shorter than MinSecretLength,
// naming the credential field; the secret itself is never echoed.
func CheckSecretLength(field, secret string) error {
	if n := utf8.RuneCountInString(secret); n < MinSecretLength {
		return Bad(field, nil, "credentials.%s must be at least %d characters (it is %d): a shorter secret can be guessed", field, MinSecretLength, n)
	}
	return nil
}

// Redacted stands in for a secret in answers.
const Redacted = "********"

// Bad returns the *hookgate.Error for a malformed credential field.
func Bad(field string, value any, format string, args ...any) error {
	return hookgate.InvalidParam("credentials."+field, value, format, args...)
}

// Missing returns the *hookgate.Error for a missing credential field.
func Missing(field string) error { return hookgate.MissingParam("credentials." + field) }

// DecodeCredentials decodes a credentials object into v, refusing unknown
// fields; errors name the parameter "credentials".
func DecodeCredentials(creds json.RawMessage, v any) error {
	dec := json.NewDecoder(bytes.NewReader(creds))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return hookgate.InvalidParam("credentials", nil, "credentials: %v", err)
	}
	return nil
}
