package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"go.opentelemetry.io/otel/attribute"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/delivery"
)

type triggerIn struct {
	Data        rawJSON           `json:"data,omitempty" doc:"Sent as the request body: the JSON itself, or for payloadEncoding base64 a base64 string whose bytes are sent. GET and DELETE webhooks take none."`
	Headers     map[string]string `json:"headers,omitempty" doc:"Headers to add; those the registration fixes, hop-by-hop and framing ones (Host, Content-Length, Transfer-Encoding, Content-Encoding, Expect), forwarding ones (Forwarded, X-Forwarded-*, X-Real-IP, Via), webhook-*, Authorization, Cookie and User-Agent are refused"`
	QueryParams map[string]any    `json:"queryParams,omitempty" doc:"Query parameters, each listed in the webhook's queryParams; strings, numbers or booleans"`
	Timeout     string            `json:"timeout,omitempty" doc:"How long to wait for the receiver, as a Go duration (\"5s\"); default and at most the server's --send-timeout"`
}

type triggerStep struct {
	ReferenceID string `json:"referenceId" doc:"The step's delivery ID, also its webhook-id"`
	Status      int    `json:"status"`
	Error       bool   `json:"error"`
}

type triggerOut struct {
	ReferenceID string  `json:"referenceId" doc:"ID of the delivery that records the call (the last step of a chain); also its webhook-id"`
	Status      int     `json:"status" doc:"The receiver's HTTP status; 0 when no answer came"`
	Data        rawJSON `json:"data" doc:"The receiver's body: JSON, else a string, else base64 (see dataEncoding); null when empty"`
	// DataEncoding is "base64" when data holds the base64 of a body that is
	// not text.
	DataEncoding string `json:"dataEncoding,omitempty" enum:"base64"`
	Error        bool   `json:"error" doc:"true for anything but a 2xx answer"`
	Truncated    bool   `json:"truncated,omitempty" doc:"The body was longer than 64 KiB and data holds its beginning"`
	Reason       string `json:"reason,omitempty" doc:"Why no answer came (status 0), naming no address"`
	ChainID      string `json:"chainId,omitempty" doc:"Shared by the steps of a chain"`
	// Steps lists every call of a chain, in order.
	Steps []triggerStep `json:"steps,omitempty"`
}

// answerData renders a receiver's body for the caller: decoded JSON when it
// is JSON (by its Content-Type, or without one), else a UTF-8 string, else
// base64.
func answerData(res delivery.Result) (rawJSON, string) {
	if len(res.Body) == 0 {
		return nil, ""
	}
	mt, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	if (mt == "" || mt == "application/json" || strings.HasSuffix(mt, "+json")) && json.Valid(res.Body) {
		return rawJSON(res.Body), ""
	}
	if utf8.Valid(res.Body) {
		b, _ := json.Marshal(string(res.Body))
		return rawJSON(b), ""
	}
	b, _ := json.Marshal(base64.StdEncoding.EncodeToString(res.Body))
	return rawJSON(b), hookgate.EncodingBase64
}

func toTriggerOut(inv *delivery.Invocation) triggerOut {
	last := inv.Last()
	out := triggerOut{ReferenceID: last.Delivery.ID, Status: last.Result.StatusCode, Error: !last.Result.OK() || last.Invalid != "",
		Truncated: last.Result.Truncated, ChainID: inv.ChainID}
	out.Data, out.DataEncoding = answerData(last.Result)
	switch {
	case last.Invalid != "":
		out.Reason = "chain: " + last.Invalid
	case last.Result.StatusCode == 0:
		out.Reason = delivery.Reason(last.Result.Err)
	}
	if inv.ChainID != "" {
		for _, st := range inv.Steps {
			out.Steps = append(out.Steps, triggerStep{ReferenceID: st.Delivery.ID, Status: st.Result.StatusCode, Error: !st.Result.OK() || st.Invalid != ""})
		}
	}
	return out
}

