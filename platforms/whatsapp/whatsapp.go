// Package whatsapp is the WhatsApp Business Platform provider, on Meta's
// Cloud API. Meta posts webhooks signed with the app secret
// (X-Hub-Signature-256), and proves a callback URL by calling it with a
// GET handshake carrying the verify token; the subscription itself belongs
// to the Meta app and is made with the app access token, appId|appSecret.
package whatsapp

import (
	"bytes"
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
)

// Name is the provider's name in the API.
const Name = "whatsapp"

// DefaultBaseURL is Meta's Graph API, at the version this provider speaks.
const DefaultBaseURL = "https://graph.facebook.com/v21.0"

// SignatureHeader carries Meta's HMAC-SHA256 of a post's body.
const SignatureHeader = "X-Hub-Signature-256"

// object is the Graph webhook object WhatsApp events belong to.
const object = "whatsapp_business_account"

// Provider is the WhatsApp provider; its zero value is ready to use.
type Provider struct{}

// New returns the WhatsApp provider.
func New() platforms.Provider { return &Provider{} }

var _ platforms.Provider = (*Provider)(nil)

// Name returns "whatsapp".
func (*Provider) Name() string { return Name }

// Info lists WhatsApp's credentials: the app secret, access token and
// verify token are secret, the IDs are not.
func (*Provider) Info() platforms.Info {
	return platforms.Info{Title: "WhatsApp",
		Fields: []platforms.Field{{Name: "appId"}, {Name: "appSecret", Secret: true}, {Name: "accessToken", Secret: true},
			{Name: "verifyToken", Secret: true}, {Name: "phoneNumberId"}},
		Capabilities: []platforms.Capability{platforms.CanRegister, platforms.CanUnregister, platforms.CanStatus, platforms.CanSend, platforms.CanNormalize}}
}

// DefaultBaseURL returns Meta's Graph API.
func (*Provider) DefaultBaseURL() string { return DefaultBaseURL }

// credentials is a WhatsApp platform's credentials object.
type credentials struct {
	AppID       string `json:"appId"`
	AppSecret   string `json:"appSecret"`
	AccessToken string `json:"accessToken"`
	// VerifyToken is generated when not given, so that nobody has to
	// invent one; Meta only ever echoes it back in the handshake.
	VerifyToken string `json:"verifyToken,omitempty"`
	// PhoneNumberID is the sender; without it the platform only receives.
	PhoneNumberID string `json:"phoneNumberId,omitempty"`
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
	// Values are pasted from Meta's console; a stray space is not theirs.
	for _, s := range []*string{&cr.AppID, &cr.AppSecret, &cr.AccessToken, &cr.VerifyToken, &cr.PhoneNumberID} {
		*s = strings.TrimSpace(*s)
	}
	if err := checkDigits("appId", cr.AppID, true); err != nil {
		return nil, err
	}
	if err := checkSecret("appSecret", cr.AppSecret, 128, true); err != nil {
		return nil, err
	}
	if err := checkSecret("accessToken", cr.AccessToken, 4096, true); err != nil {
		return nil, err
	}
	if err := checkSecret("verifyToken", cr.VerifyToken, 256, false); err != nil {
		return nil, err
	}
	if err := checkDigits("phoneNumberId", cr.PhoneNumberID, false); err != nil {
		return nil, err
	}
	return &cr, nil
}

// checkDigits checks a Graph object ID, which may be echoed: it is no secret.
func checkDigits(field, v string, required bool) error {
	if v == "" {
		if required {
			return platforms.Missing(field)
		}
		return nil
	}
	if len(v) > 32 || strings.Trim(v, "0123456789") != "" {
		return platforms.Bad(field, v, "%s must be the numeric ID Meta shows (digits only)", field)
	}
	return nil
}

// checkSecret checks a secret without echoing it. Printable ASCII without
// spaces is what Meta issues, and what fits a header and a query unharmed.
func checkSecret(field, v string, maxLen int, required bool) error {
	if v == "" {
		if required {
			return platforms.Missing(field)
		}
		return nil
	}
	if v == platforms.Redacted {
		return platforms.Bad(field, nil, "%s is the redaction mark %s, not a secret", field, platforms.Redacted)
	}
	if len(v) > maxLen {
		return platforms.Bad(field, nil, "%s must be at most %d characters", field, maxLen)
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return platforms.Bad(field, nil, "%s must be printable ASCII characters without spaces", field)
		}
	}
	return nil
}

// load returns the stored credentials of a call's or a post's platform.
func load(p *hookgate.Platform) (*credentials, error) {
	if p == nil {
		return nil, errors.New("whatsapp: no platform")
	}
	return parse(p.Credentials)
}

