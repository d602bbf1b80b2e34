// Package slack is Hookgate's Slack provider. Slack posts Events API
// callbacks, interactivity payloads and slash commands to the app's
// request URLs, signed with the app's signing secret; Hookgate sends
// messages with the bot token and, given an app configuration token, sets
// the Events API request URL through the app manifest.
package slack

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
)

const (
	name           = "slack"
	defaultBaseURL = "https://slack.com/api"

	// window bounds how far the signed timestamp may be from the arrival
	// time, which is what stops a captured post from being replayed.
	window = 5 * time.Minute

	// refused is the status of Slack's HTTP 200 {"ok":false}: a 200 would
	// read as success to whoever handles the ProviderError.
	refused = http.StatusBadRequest

	// maxRetryAfter caps the wait a 429 asks for.
	maxRetryAfter = 24 * time.Hour

	instructions = "Paste the inbound URL into your Slack app's Event Subscriptions → Request URL; " +
		"Slack then sends a url_verification challenge that Hookgate answers."
)

// Provider is the Slack provider; it holds no state, so one value serves
// every platform.
type Provider struct{}

// New returns the Slack provider.
func New() platforms.Provider { return &Provider{} }

var _ platforms.Provider = (*Provider)(nil)

// credentials are a Slack platform's stored credentials. AppID and
// ConfigToken are for the manifest API; without them the user registers
// the URL by hand.
type credentials struct {
	SigningSecret string `json:"signingSecret"`
	BotToken      string `json:"botToken"`
	AppID         string `json:"appId,omitempty"`
	ConfigToken   string `json:"configToken,omitempty"`
}

func (c *credentials) secrets() []string {
	return []string{c.SigningSecret, c.BotToken, c.ConfigToken}
}

// Name returns "slack".
func (*Provider) Name() string { return name }

// Info lists Slack's credentials. Slack cannot unregister; it registers
// and tells its status only with a configuration token.
func (*Provider) Info() platforms.Info {
	return platforms.Info{Title: "Slack",
		Fields: []platforms.Field{{Name: "signingSecret", Secret: true}, {Name: "botToken", Secret: true},
			{Name: "appId"}, {Name: "configToken", Secret: true}},
		Capabilities: []platforms.Capability{platforms.CanRegister, platforms.CanStatus, platforms.CanSend, platforms.CanNormalize}}
}

// DefaultBaseURL returns Slack's Web API.
func (*Provider) DefaultBaseURL() string { return defaultBaseURL }

// CheckCredentials validates {signingSecret, botToken, appId, configToken}
// and returns them trimmed.
func (*Provider) CheckCredentials(raw json.RawMessage) (json.RawMessage, error) {
	var c credentials
	if err := platforms.DecodeCredentials(raw, &c); err != nil {
		return nil, err
	}
	c.SigningSecret = strings.TrimSpace(c.SigningSecret)
	c.BotToken = strings.TrimSpace(c.BotToken)
	c.AppID = strings.TrimSpace(c.AppID)
	c.ConfigToken = strings.TrimSpace(c.ConfigToken)

	// Secrets are never echoed as the value: a refused one may still be a
	// real secret pasted into the wrong field.
	switch {
	case c.SigningSecret == "":
		return nil, platforms.Missing("signingSecret")
	case !alnum(c.SigningSecret):
		return nil, platforms.Bad("signingSecret", nil,
			"a Slack signing secret is letters and digits, from the app's Basic Information → App Credentials (not a token)")
	}
	switch {
	case c.BotToken == "":
		return nil, platforms.Missing("botToken")
	case !strings.HasPrefix(c.BotToken, "xoxb-") || len(c.BotToken) == len("xoxb-") || !isToken(c.BotToken):
		return nil, platforms.Bad("botToken", nil,
			"a Slack bot token starts with \"xoxb-\" and has no spaces (OAuth & Permissions → Bot User OAuth Token)")
	}
	if c.AppID != "" && (c.AppID[0] != 'A' || len(c.AppID) < 2 || !alnum(c.AppID)) {
		return nil, platforms.Bad("appId", c.AppID, "a Slack app ID starts with \"A\", such as A0123456789")
	}
	if c.ConfigToken != "" && (!strings.HasPrefix(c.ConfigToken, "xoxe") || !isToken(c.ConfigToken)) {
		return nil, platforms.Bad("configToken", nil,
			"an app configuration token starts with \"xoxe\" and has no spaces (api.slack.com/apps → Your App Configuration Tokens)")
	}
	// The manifest API needs both: the token to call it, the ID to name
	// the app.
	switch {
	case c.AppID != "" && c.ConfigToken == "":
		return nil, platforms.Missing("configToken")
	case c.ConfigToken != "" && c.AppID == "":
		return nil, platforms.Missing("appId")
	}
	return json.Marshal(c)
}

