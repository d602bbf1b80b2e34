package delivery

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/netguard"
	"github.com/hookgate/hookgate/signing"
)

// MaxResponseBody is how much of a receiver's answer is kept with an attempt.
const MaxResponseBody = 64 << 10

// MaxResponseHeaders is how many bytes of a receiver's headers (names and
// values) are kept with an attempt; past it the rest are dropped and
// TruncatedHeader says so.
const MaxResponseHeaders = 16 << 10

// TruncatedHeader marks an attempt's response headers as cut at
// MaxResponseHeaders.
const TruncatedHeader = "Hookgate-Headers-Truncated"

// Request is one request to a webhook's receiver, before the sender adds
// what the registration fixes: method, URL, headers, receiver auth, the
// User-Agent and the Standard Webhooks headers.
type Request struct {
	// ID is sent as webhook-id and signed with the body.
	ID   string
	Body []byte
	// ContentType is sent unless the registration's headers, or Header,
	// name one.
	ContentType string
	// Header holds headers added to the registration's; a name the
	// registration sets keeps the registration's value.
	Header http.Header
	// Query is appended to the registration's URL.
	Query url.Values
	// RecordHeaders keeps the headers sent (credentials redacted) for the
	// attempt's record. Triggers set it: their headers vary with the
	// caller. A delivery's are its registration's and the signature's, so
	// they are not stored again with every attempt.
	RecordHeaders bool
}

// Result is the outcome of one request.
type Result struct {
	// StatusCode is 0 when no answer came (refused, timed out, blocked).
	StatusCode int
	Header     http.Header
	// Body holds the first MaxResponseBody bytes of the answer; Truncated
	// says there were more.
	Body      []byte
	Truncated bool
	Started   time.Time
	Duration  time.Duration
	// Err says why no answer came, or why the request could not be made.
	Err error
	// Method, URL and Sent are the request as made; Sent is nil when no
	// request was built or the request did not ask to record its headers.
	Method, URL string
	Sent        http.Header
	// RequestBody is what the attempt keeps of the body sent
	// (Body.Recorded): a transform's, "" for the envelope.
	RequestBody string
	// secret names the registration's headers that are not public, whose
	// values the record hides.
	secret map[string]bool
}

// OK reports whether the receiver accepted the request (any 2xx).
func (r Result) OK() bool { return r.Err == nil && r.StatusCode >= 200 && r.StatusCode < 300 }

// Attempt returns the record of this request as attempt number n of a
// delivery.
func (r Result) Attempt(deliveryID string, n int) hookgate.Attempt {
	a := hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, r.Started), DeliveryID: deliveryID, Attempt: n, StartedAt: r.Started,
		DurationMs: r.Duration.Milliseconds(), StatusCode: r.StatusCode, RequestMethod: r.Method, RequestURL: hookgate.RecordURL(r.URL),
		RequestBody: r.RequestBody}
	if utf8.Valid(r.Body) && bytes.IndexByte(r.Body, 0) < 0 {
		a.ResponseBody = string(r.Body)
	} else {
		// The store keeps text: a binary answer is kept whole, in base64.
		a.ResponseBody, a.ResponseBodyEncoding = base64.StdEncoding.EncodeToString(r.Body), hookgate.EncodingBase64
	}
	if r.Sent != nil {
		a.RequestHeaders = make(map[string]string, len(r.Sent))
		for k, v := range r.Sent {
			if len(v) == 0 {
				continue
			}
			if r.secret[http.CanonicalHeaderKey(k)] {
				a.RequestHeaders[k] = Redacted
			} else {
				a.RequestHeaders[k] = redactHeader(k, v[0])
			}
		}
	}
	if r.Header != nil {
		a.ResponseHeaders = keptHeaders(r.Header)
	}
	if r.Err != nil {
		// Go's errors quote the URL: the recorded one is redacted.
		a.Error = strings.ReplaceAll(netguard.Describe(r.Err), r.URL, a.RequestURL)
	}
	return a
}