// triggerInput checks the caller's input against what the server allows and
// converts it.
func (s *Server) triggerInput(b *triggerIn) (*hookgate.TriggerInput, error) {
	in := &hookgate.TriggerInput{}
	if b == nil {
		return in, nil
	}
	if !b.Data.isNull() {
		in.Data = json.RawMessage(b.Data)
	}
	in.Headers = b.Headers
	if b.Timeout != "" {
		d, err := time.ParseDuration(b.Timeout)
		if err != nil || d <= 0 {
			return nil, hookgate.InvalidParam("timeout", b.Timeout, "timeout is a positive Go duration such as 5s or 1500ms")
		}
		if d > s.cfg.SendTimeout {
			return nil, hookgate.InvalidParam("timeout", b.Timeout, "timeout may be at most the server's send timeout, %s", s.cfg.SendTimeout)
		}
		in.Timeout = d
	}
	if len(b.QueryParams) > 0 {
		in.QueryParams = make(map[string]string, len(b.QueryParams))
		for k, v := range b.QueryParams {
			switch x := v.(type) {
			case string:
				in.QueryParams[k] = x
			case bool:
				in.QueryParams[k] = strconv.FormatBool(x)
			case float64:
				in.QueryParams[k] = strconv.FormatFloat(x, 'f', -1, 64)
			default:
				return nil, hookgate.InvalidParam("queryParams."+k, v, "query parameter %s must be a string, a number or a boolean", k)
			}
		}
	}
	return in, nil
}

// checkTriggerData validates a trigger's data against the webhook's own
// schema or, without one, the catalog schema of the one event type the
// webhook names. Absent data is checked as null.
func (s *Server) checkTriggerData(ctx context.Context, w *hookgate.Webhook, in *hookgate.TriggerInput) error {
	sch, source, err := s.triggerSchema(ctx, w)
	if err != nil || sch == nil {
		return err
	}
	data := []byte("null")
	if in.HasData() {
		data = in.Data
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return hookgate.InvalidParam("data", nil, "data is not valid JSON")
	}
	if err := sch.Validate(inst); err != nil {
		return hookgate.InvalidParam("data", inst, "data does not match %s: %s", source, schemaFailures("data", inst, err))
	}
	return nil
}

func (s *Server) triggerSchema(ctx context.Context, w *hookgate.Webhook) (*jsonschema.Schema, string, error) {
	if len(w.Schema) > 0 {
		sch, err := s.hookSchemas.get(w)
		return sch, "the webhook's schema", err
	}
	// The catalog's schema is of an event's data: it applies to the body
	// of a method that sends one.
	if len(w.Events) != 1 || strings.Contains(w.Events[0], "*") || w.Method == http.MethodGet || w.Method == http.MethodDelete {
		return nil, "", nil
	}
	sch, err := s.schemas.get(ctx, w.ProjectID, w.Events[0])
	return sch, "the schema of event type " + w.Events[0], err
}

// webhookSchemas keeps compiled trigger schemas by webhook and version.
type webhookSchemas struct {
	mu sync.Mutex
	m  map[string]*jsonschema.Schema
}

func (c *webhookSchemas) get(w *hookgate.Webhook) (*jsonschema.Schema, error) {
	key := w.ID + "@" + w.UpdatedAt.String()
	c.mu.Lock()
	sch, ok := c.m[key]
	c.mu.Unlock()
	if ok {
		return sch, nil
	}
	sch, err := compileSchema(w.Schema)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) > 10000 {
		c.m = map[string]*jsonschema.Schema{}
	}
	c.m[key] = sch
	c.mu.Unlock()
	return sch, nil
}

// activeWebhook finds the webhook ref names and requires it active.
func (s *Server) activeWebhook(ctx context.Context, ref string) (*hookgate.Webhook, error) {
	w, err := s.store.FindWebhook(ctx, projectID(ctx), ref)
	if err != nil {
		return nil, err
	}
	if w.Status != hookgate.StatusActive {
		return nil, &hookgate.Error{Code: hookgate.EConflict, Message: "the webhook is " + w.Status + "; activate it first"}
	}
	return w, nil
}

