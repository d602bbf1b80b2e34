package api

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookgate/hookgate"
)

// Where an effective delivery setting comes from.
const (
	fromWebhook = "webhook"
	fromProject = "project"
	fromServer  = "server"
)

// deliverySettings are the delivery settings in force for a webhook, each
// with where it comes from.
type deliverySettings struct {
	RetrySchedule scheduleSetting `json:"retrySchedule"`
	Timeout       timeoutSetting  `json:"timeout"`
	MaxAttempts   attemptsSetting `json:"maxAttempts"`
	// AutoRecover is the webhook's, else its project's, else the server's.
	AutoRecover autoRecoverSetting `json:"autoRecover"`
	Breaker     breakerSettings    `json:"breaker"`
}

type scheduleSetting struct {
	Value []string `json:"value" doc:"Waits before each retry"`
	From  string   `json:"from" enum:"webhook,project,server" doc:"The webhook's own retrySchedule, else its project's, else the server's (HOOKGATE_RETRY_SCHEDULE)"`
}

type timeoutSetting struct {
	Value string `json:"value" doc:"How long one delivery request may take"`
	From  string `json:"from" enum:"webhook,server" doc:"The webhook's own timeout, else the server's --send-timeout"`
}

type attemptsSetting struct {
	Value int    `json:"value" doc:"Attempts of a delivery at most, the first included"`
	From  string `json:"from" enum:"webhook,project,server" doc:"The webhook's own maxAttempts, else the length of the retry schedule in force (plus the first attempt), named by where the schedule comes from"`
}

// effectiveDelivery returns the delivery settings in force for w, whose
// project is p: the webhook's own, then the project's, then the server's.
func (s *Server) effectiveDelivery(w *hookgate.Webhook, p *hookgate.Project) deliverySettings {
	sched, from := s.cfg.RetrySchedule, fromServer
	switch {
	case len(w.RetrySchedule) > 0:
		sched, from = w.RetrySchedule, fromWebhook
	case p != nil && len(p.RetrySchedule) > 0:
		sched, from = p.RetrySchedule, fromProject
	}
	out := deliverySettings{
		RetrySchedule: scheduleSetting{Value: sched.Strings(), From: from},
		Timeout:       timeoutSetting{Value: hookgate.FormatDuration(s.cfg.SendTimeout), From: fromServer},
		MaxAttempts:   attemptsSetting{Value: len(sched) + 1, From: from},
		AutoRecover:   s.effectiveAutoRecover(w, p),
	}
	if w.Timeout > 0 {
		out.Timeout = timeoutSetting{Value: hookgate.FormatDuration(w.Timeout), From: fromWebhook}
	}
	if w.MaxAttempts > 0 && w.MaxAttempts < out.MaxAttempts.Value {
		out.MaxAttempts = attemptsSetting{Value: w.MaxAttempts, From: fromWebhook}
	}
	out.Breaker = s.effectiveBreaker(w, p)
	return out
}

// webhookRenderer returns the function that renders webhooks of the
// request's project for an answer, with their effective delivery settings
// and, for those of ws (read at once), their circuit breaker and, when
// disabled, their recovery.
func (s *Server) webhookRenderer(ctx context.Context, ws ...*hookgate.Webhook) (func(*hookgate.Webhook) webhookOut, error) {
	p, err := s.store.FindProject(ctx, projectID(ctx))
	if err != nil {
		return nil, err
	}
	recs, err := s.recoveries(ctx, ws)
	if err != nil {
		return nil, err
	}
	circuits, err := s.circuitsOf(ctx, ws)
	if err != nil {
		return nil, err
	}
	return func(w *hookgate.Webhook) webhookOut {
		out := toWebhook(w)
		out.Delivery = s.effectiveDelivery(w, p)
		out.Recovery = s.toRecovery(w, recs[w.ID], out.Delivery.AutoRecover.Value)
		out.Circuit = toCircuit(circuits[w.ID])
		out.Signature = toSignature(w, s.now())
		return out
	}, nil
}

// renderWebhook renders w, of the request's project, for an answer.
func (s *Server) renderWebhook(ctx context.Context, w *hookgate.Webhook) (*webhookOutput, error) {
	render, err := s.webhookRenderer(ctx, w)
	if err != nil {
		return nil, err
	}
	return &webhookOutput{Body: render(w)}, nil
}

