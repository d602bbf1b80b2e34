package delivery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/trace"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/tracing"
)

// TriggerStore is what triggers need of the store.
type TriggerStore interface {
	FindWebhook(ctx context.Context, projectID, ref string) (*hookgate.Webhook, error)
	SaveTrigger(ctx context.Context, d *hookgate.Delivery, a *hookgate.Attempt, request []byte) error
}

// TriggerConfig configures Triggers; Store and Sender are required.

// DefaultTriggersPerWebhook is how many triggers of one webhook may be in
// flight on a node unless configured otherwise.
const DefaultTriggersPerWebhook = 16

type TriggerConfig struct {
	Store  TriggerStore
	Sender *Sender
	// Check validates a step's input against what the registration asks
	// beyond Webhook.CheckTrigger (the JSON Schema of its data); nil checks
	// nothing more. It returns a *hookgate.Error naming the parameter.
	Check func(ctx context.Context, w *hookgate.Webhook, in *hookgate.TriggerInput) error
	// Node names this node in the attempts it records; "" for none.
	Node string
	// PerWebhook caps the triggers of one webhook in flight on this node;
	// default DefaultTriggersPerWebhook. Beyond it a trigger is refused with ERateLimited.
	PerWebhook int
	// MaxWait is the longest a trigger waits for its webhook's rateLimit;
	// default 1s. A longer wait is refused with ERateLimited.
	MaxWait time.Duration
	// Registry receives the trigger metrics; default none.
	Registry prometheus.Registerer
	// Tracer starts each step's span; nil exports none, and steps still
	// carry trace IDs.
	Tracer *tracing.Tracer
	// TraceOff reports whether a project sends no trace headers; nil:
	// every project sends them.
	TraceOff func(ctx context.Context, projectID string) bool
	// Now defaults to time.Now.
	Now func() time.Time
}

// Triggers makes synchronous, recorded calls to registered webhooks: the
// request follows the registration, goes through the delivery Sender (same
// network policy, no redirects, same response bound) and is stored as a
// delivery of kind trigger with its attempt before the caller is answered.
// Triggers are never retried automatically: the caller has the answer and
// decides.
type Triggers struct {
	cfg TriggerConfig

	mu     sync.Mutex
	active map[string]int // triggers in flight by webhook ID

	total    *prometheus.CounterVec
	duration prometheus.Histogram
}

// Trigger outcomes, the label of hookgate_trigger_total.
const (
	TriggerSucceeded   = "succeeded"    // a 2xx answer
	TriggerFailed      = "failed"       // another answer
	TriggerUnreachable = "unreachable"  // no answer: refused, timed out, blocked by the network policy
	TriggerInvalid     = "invalid"      // a chain step whose input did not fit its webhook
	TriggerRateLimited = "rate_limited" // refused: rateLimit or the concurrency cap
)

// NewTriggers returns Triggers with cfg's defaults applied.
func NewTriggers(cfg TriggerConfig) *Triggers {
	if cfg.PerWebhook <= 0 {
		cfg.PerWebhook = DefaultTriggersPerWebhook
	}
	if cfg.MaxWait <= 0 {
		cfg.MaxWait = time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	t := &Triggers{cfg: cfg, active: map[string]int{},
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookgate_trigger_total",
			Help: "Trigger calls by outcome: succeeded, failed (a non-2xx answer), unreachable, invalid (a chain step's input), rate_limited.",
		}, []string{"outcome"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookgate_trigger_duration_seconds", Help: "Duration of trigger requests.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}),
	}
	zeroSeries(t.total, TriggerSucceeded, TriggerFailed, TriggerUnreachable, TriggerInvalid, TriggerRateLimited)
	if cfg.Registry != nil {
		cfg.Registry.MustRegister(t.total, t.duration)
	}
	return t
}

// Step is one call of a trigger and how it is recorded.
type Step struct {
	Delivery *hookgate.Delivery
	Result   Result
	// Invalid says why no request was made: the step's input, mapped from
	// the previous answer, did not fit its webhook.
	Invalid string
}

// Invocation is what a trigger did: its steps in order, the last of which
// is the result. ChainID is empty when the webhook has no chain.
type Invocation struct {
	ChainID string
	Steps   []Step
}

// Last returns the step whose result answers the caller.
func (inv *Invocation) Last() Step { return inv.Steps[len(inv.Steps)-1] }

