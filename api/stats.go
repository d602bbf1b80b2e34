package api

import (
	"context"
	"net/http"
	"time"

	"github.com/hookgate/hookgate"
)

// Windows of the stats endpoints.
const (
	DefaultStatsWindow = 24 * time.Hour
	MinStatsWindow     = time.Minute
	// MaxStatsWindow is the default retention: older attempts are purged.
	MaxStatsWindow = 720 * time.Hour
)

type failuresOut struct {
	Status4xx int `json:"4xx" doc:"Answered 4xx"`
	Status5xx int `json:"5xx" doc:"Answered 5xx"`
	Other     int `json:"other" doc:"Answered another status that is not 2xx (1xx, 3xx)"`
	NoAnswer  int `json:"noAnswer" doc:"No answer came: refused, timed out or blocked (status 0)"`
}

type durationsOut struct {
	P50 int64 `json:"p50" doc:"Half of the attempts took at most this long, in ms; 0 without attempts"`
	P95 int64 `json:"p95" doc:"95 % of the attempts took at most this long, in ms"`
}

type lastFailureOut struct {
	At         time.Time `json:"at"`
	DeliveryID string    `json:"deliveryId"`
	WebhookID  string    `json:"webhookId"`
	StatusCode int       `json:"statusCode" doc:"0 when no answer came"`
	Error      string    `json:"error"`
}

type statsOut struct {
	Window        string          `json:"window" doc:"The window, as a Go duration"`
	Since         time.Time       `json:"since"`
	Until         time.Time       `json:"until"`
	Attempts      int             `json:"attempts" doc:"Requests made in the window, deliveries' and triggers'"`
	Successes     int             `json:"successes" doc:"Attempts answered 2xx"`
	Failures      failuresOut     `json:"failures"`
	SuccessRate   float64         `json:"successRate" doc:"successes / attempts, from 0 to 1; 0 without attempts"`
	DurationMs    durationsOut    `json:"durationMs" doc:"Attempts' durations, request to the answer's end (exact, nearest rank)"`
	LastSuccessAt *time.Time      `json:"lastSuccessAt" doc:"The latest 2xx in the window; null when none"`
	LastFailure   *lastFailureOut `json:"lastFailure" doc:"The latest attempt in the window that got no 2xx; null when none"`
	Series        []pointOut      `json:"series,omitempty" doc:"With interval: the window in intervals, oldest first"`
	Circuit       *circuitOut     `json:"circuit,omitempty" doc:"A webhook's stats only: its circuit breaker as it stands now"`
	Filter        filterStatsOut  `json:"filter" doc:"Events of the webhook's types (of the project's webhooks, summed over them) that its filter kept from it in the window, to the minute"`
}

type filterStatsOut struct {
	Rejected int `json:"rejected" doc:"The filter answered false: no delivery was created"`
	Failed   int `json:"failed" doc:"The filter failed on the event (a missing field, a wrong type, its cost limit), counted as no match: no delivery was created"`
}

type pointOut struct {
	At         time.Time    `json:"at" doc:"The interval's start"`
	Attempts   int          `json:"attempts"`
	Successes  int          `json:"successes"`
	DurationMs durationsOut `json:"durationMs"`
}

// StatsQuery is the window of the stats endpoints.
type StatsQuery struct {
	Window   string `query:"window" default:"24h" doc:"How far back from now, as a Go duration: 1m to 720h"`
	Interval string `query:"interval" doc:"Also split the window into intervals of this Go duration (at least 1s, at most 1,440 of them), as series"`
}

// MaxStatsPoints bounds a series.
const MaxStatsPoints = 1440

// statsInterval reads the interval parameter; 0 when absent.
func statsInterval(v string, window time.Duration) (time.Duration, error) {
	if v == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d > window || window/d > MaxStatsPoints {
		return 0, hookgate.InvalidParam("interval", v, "interval must be a Go duration from 1s to the window, making at most %d intervals of it", MaxStatsPoints)
	}
	return d, nil
}

