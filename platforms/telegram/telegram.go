// Package telegram is the Telegram Bot API provider. Register hands
// Telegram the inbound URL with setWebhook and a secret token, which
// Telegram then sends back in a header with every update it posts; that
// header is the only proof of origin, since updates are not signed.
package telegram

import (
	"bytes"
	"cmp"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
)

// Name is the provider's name in the API.
const Name = "telegram"

// DefaultBaseURL is Telegram's public Bot API.
const DefaultBaseURL = "https://api.telegram.org"

// SecretHeader is the header in which Telegram sends the secret token that
// setWebhook gave it.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// allowedUpdates are the update kinds Normalize gives a meaning to; asking
// for no others spares deliveries that would only be platform.event.
var allowedUpdates = []string{"message", "edited_message", "channel_post", "edited_channel_post", "callback_query"}

var (
	botTokenRE = regexp.MustCompile(`^[0-9]{3,15}:[A-Za-z0-9_-]{30,64}$`)
	// secretRE is what Telegram accepts as a secret_token.
	secretRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,256}$`)
)

// Provider is the Telegram provider; its zero value is ready to use.
type Provider struct{}

// New returns the Telegram provider.
func New() platforms.Provider { return &Provider{} }

var _ platforms.Provider = (*Provider)(nil)

// Name returns "telegram".
func (*Provider) Name() string { return Name }

// Info lists Telegram's credentials, both secret.
func (*Provider) Info() platforms.Info {
	return platforms.Info{Title: "Telegram",
		Fields:       []platforms.Field{{Name: "botToken", Secret: true}, {Name: "webhookSecret", Secret: true}},
		Capabilities: []platforms.Capability{platforms.CanRegister, platforms.CanUnregister, platforms.CanStatus, platforms.CanSend, platforms.CanNormalize}}
}

// DefaultBaseURL returns Telegram's public Bot API.
func (*Provider) DefaultBaseURL() string { return DefaultBaseURL }

// credentials is a Telegram platform's credentials object.
type credentials struct {
	BotToken string `json:"botToken"`
	// WebhookSecret is left empty by users and filled by Register, so
	// that nobody has to invent one.
	WebhookSecret string `json:"webhookSecret,omitempty"`
}

// parse decodes and validates credentials, as given or as stored.
func parse(raw json.RawMessage) (*credentials, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, hookgate.MissingParam("credentials")
	}
	// DecodeCredentials reads one value and would ignore what follows it.
	if !json.Valid(raw) {
		return nil, hookgate.InvalidParam("credentials", nil, "credentials must be one JSON object")
	}
	var cr credentials
	if err := platforms.DecodeCredentials(raw, &cr); err != nil {
		return nil, err
	}
	// Tokens are pasted; a stray newline is not part of them.
	cr.BotToken = strings.TrimSpace(cr.BotToken)
	cr.WebhookSecret = strings.TrimSpace(cr.WebhookSecret)
	switch {
	case cr.BotToken == "":
		return nil, platforms.Missing("botToken")
	case cr.BotToken == platforms.Redacted:
		return nil, platforms.Bad("botToken", nil, "botToken is the redaction mark %s, not a token", platforms.Redacted)
	case !botTokenRE.MatchString(cr.BotToken):
		return nil, platforms.Bad("botToken", nil, "botToken must be the token BotFather gave, such as 123456789:AAF… (digits, a colon, 30 to 64 letters, digits, _ or -)")
	case cr.WebhookSecret != "" && !secretRE.MatchString(cr.WebhookSecret):
		return nil, platforms.Bad("webhookSecret", nil, "webhookSecret must be 1 to 256 letters, digits, _ or - (leave it out to have one generated)")
	}
	return &cr, nil
}

// load returns the stored credentials of a call's or a post's platform.
func load(p *hookgate.Platform) (*credentials, error) {
	if p == nil {
		return nil, errors.New("telegram: no platform")
	}
	return parse(p.Credentials)
}

// secrets are what Scrub must remove from anything shown.
func (cr *credentials) secrets() []string {
	return []string{cr.BotToken, cr.WebhookSecret}
}

// CheckCredentials validates {"botToken", "webhookSecret"} and returns
// them normalized. The webhook secret is not generated here but by
// Register, which is where Telegram learns it.
func (*Provider) CheckCredentials(creds json.RawMessage) (json.RawMessage, error) {
	cr, err := parse(creds)
	if err != nil {
		return nil, err
	}
	if cr.WebhookSecret != "" {
		if err := platforms.CheckSecretLength("webhookSecret", cr.WebhookSecret); err != nil {
			return nil, err
		}
	}
	return json.Marshal(cr)
}

// Redact replaces the bot token and the webhook secret by the redaction
// mark. Both are secrets: the token is the bot itself.
func (*Provider) Redact(creds json.RawMessage) json.RawMessage {
	var cr credentials
	if json.Unmarshal(creds, &cr) != nil {
		// What cannot be read cannot be sorted into secrets and not.
		return json.RawMessage("{}")
	}
	if cr.BotToken != "" {
		cr.BotToken = platforms.Redacted
	}
	if cr.WebhookSecret != "" {
		cr.WebhookSecret = platforms.Redacted
	}
	b, _ := json.Marshal(&cr)
	return b
}

// MaxBody is 256 KiB: an update is a message of at most 4,096
// characters with its metadata.
func (*Provider) MaxBody() int64 { return platforms.DefaultMaxBody }

// CheckHeader accepts a POST whose secret token header is the platform's
// webhook secret. A platform never registered has no secret, and then
// nothing proves a post's origin: it is refused. Telegram does not sign
// the body, so this is the whole verification.
func (*Provider) CheckHeader(in *platforms.Inbound) error {
	if in.Method != http.MethodPost {
		return fmt.Errorf("telegram: method %q: Telegram only posts", in.Method)
	}
	cr, err := load(in.Platform)
	if err != nil {
		return fmt.Errorf("telegram: stored credentials: %w", err)
	}
	if cr.WebhookSecret == "" {
		return errors.New("telegram: no webhookSecret: the platform was never registered")
	}
	got := in.Header.Values(SecretHeader)
	switch {
	case len(got) == 0:
		return errors.New("telegram: no " + SecretHeader + " header")
	case len(got) > 1:
		// Telegram sends one; which of several a proxy would pick is
		// anyone's guess.
		return errors.New("telegram: more than one " + SecretHeader + " header")
	case !platforms.Equal(got[0], cr.WebhookSecret):
		return errors.New("telegram: wrong " + SecretHeader)
	}
	return nil
}

// Verify is CheckHeader: the secret token is Telegram's only proof.
func (p *Provider) Verify(in *platforms.Inbound) (*platforms.Reply, error) {
	return nil, p.CheckHeader(in)
}

// update is the part of a Telegram Update that Normalize reads.
type update struct {
	// UpdateID is a pointer because 0 is a valid ID and absence is not.
	UpdateID          *int64         `json:"update_id"`
	Message           *message       `json:"message"`
	EditedMessage     *message       `json:"edited_message"`
	ChannelPost       *message       `json:"channel_post"`
	EditedChannelPost *message       `json:"edited_channel_post"`
	CallbackQuery     *callbackQuery `json:"callback_query"`
}

type message struct {
	MessageID int64  `json:"message_id"`
	Date      int64  `json:"date"`
	Text      string `json:"text"`
	Caption   string `json:"caption"`
	Chat      *chat  `json:"chat"`
	From      *user  `json:"from"`
}

type chat struct {
	ID   int64  `json:"id"`
	Type string `json:"type"`
}

type user struct {
	ID        int64  `json:"id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Username  string `json:"username"`
}

