package api

import (
	"context"
	"net/http"
	"time"

	"github.com/hookgate/hookgate"
)

type eventTypeOut struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Schema      rawJSON   `json:"schema" doc:"JSON Schema that the data of events of this type must match; null for none"`
	CreatedAt   time.Time `json:"createdAt"`
	UpdatedAt   time.Time `json:"updatedAt"`
}

func toEventType(t *hookgate.EventType) eventTypeOut {
	return eventTypeOut{Name: t.Name, Description: t.Description, Schema: rawJSON(t.Schema), CreatedAt: utc(t.CreatedAt), UpdatedAt: utc(t.UpdatedAt)}
}

// EventTypeRef names an event type in a path.
type EventTypeRef struct {
	ProjectRef
	Name string `path:"name" doc:"Event type name"`
}

// checkSchema compiles a schema sent by a client; null clears it.
func checkSchema(schema rawJSON) ([]byte, error) {
	if schema.isNull() {
		return nil, nil
	}
	if _, err := compileSchema(schema); err != nil {
		return nil, hookgate.InvalidParam("schema", nil, "schema is not a valid JSON Schema: %v", err)
	}
	return []byte(schema), nil
}

// eventTypeRoutes are the operations on event types and their schemas.
func (s *Server) eventTypeRoutes() []route {
	tags := "Event types"
	path := base + "/projects/{project}/event-types"
	return []route{
		{op: also(op("createEventType", http.MethodPost, path, "Add an event type to the catalog", accessOwner, http.StatusCreated, tags), http.StatusConflict), handle: handle(s.handleCreateEventType)},
		{op: op("listEventTypes", http.MethodGet, path, "List event types, by name", accessOwner, http.StatusOK, tags), handle: handle(s.handleListEventTypes)},
		{op: op("getEventType", http.MethodGet, path+"/{name}", "Read an event type", accessOwner, http.StatusOK, tags), handle: handle(s.handleGetEventType)},
		{op: op("updateEventType", http.MethodPatch, path+"/{name}", "Change an event type", accessOwner, http.StatusOK, tags), handle: handle(s.handleUpdateEventType)},
		{op: op("deleteEventType", http.MethodDelete, path+"/{name}", "Remove an event type", accessOwner, http.StatusNoContent, tags), handle: handle(s.handleDeleteEventType)},
	}
}

// handleCreateEventType handles createEventType: Add an event type to the catalog.
func (s *Server) handleCreateEventType(ctx context.Context, in *struct {
	ProjectRef
	Body struct {
		Name        string  `json:"name" maxLength:"256"`
		Description string  `json:"description,omitempty" maxLength:"1024"`
		Schema      rawJSON `json:"schema,omitempty" doc:"JSON Schema for the data of events of this type"`
	}
}) (*struct{ Body eventTypeOut }, error) {
	if err := hookgate.ValidateEventType("name", in.Body.Name); err != nil {
		return nil, err
	}
	schema, err := checkSchema(in.Body.Schema)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	t := &hookgate.EventType{ProjectID: projectID(ctx), Name: in.Body.Name, Description: in.Body.Description, Schema: schema, CreatedAt: now, UpdatedAt: now}
	if err := s.store.CreateEventType(ctx, t); err != nil {
		return nil, err
	}
	s.schemas.forget(t.ProjectID)
	return &struct{ Body eventTypeOut }{Body: toEventType(t)}, nil
}

// handleListEventTypes handles listEventTypes: List event types, by name.
func (s *Server) handleListEventTypes(ctx context.Context, in *struct {
	ProjectRef
	PageParams
}) (*listOutput[eventTypeOut], error) {
	list, next, err := s.store.ListEventTypes(ctx, projectID(ctx), in.page())
	if err != nil {
		return nil, err
	}
	return listOf(list, next, toEventType), nil
}

// handleGetEventType handles getEventType: Read an event type.
func (s *Server) handleGetEventType(ctx context.Context, in *EventTypeRef) (*struct{ Body eventTypeOut }, error) {
	t, err := s.store.FindEventType(ctx, projectID(ctx), in.Name)
	if err != nil {
		return nil, err
	}
	return &struct{ Body eventTypeOut }{Body: toEventType(t)}, nil
}

// handleUpdateEventType handles updateEventType: Change an event type.
func (s *Server) handleUpdateEventType(ctx context.Context, in *struct {
	EventTypeRef
	Body struct {
		Description *string `json:"description,omitempty" maxLength:"1024"`
		Schema      rawJSON `json:"schema,omitempty" doc:"A new schema; null removes it"`
	}
}) (*struct{ Body eventTypeOut }, error) {
	t, err := s.store.FindEventType(ctx, projectID(ctx), in.Name)
	if err != nil {
		return nil, err
	}
	if in.Body.Description != nil {
		t.Description = *in.Body.Description
	}
	if len(in.Body.Schema) > 0 { // present, null included
		if t.Schema, err = checkSchema(in.Body.Schema); err != nil {
			return nil, err
		}
	}
	t.UpdatedAt = s.now().UTC()
	if err := s.store.UpdateEventType(ctx, t); err != nil {
		return nil, err
	}
	s.schemas.forget(t.ProjectID)
	return &struct{ Body eventTypeOut }{Body: toEventType(t)}, nil
}

// handleDeleteEventType handles deleteEventType: Remove an event type.
func (s *Server) handleDeleteEventType(ctx context.Context, in *EventTypeRef) (*struct{}, error) {
	pid := projectID(ctx)
	if err := s.store.DeleteEventType(ctx, pid, in.Name); err != nil {
		return nil, err
	}
	s.schemas.forget(pid)
	return nil, nil
}
