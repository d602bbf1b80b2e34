// Package discord is Hookgate's Discord provider. Discord posts
// interactions (slash commands, buttons and menus, autocomplete, modals) to
// the application's interactions endpoint URL, signed with the
// application's Ed25519 key; Hookgate registers that URL and sends channel
// messages with the bot token.
package discord

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
)

const (
	name           = "discord"
	defaultBaseURL = "https://discord.com/api/v10"

	// window bounds how far a signed timestamp may be from the arrival
	// time: a captured post replayed later is refused even though its
	// signature still holds.
	window = 5 * time.Minute

	// discordEpoch is where snowflake timestamps count from (2015-01-01),
	// in Unix milliseconds.
	discordEpoch = 1420070400000

	// maxRetryAfter caps a wait Discord asks for, so that an absurd value
	// cannot overflow a Duration or park a send for days.
	maxRetryAfter = 24 * time.Hour

	// userAgent is the form Discord requires of API clients; requests
	// without it may be blocked before they reach the API.
	userAgent = "DiscordBot (https://github.com/hookgate/hookgate, 1)"
)

// Interaction types, as Discord numbers them.
const (
	typePing         = 1
	typeCommand      = 2
	typeComponent    = 3
	typeAutocomplete = 4
	typeModalSubmit  = 5
)

// Provider is the Discord provider; it holds no state, so one value serves
// every platform.
type Provider struct{}

// New returns the Discord provider.
func New() platforms.Provider { return &Provider{} }

var (
	_ platforms.Provider     = (*Provider)(nil)
	_ platforms.Acknowledger = (*Provider)(nil)
)

// credentials are a Discord platform's stored credentials.
type credentials struct {
	ApplicationID string `json:"applicationId"`
	PublicKey     string `json:"publicKey"`
	BotToken      string `json:"botToken"`
}

// Name returns "discord".
func (*Provider) Name() string { return name }

// Info lists Discord's credentials: the bot token is secret, the
// application ID and public key are not.
func (*Provider) Info() platforms.Info {
	return platforms.Info{Title: "Discord",
		Fields:       []platforms.Field{{Name: "applicationId"}, {Name: "publicKey"}, {Name: "botToken", Secret: true}},
		Capabilities: []platforms.Capability{platforms.CanRegister, platforms.CanUnregister, platforms.CanStatus, platforms.CanSend, platforms.CanNormalize}}
}

// DefaultBaseURL returns Discord's public API, version 10.
func (*Provider) DefaultBaseURL() string { return defaultBaseURL }

// CheckCredentials validates {applicationId, publicKey, botToken} and
// returns them trimmed, with the public key in lower case.
func (*Provider) CheckCredentials(raw json.RawMessage) (json.RawMessage, error) {
	var c credentials
	if err := platforms.DecodeCredentials(raw, &c); err != nil {
		return nil, err
	}
	c.ApplicationID = strings.TrimSpace(c.ApplicationID)
	c.PublicKey = strings.ToLower(strings.TrimSpace(c.PublicKey))
	c.BotToken = strings.TrimSpace(c.BotToken)

	switch {
	case c.ApplicationID == "":
		return nil, platforms.Missing("applicationId")
	case !isSnowflake(c.ApplicationID):
		return nil, platforms.Bad("applicationId", c.ApplicationID,
			"a Discord application ID is a snowflake: 17 to 20 digits")
	}
	if c.PublicKey == "" {
		return nil, platforms.Missing("publicKey")
	}
	if _, err := publicKey(c.PublicKey); err != nil {
		// The public key is not a secret, so echoing it helps spot a
		// pasted client secret or a truncated copy.
		return nil, platforms.Bad("publicKey", c.PublicKey,
			"a Discord public key is 64 hex characters (32 bytes), as shown on the application's General Information page")
	}
	switch {
	case c.BotToken == "":
		return nil, platforms.Missing("botToken")
	case !isToken(c.BotToken):
		return nil, platforms.Bad("botToken", nil,
			"a bot token is printable ASCII without spaces; paste it without the \"Bot \" prefix")
	}
	return json.Marshal(c)
}

// Redact hides the bot token; the application ID and the public key are
// not secrets.
func (*Provider) Redact(raw json.RawMessage) json.RawMessage {
	var c credentials
	if json.Unmarshal(raw, &c) != nil {
		// What cannot be read cannot be sorted into secrets and
		// identifiers, so none of it is shown.
		return json.RawMessage(`{}`)
	}
	if c.BotToken != "" {
		c.BotToken = platforms.Redacted
	}
	b, _ := json.Marshal(c)
	return b
}

// MaxBody is 256 KiB: an interaction with its resolved objects.
func (*Provider) MaxBody() int64 { return platforms.DefaultMaxBody }