// Redact hides the signing secret and both tokens; the app ID stays.
func (*Provider) Redact(raw json.RawMessage) json.RawMessage {
	var c credentials
	if json.Unmarshal(raw, &c) != nil {
		// What cannot be read cannot be sorted into secrets and
		// identifiers, so none of it is shown.
		return json.RawMessage(`{}`)
	}
	for _, s := range []*string{&c.SigningSecret, &c.BotToken, &c.ConfigToken} {
		if *s != "" {
			*s = platforms.Redacted
		}
	}
	b, _ := json.Marshal(c)
	return b
}

// MaxBody is 256 KiB: Slack's events and interactions are small.
func (*Provider) MaxBody() int64 { return platforms.DefaultMaxBody }

// CheckHeader refuses a post without a fresh timestamp and a well-formed
// v0 signature, before its body is read.
func (p *Provider) CheckHeader(in *platforms.Inbound) error {
	_, _, _, err := p.header(in)
	return err
}

// header makes the checks that need no body and returns the credentials,
// the signed timestamp and the signature's MAC.
func (*Provider) header(in *platforms.Inbound) (*credentials, string, []byte, error) {
	if in.Method != http.MethodPost {
		return nil, "", nil, fmt.Errorf("slack: requests are POSTed, not %s", in.Method)
	}
	c, err := load(in.Platform)
	if err != nil {
		return nil, "", nil, err
	}
	ts := in.Header.Get("X-Slack-Request-Timestamp")
	if ts == "" {
		return nil, "", nil, errors.New("slack: no X-Slack-Request-Timestamp header")
	}
	if err := platforms.Fresh("X-Slack-Request-Timestamp", ts, in.Now, window); err != nil {
		return nil, "", nil, err
	}
	sig := in.Header.Get("X-Slack-Signature")
	if sig == "" {
		return nil, "", nil, errors.New("slack: no X-Slack-Signature header")
	}
	hexMAC, ok := strings.CutPrefix(sig, "v0=")
	if !ok {
		return nil, "", nil, errors.New("slack: X-Slack-Signature is not a v0 signature")
	}
	got, err := hex.DecodeString(hexMAC)
	if err != nil || len(got) != sha256.Size {
		return nil, "", nil, errors.New("slack: X-Slack-Signature is not a hex HMAC-SHA256")
	}
	return c, ts, got, nil
}

// Verify checks Slack's v0 signature and answers the url_verification
// challenge and the slash-command ssl_check. Slack signs those too, so
// they are answered only once the signature holds.
func (p *Provider) Verify(in *platforms.Inbound) (*platforms.Reply, error) {
	c, ts, got, err := p.header(in)
	if err != nil {
		return nil, err
	}
	if !platforms.EqualMAC(got, sign(c.SigningSecret, ts, in.Body)) {
		return nil, errors.New("slack: the signature does not match")
	}

	if isForm(in) {
		if f, err := url.ParseQuery(string(in.Body)); err == nil && f.Get("ssl_check") == "1" {
			return &platforms.Reply{Status: http.StatusOK, ContentType: "text/plain; charset=utf-8"}, nil
		}
		return nil, nil
	}
	var v struct {
		Type      string `json:"type"`
		Challenge string `json:"challenge"`
	}
	if json.Unmarshal(in.Body, &v) == nil && v.Type == "url_verification" {
		b, _ := json.Marshal(map[string]string{"challenge": v.Challenge})
		return &platforms.Reply{Status: http.StatusOK, ContentType: "application/json", Body: b}, nil
	}
	return nil, nil
}