// triggerRoutes are the operations that trigger a webhook synchronously.
func (s *Server) triggerRoutes() []route {
	o := op("triggerWebhook", http.MethodPost, base+"/projects/{project}/webhooks/{id}/trigger",
		"Call a webhook now and answer with its receiver's response", accessPublisher, http.StatusOK, "Webhooks")
	o.Description = "Makes the request the registration describes (method, URL, headers, receiver auth, Standard Webhooks " +
		"signature) with the caller's data, allowed headers and query parameters, and answers the receiver's status and " +
		"body. The call is recorded as a delivery of kind trigger (its referenceId) before the answer. A receiver's " +
		"failure is a result (error true), never an error. Publisher keys may trigger; nothing in the answer names the " +
		"URL or a credential. Triggers are never retried automatically."
	o.MaxBodyBytes = s.cfg.MaxEventBytes
	o.Errors = append(o.Errors, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusTooManyRequests)
	return []route{
		{op: o, handle: handle(s.handleTriggerWebhook)},
	}
}

// handleTriggerWebhook handles triggerWebhook: Call a webhook now and answer with its receiver's response.
func (s *Server) handleTriggerWebhook(ctx context.Context, in *struct {
	WebhookRef
	TraceHeaders
	Body *triggerIn
}) (*struct{ Body triggerOut }, error) {
	ctx, span := s.serverSpan(ctx, "hookgate.trigger", in.TraceParent, in.TraceState, attribute.String("hookgate.project.id", projectID(ctx)),
		attribute.String("hookgate.webhook.ref", in.ID))
	defer span.End()
	w, err := s.activeWebhook(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	tin, err := s.triggerInput(in.Body)
	if err != nil {
		return nil, err
	}
	if err := w.CheckTrigger(tin); err != nil {
		return nil, err
	}
	if err := s.checkTriggerData(ctx, w, tin); err != nil {
		return nil, err
	}
	tin.Traceparent, tin.Tracestate = span.Trace.Traceparent(), span.Trace.State
	inv, err := s.triggers.Trigger(ctx, w, tin)
	if err != nil {
		return nil, err
	}
	return &struct{ Body triggerOut }{Body: toTriggerOut(inv)}, nil
}

// retryTrigger runs a trigger delivery again now with the input it was made
// with, if that still fits its webhook.
func (s *Server) retryTrigger(ctx context.Context, d *hookgate.Delivery) (*hookgate.Delivery, error) {
	w, err := s.store.FindWebhook(ctx, d.ProjectID, d.WebhookID)
	if hookgate.ErrorCode(err) == hookgate.ENotFound {
		return nil, &hookgate.Error{Code: hookgate.EConflict, Message: "the trigger's webhook was deleted"}
	}
	if err != nil {
		return nil, err
	}
	if w.Status != hookgate.StatusActive {
		return nil, &hookgate.Error{Code: hookgate.EConflict, Message: "the trigger's webhook is " + w.Status + "; activate it first"}
	}
	attempts, _, err := s.store.ListAttempts(ctx, d.ProjectID, d.ID, hookgate.Page{Limit: 1})
	if err != nil {
		return nil, err
	}
	if len(attempts) > 0 && attempts[0].RequestMethod == "" {
		// A chain step cut before its request: its input never existed.
		return nil, &hookgate.Error{Code: hookgate.EConflict, Message: "this chain step made no request (" + attempts[0].Error + "); trigger the chain's first webhook again"}
	}
	raw, err := s.store.FindTriggerRequest(ctx, d.ProjectID, d.ID)
	if err != nil {
		return nil, err
	}
	var tin hookgate.TriggerInput
	if err := json.Unmarshal(raw, &tin); err != nil {
		return nil, err
	}
	if tin.Timeout > s.cfg.SendTimeout {
		tin.Timeout = s.cfg.SendTimeout
	}
	if err := w.CheckTrigger(&tin); err != nil {
		return nil, &hookgate.Error{Code: hookgate.EConflict, Message: "the trigger's input no longer fits its webhook: " + hookgate.ErrorMessage(err)}
	}
	if err := s.checkTriggerData(ctx, w, &tin); err != nil {
		return nil, &hookgate.Error{Code: hookgate.EConflict, Message: "the trigger's data no longer fits its webhook: " + hookgate.ErrorMessage(err)}
	}
	st, err := s.triggers.Retry(ctx, w, d, &tin)
	if err != nil {
		return nil, err
	}
	return st.Delivery, nil
}