// CheckHeader refuses a post without a well-formed Ed25519 signature and
// a fresh timestamp, before its body is read.
func (p *Provider) CheckHeader(in *platforms.Inbound) error {
	_, _, _, err := p.header(in)
	return err
}

// header makes the checks that need no body and returns the public key,
// the signature and the signed timestamp.
func (*Provider) header(in *platforms.Inbound) (ed25519.PublicKey, []byte, string, error) {
	if in.Method != http.MethodPost {
		return nil, nil, "", fmt.Errorf("discord: interactions are POSTed, not %s", in.Method)
	}
	c, err := load(in.Platform)
	if err != nil {
		return nil, nil, "", err
	}
	key, err := publicKey(c.PublicKey)
	if err != nil {
		return nil, nil, "", errors.New("discord: the stored public key is not an Ed25519 key")
	}
	sigHex := in.Header.Get("X-Signature-Ed25519")
	if sigHex == "" {
		return nil, nil, "", errors.New("discord: no X-Signature-Ed25519 header")
	}
	sig, err := hex.DecodeString(sigHex)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, nil, "", errors.New("discord: X-Signature-Ed25519 is not a hex Ed25519 signature")
	}
	ts := in.Header.Get("X-Signature-Timestamp")
	if ts == "" {
		return nil, nil, "", errors.New("discord: no X-Signature-Timestamp header")
	}
	if err := platforms.Fresh("X-Signature-Timestamp", ts, in.Now, window); err != nil {
		return nil, nil, "", err
	}
	return key, sig, ts, nil
}

// Verify checks the Ed25519 signature Discord puts on every interaction
// and answers its PING. Discord checks a new endpoint by also sending
// badly signed posts and expecting a 401, so every doubt is an error.
func (p *Provider) Verify(in *platforms.Inbound) (*platforms.Reply, error) {
	key, sig, ts, err := p.header(in)
	if err != nil {
		return nil, err
	}
	msg := make([]byte, 0, len(ts)+len(in.Body))
	msg = append(append(msg, ts...), in.Body...)
	if !ed25519.Verify(key, msg, sig) {
		return nil, errors.New("discord: the signature does not match")
	}
	var i struct {
		Type int `json:"type"`
	}
	if json.Unmarshal(in.Body, &i) == nil && i.Type == typePing {
		return reply(`{"type":1}`), nil
	}
	return nil, nil
}

// Ack answers an accepted interaction within Discord's three seconds by
// deferring it: the project's receiver then has fifteen minutes to follow
// up with the interaction token found in the event's raw payload.
func (*Provider) Ack(in *platforms.Inbound) *platforms.Reply {
	var i struct {
		Type int `json:"type"`
	}
	if json.Unmarshal(in.Body, &i) != nil {
		return nil
	}
	switch i.Type {
	case typeCommand, typeModalSubmit:
		return reply(`{"type":5}`)
	case typeComponent:
		return reply(`{"type":6}`)
	case typeAutocomplete:
		// Autocomplete cannot be deferred; no choices is the only answer
		// that does not need the receiver.
		return reply(`{"type":8,"data":{"choices":[]}}`)
	}
	return nil
}

func reply(body string) *platforms.Reply {
	return &platforms.Reply{Status: http.StatusOK, ContentType: "application/json", Body: []byte(body)}
}

type interaction struct {
	ID   string `json:"id"`
	Type int    `json:"type"`
	Data *struct {
		Name     string   `json:"name"`
		CustomID string   `json:"custom_id"`
		Options  []option `json:"options"`
	} `json:"data"`
	GuildID   string `json:"guild_id"`
	ChannelID string `json:"channel_id"`
	Channel   *struct {
		ID string `json:"id"`
	} `json:"channel"`
	Member *struct {
		User *user `json:"user"`
	} `json:"member"`
	User *user `json:"user"`
}

type option struct {
	Name string `json:"name"`
	// Value is raw because Discord sends strings, integers, numbers and
	// booleans, and integers may exceed what a float64 holds exactly.
	Value   json.RawMessage `json:"value"`
	Options []option        `json:"options"`
}

type user struct {
	ID         string `json:"id"`
	Username   string `json:"username"`
	GlobalName string `json:"global_name"`
}