// sign is Slack's v0 signature: HMAC-SHA256 keyed with the signing
// secret over "v0:{timestamp}:{body}".
func sign(secret, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return m.Sum(nil)
}

// Normalize turns an Events API callback, an interactivity payload or a
// slash command into events.
func (*Provider) Normalize(in *platforms.Inbound) ([]platforms.Event, error) {
	if isForm(in) {
		return normalizeForm(in.Body)
	}
	env, ok := parseObject(in.Body)
	if !ok {
		return nil, errors.New("slack: the body is neither JSON nor a form")
	}
	raw := withoutToken(in.Body)
	switch env.str("type") {
	case "url_verification":
		return nil, nil
	case "event_callback":
	default:
		// app_rate_limited and what Slack adds later.
		return []platforms.Event{{Type: platforms.EventPlatform, Raw: raw, DedupKey: env.str("event_id")}}, nil
	}

	ev := platforms.Event{Type: platforms.EventPlatform, Raw: raw, DedupKey: env.str("event_id")}
	e := env.obj("event")
	chat := &platforms.Chat{ID: e.ref("channel"), Type: e.str("channel_type")}
	msg := e
	switch e.str("type") {
	case "message":
		switch e.str("subtype") {
		// A file upload and a thread reply sent to the channel are
		// people's messages too, just with a subtype.
		case "", "file_share", "thread_broadcast":
			ev.Type = platforms.EventMessageReceived
		case "message_changed":
			ev.Type = platforms.EventMessageEdited
			msg = e.obj("message")
		}
	case "app_mention":
		ev.Type = platforms.EventMessageReceived
		// Mentions are only delivered from channels, and Slack does not
		// say which kind.
		if chat.Type == "" {
			chat.Type = "channel"
		}
	}
	if chat.ID != "" {
		ev.Chat = chat
	}
	if ev.Type != platforms.EventPlatform {
		ev.Message = &platforms.Message{ID: msg.str("client_msg_id"), Text: msg.str("text"), Timestamp: tsTime(msg.str("ts"))}
		if ev.Message.ID == "" {
			ev.Message.ID = msg.str("ts")
		}
	}
	if u := msg.ref("user"); u != "" {
		ev.From = &platforms.User{ID: u}
	}
	return []platforms.Event{ev}, nil
}

// withoutToken drops the top-level "token" of a Slack payload: the
// deprecated verification token is a secret of the app, and events go on
// to every subscribed webhook.
func withoutToken(body []byte) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(body, &m) != nil {
		return json.RawMessage(body)
	}
	if _, ok := m["token"]; !ok {
		return json.RawMessage(body)
	}
	delete(m, "token")
	b, err := json.Marshal(m)
	if err != nil {
		return json.RawMessage(body)
	}
	return b
}

// normalizeForm handles what Slack posts as a form: interactivity (one
// payload field of JSON) and slash commands.
func normalizeForm(body []byte) ([]platforms.Event, error) {
	f, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("slack: the form cannot be read: %w", err)
	}
	if payload := f.Get("payload"); payload != "" {
		p, ok := parseObject([]byte(payload))
		if !ok {
			return nil, errors.New("slack: the interactivity payload is not a JSON object")
		}
		return []platforms.Event{interactivity(p, withoutToken([]byte(payload)))}, nil
	}
	f.Del("token")
	raw, _ := json.Marshal(formObject(f))
	if cmd := f.Get("command"); cmd != "" {
		ev := platforms.Event{
			Type:     platforms.EventInteractionReceived,
			Message:  &platforms.Message{ID: f.Get("trigger_id"), Text: strings.TrimSpace(cmd + " " + f.Get("text"))},
			Raw:      raw,
			DedupKey: f.Get("trigger_id"),
		}
		if id := f.Get("channel_id"); id != "" {
			ev.Chat = &platforms.Chat{ID: id}
		}
		if id := f.Get("user_id"); id != "" {
			ev.From = &platforms.User{ID: id, Username: f.Get("user_name")}
		}
		return []platforms.Event{ev}, nil
	}
	if f.Get("ssl_check") == "1" {
		return nil, nil
	}
	return []platforms.Event{{Type: platforms.EventPlatform, Raw: raw}}, nil
}

