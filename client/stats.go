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
	// P50 and P95 are the attempts' durations at those ranks, in whole
	// milliseconds cut down: 0 with Attempts means under a millisecond, 0
	// without means no attempt.
	P50, P95 time.Duration `json:"-"`
	// LastSuccessAt is zero when no attempt succeeded in the window.
	LastSuccessAt time.Time `json:"lastSuccessAt"`
	// LastFailure is nil when every attempt succeeded.
	LastFailure *FailedAttempt `json:"lastFailure"`
	// Series splits the window into StatsOptions.Interval, oldest first;
	// empty without an interval.
	Series []StatsPoint `json:"series,omitempty"`
	// Circuit is the webhook's circuit breaker as it stands now; nil in a
	// project's stats.
	Circuit *Circuit `json:"circuit,omitempty"`
	// Filter counts the events its filter kept from the webhook (from the
	// project's webhooks) in the window, to the minute.
	Filter FilterStats `json:"filter"`
}

// FilterStats counts the events of a webhook's types that its filter kept
// from it: Rejected when it answered false, Failed when it failed on the
// event (a missing field, its cost limit), which also counts as no match.
type FilterStats struct {
	Rejected int `json:"rejected"`
	Failed   int `json:"failed"`
}

// StatsOptions choose the window of stats, and an interval to split it
// into.
type StatsOptions struct {
	// Window is how far back from now: 1 minute to 720 hours; 0 for the
	// server's default, 24 hours.
	Window time.Duration
	// Interval, when set, adds a Series of it (at least 1 s, at most 1,440
	// intervals in the window).
	Interval time.Duration
}

// StatsPoint is one interval of a series.
type StatsPoint struct {
	At        time.Time `json:"at"`
	Attempts  int       `json:"attempts"`
	Successes int       `json:"successes"`
	// P50 and P95 are as Stats's, over the interval's attempts.
	P50, P95 time.Duration `json:"-"`
}

// UnmarshalJSON reads durationMs into P50 and P95.
func (p *StatsPoint) UnmarshalJSON(b []byte) error {
	type plain StatsPoint
	var w struct {
		plain
		DurationMs statsDurations `json:"durationMs"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*p = StatsPoint(w.plain)
	p.P50 = time.Duration(w.DurationMs.P50) * time.Millisecond
	p.P95 = time.Duration(w.DurationMs.P95) * time.Millisecond
	return nil
}

// MarshalJSON writes P50 and P95 as durationMs, as the API does.
func (p StatsPoint) MarshalJSON() ([]byte, error) {
	type plain StatsPoint
	return json.Marshal(struct {
		plain
		DurationMs statsDurations `json:"durationMs"`
	}{plain(p), statsDurations{p.P50.Milliseconds(), p.P95.Milliseconds()}})
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

func (o *StatsOptions) values() url.Values {
	q := url.Values{}
	if o == nil {
		return q
	}
	if o.Window > 0 {
		q.Set("window", o.Window.String())
	}
	if o.Interval > 0 {
		q.Set("interval", o.Interval.String())
	}
	return q
}

// GetWebhookStats sums up a webhook's attempts over the window of opts (nil:
// the last 24 hours).
func (c *Client) GetWebhookStats(ctx context.Context, project, id string, opts *StatsOptions) (*Stats, error) {
	var out Stats
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "webhooks", id, "stats"), query: opts.values(), want: http.StatusOK, out: &out})
}

// GetProjectStats sums up the attempts of every webhook of the project over
// the window of opts (nil: the last 24 hours).
func (c *Client) GetProjectStats(ctx context.Context, project string, opts *StatsOptions) (*Stats, error) {
	var out Stats
	return &out, c.do(ctx, request{method: http.MethodGet, path: projectPath(project, "stats"), query: opts.values(), want: http.StatusOK, out: &out})
}