// Trigger calls w with in now, then each webhook of its chain after a 2xx
// answer, and records every step. in must have passed w.CheckTrigger and
// the Check function. It fails with ERateLimited when w has no room now, and
// with an internal error when a step could not be recorded; a receiver's
// failure is a result, not an error.
func (t *Triggers) Trigger(ctx context.Context, w *hookgate.Webhook, in *hookgate.TriggerInput) (*Invocation, error) {
	inv := &Invocation{}
	if in.Traceparent == "" {
		// Each step is a child of the caller's span (the API's).
		tc := tracing.FromContext(ctx)
		in.Traceparent, in.Tracestate = tc.Traceparent(), tc.State
	}
	if w.Then != nil {
		inv.ChainID = hookgate.NewID("chn_", t.cfg.Now())
	}
	cur := w
	for {
		d := t.newDelivery(cur, inv.ChainID)
		st, err := t.call(ctx, cur, in, d)
		if err != nil {
			if len(inv.Steps) == 0 {
				return nil, err
			}
			st = t.invalid(ctx, cur, d, in, hookgate.ErrorMessage(err), false)
			if st.Delivery == nil {
				return nil, errors.New("trigger: recording a chain step failed")
			}
		}
		inv.Steps = append(inv.Steps, st)
		if st.Invalid != "" || !st.Result.OK() || cur.Then == nil {
			return inv, nil
		}
		next, nextIn, why := t.nextStep(ctx, cur, st.Result, in.Timeout)
		if why == "" && len(inv.Steps) >= hookgate.MaxChainSteps {
			why = fmt.Sprintf("the chain is longer than %d steps", hookgate.MaxChainSteps)
		}
		if why != "" {
			target := next
			if target == nil {
				// The next webhook is gone: the failure is recorded on the
				// webhook that named it.
				target = cur
			}
			st := t.invalid(ctx, target, t.newDelivery(target, inv.ChainID), nextIn, why, true)
			if st.Delivery == nil {
				return nil, errors.New("trigger: recording a chain step failed")
			}
			inv.Steps = append(inv.Steps, st)
			return inv, nil
		}
		nextIn.Traceparent, nextIn.Tracestate = in.Traceparent, in.Tracestate
		cur, in = next, nextIn
	}
}

// newDelivery returns the delivery of a new call to w: its ID has the shape
// of an event delivery's, an ID made for the call in place of the event's.
func (t *Triggers) newDelivery(w *hookgate.Webhook, chainID string) *hookgate.Delivery {
	now := t.cfg.Now().UTC().Truncate(time.Microsecond)
	return &hookgate.Delivery{ID: hookgate.DeliveryID(hookgate.NewID("", now), w.ID), ProjectID: w.ProjectID, WebhookID: w.ID,
		Kind: hookgate.KindTrigger, ChainID: chainID, CreatedAt: now}
}

// Retry runs the trigger delivery d again with the input it was made with,
// as its next attempt, and records it. The chain is not followed: each step
// is its own delivery.
func (t *Triggers) Retry(ctx context.Context, w *hookgate.Webhook, d *hookgate.Delivery, in *hookgate.TriggerInput) (Step, error) {
	x := *d
	return t.call(ctx, w, in, &x)
}

// call makes one request for d to w and records it. d holds the delivery's
// identity and attempts so far. Refusals (rate limit, concurrency cap) are
// errors; after the first step Trigger records them as the chain's failure.
func (t *Triggers) call(ctx context.Context, w *hookgate.Webhook, in *hookgate.TriggerInput, d *hookgate.Delivery) (Step, error) {
	if err := t.admit(ctx, w); err != nil {
		t.total.WithLabelValues(TriggerRateLimited).Inc()
		return Step{}, err
	}
	defer t.leave(w.ID)
	body, contentType, err := w.TriggerBody(in)
	if err != nil {
		return Step{}, hookgate.InvalidParam("data", nil, "%v", err)
	}
	req := Request{ID: d.ID, Body: body, ContentType: contentType, RecordHeaders: true}
	if len(in.Headers) > 0 {
		req.Header = make(http.Header, len(in.Headers))
		for k, v := range in.Headers {
			req.Header.Set(k, v)
		}
	}
	if len(in.QueryParams) > 0 {
		req.Query = make(url.Values, len(in.QueryParams))
		for k, v := range in.QueryParams {
			req.Query.Set(k, v)
		}
	}
	parent, _ := hookgate.ParseTraceparent(in.Traceparent, in.Tracestate)
	_, span := t.cfg.Tracer.Start(ctx, "hookgate.trigger.step", parent, trace.SpanKindClient,
		attribute.String("hookgate.project.id", w.ProjectID), attribute.String("hookgate.webhook.id", w.ID),
		attribute.String("hookgate.delivery.id", d.ID), attribute.Int("hookgate.attempt", d.Attempts+1))
	defer span.End()
	if t.cfg.TraceOff == nil || !t.cfg.TraceOff(ctx, w.ProjectID) {
		for k, v := range TraceHeaders(span.Trace) {
			if req.Header == nil {
				req.Header = http.Header{}
			}
			req.Header[k] = v
		}
	}
	timeout := in.Timeout
	if timeout <= 0 {
		timeout = t.cfg.Sender.Timeout()
	}
	// The deadline's cause names it, so that the transport's error, and
	// the attempt that records it, say that the time ran out.
	sendCtx, cancel := context.WithTimeoutCause(ctx, timeout, triggerTimeout(timeout))
	defer cancel()
	res := t.cfg.Sender.Do(sendCtx, w, req)
	a := res.Attempt(d.ID, d.Attempts+1)
	a.TraceID, a.SpanID = span.Trace.TraceIDString(), span.Trace.SpanIDString()
	if span.Recording() {
		span.SetAttributes(attribute.Int("http.response.status_code", res.StatusCode))
		if !res.OK() {
			span.Fail("the receiver did not answer 2xx")
		}
	}
	t.duration.Observe(res.Duration.Seconds())
	switch {
	case res.OK():
		t.total.WithLabelValues(TriggerSucceeded).Inc()
	case res.StatusCode == 0:
		t.total.WithLabelValues(TriggerUnreachable).Inc()
	default:
		t.total.WithLabelValues(TriggerFailed).Inc()
	}
	st := Step{Delivery: t.settle(d, &a, res.OK()), Result: res}
	if err := t.save(ctx, st.Delivery, &a, in); err != nil {
		return Step{}, err
	}
	return st, nil
}