// appToken is the app access token, which subscriptions need; it holds
// the app secret.
func (cr *credentials) appToken() string { return cr.AppID + "|" + cr.AppSecret }

// secrets are what Scrub must remove from anything shown, longest first so
// that the app token goes whole, and in their query-escaped forms too,
// since the app token travels in URLs.
func (cr *credentials) secrets() []string {
	var out []string
	for _, s := range []string{cr.appToken(), cr.AccessToken, cr.AppSecret, cr.VerifyToken} {
		out = append(out, s)
		if q := url.QueryEscape(s); q != s {
			out = append(out, q)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return len(out[i]) > len(out[j]) })
	return out
}

// CheckCredentials validates {"appId", "appSecret", "accessToken",
// "verifyToken", "phoneNumberId"} and returns them normalized, with a
// verify token generated when none is given.
func (*Provider) CheckCredentials(creds json.RawMessage) (json.RawMessage, error) {
	cr, err := parse(creds)
	if err != nil {
		return nil, err
	}
	if cr.VerifyToken != "" {
		if err := platforms.CheckSecretLength("verifyToken", cr.VerifyToken); err != nil {
			return nil, err
		}
	} else {
		b := make([]byte, 24)
		_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms.
		cr.VerifyToken = base64.RawURLEncoding.EncodeToString(b)
	}
	return json.Marshal(cr)
}

// Redact replaces the app secret, the access token and the verify token
// by the redaction mark; the app and phone number IDs stay.
func (*Provider) Redact(creds json.RawMessage) json.RawMessage {
	var cr credentials
	if json.Unmarshal(creds, &cr) != nil {
		// What cannot be read cannot be sorted into secrets and not.
		return json.RawMessage("{}")
	}
	for _, s := range []*string{&cr.AppSecret, &cr.AccessToken, &cr.VerifyToken} {
		if *s != "" {
			*s = platforms.Redacted
		}
	}
	b, _ := json.Marshal(&cr)
	return b
}

// maxChallenge bounds the hub.challenge echoed back; Meta's are short
// numbers.
const maxChallenge = 256

// MaxBody is 3 MiB, the largest notification Meta documents: it may
// batch many changes in one post.
func (*Provider) MaxBody() int64 { return 3 << 20 }

// CheckHeader refuses, before the body is read, a GET that is not the
// subscription handshake with the right verify token, and a POST without
// one well-formed X-Hub-Signature-256.
func (p *Provider) CheckHeader(in *platforms.Inbound) error {
	cr, _, err := p.header(in)
	if err == nil && in.Method == http.MethodGet {
		_, err = handshake(cr, in.Query)
	}
	return err
}

// header makes the checks that need no body and returns the credentials
// and, for a POST, the signature's MAC.
func (*Provider) header(in *platforms.Inbound) (*credentials, []byte, error) {
	if in.Method != http.MethodGet && in.Method != http.MethodPost {
		return nil, nil, fmt.Errorf("whatsapp: method %q: Meta only gets and posts", in.Method)
	}
	cr, err := load(in.Platform)
	if err != nil {
		return nil, nil, fmt.Errorf("whatsapp: stored credentials: %w", err)
	}
	if in.Method == http.MethodGet {
		return cr, nil, nil
	}
	sigs := in.Header.Values(SignatureHeader)
	switch {
	case len(sigs) == 0:
		return nil, nil, errors.New("whatsapp: no " + SignatureHeader + " header")
	case len(sigs) > 1:
		// Meta sends one; which of several a proxy would pick is anyone's
		// guess.
		return nil, nil, errors.New("whatsapp: more than one " + SignatureHeader + " header")
	}
	hexSig, ok := strings.CutPrefix(sigs[0], "sha256=")
	if !ok {
		return nil, nil, errors.New("whatsapp: " + SignatureHeader + " is not sha256=<hex>")
	}
	got, err := hex.DecodeString(hexSig)
	if err != nil || len(got) != sha256.Size {
		return nil, nil, errors.New("whatsapp: " + SignatureHeader + " is not sha256=<hex>")
	}
	return cr, got, nil
}

// Verify answers Meta's GET handshake with hub.challenge when it carries
// the verify token, and accepts a POST whose X-Hub-Signature-256 is the
// HMAC-SHA256 of its body under the app secret.
func (p *Provider) Verify(in *platforms.Inbound) (*platforms.Reply, error) {
	cr, got, err := p.header(in)
	if err != nil {
		return nil, err
	}
	if in.Method == http.MethodGet {
		return handshake(cr, in.Query)
	}
	mac := hmac.New(sha256.New, []byte(cr.AppSecret))
	mac.Write(in.Body)
	if !platforms.EqualMAC(got, mac.Sum(nil)) {
		return nil, errors.New("whatsapp: wrong " + SignatureHeader)
	}
	return nil, nil
}