// interactivity normalizes block_actions, view_submission, shortcut and
// the other interactivity payloads.
func interactivity(p object, raw json.RawMessage) platforms.Event {
	var action object
	if acts := p.array("actions"); len(acts) > 0 {
		action, _ = parseObject(acts[0])
	}
	text := action.str("action_id")
	if text == "" {
		text = action.str("value")
	}
	if text == "" {
		// A view submission or a shortcut has no action but says which
		// view or shortcut it is.
		text = p.str("callback_id")
		if text == "" {
			text = p.obj("view").str("callback_id")
		}
	}
	actionTS := p.str("action_ts")
	if actionTS == "" {
		actionTS = action.str("action_ts")
	}
	key := p.str("trigger_id")
	if key == "" {
		key = actionTS
	}
	ev := platforms.Event{
		Type:     platforms.EventInteractionReceived,
		Message:  &platforms.Message{ID: p.str("trigger_id"), Text: text, Timestamp: tsTime(actionTS)},
		Raw:      raw,
		DedupKey: key,
	}
	if id := p.ref("channel"); id != "" {
		ev.Chat = &platforms.Chat{ID: id}
	}
	if u := p.obj("user"); u.str("id") != "" {
		ev.From = &platforms.User{ID: u.str("id"), Username: u.str("username"), Name: u.str("name")}
	}
	return ev
}

// formObject is a form as a JSON object; a field sent twice becomes an
// array rather than losing a value.
func formObject(f url.Values) map[string]any {
	m := make(map[string]any, len(f))
	for k, v := range f {
		if len(v) == 1 {
			m[k] = v[0]
		} else {
			m[k] = v
		}
	}
	return m
}

// Register sets the Events API request URL in the app's manifest, which
// needs the configuration token; without it, it says where to paste the
// URL. Slack checks the new URL with a url_verification challenge, so
// Verify must already answer for the platform.
func (p *Provider) Register(ctx context.Context, c *platforms.Call) (*platforms.Registration, error) {
	cr, err := load(c.Platform)
	if err != nil {
		return nil, err
	}
	if cr.ConfigToken == "" {
		resp, _ := json.Marshal(struct {
			Instructions string `json:"instructions"`
			InboundURL   string `json:"inboundUrl"`
		}{instructions, c.InboundURL})
		return &platforms.Registration{Registered: false, Response: resp}, nil
	}
	manifest, err := exportManifest(ctx, c, cr)
	if err != nil {
		return nil, err
	}
	if err := setRequestURL(manifest, c.InboundURL); err != nil {
		return nil, err
	}
	m, err := json.Marshal(manifest)
	if err != nil {
		return nil, err
	}
	// Slack documents the manifest argument as a JSON string.
	a, err := call(ctx, c, "/apps.manifest.update", cr.ConfigToken, cr,
		map[string]string{"app_id": cr.AppID, "manifest": string(m)})
	if err != nil {
		return nil, err
	}
	var r struct {
		OK                 bool   `json:"ok"`
		AppID              string `json:"app_id,omitempty"`
		PermissionsUpdated bool   `json:"permissions_updated"`
	}
	_ = json.Unmarshal(a.Body, &r)
	resp, _ := json.Marshal(r)
	return &platforms.Registration{Registered: true, Response: resp}, nil
}

// Unregister is unsupported: Slack has no way to stop posting but to edit
// the app, and an empty request URL with events subscribed is an invalid
// manifest.
func (*Provider) Unregister(context.Context, *platforms.Call) (json.RawMessage, error) {
	return nil, platforms.ErrUnsupported
}