// invalid records a chain step that made no request, and returns it; its
// Delivery is nil when it could not be recorded. count is unset when the
// step was already counted (refused by a limit).
func (t *Triggers) invalid(ctx context.Context, w *hookgate.Webhook, d *hookgate.Delivery, in *hookgate.TriggerInput, why string, count bool) Step {
	if count {
		t.total.WithLabelValues(TriggerInvalid).Inc()
	}
	now := t.cfg.Now()
	a := hookgate.Attempt{ID: hookgate.NewID(hookgate.PrefixAttempt, now), DeliveryID: d.ID, Attempt: d.Attempts + 1, StartedAt: now,
		Error: "chain: " + why}
	st := Step{Delivery: t.settle(d, &a, false), Invalid: why, Result: Result{Started: now}}
	if in == nil {
		in = &hookgate.TriggerInput{}
	}
	if err := t.save(ctx, st.Delivery, &a, in); err != nil {
		return Step{}
	}
	return st
}

// settle returns d as it stands after attempt a.
func (t *Triggers) settle(d *hookgate.Delivery, a *hookgate.Attempt, ok bool) *hookgate.Delivery {
	x := *d
	x.Attempts, x.LastStatusCode, x.LastError = a.Attempt, a.StatusCode, a.Error
	x.Status = hookgate.DeliveryFailed
	if ok {
		x.Status = hookgate.DeliverySucceeded
	}
	x.UpdatedAt = t.cfg.Now().UTC().Truncate(time.Microsecond)
	return &x
}

// save commits the step before anyone is answered, even when the caller
// has gone.
func (t *Triggers) save(ctx context.Context, d *hookgate.Delivery, a *hookgate.Attempt, in *hookgate.TriggerInput) error {
	request, err := json.Marshal(in)
	if err != nil {
		return err
	}
	a.Node = t.cfg.Node
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return t.cfg.Store.SaveTrigger(sctx, d, a, request)
}

// admit takes a slot of w's concurrency cap and waits for its rate limit,
// or refuses with ERateLimited.
func (t *Triggers) admit(ctx context.Context, w *hookgate.Webhook) error {
	t.mu.Lock()
	if t.active[w.ID] >= t.cfg.PerWebhook {
		t.mu.Unlock()
		return &hookgate.Error{Code: hookgate.ERateLimited, RetryAfter: time.Second,
			Message: fmt.Sprintf("the webhook already has %d triggers in flight; try again shortly", t.cfg.PerWebhook)}
	}
	t.active[w.ID]++
	t.mu.Unlock()
	lim := t.cfg.Sender.Pace(w)
	if lim == nil {
		return nil
	}
	now := t.cfg.Now()
	r := lim.ReserveN(now, 1)
	wait := r.DelayFrom(now)
	if wait > t.cfg.MaxWait {
		r.CancelAt(now)
		t.leave(w.ID)
		return &hookgate.Error{Code: hookgate.ERateLimited, RetryAfter: wait,
			Message: fmt.Sprintf("the webhook's rateLimit (%d requests per second) is reached; try again after Retry-After", w.RateLimit)}
	}
	if err := awaitTurn(ctx, r, t.cfg.Now); err != nil {
		t.leave(w.ID)
		return err
	}
	return nil
}

func (t *Triggers) leave(id string) {
	t.mu.Lock()
	if t.active[id]--; t.active[id] <= 0 {
		delete(t.active, id)
	}
	t.mu.Unlock()
}

