package ui

import (
	"context"
	"net/http"
	"net/url"
	"slices"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/client"
)

// eventTypesPerPage is how many event types the catalog's page lists.
const eventTypesPerPage = 50

// eventTypeView is an entry of the catalog's page: its schema indented
// and an example payload ("" for a type without a schema).
type eventTypeView struct {
	client.EventType
	Schema, Example string
}

type eventTypesView struct {
	Items              []eventTypeView
	Cursor, NextCursor string
}

// eventTypesPage is the project's event-type catalog: each type with its
// description, its schema and an example, paged as the API pages.
func (u *UI) eventTypesPage(w http.ResponseWriter, r *http.Request, se *session) error {
	project := r.PathValue("project")
	cursor := r.URL.Query().Get("cursor")
	page, err := se.c.ListEventTypes(r.Context(), project, &client.ListOptions{Limit: eventTypesPerPage, Cursor: cursor})
	if err != nil {
		return err
	}
	v := eventTypesView{Cursor: cursor, NextCursor: page.NextCursor}
	for _, et := range page.Data {
		item := eventTypeView{EventType: et}
		if ex, ok := exampleOf(et.Schema); ok {
			item.Schema, item.Example = prettyJSON(et.Schema), prettyJSON(ex)
		}
		v.Items = append(v.Items, item)
	}
	u.render(w, http.StatusOK, "event_types", view{Title: "Event types", Session: se, Project: project, Data: v})
	return nil
}

// catalogOf is the project's event types for the webhook forms'
// checkboxes; none when the session may not read them (a portal session
// without eventTypes).
func catalogOf(ctx context.Context, se *session, project string) ([]client.EventType, error) {
	if !se.Can(hookgate.CapEventTypes) {
		return nil, nil
	}
	list, err := gather(se.c.EventTypes(ctx, project))
	if isNotFound(err) {
		return nil, nil
	}
	return list, err
}

// eventsOf is the events a webhook form asks for: those typed in its
// events field, then the catalog's types checked (field eventType) that
// are not typed already.
func eventsOf(v url.Values) []string {
	out := list(v.Get("events"))
	for _, t := range v["eventType"] {
		if t != "" && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// splitCatalog splits a webhook's events into the catalog's types, which
// its edit form shows checked, and the rest, which it shows typed.
func splitCatalog(events []string, catalog []client.EventType) (checked, typed []string) {
	typed = []string{}
	for _, e := range events {
		if slices.ContainsFunc(catalog, func(et client.EventType) bool { return et.Name == e }) {
			checked = append(checked, e)
		} else {
			typed = append(typed, e)
		}
	}
	return checked, typed
}

// Checked reports whether value is one of the values of field: a
// checkbox of the form that was checked.
func (f *form) Checked(field, value string) bool {
	return f != nil && slices.Contains(f.values[field], value)
}
