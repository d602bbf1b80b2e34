package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"go.opentelemetry.io/otel/attribute"

	"github.com/hookgate/hookgate"
)

// MaxBatchEvents is the most events one batch request may carry.
const MaxBatchEvents = 1000

type eventIn struct {
	Type           string  `json:"type" maxLength:"256" doc:"Event type, e.g. order.created"`
	Data           rawJSON `json:"data" doc:"The payload, any JSON value but null; delivered as the envelope's data"`
	IdempotencyKey string  `json:"idempotencyKey,omitempty" maxLength:"256" doc:"As the Idempotency-Key header, for batch items"`

	once onceBody // see eventbody.go
}

type eventAccepted struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	CreatedAt  time.Time `json:"createdAt"`
	Deliveries int       `json:"deliveries" doc:"Delivery rows created: one per active webhook subscribed to the type"`
	Replayed   bool      `json:"replayed" doc:"true when an idempotency key answered the event it created before: this request created nothing"`
}

type eventOut struct {
	ID             string    `json:"id"`
	Type           string    `json:"type"`
	Data           rawJSON   `json:"data"`
	IdempotencyKey string    `json:"idempotencyKey,omitempty"`
	Deliveries     int       `json:"deliveries"`
	CreatedAt      time.Time `json:"createdAt"`
}

// eventsAccepted answers a batch. It is named so that its OpenAPI schema
// is not SendEventsResponse, the name client generators give the
// operation's response wrapper.
type eventsAccepted struct {
	Data []eventAccepted `json:"data"`
}

func toAccepted(e *hookgate.Event) eventAccepted {
	return eventAccepted{ID: e.ID, Type: e.Type, CreatedAt: utc(e.CreatedAt), Deliveries: e.Deliveries, Replayed: e.Replayed}
}

func toEvent(e *hookgate.Event) eventOut {
	return eventOut{ID: e.ID, Type: e.Type, Data: rawJSON(e.Data), IdempotencyKey: e.IdempotencyKey, Deliveries: e.Deliveries, CreatedAt: utc(e.CreatedAt)}
}

// checkEvent validates one event; prefix names it within a batch.
func (s *Server) checkEvent(ctx context.Context, projectID, prefix string, e *eventIn) (hookgate.EventInput, error) {
	if err := hookgate.ValidateEventType(prefix+"type", e.Type); err != nil {
		return hookgate.EventInput{}, err
	}
	if hookgate.IsOperational(e.Type) {
		return hookgate.EventInput{}, hookgate.InvalidParam(prefix+"type", e.Type,
			"%stype may not begin with %q: those types are Hookgate's operational events", prefix, hookgate.OperationalPrefix)
	}
	if e.Data.isNull() {
		return hookgate.EventInput{}, hookgate.MissingParam(prefix + "data")
	}
	if int64(len(e.Data)) > s.cfg.MaxEventBytes {
		return hookgate.EventInput{}, &hookgate.Error{Code: hookgate.EPayloadTooLarge, Param: prefix + "data",
			Message: fmt.Sprintf("%sdata is larger than %d bytes", prefix, s.cfg.MaxEventBytes)}
	}
	if err := s.validateData(ctx, projectID, prefix+"data", e.Type, e.Data); err != nil {
		return hookgate.EventInput{}, err
	}
	in := hookgate.EventInput{Type: e.Type, Data: []byte(e.Data), IdempotencyKey: e.IdempotencyKey}
	if in.IdempotencyKey != "" {
		// A repeat is the same event when its type is the same and its
		// data the same JSON value, however it is spaced or its keys
		// ordered: clients encode alike values differently.
		canon, err := canonicalJSON(in.Data)
		if err != nil {
			return hookgate.EventInput{}, hookgate.InvalidParam(prefix+"data", nil, "%sdata is not valid JSON", prefix)
		}
		in.BodyHash = eventDigest(in.Type, canon)
		// Keys claimed before this comparison hold the digest of the data
		// as sent: a retry of that request within their 24 hours is still
		// the same event.
		in.LegacyBodyHash = eventDigest(in.Type, in.Data)
	}
	return in, nil
}

// eventDigest is the digest of an event's type and data that its
// idempotency key keeps.
func eventDigest(typ string, data []byte) string {
	h := sha256.New()
	h.Write([]byte(typ))
	h.Write([]byte{0})
	h.Write(data)
	return hex.EncodeToString(h.Sum(nil))
}

