package delivery

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/signing"
)

// MaxResponseBody is how much of a receiver's answer is kept with an attempt.
const MaxResponseBody = 64 << 10

// Message is what one request carries.
type Message struct {
	// ID is the delivery's ID, sent as webhook-id; it is the same on every
	// retry.
	ID        string
	EventType string
	EventTime time.Time
	Data      json.RawMessage
}

// Result is the outcome of one request.
type Result struct {
	// StatusCode is 0 when no answer came (refused, timed out, blocked).
	StatusCode int
	Headers    map[string]string
	Body       string
	Duration   time.Duration
	// Err says why no answer came, or why the request could not be made.
	Err error
}

// OK reports whether the receiver accepted the request (any 2xx).
func (r Result) OK() bool { return r.Err == nil && r.StatusCode >= 200 && r.StatusCode < 300 }

// Sender makes signed requests to receivers. Its zero value is not usable;
// set Client (from netguard.Policy.Client, so that every connection, token
// fetches included, is under the network policy).
type Sender struct {
	Client    *http.Client
	UserAgent string
	// Now defaults to time.Now.
	Now func() time.Time

	mu     sync.Mutex
	tokens map[string]oauth2.TokenSource // by webhook ID and version
}

// Send makes one request for m to w and reports what happened.
func (s *Sender) Send(ctx context.Context, w *hookgate.Webhook, m Message) Result {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	body, contentType, err := Payload(w, m)
	if err != nil {
		return Result{Err: err}
	}
	res := s.send(ctx, w, m.ID, body, contentType, now)
	if res.StatusCode == http.StatusUnauthorized && w.Auth.Type == hookgate.AuthClientCredential {
		s.forgetToken(w) // the token may have been revoked: fetch a new one and try once more
		res = s.send(ctx, w, m.ID, body, contentType, now)
	}
	return res
}

func (s *Sender) send(ctx context.Context, w *hookgate.Webhook, id string, body []byte, contentType string, now func() time.Time) Result {
	start := now()
	req, err := http.NewRequestWithContext(ctx, w.Method, w.URL, bytes.NewReader(body))
	if err != nil {
		return Result{Err: err}
	}
	for k, v := range w.Headers {
		req.Header.Set(k, v)
	}
	if req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("User-Agent", s.UserAgent)
	signer, err := signing.NewSigner(w.Secret, s.previousSecret(w, start))
	if err != nil {
		return Result{Err: fmt.Errorf("signing secret: %w", err)}
	}
	ts := start.Unix()
	req.Header.Set(signing.HeaderID, id)
	req.Header.Set(signing.HeaderTimestamp, strconv.FormatInt(ts, 10))
	req.Header.Set(signing.HeaderSignature, signer.Sign(id, ts, body))
	switch w.Auth.Type {
	case hookgate.AuthBasic:
		req.SetBasicAuth(w.Auth.Username, w.Auth.Password)
	case hookgate.AuthClientCredential:
		tok, err := s.tokenSource(w).Token()
		if err != nil {
			return Result{Err: fmt.Errorf("oauth2 token from %s: %w", w.Auth.TokenURL, err), Duration: now().Sub(start)}
		}
		tok.SetAuthHeader(req)
	}
	resp, err := s.Client.Do(req)
	if err != nil {
		return Result{Err: err, Duration: now().Sub(start)}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // let the connection be reused
	res := Result{StatusCode: resp.StatusCode, Body: string(b), Duration: now().Sub(start), Headers: make(map[string]string, len(resp.Header))}
	for k := range resp.Header {
		res.Headers[k] = resp.Header.Get(k)
	}
	if err != nil && !errors.Is(err, io.EOF) {
		res.Err = fmt.Errorf("reading the answer: %w", err)
	}
	return res
}

func (s *Sender) previousSecret(w *hookgate.Webhook, now time.Time) string {
	if w.PreviousSecret != "" && now.Before(w.PreviousSecretExpiresAt) {
		return w.PreviousSecret
	}
	return ""
}

// Payload returns the request body for m and its default content type: the
// Standard Webhooks envelope as JSON, or with payloadEncoding base64 the
// bytes that data (a base64 string) encodes.
func Payload(w *hookgate.Webhook, m Message) ([]byte, string, error) {
	if w.PayloadEncoding == hookgate.EncodingBase64 {
		var s string
		if err := json.Unmarshal(m.Data, &s); err != nil {
			return nil, "", errors.New("payloadEncoding is base64 but the event's data is not a JSON string")
		}
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, "", errors.New("payloadEncoding is base64 but the event's data is not valid base64")
		}
		return b, "application/octet-stream", nil
	}
	b, err := json.Marshal(struct {
		Type      string          `json:"type"`
		Timestamp time.Time       `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}{m.EventType, m.EventTime.UTC(), m.Data})
	return b, "application/json", err
}

// tokenSource returns the cached token source of w; a changed webhook (another
// UpdatedAt) gets a new one.
func (s *Sender) tokenSource(w *hookgate.Webhook) oauth2.TokenSource {
	key := w.ID + "@" + w.UpdatedAt.String()
	s.mu.Lock()
	defer s.mu.Unlock()
	if ts, ok := s.tokens[key]; ok {
		return ts
	}
	if s.tokens == nil {
		s.tokens = map[string]oauth2.TokenSource{}
	}
	cfg := clientcredentials.Config{ClientID: w.Auth.ClientID, ClientSecret: w.Auth.ClientSecret, TokenURL: w.Auth.TokenURL, Scopes: w.Auth.Scopes}
	// The token client is the sender's: same network policy, no redirects.
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, s.Client)
	ts := oauth2.ReuseTokenSource(nil, cfg.TokenSource(ctx))
	s.tokens[key] = ts
	return ts
}

func (s *Sender) forgetToken(w *hookgate.Webhook) {
	s.mu.Lock()
	delete(s.tokens, w.ID+"@"+w.UpdatedAt.String())
	s.mu.Unlock()
}