// nextStep finds the webhook after cur in its chain and maps res into its
// input. why says what stops the chain instead; next may be nil then.
func (t *Triggers) nextStep(ctx context.Context, cur *hookgate.Webhook, res Result, timeout time.Duration) (next *hookgate.Webhook, in *hookgate.TriggerInput, why string) {
	next, err := t.cfg.Store.FindWebhook(ctx, cur.ProjectID, cur.Then.Webhook)
	if err != nil {
		if hookgate.ErrorCode(err) == hookgate.ENotFound {
			return nil, nil, "the next webhook, " + cur.Then.Webhook + ", was deleted"
		}
		return nil, nil, "the next webhook could not be read"
	}
	if next.Status != hookgate.StatusActive {
		return next, nil, "the next webhook is " + next.Status
	}
	in, err = MapChain(cur.Then.Map, res.Body, next)
	if err != nil {
		return next, nil, err.Error()
	}
	in.Timeout = timeout
	if err := next.CheckTrigger(in); err != nil {
		return next, in, "the mapped input does not fit the next webhook: " + hookgate.ErrorMessage(err)
	}
	if t.cfg.Check != nil {
		if err := t.cfg.Check(ctx, next, in); err != nil {
			return next, in, "the mapped input does not fit the next webhook: " + hookgate.ErrorMessage(err)
		}
	}
	return next, in, ""
}

// MapChain builds the next step's input from a 2xx answer body: m's JSON
// Pointers select its data, headers and query parameters. The whole answer
// is the data when m names none; a GET or DELETE webhook gets no data.
func MapChain(m hookgate.ChainMap, body []byte, next *hookgate.Webhook) (*hookgate.TriggerInput, error) {
	in := &hookgate.TriggerInput{}
	var doc any
	needJSON := m.Data != "" || len(m.Headers) > 0 || len(m.QueryParams) > 0
	if len(body) > 0 {
		if err := json.Unmarshal(body, &doc); err != nil && needJSON {
			return nil, errors.New("the answer is not JSON, so then.map cannot select from it")
		}
	}
	if next.Method != http.MethodGet && next.Method != http.MethodDelete {
		if m.Data == "" {
			if len(body) > 0 && json.Valid(body) {
				in.Data = append(json.RawMessage(nil), body...)
			}
		} else {
			v, err := pointer(doc, m.Data)
			if err != nil {
				return nil, fmt.Errorf("then.map.data: %w", err)
			}
			in.Data, _ = json.Marshal(v)
		}
	}
	var err error
	if in.Headers, err = mapScalars("then.map.headers", m.Headers, doc); err != nil {
		return nil, err
	}
	if in.QueryParams, err = mapScalars("then.map.queryParams", m.QueryParams, doc); err != nil {
		return nil, err
	}
	return in, nil
}

func mapScalars(param string, m map[string]string, doc any) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(m))
	for name, p := range m {
		v, err := pointer(doc, p)
		if err != nil {
			return nil, fmt.Errorf("%s.%s: %w", param, name, err)
		}
		switch x := v.(type) {
		case string:
			out[name] = x
		case float64, bool:
			b, _ := json.Marshal(x)
			out[name] = string(b)
		default:
			return nil, fmt.Errorf("%s.%s: %s selects %s, not a string, number or boolean", param, name, p, kindOf(v))
		}
	}
	return out, nil
}

func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	return "a value"
}

// pointer resolves a JSON Pointer (RFC 6901) in doc.
func pointer(doc any, p string) (any, error) {
	if p == "" {
		return doc, nil
	}
	cur := doc
	for _, tok := range strings.Split(p[1:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[tok]
			if !ok {
				return nil, fmt.Errorf("%s is not in the answer", p)
			}
			cur = v
		case []any:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(x) {
				return nil, fmt.Errorf("%s is not in the answer", p)
			}
			cur = x[i]
		default:
			return nil, fmt.Errorf("%s is not in the answer", p)
		}
	}
	return cur, nil
}

// triggerTimeout is why a trigger's request ended: its timeout, this long,
// passed without an answer. It is a context.DeadlineExceeded.
type triggerTimeout time.Duration

func (e triggerTimeout) Error() string {
	return "timeout: no answer within " + time.Duration(e).String()
}

// Unwrap makes a triggerTimeout a context.DeadlineExceeded.
func (e triggerTimeout) Unwrap() error { return context.DeadlineExceeded }

// Timeout reports true, as net.Error does for a timeout.
func (e triggerTimeout) Timeout() bool { return true }

// Reason says in a few words, naming no address, why no answer came.
func Reason(err error) string {
	var ne net.Error
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(err.Error(), "network policy"):
		return "blocked by the network policy"
	case strings.Contains(err.Error(), "oauth2 token"):
		return "the receiver's OAuth2 token could not be fetched"
	}
	return "the receiver could not be reached"
}
