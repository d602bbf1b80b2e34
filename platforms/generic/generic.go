// Package generic is Hookgate's provider for webhooks from any source that
// signs them with an HMAC or authenticates them with basic auth or an API
// key. It has no API: Hookgate only receives, so Register hands back the
// inbound URL for the user to paste into the source, and Unregister, Status
// and Send are unsupported.
//
// # Credentials
//
// The credentials name either a preset,
//
//	{"preset": "github" | "stripe" | "shopify", "secret": "..."}
//
// or a verification,
//
//	{"verification": {"type": "hmac", "header": "X-Signature",
//	    "algorithm": "sha256" | "sha512", "encoding": "hex" | "base64",
//	    "prefix": "sha256=", "secret": "..."}}
//	{"verification": {"type": "basic", "username": "...", "password": "..."}}
//	{"verification": {"type": "apikey", "header": "X-Api-Key", "key": "..."}}
//	{"verification": {"type": "none"}}
//
// never both, and either form may add "idHeader", the header carrying the
// source's delivery ID (the events' de-duplication key), and "eventType",
// the events' type (default "platform.event"; 1-256 letters, digits, '_',
// '.' or '-', not beginning with "hookgate."). An hmac verification
// defaults to sha256 and hex, and has no prefix unless one is given. A
// field that does not apply to the verification's type is refused, so that
// a misplaced secret is not silently ignored.
//
// # Verification
//
// Only POST is accepted. Every comparison with a secret is in constant time.
//
//   - hmac: the header's value must begin with the prefix exactly (case
//     matters); the rest, decoded as the encoding says (hex in either case,
//     or padded standard base64), must be HMAC-<algorithm>(secret, body).
//   - basic: the Authorization header must be "Basic " and the standard
//     base64 of "username:password"; both are compared whether or not the
//     first differs.
//   - apikey: the header's whole value must be the key.
//   - none: everything posted is accepted. It is for a source on a trusted
//     network only, where nothing else can reach the inbound URL.
//
// # Presets
//
//   - github: X-Hub-Signature-256 is "sha256=" followed by the lowercase hex
//     HMAC-SHA256(secret, body); idHeader defaults to X-GitHub-Delivery.
//   - shopify: X-Shopify-Hmac-Sha256 is the standard base64
//     HMAC-SHA256(secret, body); idHeader defaults to X-Shopify-Webhook-Id.
//   - stripe: Stripe-Signature is "t=<unix seconds>,v1=<hex>", possibly with
//     more v1 elements (while a secret is being rolled) and v0 or other
//     elements, which are ignored. The post is accepted when any v1 is the
//     hex HMAC-SHA256(secret, t + "." + body) and t is within 300 seconds of
//     the time the post arrived, Stripe's default tolerance, which bounds
//     replays. The de-duplication key is the body's top-level "id" (evt_…)
//     unless an idHeader is given.
//
// # Events
//
// Each post is one event of the configured type: its raw part is the body
// when the body is JSON, and the body as a JSON string otherwise (bytes
// that are not UTF-8 become U+FFFD); message, chat and from are empty.
package generic

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/platforms"
)

// New returns the generic provider.
func New() platforms.Provider { return provider{} }

type provider struct{}

const (
	presetGitHub  = "github"
	presetStripe  = "stripe"
	presetShopify = "shopify"

	typeHMAC   = "hmac"
	typeBasic  = "basic"
	typeAPIKey = "apikey"
	typeNone   = "none"

	algSHA256 = "sha256"
	algSHA512 = "sha512"

	encHex    = "hex"
	encBase64 = "base64"

	stripeHeader = "Stripe-Signature"
	// stripeTolerance is the window Stripe's own libraries default to.
	stripeTolerance = 300 * time.Second

	// maxHeaderName is far above any real header name; it only keeps
	// stored credentials and error messages bounded.
	maxHeaderName = 256

	instructions = "Configure the source to POST to inboundUrl, signing as the platform's credentials say."
)