// wake tells the delivery engine that deliveries may be due now.
func (s *Server) wake() {
	if s.cfg.OnEvents != nil {
		s.cfg.OnEvents()
	}
}

func (s *Server) countAccepted(events []*hookgate.Event) {
	// Deliveries adopted at their birth are with the dispatcher already;
	// the others wait for a claim.
	for _, e := range events {
		if e.Deliveries > 0 && !e.Adopted && !e.Replayed {
			s.wake()
			break
		}
	}
	for _, e := range events {
		if !e.Replayed {
			s.metrics.eventsAccepted.Inc()
			s.metrics.deliveriesCreated.Add(float64(e.Deliveries))
			if e.Filtered+e.FilterFailed > 0 {
				s.metrics.filterRejected.Add(float64(e.Filtered))
				s.metrics.filterFailed.Add(float64(e.FilterFailed))
			}
		}
	}
}

// eventRoutes are the operations on events: send one or a batch, list, read, replay.
func (s *Server) eventRoutes() []route {
	tags := "Events"
	path := base + "/projects/{project}/events"
	send := op("sendEvent", http.MethodPost, path, "Send an event", accessPublisher, http.StatusAccepted, tags)
	send.Description = "Accepts an event and fans it out to every active webhook subscribed to its type. " +
		"The event and its deliveries are committed before the 202 answer. With an Idempotency-Key, a repeat " +
		"within 24 hours answers the original event and creates nothing."
	send.MaxBodyBytes = s.cfg.MaxEventBytes
	send.SkipValidateBody = true // the body is decoded once: see eventbody.go
	send.Metadata[metaOnce] = onceCheck{api: s.api}
	send.Errors = append(send.Errors, http.StatusConflict, http.StatusRequestEntityTooLarge)
	batch := op("sendEvents", http.MethodPost, path+"/batch", "Send up to 1,000 events at once", accessPublisher, http.StatusAccepted, tags)
	batch.Description = "All events are validated first; if one is invalid, none is accepted. Accepted events are committed together."
	batch.MaxBodyBytes = 16 * s.cfg.MaxEventBytes
	batch.SkipValidateBody = true
	batch.Metadata[metaOnce] = onceCheck{api: s.api}
	batch.Errors = append(batch.Errors, http.StatusConflict, http.StatusRequestEntityTooLarge)
	return []route{
		{op: send, handle: handle(s.handleSendEvent)},
		{op: batch, handle: handle(s.handleSendEvents)},
		{op: op("listEvents", http.MethodGet, path, "List events", accessOwner, http.StatusOK, tags), handle: handle(s.handleListEvents)},
		{op: op("getEvent", http.MethodGet, path+"/{id}", "Read an event", accessOwner, http.StatusOK, tags), handle: handle(s.handleGetEvent)},
		{op: op("listEventDeliveries", http.MethodGet, path+"/{id}/deliveries", "List an event's deliveries", accessOwner, http.StatusOK, tags), handle: handle(s.handleListEventDeliveries)},
	}
}

// handleSendEvent handles sendEvent: Send an event.
func (s *Server) handleSendEvent(ctx context.Context, in *sendEventInput) (*struct {
	Replayed string `header:"Idempotent-Replayed" doc:"true when an Idempotency-Key answered the event it created before"`
	Body     eventAccepted
}, error) {
	if in.IdempotencyKey != "" {
		in.Body.IdempotencyKey = in.IdempotencyKey
	}
	pid := projectID(ctx)
	ctx, span := s.serverSpan(ctx, "hookgate.ingest", in.TraceParent, in.TraceState, attribute.String("hookgate.project.id", pid), attribute.Int("hookgate.events", 1))
	defer span.End()
	ev, err := s.checkEvent(ctx, pid, "", &in.Body)
	if err != nil {
		return nil, err
	}
	ev.Trace = span.Trace
	var out []*hookgate.Event
	if err := s.commit(ctx, "hookgate.commit", func(ctx context.Context) (err error) {
		out, err = s.store.CreateEvents(ctx, pid, []hookgate.EventInput{ev})
		return err
	}); err != nil {
		return nil, err
	}
	s.countAccepted(out)
	res := &struct {
		Replayed string `header:"Idempotent-Replayed" doc:"true when an Idempotency-Key answered the event it created before"`
		Body     eventAccepted
	}{Body: toAccepted(out[0])}
	if out[0].Replayed {
		res.Replayed = "true"
	}
	return res, nil
}