// handshake answers hub.challenge to the GET with which Meta checks a
// callback URL before subscribing it.
func handshake(cr *credentials, q url.Values) (*platforms.Reply, error) {
	if q.Get("hub.mode") != "subscribe" {
		return nil, errors.New("whatsapp: a GET that is not a hub.mode=subscribe handshake")
	}
	tok := q.Get("hub.verify_token")
	switch {
	case cr.VerifyToken == "":
		return nil, errors.New("whatsapp: no verifyToken stored")
	case tok == "":
		return nil, errors.New("whatsapp: the handshake has no hub.verify_token")
	case !platforms.Equal(tok, cr.VerifyToken):
		return nil, errors.New("whatsapp: wrong hub.verify_token")
	}
	ch := q.Get("hub.challenge")
	if ch == "" || len(ch) > maxChallenge {
		return nil, errors.New("whatsapp: the handshake has no usable hub.challenge")
	}
	// Echoed as is, so it must not be able to shape the answer.
	for i := 0; i < len(ch); i++ {
		if ch[i] < 0x20 || ch[i] > 0x7e {
			return nil, errors.New("whatsapp: the handshake has no usable hub.challenge")
		}
	}
	return &platforms.Reply{Status: http.StatusOK, ContentType: "text/plain", Body: []byte(ch)}, nil
}