// eventTypePattern is hookgate's event type syntax with its length bound.
var eventTypePattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,256}$`)

// credentials are the stored form; omitempty keeps the normalized JSON to
// the fields that apply.
// Name is the provider's name in the API.
const Name = "generic"

type credentials struct {
	Preset       string        `json:"preset,omitempty"`
	Secret       string        `json:"secret,omitempty"`
	Verification *verification `json:"verification,omitempty"`
	IDHeader     string        `json:"idHeader,omitempty"`
	EventType    string        `json:"eventType,omitempty"`
}

type verification struct {
	Type      string `json:"type"`
	Header    string `json:"header,omitempty"`
	Algorithm string `json:"algorithm,omitempty"`
	Encoding  string `json:"encoding,omitempty"`
	Prefix    string `json:"prefix,omitempty"`
	Secret    string `json:"secret,omitempty"`
	Username  string `json:"username,omitempty"`
	Password  string `json:"password,omitempty"`
	Key       string `json:"key,omitempty"`
}

type scheme int

const (
	schemeHMAC scheme = iota + 1
	schemeStripe
	schemeBasic
	schemeAPIKey
	schemeNone
)

// config is the credentials resolved into what Verify and Normalize do, so
// that a preset and the equivalent verification run the same code.
type config struct {
	scheme   scheme
	header   string
	newHash  func() hash.Hash
	algName  string
	encoding string
	prefix   string
	secret   string
	username string
	password string
	key      string
	// idHeader, when set, carries the de-duplication key; otherwise
	// idFromBody takes it from the body's "id" (Stripe).
	idHeader   string
	idFromBody bool
	eventType  string
	stored     credentials
}

func (provider) Name() string { return Name }

// Info lists a generic source's credentials: the secrets, at either
// level, are "secret", "password" and "key". A source only receives: it
// is given its URL by hand and sends nothing.
func (provider) Info() platforms.Info {
	secrets := []platforms.Field{{Name: "secret", Secret: true}, {Name: "password", Secret: true}, {Name: "key", Secret: true}}
	return platforms.Info{Title: "Generic source",
		Fields: append([]platforms.Field{{Name: "preset"}, {Name: "idHeader"}, {Name: "eventType"},
			{Name: "verification", Fields: append([]platforms.Field{{Name: "type"}, {Name: "header"}, {Name: "algorithm"},
				{Name: "encoding"}, {Name: "prefix"}, {Name: "username"}}, secrets...)}}, secrets...),
		Capabilities: []platforms.Capability{platforms.CanNormalize}}
}
func (provider) DefaultBaseURL() string { return "" }

func (provider) CheckCredentials(creds json.RawMessage) (json.RawMessage, error) {
	c, err := parse(creds)
	if err != nil {
		return nil, err
	}
	// Chosen secrets must resist guessing. Only new credentials are
	// checked: a platform stored before the rule keeps verifying.
	var field, secret string
	switch {
	case c.stored.Preset != "":
		field, secret = "secret", c.secret
	case c.scheme == schemeHMAC:
		field, secret = "verification.secret", c.secret
	case c.scheme == schemeBasic:
		field, secret = "verification.password", c.password
	case c.scheme == schemeAPIKey:
		field, secret = "verification.key", c.key
	}
	if field != "" {
		if err := platforms.CheckSecretLength(field, secret); err != nil {
			return nil, err
		}
	}
	return json.Marshal(c.stored)
}

// MaxBody is the largest event Hookgate takes, 1 MiB: a source's post is
// one event.
func (provider) MaxBody() int64 { return 1 << 20 }

// CheckHeader refuses, before the body is read, a post without the
// configured signature header, or with wrong basic credentials or API
// key (which need no body, so this is their whole check).
func (provider) CheckHeader(in *platforms.Inbound) error {
	if in == nil {
		return errors.New("no request")
	}
	if in.Method != http.MethodPost {
		return errors.New("only POST is accepted")
	}
	c, err := configOf(in.Platform)
	if err != nil {
		return err
	}
	switch c.scheme {
	case schemeHMAC, schemeStripe:
		if in.Header.Get(c.header) == "" {
			return fmt.Errorf("no %s header", c.header)
		}
	case schemeBasic:
		return c.verifyBasic(in.Header)
	case schemeAPIKey:
		return c.verifyAPIKey(in.Header)
	case schemeNone:
	default:
		return errors.New("no verification is configured")
	}
	return nil
}

func parse(raw json.RawMessage) (*config, error) {
	var cr credentials
	if err := platforms.DecodeCredentials(raw, &cr); err != nil {
		return nil, err
	}
	var c *config
	var err error
	switch {
	case cr.Preset != "" && cr.Verification != nil:
		return nil, platforms.Bad("verification", nil, "credentials.preset and credentials.verification are exclusive: give one of them")
	case cr.Preset != "":
		c, err = parsePreset(&cr)
	case cr.Verification != nil:
		if cr.Secret != "" {
			return nil, platforms.Bad("secret", nil, "credentials.secret goes with a preset; an hmac verification takes credentials.verification.secret")
		}
		c, err = parseVerification(cr.Verification)
	default:
		return nil, platforms.Missing("verification")
	}
	if err != nil {
		return nil, err
	}
	if cr.IDHeader != "" {
		if err := checkHeaderName("idHeader", cr.IDHeader); err != nil {
			return nil, err
		}
		c.idHeader, c.idFromBody = cr.IDHeader, false
	}
	if cr.EventType == "" {
		cr.EventType = platforms.EventPlatform
	}
	if !eventTypePattern.MatchString(cr.EventType) {
		return nil, platforms.Bad("eventType", cr.EventType, "credentials.eventType is 1-256 letters, digits, '_', '-' or '.'")
	}
	if hookgate.IsOperational(cr.EventType) {
		return nil, platforms.Bad("eventType", cr.EventType, "credentials.eventType may not begin with %q, which is reserved for Hookgate's own events", hookgate.OperationalPrefix)
	}
	c.eventType = cr.EventType
	cr.IDHeader = c.idHeader
	c.stored = cr
	return c, nil
}

func parsePreset(cr *credentials) (*config, error) {
	var c *config
	switch cr.Preset {
	case presetGitHub:
		c = &config{scheme: schemeHMAC, header: "X-Hub-Signature-256", prefix: "sha256=", encoding: encHex, idHeader: "X-GitHub-Delivery"}
	case presetShopify:
		c = &config{scheme: schemeHMAC, header: "X-Shopify-Hmac-Sha256", encoding: encBase64, idHeader: "X-Shopify-Webhook-Id"}
	case presetStripe:
		c = &config{scheme: schemeStripe, header: stripeHeader, idFromBody: true}
	default:
		return nil, platforms.Bad("preset", cr.Preset, "credentials.preset is one of %q, %q or %q", presetGitHub, presetStripe, presetShopify)
	}
	if cr.Secret == "" {
		return nil, platforms.Missing("secret")
	}
	c.newHash, c.algName, c.secret = sha256.New, algSHA256, cr.Secret
	return c, nil
}

func parseVerification(v *verification) (*config, error) {
	c := &config{}
	switch v.Type {
	case "":
		return nil, platforms.Missing("verification.type")
	case typeHMAC:
		if err := onlyFields(v, "header", "algorithm", "encoding", "prefix", "secret"); err != nil {
			return nil, err
		}
		if err := checkHeaderName("verification.header", v.Header); err != nil {
			return nil, err
		}
		switch v.Algorithm {
		case "", algSHA256:
			v.Algorithm, c.newHash = algSHA256, sha256.New
		case algSHA512:
			c.newHash = sha512.New
		default:
			return nil, platforms.Bad("verification.algorithm", v.Algorithm, "credentials.verification.algorithm is %q or %q", algSHA256, algSHA512)
		}
		switch v.Encoding {
		case "":
			v.Encoding = encHex
		case encHex, encBase64:
		default:
			return nil, platforms.Bad("verification.encoding", v.Encoding, "credentials.verification.encoding is %q or %q", encHex, encBase64)
		}
		// A header value cannot hold a control character, so such a
		// prefix would refuse every post.
		if strings.ContainsFunc(v.Prefix, isControl) {
			return nil, platforms.Bad("verification.prefix", v.Prefix, "credentials.verification.prefix may not contain control characters")
		}
		if v.Secret == "" {
			return nil, platforms.Missing("verification.secret")
		}
		c.scheme, c.header, c.algName, c.encoding, c.prefix, c.secret = schemeHMAC, v.Header, v.Algorithm, v.Encoding, v.Prefix, v.Secret
	case typeBasic:
		if err := onlyFields(v, "username", "password"); err != nil {
			return nil, err
		}
		if v.Username == "" {
			return nil, platforms.Missing("verification.username")
		}
		// Basic auth splits at the first colon, so a username with one
		// could never match.
		if strings.Contains(v.Username, ":") {
			return nil, platforms.Bad("verification.username", v.Username, "credentials.verification.username may not contain ':'")
		}
		if v.Password == "" {
			return nil, platforms.Missing("verification.password")
		}
		c.scheme, c.username, c.password = schemeBasic, v.Username, v.Password
	case typeAPIKey:
		if err := onlyFields(v, "header", "key"); err != nil {
			return nil, err
		}
		if err := checkHeaderName("verification.header", v.Header); err != nil {
			return nil, err
		}
		if v.Key == "" {
			return nil, platforms.Missing("verification.key")
		}
		c.scheme, c.header, c.key = schemeAPIKey, v.Header, v.Key
	case typeNone:
		if err := onlyFields(v); err != nil {
			return nil, err
		}
		c.scheme = schemeNone
	default:
		return nil, platforms.Bad("verification.type", v.Type, "credentials.verification.type is one of %q, %q, %q or %q", typeHMAC, typeBasic, typeAPIKey, typeNone)
	}
	return c, nil
}

// onlyFields refuses a field the verification's type does not use. The
// value is never echoed: a field in the wrong place may well be a secret.
func onlyFields(v *verification, allowed ...string) error {
	fields := []struct{ name, value string }{
		{"header", v.Header}, {"algorithm", v.Algorithm}, {"encoding", v.Encoding}, {"prefix", v.Prefix},
		{"secret", v.Secret}, {"username", v.Username}, {"password", v.Password}, {"key", v.Key},
	}
next:
	for _, f := range fields {
		if f.value == "" {
			continue
		}
		for _, a := range allowed {
			if a == f.name {
				continue next
			}
		}
		return platforms.Bad("verification."+f.name, nil, "credentials.verification.%s does not apply to type %q", f.name, v.Type)
	}
	return nil
}

// checkHeaderName requires an HTTP token (RFC 9110), the only thing a
// request can carry as a header name.
func checkHeaderName(field, name string) error {
	if name == "" {
		return platforms.Missing(field)
	}
	if len(name) > maxHeaderName {
		return platforms.Bad(field, nil, "credentials.%s is at most %d characters", field, maxHeaderName)
	}
	for i := 0; i < len(name); i++ {
		if !isTokenChar(name[i]) {
			return platforms.Bad(field, name, "credentials.%s is not a header name", field)
		}
	}
	return nil
}

func isTokenChar(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

func (provider) Redact(creds json.RawMessage) json.RawMessage {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(creds, &top); err != nil || top == nil {
		// Whatever is stored, its secrets must not reach an answer.
		return json.RawMessage("{}")
	}
	mask(top)
	if v, ok := top["verification"]; ok && string(v) != "null" {
		var inner map[string]json.RawMessage
		if err := json.Unmarshal(v, &inner); err != nil || inner == nil {
			top["verification"] = redactedJSON
		} else {
			mask(inner)
			top["verification"], _ = json.Marshal(inner)
		}
	}
	b, err := json.Marshal(top)
	if err != nil {
		return json.RawMessage("{}")
	}
	return b
}

var redactedJSON, _ = json.Marshal(platforms.Redacted)

// mask covers every secret field at either level: it costs nothing and
// holds even for credentials stored in a shape CheckCredentials refuses.
func mask(m map[string]json.RawMessage) {
	for _, k := range []string{"secret", "password", "key"} {
		if _, ok := m[k]; ok {
			m[k] = redactedJSON
		}
	}
}

func configOf(p *hookgate.Platform) (*config, error) {
	if p == nil {
		return nil, errors.New("the request names no platform")
	}
	c, err := parse(p.Credentials)
	if err != nil {
		// Not wrapped: a *hookgate.Error in the chain could be answered as
		// the 400 it means for CheckCredentials, where a post must get 401.
		return nil, fmt.Errorf("the platform's credentials are not valid: %v", err)
	}
	return c, nil
}

func (provider) Verify(in *platforms.Inbound) (*platforms.Reply, error) {
	if in == nil {
		return nil, errors.New("no request")
	}
	if in.Method != http.MethodPost {
		return nil, errors.New("only POST is accepted")
	}
	c, err := configOf(in.Platform)
	if err != nil {
		return nil, err
	}
	switch c.scheme {
	case schemeHMAC:
		err = c.verifyHMAC(in.Header, in.Body)
	case schemeStripe:
		now := in.Now
		if now.IsZero() {
			now = time.Now()
		}
		err = c.verifyStripe(in.Header, in.Body, now)
	case schemeBasic:
		err = c.verifyBasic(in.Header)
	case schemeAPIKey:
		err = c.verifyAPIKey(in.Header)
	case schemeNone:
	default:
		err = errors.New("no verification is configured")
	}
	return nil, err
}

func (c *config) mac(parts ...[]byte) []byte {
	m := hmac.New(c.newHash, []byte(c.secret))
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

func (c *config) verifyHMAC(h http.Header, body []byte) error {
	v := h.Get(c.header)
	if v == "" {
		return fmt.Errorf("no %s header", c.header)
	}
	enc, ok := strings.CutPrefix(v, c.prefix)
	if !ok {
		return fmt.Errorf("the %s header does not begin with %q", c.header, c.prefix)
	}
	var got []byte
	var err error
	if c.encoding == encBase64 {
		got, err = base64.StdEncoding.Strict().DecodeString(enc)
	} else {
		got, err = hex.DecodeString(enc)
	}
	if err != nil {
		return fmt.Errorf("the %s header is not %s", c.header, c.encoding)
	}
	want := c.mac(body)
	if len(got) != len(want) {
		return fmt.Errorf("the %s header holds %d bytes, not the %d of an HMAC-%s", c.header, len(got), len(want), strings.ToUpper(c.algName))
	}
	if !platforms.EqualMAC(got, want) {
		return fmt.Errorf("the %s header's signature does not match", c.header)
	}
	return nil
}

func (c *config) verifyStripe(h http.Header, body []byte, now time.Time) error {
	v := h.Get(stripeHeader)
	if v == "" {
		return fmt.Errorf("no %s header", stripeHeader)
	}
	var ts string
	var sigs []string
	for el := range strings.SplitSeq(v, ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(el), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			// Two timestamps would leave it unclear which one was signed.
			if ts != "" {
				return fmt.Errorf("the %s header has more than one timestamp", stripeHeader)
			}
			if ts = val; ts == "" {
				return fmt.Errorf("the %s header's timestamp is empty", stripeHeader)
			}
		case "v1":
			sigs = append(sigs, val)
		}
	}
	if ts == "" {
		return fmt.Errorf("the %s header has no timestamp", stripeHeader)
	}
	sec, ok := unixSeconds(ts)
	if !ok {
		return fmt.Errorf("the %s header's timestamp is not a number of seconds", stripeHeader)
	}
	if d := now.Sub(time.Unix(sec, 0)); d > stripeTolerance || d < -stripeTolerance {
		return fmt.Errorf("the %s header's timestamp is more than %v from now", stripeHeader, stripeTolerance)
	}
	if len(sigs) == 0 {
		return fmt.Errorf("the %s header has no v1 signature", stripeHeader)
	}
	want := c.mac([]byte(ts), []byte("."), body)
	matched := false
	for _, s := range sigs {
		got, err := hex.DecodeString(s)
		// A malformed v1 is simply not the matching one: Stripe may add
		// signatures Hookgate's secret does not produce.
		if err == nil && platforms.EqualMAC(got, want) {
			matched = true
		}
	}
	if !matched {
		return fmt.Errorf("none of the %s header's v1 signatures matches", stripeHeader)
	}
	return nil
}

// unixSeconds accepts digits only: strconv would also take a sign, and the
// timestamp is signed as sent, so only the form Stripe sends is read.
func unixSeconds(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 18 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

func (c *config) verifyBasic(h http.Header) error {
	auth := h.Get("Authorization")
	if auth == "" {
		return errors.New("no Authorization header")
	}
	sch, cred, ok := strings.Cut(auth, " ")
	if !ok || !strings.EqualFold(sch, "Basic") {
		return errors.New("the Authorization header is not Basic")
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred))
	if err != nil {
		return errors.New("the Authorization header's credentials are not base64")
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	if !ok {
		return errors.New("the Authorization header's credentials are not username:password")
	}
	// Both are compared before either result is used, so that the time
	// taken does not tell a right username from a wrong one.
	userOK := platforms.Equal(user, c.username)
	passOK := platforms.Equal(pass, c.password)
	if !userOK || !passOK {
		return errors.New("wrong username or password")
	}
	return nil
}

func (c *config) verifyAPIKey(h http.Header) error {
	v := h.Get(c.header)
	if v == "" {
		return fmt.Errorf("no %s header", c.header)
	}
	if !platforms.Equal(v, c.key) {
		return fmt.Errorf("wrong key in the %s header", c.header)
	}
	return nil
}

func (provider) Normalize(in *platforms.Inbound) ([]platforms.Event, error) {
	if in == nil {
		return nil, errors.New("no request")
	}
	c, err := configOf(in.Platform)
	if err != nil {
		return nil, err
	}
	ev := platforms.Event{Type: c.eventType, Raw: rawBody(in.Body)}
	switch {
	case c.idHeader != "":
		ev.DedupKey = in.Header.Get(c.idHeader)
	case c.idFromBody:
		var b struct {
			ID string `json:"id"`
		}
		// A body without a string id has no key; it is still an event.
		if json.Unmarshal(in.Body, &b) == nil {
			ev.DedupKey = b.ID
		}
	}
	return []platforms.Event{ev}, nil
}

// rawBody keeps a JSON body as it came and wraps anything else in a JSON
// string, so that the event's data is always valid JSON.
func rawBody(body []byte) json.RawMessage {
	if json.Valid(body) {
		return json.RawMessage(body)
	}
	b, _ := json.Marshal(string(body))
	return b
}

func (provider) Register(_ context.Context, c *platforms.Call) (*platforms.Registration, error) {
	if c == nil {
		return nil, errors.New("no call")
	}
	resp, err := json.Marshal(struct {
		InboundURL   string `json:"inboundUrl"`
		Instructions string `json:"instructions"`
	}{c.InboundURL, instructions})
	if err != nil {
		return nil, err
	}
	return &platforms.Registration{Registered: false, Response: resp}, nil
}

func (provider) Unregister(context.Context, *platforms.Call) (json.RawMessage, error) {
	return nil, platforms.ErrUnsupported
}

func (provider) Status(context.Context, *platforms.Call) (*platforms.WebhookStatus, error) {
	return nil, platforms.ErrUnsupported
}

func (provider) Send(context.Context, *platforms.Call, string, string) (*platforms.Sent, error) {
	return nil, platforms.ErrUnsupported
}