// ownOverrides writes w's own delivery settings into out: null (or [])
// where w takes the project's or the server's.
func ownOverrides(out *webhookOut, w *hookgate.Webhook) {
	out.Breaker = toBreaker(w.Breaker)
	out.RetrySchedule = w.RetrySchedule.Strings()
	if w.Timeout > 0 {
		t := hookgate.FormatDuration(w.Timeout)
		out.Timeout = &t
	}
	if w.MaxAttempts > 0 {
		n := w.MaxAttempts
		out.MaxAttempts = &n
	}
	out.AutoRecover = w.AutoRecover
}

// parseOverrides sets w's own delivery settings from a registration.
func parseOverrides(w *hookgate.Webhook, sched []string, timeout string, maxAttempts *int) error {
	var err error
	if w.RetrySchedule, err = hookgate.ParseRetrySchedule("retrySchedule", sched); err != nil {
		return err
	}
	if w.Timeout, err = parseTimeout(timeout); err != nil {
		return err
	}
	if maxAttempts != nil {
		if *maxAttempts < 1 {
			return hookgate.InvalidParam("maxAttempts", *maxAttempts, "maxAttempts must be at least 1")
		}
		w.MaxAttempts = *maxAttempts
	}
	return nil
}

// patchOverrides applies the delivery settings a PATCH names; null
// clears one, so that the project's or the server's applies.
func patchOverrides(w *hookgate.Webhook, p *webhookPatch) error {
	if len(p.RetrySchedule) > 0 {
		var waits []string
		if !p.RetrySchedule.isNull() {
			if err := json.Unmarshal(p.RetrySchedule, &waits); err != nil {
				return hookgate.InvalidParam("retrySchedule", nil, "retrySchedule is a list of durations such as [\"10s\", \"1m\"], or null")
			}
		}
		s, err := hookgate.ParseRetrySchedule("retrySchedule", waits)
		if err != nil {
			return err
		}
		w.RetrySchedule = s
	}
	if len(p.Timeout) > 0 {
		var t string
		if !p.Timeout.isNull() {
			if err := json.Unmarshal(p.Timeout, &t); err != nil || t == "" {
				return hookgate.InvalidParam("timeout", nil, "timeout is a duration such as \"10s\", or null")
			}
		}
		d, err := parseTimeout(t)
		if err != nil {
			return err
		}
		w.Timeout = d
	}
	if len(p.AutoRecover) > 0 {
		v, err := parseAutoRecover(p.AutoRecover)
		if err != nil {
			return err
		}
		w.AutoRecover = v
	}
	if len(p.MaxAttempts) > 0 {
		var n *int
		if !p.MaxAttempts.isNull() {
			if err := json.Unmarshal(p.MaxAttempts, &n); err != nil {
				return hookgate.InvalidParam("maxAttempts", nil, "maxAttempts is an integer of at least 1, or null")
			}
		}
		w.MaxAttempts = 0
		if n != nil {
			if *n < 1 {
				return hookgate.InvalidParam("maxAttempts", *n, "maxAttempts must be at least 1")
			}
			w.MaxAttempts = *n
		}
	}
	return nil
}

// parseTimeout reads a webhook's timeout; "" is none.
func parseTimeout(t string) (time.Duration, error) {
	if t == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, hookgate.InvalidParam("timeout", t, "timeout is not a duration such as 5s or 1m")
	}
	if d <= 0 {
		return 0, hookgate.InvalidParam("timeout", t, "timeout must be above 0")
	}
	return d, nil
}

// checkTimeout refuses a webhook timeout above the server's send timeout,
// which the dispatcher's lease is sized for.
func (s *Server) checkTimeout(w *hookgate.Webhook) error {
	if w.Timeout > s.cfg.SendTimeout {
		t := hookgate.FormatDuration(w.Timeout)
		return hookgate.InvalidParam("timeout", t, "%s", fmt.Sprintf("timeout may be at most the server's send timeout, %s", hookgate.FormatDuration(s.cfg.SendTimeout)))
	}
	return nil
}