// notification is a webhook post: entries of changes, each change's value
// being one field's news.
type notification struct {
	Object string `json:"object"`
	Entry  []struct {
		ID      string `json:"id"`
		Changes []struct {
			Field string          `json:"field"`
			Value json.RawMessage `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

// value is the part of a messages change that Normalize reads.
type value struct {
	Contacts []struct {
		Profile struct {
			Name string `json:"name"`
		} `json:"profile"`
		WaID string `json:"wa_id"`
	} `json:"contacts"`
	Messages []struct {
		From      string          `json:"from"`
		ID        string          `json:"id"`
		Timestamp json.RawMessage `json:"timestamp"`
		Type      string          `json:"type"`
		Text      struct {
			Body string `json:"body"`
		} `json:"text"`
		Button struct {
			Text string `json:"text"`
		} `json:"button"`
		Interactive struct {
			ButtonReply struct {
				Title string `json:"title"`
			} `json:"button_reply"`
			ListReply struct {
				Title string `json:"title"`
			} `json:"list_reply"`
		} `json:"interactive"`
	} `json:"messages"`
	Statuses []struct {
		ID          string          `json:"id"`
		Status      string          `json:"status"`
		Timestamp   json.RawMessage `json:"timestamp"`
		RecipientID string          `json:"recipient_id"`
	} `json:"statuses"`
}

// Normalize turns each message of a post into message.received (DedupKey
// its wamid), each delivery receipt into message.status (DedupKey
// wamid:status, since one message gets several), and any change with
// neither into platform.event. Raw is the change's value.
func (*Provider) Normalize(in *platforms.Inbound) ([]platforms.Event, error) {
	if b := bytes.TrimLeft(in.Body, " \t\r\n"); len(b) == 0 || b[0] != '{' {
		return nil, errors.New("whatsapp: the notification is not a JSON object")
	}
	var n notification
	if err := json.Unmarshal(in.Body, &n); err != nil {
		return nil, fmt.Errorf("whatsapp: the notification: %w", err)
	}
	var evs []platforms.Event
	for _, e := range n.Entry {
		for _, ch := range e.Changes {
			evs = append(evs, change(ch.Value)...)
		}
	}
	if len(evs) == 0 {
		// Nothing to sort out, but what Meta posted is kept.
		evs = append(evs, platforms.Event{Type: platforms.EventPlatform, Raw: bytes.Clone(in.Body)})
	}
	return evs, nil
}

// change returns the events of one change's value.
func change(raw json.RawMessage) []platforms.Event {
	raw = bytes.Clone(raw)
	var v value
	if json.Unmarshal(raw, &v) != nil {
		// Not a messages value, or not one this provider reads: still news.
		return []platforms.Event{{Type: platforms.EventPlatform, Raw: raw}}
	}
	var evs []platforms.Event
	for _, m := range v.Messages {
		text := ""
		switch m.Type {
		case "text":
			text = m.Text.Body
		case "button":
			text = m.Button.Text
		case "interactive":
			text = cmp.Or(m.Interactive.ButtonReply.Title, m.Interactive.ListReply.Title)
		}
		ev := platforms.Event{
			Type:     platforms.EventMessageReceived,
			Message:  &platforms.Message{ID: m.ID, Text: text, Timestamp: unixTime(m.Timestamp)},
			Chat:     &platforms.Chat{ID: m.From, Type: "individual"},
			From:     &platforms.User{ID: m.From},
			Raw:      raw,
			DedupKey: m.ID,
		}
		for _, c := range v.Contacts {
			if c.WaID != "" && c.WaID == m.From {
				ev.From.Name = c.Profile.Name
				break
			}
		}
		evs = append(evs, ev)
	}
	for _, s := range v.Statuses {
		key := ""
		if s.ID != "" {
			key = s.ID + ":" + s.Status
		}
		evs = append(evs, platforms.Event{
			Type:     platforms.EventMessageStatus,
			Message:  &platforms.Message{ID: s.ID, Status: s.Status, Timestamp: unixTime(s.Timestamp)},
			Chat:     &platforms.Chat{ID: s.RecipientID, Type: "individual"},
			Raw:      raw,
			DedupKey: key,
		})
	}
	if len(evs) == 0 {
		evs = append(evs, platforms.Event{Type: platforms.EventPlatform, Raw: raw})
	}
	return evs
}

// unixTime reads Meta's timestamps, Unix seconds in a string, and takes a
// bare number too; anything else is no time rather than a lost event.
func unixTime(raw json.RawMessage) time.Time {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		s = string(raw)
	}
	secs, err := strconv.ParseInt(s, 10, 64)
	// Beyond year 9999 a time cannot be marshalled, and Meta sends none.
	if err != nil || secs <= 0 || secs > 253402300799 {
		return time.Time{}
	}
	return time.Unix(secs, 0).UTC()
}

// graphError is the Graph API's refusal.
type graphError struct {
	Error struct {
		Message string `json:"message"`
		Type    string `json:"type"`
		Code    int    `json:"code"`
	} `json:"error"`
}

// call calls the Graph API and decodes a 2xx answer into out; it returns
// the answer's status and its body, scrubbed. A refusal is a
// *platforms.ProviderError.
func call(ctx context.Context, c *platforms.Call, cr *credentials, method, path string, query url.Values, header http.Header, body, out any) (int, json.RawMessage, error) {
	if c.Client == nil {
		// Falling back on a default client would escape the network policy.
		return 0, nil, errors.New("whatsapp: the call has no HTTP client")
	}
	secrets := cr.secrets()
	u := c.BaseURL + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	res, err := platforms.Do(ctx, c.Client, method, u, header, body)
	if err != nil {
		var pe *platforms.ProviderError
		if errors.As(err, &pe) {
			pe.Message = platforms.Scrub(pe.Message, secrets...)
			return 0, nil, pe
		}
		// A malformed apiBaseUrl: the error quotes the URL, app token included.
		return 0, nil, &platforms.ProviderError{Message: platforms.Scrub(err.Error(), secrets...)}
	}
	if res.Status >= 200 && res.Status < 300 {
		if json.Unmarshal(res.Body, out) != nil {
			return res.Status, nil, &platforms.ProviderError{Status: res.Status, Message: "the answer is not the Graph API's JSON"}
		}
		return res.Status, json.RawMessage(platforms.Scrub(string(res.Body), secrets...)), nil
	}
	var ge graphError
	pe := &platforms.ProviderError{Status: res.Status}
	if json.Unmarshal(res.Body, &ge) == nil && ge.Error.Message != "" {
		pe.Message = ge.Error.Message
	} else {
		pe.Message = cmp.Or(http.StatusText(res.Status), "refused")
	}
	pe.Message = platforms.Scrub(pe.Message, secrets...)
	if res.Status == http.StatusTooManyRequests {
		pe.RetryAfter = platforms.RetryAfterHeader(res.Header)
	}
	return res.Status, nil, pe
}

// success is the Graph API's answer to a subscription change.
type success struct {
	Success bool `json:"success"`
}

// Register subscribes the app's whatsapp_business_account webhooks, field
// messages, to the inbound URL. Meta calls the URL with the handshake
// before it answers, so the platform must be stored by then.
func (*Provider) Register(ctx context.Context, c *platforms.Call) (*platforms.Registration, error) {
	cr, err := load(c.Platform)
	if err != nil {
		return nil, err
	}
	if c.InboundURL == "" {
		return nil, errors.New("whatsapp: no inbound URL to register")
	}
	if cr.VerifyToken == "" {
		// Meta runs the handshake before answering, against what is
		// stored: a token generated here would not be there yet.
		return nil, platforms.Missing("verifyToken")
	}
	form := url.Values{
		"object":       {object},
		"callback_url": {c.InboundURL},
		"verify_token": {cr.VerifyToken},
		"fields":       {"messages"},
		// In the body rather than the URL, where logs along the way keep it.
		"access_token": {cr.appToken()},
	}
	var ok success
	status, body, err := call(ctx, c, cr, http.MethodPost, "/"+cr.AppID+"/subscriptions", nil, nil, form, &ok)
	if err != nil {
		return nil, err
	}
	if !ok.Success {
		return nil, &platforms.ProviderError{Status: status, Message: "Meta did not confirm the subscription"}
	}
	return &platforms.Registration{Registered: true, Response: body}, nil
}

// Unregister deletes the app's whatsapp_business_account subscription.
func (*Provider) Unregister(ctx context.Context, c *platforms.Call) (json.RawMessage, error) {
	cr, err := load(c.Platform)
	if err != nil {
		return nil, err
	}
	q := url.Values{"object": {object}, "access_token": {cr.appToken()}}
	var ok success
	status, body, err := call(ctx, c, cr, http.MethodDelete, "/"+cr.AppID+"/subscriptions", q, nil, nil, &ok)
	if err != nil {
		return nil, err
	}
	if !ok.Success {
		return nil, &platforms.ProviderError{Status: status, Message: "Meta did not confirm the deletion"}
	}
	return body, nil
}

// Status lists the app's subscriptions and reports its
// whatsapp_business_account one.
func (*Provider) Status(ctx context.Context, c *platforms.Call) (*platforms.WebhookStatus, error) {
	cr, err := load(c.Platform)
	if err != nil {
		return nil, err
	}
	type subscription struct {
		Object      string `json:"object"`
		CallbackURL string `json:"callback_url"`
		Active      bool   `json:"active"`
	}
	var subs struct {
		Data []subscription `json:"data"`
	}
	q := url.Values{"access_token": {cr.appToken()}}
	_, body, err := call(ctx, c, cr, http.MethodGet, "/"+cr.AppID+"/subscriptions", q, nil, nil, &subs)
	if err != nil {
		return nil, err
	}
	// Meta keeps one subscription per object; should it list more, the
	// one that is this platform's is the one to report.
	var sub *subscription
	for i := range subs.Data {
		s := &subs.Data[i]
		if s.Object == object && (sub == nil || s.Active && s.CallbackURL == c.InboundURL) {
			sub = s
		}
	}
	st := &platforms.WebhookStatus{Response: body}
	switch {
	case sub == nil:
		st.LastError = "no " + object + " subscription"
	default:
		st.URL = sub.CallbackURL
		st.Registered = sub.Active && sub.CallbackURL != "" && sub.CallbackURL == c.InboundURL
		if !sub.Active {
			st.LastError = "the subscription is not active"
		}
	}
	return st, nil
}

// Send sends a text message from the platform's phone number.
func (*Provider) Send(ctx context.Context, c *platforms.Call, to, text string) (*platforms.Sent, error) {
	cr, err := load(c.Platform)
	if err != nil {
		return nil, err
	}
	if cr.PhoneNumberID == "" {
		return nil, hookgate.InvalidParam("credentials.phoneNumberId", nil, "credentials.phoneNumberId is needed to send: it names the sending number")
	}
	type textBody struct {
		Body string `json:"body"`
	}
	msg := struct {
		MessagingProduct string   `json:"messaging_product"`
		RecipientType    string   `json:"recipient_type"`
		To               string   `json:"to"`
		Type             string   `json:"type"`
		Text             textBody `json:"text"`
	}{"whatsapp", "individual", to, "text", textBody{text}}
	var out struct {
		Messages []struct {
			ID string `json:"id"`
		} `json:"messages"`
	}
	h := http.Header{"Authorization": {"Bearer " + cr.AccessToken}}
	status, body, err := call(ctx, c, cr, http.MethodPost, "/"+cr.PhoneNumberID+"/messages", nil, h, msg, &out)
	if err != nil {
		return nil, err
	}
	if len(out.Messages) == 0 || out.Messages[0].ID == "" {
		return nil, &platforms.ProviderError{Status: status, Message: "Meta's answer names no message id"}
	}
	return &platforms.Sent{ProviderMessageID: out.Messages[0].ID, Response: body}, nil
}
