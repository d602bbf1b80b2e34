package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/hookgate/hookgate"
)

type deliveryOut struct {
	ID             string     `json:"id" doc:"Also the webhook-id header of its requests"`
	EventID        string     `json:"eventId"`
	WebhookID      string     `json:"webhookId"`
	EventType      string     `json:"eventType"`
	Status         string     `json:"status" enum:"pending,succeeded,failed,paused,cancelled"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  *time.Time `json:"nextAttemptAt" doc:"When the next attempt is due; null when none is"`
	LastStatusCode int        `json:"lastStatusCode"`
	LastError      string     `json:"lastError"`
	CreatedAt      time.Time  `json:"createdAt"`
	UpdatedAt      time.Time  `json:"updatedAt"`
}

func toDelivery(d *hookgate.Delivery) deliveryOut {
	out := deliveryOut{ID: d.ID, EventID: d.EventID, WebhookID: d.WebhookID, EventType: d.EventType, Status: d.Status,
		Attempts: d.Attempts, LastStatusCode: d.LastStatusCode, LastError: d.LastError,
		CreatedAt: utc(d.CreatedAt), UpdatedAt: utc(d.UpdatedAt)}
	if d.Status == hookgate.DeliveryPending && !d.NextAttemptAt.IsZero() {
		t := utc(d.NextAttemptAt)
		out.NextAttemptAt = &t
	}
	return out
}

func (s *Server) registerDeliveries() {
	tags := "Deliveries"
	path := base + "/projects/{project}/deliveries"
	huma.Register(s.api, op("listDeliveries", http.MethodGet, path, "List deliveries", accessOwner, http.StatusOK, tags),
		func(ctx context.Context, in *struct {
			ProjectRef
			PageParams
			Webhook string `query:"webhook" maxLength:"64" doc:"Only deliveries to this webhook"`
			Event   string `query:"event" maxLength:"64" doc:"Only deliveries of this event"`
			Status  string `query:"status" enum:"pending,succeeded,failed,paused,cancelled" doc:"Only deliveries in this status"`
		}) (*listOutput[deliveryOut], error) {
			list, next, err := s.store.ListDeliveries(ctx, projectID(ctx), hookgate.DeliveryFilter{
				Page: in.page(), WebhookID: in.Webhook, EventID: in.Event, Status: in.Status})
			if err != nil {
				return nil, err
			}
			return listOf(list, next, toDelivery), nil
		})

	huma.Register(s.api, op("getDelivery", http.MethodGet, path+"/{id}", "Read a delivery", accessOwner, http.StatusOK, tags),
		func(ctx context.Context, in *struct {
			ProjectRef
			ID string `path:"id"`
		}) (*struct{ Body deliveryOut }, error) {
			d, err := s.store.FindDelivery(ctx, projectID(ctx), in.ID)
			if err != nil {
				return nil, err
			}
			return &struct{ Body deliveryOut }{Body: toDelivery(d)}, nil
		})
}

type attemptOut struct {
	ID              string            `json:"id"`
	DeliveryID      string            `json:"deliveryId"`
	Attempt         int               `json:"attempt"`
	StartedAt       time.Time         `json:"startedAt"`
	DurationMs      int64             `json:"durationMs"`
	StatusCode      int               `json:"statusCode" doc:"0 when no answer came (refused, timed out, blocked)"`
	ResponseHeaders map[string]string `json:"responseHeaders"`
	ResponseBody    string            `json:"responseBody" doc:"The first 64 KiB"`
	Error           string            `json:"error"`
}

func toAttempt(a *hookgate.Attempt) attemptOut {
	return attemptOut{ID: a.ID, DeliveryID: a.DeliveryID, Attempt: a.Attempt, StartedAt: utc(a.StartedAt), DurationMs: a.DurationMs,
		StatusCode: a.StatusCode, ResponseHeaders: emptyMapIfNil(a.ResponseHeaders), ResponseBody: a.ResponseBody, Error: a.Error}
}

func (s *Server) registerAttempts() {
	tags := "Deliveries"
	path := base + "/projects/{project}/deliveries/{id}"
	huma.Register(s.api, op("listAttempts", http.MethodGet, path+"/attempts", "List a delivery's attempts, the latest first", accessOwner, http.StatusOK, tags),
		func(ctx context.Context, in *struct {
			ProjectRef
			ID string `path:"id"`
		}) (*listOutput[attemptOut], error) {
			pid := projectID(ctx)
			if _, err := s.store.FindDelivery(ctx, pid, in.ID); err != nil {
				return nil, err
			}
			list, err := s.store.ListAttempts(ctx, pid, in.ID)
			if err != nil {
				return nil, err
			}
			return listOf(list, "", toAttempt), nil
		})

	huma.Register(s.api, op("retryDelivery", http.MethodPost, path+"/retry", "Send a delivery again now, with the same webhook-id", accessOwner, http.StatusAccepted, tags),
		func(ctx context.Context, in *struct {
			ProjectRef
			ID string `path:"id"`
		}) (*struct{ Body deliveryOut }, error) {
			d, err := s.store.RetryDelivery(ctx, projectID(ctx), in.ID, s.now())
			if err != nil {
				return nil, err
			}
			s.wake()
			return &struct{ Body deliveryOut }{Body: toDelivery(d)}, nil
		})
}