// DefaultSendTimeout bounds one request when the Sender's Client sets no
// timeout of its own.
const DefaultSendTimeout = 15 * time.Second

// Sender makes signed requests to receivers. Its zero value is not usable;
// set Client (from netguard.Policy.Client, so that every connection, token
// fetches included, is under the network policy). A Client without a
// Timeout gets DefaultSendTimeout per request.
type Sender struct {
	Client    *http.Client
	UserAgent string
	// Now defaults to time.Now.
	Now func() time.Time

	mu     sync.Mutex
	tokens map[string]tokenSource // by webhook ID
	paces  map[string]*pacer      // by webhook ID
	swept  time.Time
	// tlsClients are the clients of webhooks with TLS settings, by
	// webhook ID; tlsSwept is when the idle ones were last dropped.
	tlsClients map[string]*tlsClient
	tlsSwept   time.Time
}

// Send makes one delivery request for m to w: the event in the Standard
// Webhooks envelope, or the body and headers of w's transform (Render),
// with the delivery's ID as webhook-id.
// A webhook's own Timeout, when shorter than the sender's, bounds the
// request (token fetch and retry after a 401 included).
func (s *Sender) Send(ctx context.Context, w *hookgate.Webhook, m hookgate.DeliveryMessage) Result {
	if w.Timeout > 0 && w.Timeout < s.Timeout() {
		parent := ctx
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, w.Timeout)
		defer cancel()
		res := s.send(ctx, w, m)
		if res.Err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil {
			res.Err = fmt.Errorf("timeout: no answer within the webhook's timeout of %s: %w", hookgate.FormatDuration(w.Timeout), res.Err)
		}
		return res
	}
	return s.send(ctx, w, m)
}

func (s *Sender) send(ctx context.Context, w *hookgate.Webhook, m hookgate.DeliveryMessage) Result {
	body, err := Render(ctx, w, m)
	if err != nil {
		return Result{Err: err, Started: s.now()}
	}
	res := s.Do(ctx, w, Request{ID: m.ID, Body: body.Bytes, ContentType: body.ContentType, Header: body.header(m.Trace)})
	res.RequestBody = body.Recorded()
	return res
}

// TraceHeaders are the traceparent and tracestate headers of t; nil when
// t names no span (trace headers off).
func TraceHeaders(t hookgate.TraceContext) http.Header {
	tp := t.Traceparent()
	if tp == "" {
		return nil
	}
	h := http.Header{"Traceparent": {tp}}
	if t.State != "" {
		h["Tracestate"] = []string{t.State}
	}
	return h
}

// Do makes one request to w and reports what happened. With OAuth2 client
// credentials, a 401 answer fetches a new token and tries once more.
func (s *Sender) Do(ctx context.Context, w *hookgate.Webhook, r Request) Result {
	res := s.do(ctx, w, r)
	if res.StatusCode == http.StatusUnauthorized && w.Auth.Type == hookgate.AuthClientCredential {
		s.forgetToken(w) // the token may have been revoked: fetch a new one and try once more
		res = s.do(ctx, w, r)
	}
	return res
}