// Status reads the Events API request URL from the app's manifest; it
// needs the configuration token.
func (*Provider) Status(ctx context.Context, c *platforms.Call) (*platforms.WebhookStatus, error) {
	cr, err := load(c.Platform)
	if err != nil {
		return nil, err
	}
	if cr.ConfigToken == "" {
		return nil, platforms.ErrUnsupported
	}
	manifest, err := exportManifest(ctx, c, cr)
	if err != nil {
		return nil, err
	}
	u := object(manifest).obj("settings").obj("event_subscriptions").str("request_url")
	resp, _ := json.Marshal(map[string]string{"app_id": cr.AppID, "request_url": u})
	st := &platforms.WebhookStatus{URL: u, Registered: u != "" && u == c.InboundURL, Response: resp}
	if u == "" {
		st.LastError = "event subscriptions request URL not set"
	}
	return st, nil
}

func exportManifest(ctx context.Context, c *platforms.Call, cr *credentials) (map[string]json.RawMessage, error) {
	a, err := call(ctx, c, "/apps.manifest.export", cr.ConfigToken, cr, map[string]string{"app_id": cr.AppID})
	if err != nil {
		return nil, err
	}
	var r struct {
		Manifest map[string]json.RawMessage `json:"manifest"`
	}
	if json.Unmarshal(a.Body, &r) != nil || r.Manifest == nil {
		return nil, malformed()
	}
	return r.Manifest, nil
}

// setRequestURL sets settings.event_subscriptions.request_url, creating
// the objects that are missing; every other field is kept as exported,
// since apps.manifest.update replaces the whole configuration.
func setRequestURL(manifest map[string]json.RawMessage, u string) error {
	settings, err := member(manifest, "settings")
	if err != nil {
		return err
	}
	subs, err := member(settings, "event_subscriptions")
	if err != nil {
		return err
	}
	subs["request_url"], _ = json.Marshal(u)
	settings["event_subscriptions"], _ = json.Marshal(subs)
	manifest["settings"], _ = json.Marshal(settings)
	return nil
}

// member is the object under key, empty when absent or null.
func member(parent map[string]json.RawMessage, key string) (map[string]json.RawMessage, error) {
	m := map[string]json.RawMessage{}
	if v, ok := parent[key]; ok && string(v) != "null" {
		if json.Unmarshal(v, &m) != nil {
			return nil, &platforms.ProviderError{Status: http.StatusBadGateway,
				Message: "the exported manifest's " + key + " is not an object"}
		}
	}
	return m, nil
}

// Send posts text to a channel, a private channel or a DM (a user ID
// opens one) as the bot.
func (*Provider) Send(ctx context.Context, c *platforms.Call, to, text string) (*platforms.Sent, error) {
	cr, err := load(c.Platform)
	if err != nil {
		return nil, err
	}
	if to == "" {
		return nil, hookgate.MissingParam("to")
	}
	a, err := call(ctx, c, "/chat.postMessage", cr.BotToken, cr, map[string]string{"channel": to, "text": text})
	if err != nil {
		return nil, err
	}
	var r struct {
		OK      bool   `json:"ok"`
		Channel string `json:"channel"`
		TS      string `json:"ts"`
	}
	if json.Unmarshal(a.Body, &r) != nil || r.TS == "" {
		return nil, malformed()
	}
	resp, _ := json.Marshal(r)
	return &platforms.Sent{ProviderMessageID: r.TS, Response: resp}, nil
}

