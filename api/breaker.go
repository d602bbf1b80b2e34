package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/hookgate/hookgate"
)

// breakerBody is a circuit breaker's settings as a webhook or a project
// sets them: a field absent (or null) takes the next level's.
type breakerBody struct {
	Failures *int    `json:"failures,omitempty" minimum:"0" maximum:"1000" doc:"Consecutive failed attempts (no answer: network errors and timeouts; 5xx; 429) that open the circuit, 1 to 1000; 0 turns the breaker off; absent for the next level's (the project's, then the server's: 10 unless serve's --breaker-failures says otherwise)"`
	Cooldown *string `json:"cooldown,omitempty" doc:"How long an open circuit waits before its probe, 1s to 10m, such as 30s; it doubles after each failed probe, up to 10m; absent for the next level's (the project's, then the server's: 30s unless serve's --breaker-cooldown says otherwise)"`
}

// domain reads b, naming its fields under param.
func (b *breakerBody) domain(param string) (hookgate.Breaker, error) {
	var out hookgate.Breaker
	if b == nil {
		return out, nil
	}
	if b.Failures != nil {
		n := *b.Failures
		if n < 0 || n > hookgate.MaxBreakerFailures {
			return out, hookgate.InvalidParam(param+".failures", n, "%s.failures must be between 1 and %d, or 0 to turn the breaker off", param, hookgate.MaxBreakerFailures)
		}
		out.Failures = n
		if n == 0 {
			out.Failures = hookgate.BreakerOff
		}
	}
	if b.Cooldown != nil {
		d, err := hookgate.ParseBreakerCooldown(param+".cooldown", *b.Cooldown)
		if err != nil {
			return out, err
		}
		out.Cooldown = d
	}
	return out, nil
}

// toBreaker renders b's own settings; nil when it sets none.
func toBreaker(b hookgate.Breaker) *breakerBody {
	if b.IsZero() {
		return nil
	}
	out := &breakerBody{}
	if b.Failures != 0 {
		n := max(b.Failures, 0) // BreakerOff reads 0
		out.Failures = &n
	}
	if b.Cooldown != 0 {
		c := hookgate.FormatDuration(b.Cooldown)
		out.Cooldown = &c
	}
	return out
}

// patchBreaker applies a PATCH's breaker to b: null clears it; in an
// object, a field set changes it, a field null clears it, a field absent
// stays.
func patchBreaker(b *hookgate.Breaker, raw rawJSON, param string) error {
	if len(raw) == 0 {
		return nil
	}
	if raw.isNull() {
		*b = hookgate.Breaker{}
		return nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(raw, &fields); err != nil {
		return hookgate.InvalidParam(param, nil, "%s is {\"failures\": 1-1000 (0 turns it off), \"cooldown\": \"30s\"}, or null", param)
	}
	var in breakerBody
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		name := param
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			name = param + "." + te.Field
		}
		return hookgate.InvalidParam(name, nil, "%s is {\"failures\": 1-1000 (0 turns it off), \"cooldown\": \"30s\"}, or null", param)
	}
	set, err := in.domain(param)
	if err != nil {
		return err
	}
	if v, ok := fields["failures"]; ok {
		b.Failures = set.Failures
		if string(v) == "null" {
			b.Failures = 0
		}
	}
	if v, ok := fields["cooldown"]; ok {
		b.Cooldown = set.Cooldown
		if string(v) == "null" {
			b.Cooldown = 0
		}
	}
	return nil
}

// breakerSettings are the circuit breaker settings in force for a
// webhook, each with where it comes from.
type breakerSettings struct {
	Failures breakerFailuresSetting `json:"failures"`
	Cooldown timeoutSetting         `json:"cooldown"`
}

type breakerFailuresSetting struct {
	Value int    `json:"value" doc:"Consecutive failed attempts that open the circuit; 0 when the breaker is off"`
	From  string `json:"from" enum:"webhook,project,server" doc:"The webhook's own breaker.failures, else its project's, else the server's"`
}

// effectiveBreaker returns the breaker in force for w, whose project is p,
// and where each field comes from.
func (s *Server) effectiveBreaker(w *hookgate.Webhook, p *hookgate.Project) breakerSettings {
	var pb hookgate.Breaker
	if p != nil {
		pb = p.Breaker
	}
	pick := func(own, proj, server int64) (int64, string) {
		switch {
		case own != 0:
			return own, fromWebhook
		case proj != 0:
			return proj, fromProject
		}
		return server, fromServer
	}
	n, nFrom := pick(int64(w.Breaker.Failures), int64(pb.Failures), int64(s.cfg.Breaker.Failures))
	c, cFrom := pick(int64(w.Breaker.Cooldown), int64(pb.Cooldown), int64(s.cfg.Breaker.Cooldown))
	return breakerSettings{
		Failures: breakerFailuresSetting{Value: max(int(n), 0), From: nFrom},
		Cooldown: timeoutSetting{Value: hookgate.FormatDuration(time.Duration(c)), From: cFrom},
	}
}

// circuitOut is a webhook's circuit breaker as it stands.
type circuitOut struct {
	State               string     `json:"state" enum:"closed,open,half_open" doc:"closed: deliveries go; open: they wait, with no attempt counted, until nextProbeAt; half_open: one delivery is in flight as the probe, the others wait for its outcome"`
	Since               *time.Time `json:"since" doc:"When the circuit entered its state; null for a circuit that never failed"`
	ConsecutiveFailures int        `json:"consecutiveFailures" doc:"Failed attempts since the last success, counted across every node"`
	NextProbeAt         *time.Time `json:"nextProbeAt" doc:"When an open circuit sends its probe; null unless open"`
	OpenedAt            *time.Time `json:"openedAt" doc:"When the circuit last opened; null if it never did"`
	Cooldown            *string    `json:"cooldown" doc:"The wait of the current opening (it doubles after each failed probe, up to 10m); null unless open or half_open"`
}

// toCircuit renders c; nil is a circuit that never failed.
func toCircuit(c *hookgate.Circuit) circuitOut {
	if c == nil {
		return circuitOut{State: hookgate.CircuitClosed}
	}
	tp := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		u := utc(t)
		return &u
	}
	out := circuitOut{State: c.State, Since: tp(c.Since), ConsecutiveFailures: c.Failures, OpenedAt: tp(c.OpenedAt)}
	if c.State == hookgate.CircuitOpen {
		out.NextProbeAt = tp(c.NextProbeAt)
	}
	if c.State != hookgate.CircuitClosed && c.Cooldown > 0 {
		d := hookgate.FormatDuration(c.Cooldown)
		out.Cooldown = &d
	}
	return out
}

// circuitsOf reads the circuits of webhooks of the request's project.
func (s *Server) circuitsOf(ctx context.Context, ws []*hookgate.Webhook) (map[string]*hookgate.Circuit, error) {
	ids := make([]string, len(ws))
	for i, w := range ws {
		ids[i] = w.ID
	}
	if len(ids) == 0 {
		return nil, nil
	}
	return s.store.FindCircuits(ctx, projectID(ctx), ids)
}