// Timeout is how long one request may take: the Client's timeout, or
// DefaultSendTimeout.
func (s *Sender) Timeout() time.Duration {
	if t := s.Client.Timeout; t > 0 {
		return t
	}
	return DefaultSendTimeout
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) do(ctx context.Context, w *hookgate.Webhook, r Request) Result {
	if s.Client.Timeout <= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultSendTimeout)
		defer cancel()
	}
	start := s.now()
	res := Result{Started: start}
	target := w.URL
	if len(r.Query) > 0 {
		sep := "?"
		if u, err := url.Parse(w.URL); err == nil && u.RawQuery != "" {
			sep = "&"
		}
		target += sep + r.Query.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, w.Method, target, bytes.NewReader(r.Body))
	if err != nil {
		res.Err = err
		return res
	}
	for k, v := range r.Header {
		req.Header[k] = v
	}
	for k, v := range w.Headers {
		req.Header.Set(k, v)
		if r.RecordHeaders && !w.IsPublicHeader(k) {
			if res.secret == nil {
				res.secret = map[string]bool{}
			}
			res.secret[http.CanonicalHeaderKey(k)] = true
		}
	}
	if req.Header.Get("Content-Type") == "" && r.ContentType != "" {
		req.Header.Set("Content-Type", r.ContentType)
	}
	req.Header.Set("User-Agent", s.UserAgent)
	signer, err := s.signer(w, start)
	if err != nil {
		res.Err = fmt.Errorf("signing secret: %w", err)
		return res
	}
	ts := start.Unix()
	req.Header.Set(signing.HeaderID, r.ID)
	req.Header.Set(signing.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(signing.HeaderSignature, signer.Sign(r.ID, ts, r.Body))
	if kids := signer.KeyIDs(); kids != "" {
		req.Header.Set(signing.HeaderKeyID, kids)
	}
	switch w.Auth.Type {
	case hookgate.AuthBasic:
		req.SetBasicAuth(w.Auth.Username, w.Auth.Password)
	case hookgate.AuthClientCredential:
		ts, err := s.tokenSource(w)
		if err != nil {
			res.Err, res.Duration = err, s.now().Sub(start)
			return res
		}
		tok, err := ts.Token()
		if err != nil {
			res.Err, res.Duration = fmt.Errorf("oauth2 token from %s: %w", w.Auth.TokenURL, err), s.now().Sub(start)
			return res
		}
		tok.SetAuthHeader(req)
	}
	res.Method, res.URL = req.Method, target
	if r.RecordHeaders {
		res.Sent = req.Header
	}
	client, err := s.clientFor(w)
	if err != nil {
		res.Err, res.Duration = err, s.now().Sub(start)
		return res
	}
	resp, err := client.Do(req)
	if err != nil {
		res.Err, res.Duration = err, s.now().Sub(start)
		return res
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody+1))
	if len(b) > MaxResponseBody {
		b, res.Truncated = b[:MaxResponseBody], true
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	res.StatusCode, res.Header, res.Body, res.Duration = resp.StatusCode, resp.Header, b, s.now().Sub(start)
	if err != nil && !errors.Is(err, io.EOF) {
		res.Err = fmt.Errorf("reading the answer: %w", err)
	}
	return res
}

