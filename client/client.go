// Package client is the Go SDK of Hookgate's HTTP API: a Client with a typed
// method for every operation of /api/v1, cursor iteration, typed errors that
// carry the API's problem+json fields, and Verify for receivers of Hookgate's
// signed webhooks.
//
// Every method takes a context; requests answered 429 or 503 are retried
// with backoff, honouring Retry-After. Methods are named after the
// operations of the OpenAPI document served at /openapi.json
// (createWebhook is CreateWebhook).
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// DefaultURL is where a server started with no flags listens.
const DefaultURL = "http://127.0.0.1:8080"

// DefaultRetries is how many times a request answered 429 or 503 is sent
// again, by default.
const DefaultRetries = 3

// DefaultMaxWait is the longest the client waits before a retry, by
// default, whatever Retry-After asks: a server asking more gets its error
// returned instead.
const DefaultMaxWait = 30 * time.Second

// Client calls one Hookgate server with one API key. It is safe for
// concurrent use.
type Client struct {
	base      string // scheme://host[:port][/prefix], without the trailing slash
	key       string
	http      *http.Client
	userAgent string
	retries   int
	maxWait   time.Duration
	// sleep waits d or until ctx is done; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sends requests with hc instead of a client with a 60 s
// timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithRetries sets how many times a request answered 429 or 503 is sent
// again (default DefaultRetries; 0 never retries).
func WithRetries(n int) Option { return func(c *Client) { c.retries = max(0, n) } }

// WithMaxWait caps the wait before a retry (default DefaultMaxWait).
func WithMaxWait(d time.Duration) Option { return func(c *Client) { c.maxWait = d } }

// WithUserAgent sets the User-Agent header (default "hookgate-go").
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client of the server at baseURL (such as DefaultURL)
// authenticating with apiKey: the admin key, or a project's owner or
// publisher key. Whitespace around apiKey is removed, such as the newline
// ending the server's admin.key file: no key holds any. An empty apiKey
// sends none.
func New(baseURL, apiKey string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("hookgate client: base URL %q: want http://host[:port] or https://…", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("hookgate client: base URL %q has a query or fragment", baseURL)
	}
	c := &Client{
		base:      strings.TrimRight(u.String(), "/"),
		key:       strings.TrimSpace(apiKey),
		http:      &http.Client{Timeout: 60 * time.Second},
		userAgent: "hookgate-go",
		retries:   DefaultRetries,
		maxWait:   DefaultMaxWait,
		sleep:     sleepCtx,
	}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// BaseURL is the server's URL the client was made with.
func (c *Client) BaseURL() string { return c.base }

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// request is one API call.
type request struct {
	method string
	path   string // under /api/v1, with path parameters escaped
	query  url.Values
	header http.Header
	body   any // encoded as JSON unless nil
	want   int // the success status
	out    any // decoded from a success body unless nil
	// respHeader, when set, receives the success answer's headers.
	respHeader *http.Header
}

// do sends r, retrying 429 and 503 answers, and decodes the answer.
func (c *Client) do(ctx context.Context, r request) error {
	var body []byte
	switch b := r.body.(type) {
	case nil:
	case encoded:
		body = b
	default:
		var err error
		if body, err = json.Marshal(r.body); err != nil {
			return fmt.Errorf("hookgate client: encoding the request: %w", err)
		}
	}
	target := c.base + "/api/v1" + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, r.method, target, bytes.NewReader(body))
		if err != nil {
			return fmt.Errorf("hookgate client: %w", err)
		}
		if body == nil {
			req.Body, req.ContentLength = http.NoBody, 0
		} else {
			req.Header.Set("Content-Type", "application/json")
		}
		req.Header.Set("Accept", "application/json, application/problem+json")
		req.Header.Set("User-Agent", c.userAgent)
		if c.key != "" {
			req.Header.Set("Authorization", "Bearer "+c.key)
		}
		for k, vs := range r.header {
			req.Header[k] = vs
		}
		res, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("hookgate client: %s %s: %w", r.method, r.path, err)
		}
		raw, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
		res.Body.Close()
		if err != nil {
			return fmt.Errorf("hookgate client: %s %s: reading the answer: %w", r.method, r.path, err)
		}
		if res.StatusCode == r.want || (r.want == 0 && res.StatusCode/100 == 2) {
			if r.respHeader != nil {
				*r.respHeader = res.Header
			}
			if r.out != nil && len(raw) > 0 {
				if err := json.Unmarshal(raw, r.out); err != nil {
					return fmt.Errorf("hookgate client: %s %s: decoding the answer: %w", r.method, r.path, err)
				}
			}
			return nil
		}
		apiErr := newError(res, raw)
		if (res.StatusCode != http.StatusTooManyRequests && res.StatusCode != http.StatusServiceUnavailable) || attempt >= c.retries {
			return apiErr
		}
		wait := apiErr.RetryAfter
		if wait <= 0 {
			wait = backoff(attempt)
		}
		if wait > c.maxWait {
			return apiErr
		}
		if err := c.sleep(ctx, wait); err != nil {
			return errors.Join(apiErr, err)
		}
	}
}

// backoff is the wait before retry attempt+1 when the server gave no
// Retry-After: 0.5 s doubled each time, with up to 50 % jitter.
func backoff(attempt int) time.Duration {
	d := 500 * time.Millisecond << min(attempt, 6)
	return d/2 + rand.N(d/2+1)
}

// parseRetryAfter reads a Retry-After value: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}

// pathOf joins escaped path segments.
func pathOf(segments ...string) string {
	var b strings.Builder
	for _, s := range segments {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

// projectPath is /projects/{project} followed by segments.
func projectPath(project string, segments ...string) string {
	return pathOf(append([]string{"projects", project}, segments...)...)
}