// call POSTs a Web API method with token and returns its answer when Slack
// says ok; a non-2xx answer or {"ok":false} is a *platforms.ProviderError
// with every credential scrubbed.
func call(ctx context.Context, c *platforms.Call, method, token string, cr *credentials, body any) (*platforms.Answer, error) {
	if c.Client == nil {
		return nil, errors.New("slack: the call has no HTTP client")
	}
	base := c.BaseURL
	if base == "" {
		base = defaultBaseURL
	}
	h := http.Header{}
	h.Set("Authorization", "Bearer "+token)
	a, err := platforms.Do(ctx, c.Client, http.MethodPost, base+method, h, body)
	if err != nil {
		return nil, err
	}
	var r struct {
		OK     bool   `json:"ok"`
		Error  string `json:"error"`
		Needed string `json:"needed"`
		Errors []struct {
			Message string `json:"message"`
			Pointer string `json:"pointer"`
		} `json:"errors"`
	}
	jsonErr := json.Unmarshal(a.Body, &r)
	if a.Status < 200 || a.Status > 299 {
		msg := r.Error
		if msg == "" {
			msg = http.StatusText(a.Status)
		}
		e := &platforms.ProviderError{Status: a.Status, Message: platforms.Scrub(msg, cr.secrets()...)}
		if a.Status == http.StatusTooManyRequests {
			e.RetryAfter = platforms.RetryAfterHeader(a.Header)
			// A huge header overflows the Duration (to a negative on
			// amd64); a day is already longer than any wait Slack asks.
			if e.RetryAfter < 0 || e.RetryAfter > maxRetryAfter {
				e.RetryAfter = maxRetryAfter
			}
		}
		return nil, e
	}
	if jsonErr != nil {
		return nil, malformed()
	}
	if !r.OK {
		msg := r.Error
		if msg == "" {
			msg = "ok is false"
		}
		if r.Needed != "" {
			msg += " (needed: " + r.Needed + ")"
		}
		var details []string
		for _, e := range r.Errors {
			d := e.Message
			if e.Pointer != "" {
				d = e.Pointer + ": " + d
			}
			details = append(details, d)
		}
		if len(details) > 0 {
			msg += ": " + strings.Join(details, "; ")
		}
		return nil, &platforms.ProviderError{Status: refused, Message: platforms.Scrub(msg, cr.secrets()...)}
	}
	return a, nil
}

// malformed is a 2xx answer that is not what Slack documents; 502 says
// the gateway got an answer it could not use.
func malformed() *platforms.ProviderError {
	return &platforms.ProviderError{Status: http.StatusBadGateway, Message: "the answer is not the JSON Slack documents"}
}

func load(p *hookgate.Platform) (*credentials, error) {
	var c credentials
	if p == nil || json.Unmarshal(p.Credentials, &c) != nil || c.SigningSecret == "" {
		return nil, errors.New("slack: the platform's credentials cannot be read")
	}
	return &c, nil
}

// isForm says whether Slack posted a form (interactivity, slash commands)
// rather than Events API JSON.
func isForm(in *platforms.Inbound) bool {
	if ct := in.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		return err == nil && mt == "application/x-www-form-urlencoded"
	}
	b := strings.TrimLeft(string(in.Body), " \t\r\n")
	return b != "" && b[0] != '{'
}

// tsTime reads a Slack timestamp, "1700000000.000100": seconds and
// microseconds. It is zero when ts is not one.
func tsTime(ts string) time.Time {
	secs, frac, _ := strings.Cut(ts, ".")
	s, err := strconv.ParseInt(secs, 10, 64)
	if err != nil || s <= 0 || len(frac) > 9 || strings.Trim(frac, "0123456789") != "" {
		return time.Time{}
	}
	ns, _ := strconv.ParseInt((frac + "000000000")[:9], 10, 64)
	return time.Unix(s, ns).UTC()
}

// object is a JSON object read loosely: Slack's payloads vary by event
// type (channel is an ID here, an object there), so a field of an
// unexpected type reads as empty instead of losing the event.
type object map[string]json.RawMessage

func parseObject(b []byte) (object, bool) {
	var o object
	if json.Unmarshal(b, &o) != nil || o == nil {
		return nil, false
	}
	return o, true
}

func (o object) str(key string) string {
	var s string
	_ = json.Unmarshal(o[key], &s)
	return s
}

func (o object) obj(key string) object {
	v, _ := parseObject(o[key])
	return v
}

func (o object) array(key string) []json.RawMessage {
	var a []json.RawMessage
	_ = json.Unmarshal(o[key], &a)
	return a
}

// ref is an ID given either as a string or as an object's id.
func (o object) ref(key string) string {
	if s := o.str(key); s != "" {
		return s
	}
	return o.obj(key).str("id")
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return s != ""
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