// Normalize turns an interaction into interaction.received; a PING, which
// Verify answered, gives none.
func (*Provider) Normalize(in *platforms.Inbound) ([]platforms.Event, error) {
	var i interaction
	if err := json.Unmarshal(in.Body, &i); err != nil {
		return nil, fmt.Errorf("discord: the interaction is not JSON: %w", err)
	}
	ev := platforms.Event{Type: platforms.EventPlatform, Raw: json.RawMessage(in.Body), DedupKey: i.ID}
	switch i.Type {
	case typePing:
		return nil, nil
	case typeCommand, typeComponent, typeAutocomplete, typeModalSubmit:
		ev.Type = platforms.EventInteractionReceived
	}

	msg := &platforms.Message{ID: i.ID, Timestamp: snowflakeTime(i.ID)}
	if d := i.Data; d != nil {
		if i.Type == typeCommand || i.Type == typeAutocomplete {
			words := []string{d.Name}
			msg.Text = strings.Join(optionWords(words, d.Options), " ")
		} else {
			msg.Text = d.CustomID
		}
	}
	ev.Message = msg

	chat := &platforms.Chat{ID: i.ChannelID, Type: "dm"}
	if chat.ID == "" && i.Channel != nil {
		chat.ID = i.Channel.ID
	}
	from := i.User
	if i.GuildID != "" {
		chat.Type = "guild"
		if i.Member != nil && i.Member.User != nil {
			from = i.Member.User
		}
	}
	ev.Chat = chat
	if from != nil {
		ev.From = &platforms.User{ID: from.ID, Name: from.GlobalName, Username: from.Username}
	}
	return []platforms.Event{ev}, nil
}

// optionWords appends "name=value" for each option; a subcommand or a
// group carries no value, so its name is a word and its options follow.
func optionWords(words []string, opts []option) []string {
	for _, o := range opts {
		if len(o.Value) == 0 || string(o.Value) == "null" {
			words = append(words, o.Name)
			words = optionWords(words, o.Options)
			continue
		}
		v := string(o.Value)
		var s string
		if json.Unmarshal(o.Value, &s) == nil {
			v = s
		}
		words = append(words, o.Name+"="+v)
	}
	return words
}

