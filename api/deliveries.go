package api

import (
	"context"
	"net/http"
	"time"

	"github.com/hookgate/hookgate"
)

type deliveryOut struct {
	ID             string     `json:"id" doc:"Also the webhook-id header of its requests"`
	EventID        string     `json:"eventId"`
	WebhookID      string     `json:"webhookId"`
	EventType      string     `json:"eventType" doc:"Empty for a trigger"`
	Kind           string     `json:"kind" enum:"event,trigger,probe" doc:"event: an event for a subscribed webhook; trigger: a synchronous call; probe: a recovery probe (hookgate.ping) of a disabled webhook"`
	ChainID        string     `json:"chainId,omitempty" doc:"Shared by the steps of one trigger chain"`
	Status         string     `json:"status" enum:"pending,succeeded,failed,paused,cancelled"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"nextAttemptAt" doc:"When the next attempt is due; null when none is, or while it waits behind an older delivery of its ordering key"`
	OrderingKey    *string    `json:"orderingKey,omitempty" doc:"The ordering key of a FIFO webhook's delivery; absent for another's"`
	LastStatusCode int        `json:"lastStatusCode"`
	LastError      string     `json:"lastError"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
}

func toDelivery(d *hookgate.Delivery) deliveryOut {
	out := deliveryOut{ID: d.ID, EventID: d.EventID, WebhookID: d.WebhookID, EventType: d.EventType, Kind: d.Kind, ChainID: d.ChainID, Status: d.Status,
		Attempts: d.Attempts, LastStatusCode: d.LastStatusCode, LastError: d.LastError,
		CreatedAt: utc(d.CreatedAt), UpdatedAt: utc(d.UpdatedAt)}
	if d.Ordered {
		k := d.OrderingKey
		out.OrderingKey = &k
	}
	if d.Status == hookgate.DeliveryPending && !d.NextAttemptAt.IsZero() {
		t := utc(d.NextAttemptAt)
		out.NextAttemptAt = &t
	}
	return out
}

// statusExhausted is the status filter of dead letters: the event
// deliveries that are failed, because their retry schedule ran out or no
// retry could do better (410, an event that cannot be sent). It is a filter
// only: such deliveries are stored, and read, as failed.
const statusExhausted = "exhausted"

// deliveryRoutes are the operations on deliveries: list and read.
func (s *Server) deliveryRoutes() []route {
	tags := "Deliveries"
	path := base + "/projects/{project}/deliveries"
	return []route{
		{op: op("listDeliveries", http.MethodGet, path, "List deliveries", accessOwner, http.StatusOK, tags), handle: handle(s.handleListDeliveries)},
		{op: op("getDelivery", http.MethodGet, path+"/{id}", "Read a delivery", accessOwner, http.StatusOK, tags), handle: handle(s.handleGetDelivery)},
	}
}

// handleListDeliveries handles listDeliveries: List deliveries.
func (s *Server) handleListDeliveries(ctx context.Context, in *struct {
	ProjectRef
	PageParams
	Webhook   string `query:"webhook" maxLength:"64" doc:"Only deliveries to this webhook (ID or uid)"`
	Event     string `query:"event" maxLength:"64" doc:"Only deliveries of this event"`
	Status    string `query:"status" enum:"pending,succeeded,failed,paused,cancelled,exhausted" doc:"Only deliveries in this status; exhausted is failed event deliveries (dead letters)"`
	Kind      string `query:"kind" enum:"event,trigger,probe" doc:"Only deliveries of this kind"`
	EventType string `query:"eventType" maxLength:"256" doc:"Only deliveries of events of this type"`
	Since     string `query:"since" doc:"Only deliveries created at or after this RFC 3339 time"`
	Until     string `query:"until" doc:"Only deliveries created before this RFC 3339 time"`
	// The response's field names, which users try first.
	WebhookID string `query:"webhookId" maxLength:"64" doc:"Same as webhook"`
	EventID   string `query:"eventId" maxLength:"64" doc:"Same as event"`
}) (*listOutput[deliveryOut], error) {
	webhook, err := alias("webhook", in.Webhook, "webhookId", in.WebhookID)
	if err != nil {
		return nil, err
	}
	event, err := alias("event", in.Event, "eventId", in.EventID)
	if err != nil {
		return nil, err
	}
	if webhook != "" && !hookgate.IsWebhookID(webhook) {
		id, err := s.webhookID(ctx, webhook)
		if hookgate.ErrorCode(err) == hookgate.ENotFound {
			return listOf([]*hookgate.Delivery{}, "", toDelivery), nil
		}
		if err != nil {
			return nil, err
		}
		webhook = id
	}
	since, err := queryTime("since", in.Since)
	if err != nil {
		return nil, err
	}
	until, err := queryTime("until", in.Until)
	if err != nil {
		return nil, err
	}
	status, kind := in.Status, in.Kind
	if status == statusExhausted {
		if kind == hookgate.KindTrigger || kind == hookgate.KindProbe {
			return listOf([]*hookgate.Delivery{}, "", toDelivery), nil
		}
		status, kind = hookgate.DeliveryFailed, hookgate.KindEvent
	}
	list, next, err := s.store.ListDeliveries(ctx, projectID(ctx), hookgate.DeliveryFilter{
		Page: in.page(), WebhookID: webhook, EventID: event, Status: status, Kind: kind,
		EventType: in.EventType, Since: since, Until: until})
	if err != nil {
		return nil, err
	}
	return listOf(list, next, toDelivery), nil
}

// handleGetDelivery handles getDelivery: Read a delivery.
func (s *Server) handleGetDelivery(ctx context.Context, in *struct {
	ProjectRef
	ID string `path:"id"`
}) (*struct{ Body deliveryOut }, error) {
	d, err := s.store.FindDelivery(ctx, projectID(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body deliveryOut }{Body: toDelivery(d)}, nil
}

type attemptOut struct {
	ID              string            `json:"id"`
	DeliveryID      string            `json:"deliveryId"`
	Attempt         int               `json:"attempt"`
	StartedAt       time.Time         `json:"startedAt"`
	DurationMs      int64             `json:"durationMs"`
	StatusCode      int               `json:"statusCode" doc:"0 when no answer came (refused, timed out, blocked)"`
	RequestMethod   string            `json:"requestMethod,omitempty" doc:"The request as sent, credentials redacted"`
	RequestURL      string            `json:"requestUrl,omitempty"`
	RequestHeaders  map[string]string `json:"requestHeaders,omitempty"`
	RequestBody     string            `json:"requestBody,omitempty" doc:"The body sent (its first 64 KiB) when the webhook's transform made it; omitted when the body was the event's envelope (or a trigger's input)"`
	ResponseHeaders map[string]string `json:"responseHeaders"`
	ResponseBody    string            `json:"responseBody" doc:"The first 64 KiB"`
	// ResponseBodyEncoding is "base64" when the body was not UTF-8 text.
	ResponseBodyEncoding string `json:"responseBodyEncoding,omitempty" enum:"base64"`
	Error                string `json:"error"`
	TraceID              string `json:"traceId" doc:"The attempt's trace (32 hex digits): the event's, which the producer's traceparent names when it sent one; \"\" for an attempt made before traces were kept"`
	SpanID               string `json:"spanId" doc:"The attempt's own span (16 hex digits), the parent in the traceparent the receiver got"`
	Node                 string `json:"node" doc:"The node that made the attempt (the dispatcher's node name, as in the server's logs); \"\" for an attempt made before nodes were recorded"`
}

func toAttempt(a *hookgate.Attempt) attemptOut {
	return attemptOut{ID: a.ID, DeliveryID: a.DeliveryID, Attempt: a.Attempt, StartedAt: utc(a.StartedAt), DurationMs: a.DurationMs,
		StatusCode: a.StatusCode, RequestMethod: a.RequestMethod, RequestURL: a.RequestURL, RequestHeaders: a.RequestHeaders,
		RequestBody: a.RequestBody, ResponseHeaders: emptyMapIfNil(a.ResponseHeaders), ResponseBody: a.ResponseBody, ResponseBodyEncoding: a.ResponseBodyEncoding, Error: a.Error,
		TraceID: a.TraceID, SpanID: a.SpanID, Node: a.Node}
}

// attemptRoutes are the operations on a delivery's attempts: list them, and retry the delivery.
func (s *Server) attemptRoutes() []route {
	tags := "Deliveries"
	path := base + "/projects/{project}/deliveries/{id}"
	retry := op("retryDelivery", http.MethodPost, path+"/retry", "Send a delivery again now, with the same webhook-id", accessOwner, http.StatusAccepted, tags)
	retry.Errors = append(retry.Errors, http.StatusConflict, http.StatusTooManyRequests)
	retry.Description = "An event delivery is queued again, due now (202). A trigger is run again at once with the input it " +
		"was made with, as its next attempt, and answered when recorded (200); a chain is not followed."
	return []route{
		{op: op("listAttempts", http.MethodGet, path+"/attempts", "List a delivery's attempts, the latest first", accessOwner, http.StatusOK, tags), handle: handle(s.handleListAttempts)},
		{op: retry, handle: handle(s.handleRetryDelivery), after: func() {
			alsoSucceeds(s.api.OpenAPI(), retry.Path, http.StatusOK, http.StatusAccepted,
				"A trigger, run again: the delivery with the new attempt's outcome")
		}},
	}
}

// handleListAttempts handles listAttempts: List a delivery's attempts, the latest first.
func (s *Server) handleListAttempts(ctx context.Context, in *struct {
	ProjectRef
	ID string `path:"id"`
	PageParams
}) (*listOutput[attemptOut], error) {
	pid := projectID(ctx)
	if _, err := s.store.FindDelivery(ctx, pid, in.ID); err != nil {
		return nil, err
	}
	list, next, err := s.store.ListAttempts(ctx, pid, in.ID, in.page())
	if err != nil {
		return nil, err
	}
	return listOf(list, next, toAttempt), nil
}

// handleRetryDelivery handles retryDelivery: Send a delivery again now, with the same webhook-id.
func (s *Server) handleRetryDelivery(ctx context.Context, in *struct {
	ProjectRef
	ID string `path:"id"`
}) (*struct {
	Status int
	Body   deliveryOut
}, error) {
	pid := projectID(ctx)
	d, err := s.store.FindDelivery(ctx, pid, in.ID)
	if err != nil {
		return nil, err
	}
	status := http.StatusAccepted
	if d.Kind == hookgate.KindTrigger {
		d, err = s.retryTrigger(ctx, d)
		status = http.StatusOK
	} else {
		d, err = s.store.RetryDelivery(ctx, pid, in.ID, s.now())
		s.wake()
	}
	if err != nil {
		return nil, err
	}
	return &struct {
		Status int
		Body   deliveryOut
	}{Status: status, Body: toDelivery(d)}, nil
}

// alias returns the value of a filter that has two names; both given and
// different is a 400.
func alias(name, v, other, ov string) (string, error) {
	switch {
	case ov == "" || ov == v:
		return v, nil
	case v == "":
		return ov, nil
	}
	return "", hookgate.InvalidParam(other, ov, "%s and %s name the same filter and differ", name, other)
}

// queryTime reads an optional RFC 3339 query parameter.
func queryTime(name, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, hookgate.InvalidParam(name, v, "%s must be an RFC 3339 time, such as 2026-12-01T09:00:00Z", name)
	}
	return t, nil
}