// statsWindow reads the window parameter.
func statsWindow(v string) (time.Duration, error) {
	if v == "" {
		return DefaultStatsWindow, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < MinStatsWindow || d > MaxStatsWindow {
		return 0, hookgate.InvalidParam("window", v, "window must be a Go duration from %s to %s, such as 24h",
			hookgate.FormatDuration(MinStatsWindow), hookgate.FormatDuration(MaxStatsWindow))
	}
	return d, nil
}

func toStats(st *hookgate.AttemptStats, window time.Duration) statsOut {
	out := statsOut{Window: hookgate.FormatDuration(window), Since: utc(st.Since), Until: utc(st.Until),
		Attempts: st.Attempts, Successes: st.Successes, SuccessRate: st.SuccessRate(),
		Failures:   failuresOut{Status4xx: st.Failures4xx, Status5xx: st.Failures5xx, Other: st.FailuresOther, NoAnswer: st.FailuresNoAnswer},
		DurationMs: durationsOut{P50: st.P50Ms, P95: st.P95Ms},
		Filter:     filterStatsOut{Rejected: st.FilterRejected, Failed: st.FilterFailed}}
	if !st.LastSuccessAt.IsZero() {
		t := utc(st.LastSuccessAt)
		out.LastSuccessAt = &t
	}
	if f := st.LastFailure; f != nil {
		out.LastFailure = &lastFailureOut{At: utc(f.At), DeliveryID: f.DeliveryID, WebhookID: f.WebhookID, StatusCode: f.StatusCode, Error: f.Error}
	}
	for _, p := range st.Series {
		out.Series = append(out.Series, pointOut{At: utc(p.At), Attempts: p.Attempts, Successes: p.Successes, DurationMs: durationsOut{P50: p.P50Ms, P95: p.P95Ms}})
	}
	return out
}

// stats answers the statistics of one webhook, or of the project with no webhookID.
func (s *Server) stats(ctx context.Context, webhookID string, q StatsQuery) (*struct{ Body statsOut }, error) {
	d, err := statsWindow(q.Window)
	if err != nil {
		return nil, err
	}
	interval, err := statsInterval(q.Interval, d)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if interval > 0 {
		now = now.Truncate(interval).Add(interval) // whole intervals, the last one running
	}
	st, err := s.store.AttemptStats(ctx, projectID(ctx), webhookID, now.Add(-d), now, interval)
	if err != nil {
		return nil, err
	}
	return &struct{ Body statsOut }{Body: toStats(st, d)}, nil
}

// statsRoutes are the operations that answer statistics.
func (s *Server) statsRoutes() []route {
	wh := op("getWebhookStats", http.MethodGet, base+"/projects/{project}/webhooks/{id}/stats", "A webhook's attempts over a window: successes, failures by class, durations, the last failure", accessOwner, http.StatusOK, "Webhooks")
	wh.Description = "Sums up the attempts the webhook's deliveries and triggers made from window ago to now, read from an index of " +
		"the attempts table (attempts older than --retention are purged, so a window reaches back at most that far)."
	pr := op("getProjectStats", http.MethodGet, base+"/projects/{project}/stats", "The project's attempts over a window, every webhook's together", accessOwner, http.StatusOK, "Projects")
	pr.Description = "As GET …/webhooks/{id}/stats, for every webhook of the project together; lastFailure names its webhook."
	return []route{
		{op: wh, handle: handle(s.handleGetWebhookStats)},
		{op: pr, handle: handle(s.handleGetProjectStats)},
	}
}

// handleGetWebhookStats handles getWebhookStats: A webhook's attempts over a window: successes, failures by class, durations, the last failure.
func (s *Server) handleGetWebhookStats(ctx context.Context, in *struct {
	WebhookRef
	StatsQuery
}) (*struct{ Body statsOut }, error) {
	// A uid costs a lookup; an ID goes straight to the store, which
	// answers ENotFound for another project's or none.
	id, err := s.webhookID(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	out, err := s.stats(ctx, id, in.StatsQuery)
	if err != nil {
		return nil, err
	}
	cs, err := s.store.FindCircuits(ctx, projectID(ctx), []string{id})
	if err != nil {
		return nil, err
	}
	c := toCircuit(cs[id])
	out.Body.Circuit = &c
	return out, nil
}

// handleGetProjectStats handles getProjectStats: The project's attempts over a window, every webhook's together.
func (s *Server) handleGetProjectStats(ctx context.Context, in *struct {
	ProjectRef
	StatsQuery
}) (*struct{ Body statsOut }, error) {
	return s.stats(ctx, "", in.StatsQuery)
}