// keptHeaders is what an attempt keeps of a receiver's headers: the first
// value of each, in name order, up to MaxResponseHeaders bytes.
func keptHeaders(h http.Header) map[string]string {
	names := make([]string, 0, len(h))
	for k := range h {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make(map[string]string, len(names))
	size := 0
	for _, k := range names {
		if len(h[k]) == 0 {
			continue
		}
		v := h[k][0]
		if size += len(k) + len(v); size > MaxResponseHeaders {
			out[TruncatedHeader] = "true"
			break
		}
		out[k] = v
	}
	return out
}

// Redacted stands in for a credential in what is recorded of a request.
const Redacted = "********"

// redactHeader hides the value of a credential header; of an Authorization
// header it keeps the scheme.
func redactHeader(name, value string) string {
	if !hookgate.IsCredentialHeader(name) {
		return value
	}
	if scheme, _, ok := strings.Cut(value, " "); ok && strings.EqualFold(name, "Authorization") {
		return scheme + " " + Redacted
	}
	return Redacted
}

// signer signs a request made at now to w (Signer).
func (s *Sender) signer(w *hookgate.Webhook, now time.Time) (*signing.Signer, error) {
	return Signer(w, now)
}

// Signer returns what signs a delivery made at now to w as its signature
// scheme says: v1 with its secret (and the previous one, in its grace), v1a
// with its Ed25519 key (and the previous one, in the same grace). A webhook
// whose scheme asks for v1a before it has a key is signed v1, never
// unsigned. Every destination kind signs with it, so that a consumer
// verifies a broker's message as a receiver verifies a request.
func Signer(w *hookgate.Webhook, now time.Time) (*signing.Signer, error) {
	v1, v1a := w.Signature.Signs(now)
	var sg *signing.Signer
	var err error
	if v1 {
		sg, err = signing.NewSigner(w.Secret, previousSecret(w, now))
	} else {
		sg, err = signing.NewSigner()
	}
	if err != nil {
		return nil, err
	}
	if v1a {
		var prev ed25519.PrivateKey
		if now.Before(w.PreviousSecretExpiresAt) {
			prev = w.Signature.PreviousKey
		}
		sg.WithEd25519(w.Signature.Key, prev)
	}
	if sg.Empty() {
		return signing.NewSigner(w.Secret, previousSecret(w, now))
	}
	return sg, nil
}

// previousSecret is w's previous secret while it still signs at now.
func previousSecret(w *hookgate.Webhook, now time.Time) string {
	if w.PreviousSecret != "" && now.Before(w.PreviousSecretExpiresAt) {
		return w.PreviousSecret
	}
	return ""
}

// Payload returns the request body for m and its default content type: the
// Standard Webhooks envelope as JSON, or with payloadEncoding base64 the
// bytes that data (a base64 string) encodes.
func Payload(w *hookgate.Webhook, m hookgate.DeliveryMessage) ([]byte, string, error) {
	if w.PayloadEncoding == hookgate.EncodingBase64 {
		b, err := hookgate.DecodeBase64Data(m.Data)
		if err != nil {
			return nil, "", fmt.Errorf("payloadEncoding is base64 but the event's %w", err)
		}
		return b, "application/octet-stream", nil
	}
	// Written by hand: encoding/json would compact and HTML-escape the
	// data, and it is delivered as it was stored. An event type is
	// letters, digits, '_', '.' and '-' (ValidateEventType): nothing in it
	// needs escaping.
	b := make([]byte, 0, len(m.Data)+len(m.EventType)+64)
	b = append(b, `{"type":"`...)
	b = append(b, m.EventType...)
	b = append(b, `","timestamp":"`...)
	b = m.EventTime.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","data":`...)
	if len(m.Data) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, m.Data...)
	}
	return append(b, '}'), "application/json", nil
}

// tokenSource is a webhook's cached OAuth2 token source and the version
// of the webhook it was made for.
type tokenSource struct {
	version time.Time
	ts      oauth2.TokenSource
}

// maxTokenSources bounds the token cache: one entry per webhook, the
// newest version's; past it the cache starts over (tokens are fetched
// again).
const maxTokenSources = 10000

// tokenSource returns the cached token source of w; a changed webhook (another
// UpdatedAt) gets a new one in the place of the old. Its token requests go
// through w's client: with TLS settings, they present w's client
// certificate and trust w's CAs.
func (s *Sender) tokenSource(w *hookgate.Webhook) (oauth2.TokenSource, error) {
	client, err := s.clientFor(w)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.tokens[w.ID]; ok && e.version.Equal(w.UpdatedAt) {
		return e.ts, nil
	}
	if s.tokens == nil || len(s.tokens) >= maxTokenSources {
		s.tokens = map[string]tokenSource{}
	}
	cfg := clientcredentials.Config{ClientID: w.Auth.ClientID, ClientSecret: w.Auth.ClientSecret, TokenURL: w.Auth.TokenURL, Scopes: w.Auth.Scopes}
	// The token client is the sender's (or w's clone of it): same network
	// policy, no redirects.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, client)
	ts := oauth2.ReuseTokenSource(nil, cfg.TokenSource(ctx))
	s.tokens[w.ID] = tokenSource{version: w.UpdatedAt, ts: ts}
	return ts, nil
}

func (s *Sender) forgetToken(w *hookgate.Webhook) {
	s.mu.Lock()
	delete(s.tokens, w.ID)
	s.mu.Unlock()
}

// TokenSources returns how many OAuth2 token sources are cached.
func (s *Sender) TokenSources() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.tokens)
}