// snowflakeTime is when Discord made the ID; zero when it is not one.
func snowflakeTime(id string) time.Time {
	n, err := strconv.ParseUint(id, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.UnixMilli(int64(n>>22) + discordEpoch).UTC()
}

type application struct {
	ID string `json:"id"`
	// InteractionsEndpointURL is a pointer so that Discord's null stays
	// null in the answer rather than becoming "".
	InteractionsEndpointURL *string `json:"interactions_endpoint_url"`
}

// Register sets the application's interactions endpoint URL; Discord
// checks it at once with a PING and a badly signed post, so Verify must
// already answer for the platform.
func (p *Provider) Register(ctx context.Context, c *platforms.Call) (*platforms.Registration, error) {
	// Discord accepts the URL only once it answered the checks, so a 2xx
	// means it posts there now.
	_, resp, err := p.editApplication(ctx, c, c.InboundURL)
	if err != nil {
		return nil, err
	}
	return &platforms.Registration{Registered: true, Response: resp}, nil
}

// Unregister clears the application's interactions endpoint URL, which
// sends interactions back to the gateway connection, if any.
func (p *Provider) Unregister(ctx context.Context, c *platforms.Call) (json.RawMessage, error) {
	_, resp, err := p.editApplication(ctx, c, nil)
	return resp, err
}

func (p *Provider) editApplication(ctx context.Context, c *platforms.Call, url any) (*application, json.RawMessage, error) {
	a, err := p.call(ctx, c, http.MethodPatch, "/applications/@me",
		map[string]any{"interactions_endpoint_url": url})
	if err != nil {
		return nil, nil, err
	}
	return parseApplication(a)
}

// Status reads the application's interactions endpoint URL.
func (p *Provider) Status(ctx context.Context, c *platforms.Call) (*platforms.WebhookStatus, error) {
	a, err := p.call(ctx, c, http.MethodGet, "/applications/@me", nil)
	if err != nil {
		return nil, err
	}
	app, resp, err := parseApplication(a)
	if err != nil {
		return nil, err
	}
	st := &platforms.WebhookStatus{Response: resp}
	if app.InteractionsEndpointURL != nil {
		st.URL = *app.InteractionsEndpointURL
	}
	st.Registered = st.URL != "" && st.URL == c.InboundURL
	if st.URL == "" {
		st.LastError = "interactions endpoint URL not set"
	}
	return st, nil
}

// parseApplication keeps only the ID and the endpoint URL of the
// application object: the rest (owner, team, flags, install settings) is
// not Hookgate's to show.
func parseApplication(a *platforms.Answer) (*application, json.RawMessage, error) {
	var app application
	if err := json.Unmarshal(a.Body, &app); err != nil || app.ID == "" {
		return nil, nil, malformed()
	}
	resp, _ := json.Marshal(app)
	return &app, resp, nil
}

// Send posts text to a channel (a DM channel included) as the bot.
func (p *Provider) Send(ctx context.Context, c *platforms.Call, to, text string) (*platforms.Sent, error) {
	// to goes into the path, so anything but a snowflake could reach
	// another endpoint.
	if !isSnowflake(to) {
		return nil, hookgate.InvalidParam("to", to, "a Discord channel ID is a snowflake: 17 to 20 digits")
	}
	a, err := p.call(ctx, c, http.MethodPost, "/channels/"+to+"/messages", map[string]any{"content": text,
		// A message sent for a client pings nobody: no @everyone, role or user mentions.
		"allowed_mentions": map[string]any{"parse": []string{}}})
	if err != nil {
		return nil, err
	}
	var m struct {
		ID        string `json:"id"`
		ChannelID string `json:"channel_id"`
		Timestamp string `json:"timestamp"`
	}
	if json.Unmarshal(a.Body, &m) != nil || m.ID == "" {
		return nil, malformed()
	}
	resp, _ := json.Marshal(m)
	return &platforms.Sent{ProviderMessageID: m.ID, Response: resp}, nil
}

// call sends one request with the bot token and turns a non-2xx answer
// into a *platforms.ProviderError.
func (*Provider) call(ctx context.Context, c *platforms.Call, method, path string, body any) (*platforms.Answer, error) {
	cr, err := load(c.Platform)
	if err != nil {
		return nil, err
	}
	if c.Client == nil {
		return nil, errors.New("discord: the call has no HTTP client")
	}
	base := c.BaseURL
	if base == "" {
		base = defaultBaseURL
	}
	h := http.Header{}
	h.Set("Authorization", "Bot "+cr.BotToken)
	h.Set("User-Agent", userAgent)
	a, err := platforms.Do(ctx, c.Client, method, base+path, h, body)
	if err != nil {
		return nil, err
	}
	if a.Status < 200 || a.Status > 299 {
		return nil, refusal(a, cr.BotToken)
	}
	return a, nil
}

// refusal reads Discord's error object: its message, the field errors
// nested under "errors" (which say what was wrong with the form), and for
// a 429 the wait.
func refusal(a *platforms.Answer, token string) *platforms.ProviderError {
	var b struct {
		Message    string          `json:"message"`
		Errors     json.RawMessage `json:"errors"`
		RetryAfter *float64        `json:"retry_after"`
	}
	_ = json.Unmarshal(a.Body, &b)
	msg := b.Message
	if msg == "" {
		msg = http.StatusText(a.Status)
	}
	if fields := fieldErrors(nil, b.Errors, "", 0); len(fields) > 0 {
		msg += ": " + strings.Join(fields, "; ")
	}
	e := &platforms.ProviderError{Status: a.Status, Message: platforms.Scrub(msg, token)}
	if a.Status == http.StatusTooManyRequests {
		if b.RetryAfter != nil && *b.RetryAfter > 0 {
			e.RetryAfter = capRetry(*b.RetryAfter)
		} else {
			e.RetryAfter = capRetry(platforms.RetryAfterHeader(a.Header).Seconds())
		}
	}
	return e
}

// fieldErrors collects the "_errors" lists of Discord's nested error
// object, each prefixed by its field path, in a stable order.
func fieldErrors(out []string, raw json.RawMessage, path string, depth int) []string {
	var obj map[string]json.RawMessage
	if depth > 8 || json.Unmarshal(raw, &obj) != nil {
		return out
	}
	if list, ok := obj["_errors"]; ok {
		var errs []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		}
		_ = json.Unmarshal(list, &errs)
		for _, e := range errs {
			m := e.Message
			if m == "" {
				m = e.Code
			}
			if path != "" {
				m = path + ": " + m
			}
			out = append(out, m)
		}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		if k != "_errors" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		sub := k
		if path != "" {
			sub = path + "." + k
		}
		out = fieldErrors(out, obj[k], sub, depth+1)
	}
	return out
}

func capRetry(secs float64) time.Duration {
	if secs <= 0 {
		return 0
	}
	if secs >= maxRetryAfter.Seconds() {
		return maxRetryAfter
	}
	return time.Duration(secs * float64(time.Second))
}

// malformed is a 2xx answer that is not what Discord documents; 502 says
// the gateway got an answer it could not use.
func malformed() *platforms.ProviderError {
	return &platforms.ProviderError{Status: http.StatusBadGateway, Message: "the answer is not the JSON Discord documents"}
}

func load(p *hookgate.Platform) (*credentials, error) {
	var c credentials
	if p == nil || json.Unmarshal(p.Credentials, &c) != nil {
		return nil, errors.New("discord: the platform's credentials cannot be read")
	}
	return &c, nil
}

func publicKey(s string) (ed25519.PublicKey, error) {
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != ed25519.PublicKeySize {
		return nil, errors.New("not a 32-byte hex key")
	}
	return ed25519.PublicKey(b), nil
}

func isSnowflake(s string) bool {
	if len(s) < 17 || len(s) > 20 || strings.Trim(s, "0123456789") != "" {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// isToken accepts what can go into an Authorization header unchanged.
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] > '~' {
			return false
		}
	}
	return s != ""
}