// handleSendEvents handles sendEvents: Send up to 1,000 events at once.
func (s *Server) handleSendEvents(ctx context.Context, in *sendEventsInput) (*struct{ Body eventsAccepted }, error) {
	pid := projectID(ctx)
	ctx, span := s.serverSpan(ctx, "hookgate.ingest", in.TraceParent, in.TraceState, attribute.String("hookgate.project.id", pid), attribute.Int("hookgate.events", len(in.Body.Events)))
	defer span.End()
	_, fromProducer := hookgate.ParseTraceparent(in.TraceParent, "")
	evs := make([]hookgate.EventInput, len(in.Body.Events))
	for i := range in.Body.Events {
		ev, err := s.checkEvent(ctx, pid, fmt.Sprintf("events[%d].", i), &in.Body.Events[i])
		if err != nil {
			return nil, err
		}
		ev.Trace = span.Trace
		if !fromProducer && len(in.Body.Events) > 1 {
			// No producer trace: each event starts one of its own.
			ev.Trace = hookgate.ChildOf(hookgate.TraceContext{})
		}
		evs[i] = ev
	}
	var got []*hookgate.Event
	err := s.commit(ctx, "hookgate.commit", func(ctx context.Context) (err error) {
		got, err = s.store.CreateEvents(ctx, pid, evs)
		return err
	})
	var he *hookgate.Error
	if errors.As(err, &he) && he.Code == hookgate.EIdempotencyConflict {
		for i := range evs {
			if evs[i].IdempotencyKey == he.Value {
				he.Param = fmt.Sprintf("events[%d].idempotencyKey", i)
				break
			}
		}
	}
	if err != nil {
		return nil, err
	}
	s.countAccepted(got)
	out := &struct{ Body eventsAccepted }{}
	out.Body.Data = make([]eventAccepted, len(got))
	for i, e := range got {
		out.Body.Data[i] = toAccepted(e)
	}
	return out, nil
}

// handleListEvents handles listEvents: List events.
func (s *Server) handleListEvents(ctx context.Context, in *struct {
	ProjectRef
	PageParams
	Type    string `query:"type" maxLength:"256" doc:"Only events of this type; order.* for those beginning order., hookgate.* for Hookgate's own"`
	Include string `query:"include" enum:"operational" doc:"operational: list Hookgate's own events (hookgate.*) too; they are left out by default"`
}) (*listOutput[eventOut], error) {
	if in.Type != "" {
		pattern := strings.TrimSuffix(in.Type, ".*")
		if err := hookgate.ValidateEventType("type", pattern); err != nil {
			return nil, hookgate.InvalidParam("type", in.Type, "type is an event type, or one followed by .* for all types it begins")
		}
	}
	list, next, err := s.store.ListEvents(ctx, projectID(ctx), hookgate.EventFilter{Page: in.page(), Type: in.Type, Operational: in.Include == "operational"})
	if err != nil {
		return nil, err
	}
	return listOf(list, next, toEvent), nil
}

// handleGetEvent handles getEvent: Read an event.
func (s *Server) handleGetEvent(ctx context.Context, in *struct {
	ProjectRef
	ID string `path:"id"`
}) (*struct{ Body eventOut }, error) {
	e, err := s.store.FindEvent(ctx, projectID(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return &struct{ Body eventOut }{Body: toEvent(e)}, nil
}

// handleListEventDeliveries handles listEventDeliveries: List an event's deliveries.
func (s *Server) handleListEventDeliveries(ctx context.Context, in *struct {
	ProjectRef
	ID string `path:"id"`
	PageParams
}) (*listOutput[deliveryOut], error) {
	pid := projectID(ctx)
	if _, err := s.store.FindEvent(ctx, pid, in.ID); err != nil {
		return nil, err
	}
	list, next, err := s.store.ListDeliveries(ctx, pid, hookgate.DeliveryFilter{Page: in.page(), EventID: in.ID})
	if err != nil {
		return nil, err
	}
	return listOf(list, next, toDelivery), nil
}