type callbackQuery struct {
	ID   string `json:"id"`
	Data string `json:"data"`
	From *user  `json:"from"`
	// Message is the message whose button was pressed; absent for
	// inline-mode messages, which belong to no chat the bot sees.
	Message *message `json:"message"`
}

// Normalize turns an Update into one event: messages and channel posts
// are message.received, their edits message.edited, a button press
// interaction.received, anything else platform.event. DedupKey is the
// update_id, which Telegram keeps when it retries.
func (*Provider) Normalize(in *platforms.Inbound) ([]platforms.Event, error) {
	if b := bytes.TrimLeft(in.Body, " \t\r\n"); len(b) == 0 || b[0] != '{' {
		return nil, errors.New("telegram: the update is not a JSON object")
	}
	var u update
	if err := json.Unmarshal(in.Body, &u); err != nil {
		return nil, fmt.Errorf("telegram: the update: %w", err)
	}
	ev := platforms.Event{Type: platforms.EventPlatform, Raw: bytes.Clone(in.Body)}
	if u.UpdateID != nil {
		ev.DedupKey = strconv.FormatInt(*u.UpdateID, 10)
	}
	switch {
	case u.Message != nil:
		ev.Type = platforms.EventMessageReceived
		u.Message.fill(&ev)
	case u.EditedMessage != nil:
		ev.Type = platforms.EventMessageEdited
		u.EditedMessage.fill(&ev)
	case u.ChannelPost != nil:
		ev.Type = platforms.EventMessageReceived
		u.ChannelPost.fill(&ev)
	case u.EditedChannelPost != nil:
		ev.Type = platforms.EventMessageEdited
		u.EditedChannelPost.fill(&ev)
	case u.CallbackQuery != nil:
		q := u.CallbackQuery
		ev.Type = platforms.EventInteractionReceived
		ev.Message = &platforms.Message{ID: q.ID, Text: q.Data}
		ev.From = q.From.normalize()
		if q.Message != nil {
			ev.Chat = q.Message.Chat.normalize()
		}
	}
	return []platforms.Event{ev}, nil
}

