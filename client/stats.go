package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"time"
)

// Stats sums up the attempts of a webhook, or of a project, over a window
// of time: deliveries' and triggers' requests alike.
type Stats struct {
	// Window is the window as the server read it ("24h").
	Window      string        `json:"window"`
	Since       time.Time     `json:"since"`
	Until       time.Time     `json:"until"`
	Attempts    int           `json:"attempts"`
	Successes   int           `json:"successes"`
	Failures    StatsFailures `json:"failures"`
	SuccessRate float64       `json:"successRate"`
	// P50 and P95 are the attempts' durations at those ranks; 0 without
	// attempts.
	P50, P95 time.Duration `json:"-"`
	// LastSuccessAt is zero when no attempt succeeded in the window.
	LastSuccessAt time.Time `json:"lastSuccessAt"`
	// LastFailure is nil when every attempt succeeded.
	LastFailure *FailedAttempt `json:"lastFailure"`
}

// StatsFailures counts failed attempts by what came back.
type StatsFailures struct {
	Status4xx int `json:"4xx"`
	Status5xx int `json:"5xx"`
	// Other is another status that is not 2xx (1xx, 3xx).
	Other int `json:"other"`
	// NoAnswer is refused, timed out or blocked (status 0).
	NoAnswer int `json:"noAnswer"`
}

// FailedAttempt is the latest attempt of a window that got no 2xx.
type FailedAttempt struct {
	At         time.Time `json:"at"`
	DeliveryID string    `json:"deliveryId"`
	WebhookID  string    `json:"webhookId"`
	StatusCode int       `json:"statusCode"`
	Error      string    `json:"error"`
}

type statsDurations struct {
	P50 int64 `json:"p50"`
	P95 int64 `json:"p95"`
}

// UnmarshalJSON reads durationMs into P50 and P95.
func (s *Stats) UnmarshalJSON(b []byte) error {
	type plain Stats
	var w struct {
		plain
		DurationMs statsDurations `json:"durationMs"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*s = Stats(w.plain)
	s.P50 = time.Duration(w.DurationMs.P50) * time.Millisecond
	s.P95 = time.Duration(w.DurationMs.P95) * time.Millisecond
	return nil
}

// MarshalJSON writes P50 and P95 as durationMs, as the API does.
func (s Stats) MarshalJSON() ([]byte, error) {
	type plain Stats
	return json.Marshal(struct {
		plain
		DurationMs statsDurations `json:"durationMs"`
	}{plain(s), statsDurations{s.P50.Milliseconds(), s.P95.Milliseconds()}})
}

func windowQuery(window time.Duration) url.Values {
	q := url.Values{}
	if window > 0 {
		q.Set("window", window.String())
	}
	return q
}

// GetWebhookStats sums up a webhook's attempts of the last window (0: the
// server's default, 24 hours; at most 720 hours).
func (c *Client) GetWebhookStats(ctx context.Context, project, id string, window time.Duration) (*Stats, error) {
	var out Stats
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "webhooks", id, "stats"), query: windowQuery(window), want: http.StatusOK, out: &out})
}

// GetProjectStats sums up the attempts of every webhook of the project in
// the last window (0: 24 hours).
func (c *Client) GetProjectStats(ctx context.Context, project string, window time.Duration) (*Stats, error) {
	var out Stats
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "stats"), query: windowQuery(window), want: http.StatusOK, out: &out})
}
