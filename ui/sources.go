package ui

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hookgate/hookgate/client"
)

// sourcesPerPage is how many sources the sources page lists.
const sourcesPerPage = 50

// sourceView is a row of the sources page: the source and its state as
// words.
type sourceView struct {
	client.Source
	// EventType says where a message's type is found.
	EventType string
	// Lag is the broker's count of waiting messages, "—" when unknown.
	Lag           string
	LastMessageAt time.Time
	LastErrorAt   time.Time
}

type sourcesView struct {
	Items              []sourceView
	Cursor, NextCursor string
}

// sourcesPage lists the project's broker sources with their state: the
// node consuming each, whether it is connected, its counts, its lag and
// its last error (docs/sources.md). Sources are set with the API, the CLI
// or the SDK; a portal session never sees them.
func (u *UI) sourcesPage(w http.ResponseWriter, r *http.Request, se *session) error {
	project := r.PathValue("project")
	cursor := r.URL.Query().Get("cursor")
	page, err := se.c.ListSources(r.Context(), project, &client.ListOptions{Limit: sourcesPerPage, Cursor: cursor})
	if err != nil {
		return err
	}
	v := sourcesView{Cursor: cursor, NextCursor: page.NextCursor}
	for _, s := range page.Data {
		item := sourceView{Source: s, EventType: eventTypeWords(s.EventType), Lag: "—"}
		if s.State.Lag != nil {
			item.Lag = strconv.FormatInt(*s.State.Lag, 10)
		}
		if s.State.LastMessageAt != nil {
			item.LastMessageAt = *s.State.LastMessageAt
		}
		if s.State.LastErrorAt != nil {
			item.LastErrorAt = *s.State.LastErrorAt
		}
		v.Items = append(v.Items, item)
	}
	u.render(w, http.StatusOK, "sources", view{Title: "Sources", Session: se, Project: project, Data: v})
	return nil
}

// eventTypeWords says where a source finds a message's event type.
func eventTypeWords(t client.SourceEventType) string {
	out := ""
	switch {
	case t.Header != "":
		out = "header " + t.Header
	case t.Pointer != "":
		out = "body at " + t.Pointer
	}
	if t.Default != "" {
		if out != "" {
			out += ", else "
		}
		out += t.Default
	}
	return out
}