func (m *message) fill(ev *platforms.Event) {
	ev.Message = &platforms.Message{ID: id(m.MessageID), Text: cmp.Or(m.Text, m.Caption)}
	if m.Date != 0 {
		ev.Message.Timestamp = time.Unix(m.Date, 0).UTC()
	}
	ev.Chat = m.Chat.normalize()
	// Channel posts have no from: the channel itself speaks.
	ev.From = m.From.normalize()
}

func (c *chat) normalize() *platforms.Chat {
	if c == nil {
		return nil
	}
	return &platforms.Chat{ID: id(c.ID), Type: c.Type}
}

func (u *user) normalize() *platforms.User {
	if u == nil {
		return nil
	}
	return &platforms.User{ID: id(u.ID), Name: strings.TrimSpace(u.FirstName + " " + u.LastName), Username: u.Username}
}

// id formats a Telegram ID; Telegram uses no 0, so 0 means absent.
func id(n int64) string {
	if n == 0 {
		return ""
	}
	return strconv.FormatInt(n, 10)
}

// answer is the envelope of every Bot API answer.
type answer struct {
	status      int
	OK          bool            `json:"ok"`
	Result      json.RawMessage `json:"result"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

// call calls the Bot API method and returns its envelope and its body,
// scrubbed; a refusal is a *platforms.ProviderError.
func call(ctx context.Context, c *platforms.Call, cr *credentials, httpMethod, method string, body any) (*answer, json.RawMessage, error) {
	if c.Client == nil {
		// Falling back on a default client would escape the network policy.
		return nil, nil, errors.New("telegram: the call has no HTTP client")
	}
	secrets := cr.secrets()
	res, err := platforms.Do(ctx, c.Client, httpMethod, c.BaseURL+"/bot"+cr.BotToken+"/"+method, nil, body)
	if err != nil {
		var pe *platforms.ProviderError
		if errors.As(err, &pe) {
			pe.Message = platforms.Scrub(pe.Message, secrets...)
			return nil, nil, pe
		}
		// A malformed apiBaseUrl: the error quotes the URL, token included.
		return nil, nil, &platforms.ProviderError{Message: platforms.Scrub(err.Error(), secrets...)}
	}
	var a answer
	jerr := json.Unmarshal(res.Body, &a)
	ok2xx := res.Status >= 200 && res.Status < 300
	if ok2xx && jerr == nil && a.OK {
		a.status = res.Status
		return &a, json.RawMessage(platforms.Scrub(string(res.Body), secrets...)), nil
	}
	pe := &platforms.ProviderError{Status: res.Status}
	switch {
	case jerr == nil && a.Description != "":
		pe.Message = a.Description
	case jerr != nil && ok2xx:
		pe.Message = "the answer is not the Bot API's JSON"
	case ok2xx:
		pe.Message = "Telegram answered ok:false without a description"
	default:
		pe.Message = cmp.Or(http.StatusText(res.Status), "refused")
	}
	pe.Message = platforms.Scrub(pe.Message, secrets...)
	if res.Status == http.StatusTooManyRequests || a.ErrorCode == http.StatusTooManyRequests {
		pe.RetryAfter = time.Duration(a.Parameters.RetryAfter) * time.Second
		if pe.RetryAfter <= 0 {
			pe.RetryAfter = platforms.RetryAfterHeader(res.Header)
		}
	}
	return nil, nil, pe
}

// Register calls setWebhook with the inbound URL and the webhook secret,
// generating the secret when there is none yet; the new credentials are
// then in the Registration, to be stored.
func (*Provider) Register(ctx context.Context, c *platforms.Call) (*platforms.Registration, error) {
	cr, err := load(c.Platform)
	if err != nil {
		return nil, err
	}
	if c.InboundURL == "" {
		// setWebhook with an empty url removes the webhook.
		return nil, errors.New("telegram: no inbound URL to register")
	}
	var fresh json.RawMessage
	if cr.WebhookSecret == "" {
		b := make([]byte, 32)
		_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
		cr.WebhookSecret = base64.RawURLEncoding.EncodeToString(b)
		if fresh, err = json.Marshal(cr); err != nil {
			return nil, err
		}
	}
	_, body, err := call(ctx, c, cr, http.MethodPost, "setWebhook", struct {
		URL            string   `json:"url"`
		SecretToken    string   `json:"secret_token"`
		AllowedUpdates []string `json:"allowed_updates"`
	}{c.InboundURL, cr.WebhookSecret, allowedUpdates})
	if err != nil {
		return nil, err
	}
	return &platforms.Registration{Registered: true, Response: body, Credentials: fresh}, nil
}

// Unregister calls deleteWebhook. The webhook secret is kept: a later
// Register sends it again.
func (*Provider) Unregister(ctx context.Context, c *platforms.Call) (json.RawMessage, error) {
	cr, err := load(c.Platform)
	if err != nil {
		return nil, err
	}
	_, body, err := call(ctx, c, cr, http.MethodPost, "deleteWebhook", nil)
	return body, err
}

// Status calls getWebhookInfo.
func (*Provider) Status(ctx context.Context, c *platforms.Call) (*platforms.WebhookStatus, error) {
	cr, err := load(c.Platform)
	if err != nil {
		return nil, err
	}
	a, body, err := call(ctx, c, cr, http.MethodGet, "getWebhookInfo", nil)
	if err != nil {
		return nil, err
	}
	var info struct {
		URL                string `json:"url"`
		PendingUpdateCount int    `json:"pending_update_count"`
		LastErrorDate      int64  `json:"last_error_date"`
		LastErrorMessage   string `json:"last_error_message"`
	}
	if err := json.Unmarshal(a.Result, &info); err != nil {
		return nil, &platforms.ProviderError{Status: a.status, Message: "getWebhookInfo answered no WebhookInfo"}
	}
	st := &platforms.WebhookStatus{
		URL:            info.URL,
		Registered:     info.URL != "" && info.URL == c.InboundURL,
		PendingUpdates: info.PendingUpdateCount,
		LastError:      platforms.Scrub(info.LastErrorMessage, cr.secrets()...),
		Response:       body,
	}
	if info.LastErrorDate > 0 {
		st.LastErrorAt = time.Unix(info.LastErrorDate, 0).UTC()
	}
	if info.URL == "" && st.LastError == "" {
		st.LastError = "webhook URL not set"
	}
	return st, nil
}

// Send calls sendMessage; to is a chat ID or a channel's @username, both
// of which Telegram takes as a string.
func (*Provider) Send(ctx context.Context, c *platforms.Call, to, text string) (*platforms.Sent, error) {
	cr, err := load(c.Platform)
	if err != nil {
		return nil, err
	}
	a, body, err := call(ctx, c, cr, http.MethodPost, "sendMessage", struct {
		ChatID string `json:"chat_id"`
		Text   string `json:"text"`
	}{to, text})
	if err != nil {
		return nil, err
	}
	var m struct {
		MessageID int64 `json:"message_id"`
	}
	if json.Unmarshal(a.Result, &m) != nil || m.MessageID == 0 {
		return nil, &platforms.ProviderError{Status: a.status, Message: "sendMessage answered no message_id"}
	}
	return &platforms.Sent{ProviderMessageID: strconv.FormatInt(m.MessageID, 10), Response: body}, nil
}
