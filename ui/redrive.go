package ui

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/hookgate/hookgate/client"
)

// Redrive from the deliveries explorer (issue 24, item 5): its Redrive…
// link opens a confirmation page that says which filter the redrive takes
// and how many deliveries it covers now; its button starts the redrive
// (POST …/deliveries/redrive) and leads to the redrive's page, which
// reloads itself until the redrive is over, as the live view does.

// redriveStatuses are the explorer's statuses a redrive can take, as the
// API's filter.status does; exhausted first, the default.
var redriveStatuses = []string{string(client.DeliveryExhausted), string(client.DeliveryFailed), string(client.DeliverySucceeded)}

// redriveCountPages is how many pages of 250 the confirmation counts
// before it says "more than": 1,000 deliveries, 25 to 70 ms measured (the
// explorer's page of 50: 8 to 14 ms).
const redriveCountPages = 4

// redriveRefresh is how often a running redrive's page reloads, in
// seconds.
const redriveRefresh = 2

// redriveQuery is the query of the confirmation of a redrive of the
// explorer's filter v, and why there is none ("" and the reason) when the
// filter is not one a redrive can take.
func redriveQuery(v *deliveriesView) (query, why string) {
	status := v.Status
	switch {
	case v.Unknown:
		return "", ""
	case v.Event != "":
		return "", "A redrive does not filter by event: clear the event ID to redrive the rest of this filter, or retry each delivery from its page."
	case status == "":
		status = string(client.DeliveryExhausted) // what a filter without status redrives
	case !slices.Contains(redriveStatuses, status):
		return "", "A redrive takes exhausted, failed or succeeded deliveries: choose one of those statuses to redrive."
	}
	q := url.Values{"status": {status}}
	for k, val := range map[string]string{"webhook": v.Webhook, "eventType": v.EventType, "since": v.Since, "until": v.Until} {
		if val != "" {
			q.Set(k, val)
		}
	}
	return "?" + q.Encode(), ""
}

// redriveConfirmView is the confirmation of a redrive.
type redriveConfirmView struct {
	// Status, Webhook, EventType, Since and Until are the filter, as the
	// explorer has them (Since and Until as datetime-local values, UTC).
	Status, Webhook, EventType, Since, Until string
	// WebhookName names Webhook, when set.
	WebhookName string
	// Count is how many event deliveries the filter covers now; More is
	// set when there are more than Count, which the page does not count.
	Count int
	More  bool
	// Key is the redrive's idempotency key: sending the form twice starts
	// one redrive.
	Key string
	// Back is the explorer's query with this filter.
	Back string
}

// redriveFilterOf reads the filter of a confirmation page or its form.
func redriveFilterOf(v url.Values) (redriveConfirmView, *client.RedriveFilter, error) {
	c := redriveConfirmView{Status: v.Get("status"), Webhook: v.Get("webhook"), EventType: v.Get("eventType"), Since: v.Get("since"), Until: v.Get("until")}
	if c.Status == "" {
		c.Status = string(client.DeliveryExhausted)
	}
	f := &client.RedriveFilter{Webhook: c.Webhook, EventType: c.EventType, Status: client.DeliveryStatus(c.Status)}
	for _, t := range []struct {
		name, v string
		to      *time.Time
	}{{"since", c.Since, &f.Since}, {"until", c.Until, &f.Until}} {
		if t.v == "" {
			continue
		}
		at, err := formTime(t.name, t.v)
		if err != nil {
			return c, nil, err
		}
		*t.to = at
	}
	q := url.Values{}
	for k, val := range map[string]string{"status": c.Status, "webhook": c.Webhook, "eventType": c.EventType, "since": c.Since, "until": c.Until} {
		if val != "" {
			q.Set(k, val)
		}
	}
	c.Back = "?" + q.Encode()
	return c, f, nil
}

// countRedrive counts the event deliveries f selects now, up to
// redriveCountPages pages; more is set past them.
func countRedrive(ctx context.Context, se *session, project string, f *client.RedriveFilter) (n int, more bool, err error) {
	opts := &client.DeliveryListOptions{Webhook: f.Webhook, EventType: f.EventType, Status: f.Status, Kind: client.KindEvent,
		Since: f.Since, Until: f.Until, ListOptions: client.ListOptions{Limit: 250}}
	if f.Status == client.DeliveryExhausted {
		opts.Kind = "" // exhausted is event deliveries already
	}
	for range redriveCountPages {
		page, err := se.c.ListDeliveries(ctx, project, opts)
		if err != nil {
			return 0, false, err
		}
		n += len(page.Data)
		if page.NextCursor == "" {
			return n, false, nil
		}
		opts.Cursor = page.NextCursor
	}
	return n, true, nil
}

func (u *UI) redriveConfirmPage(w http.ResponseWriter, r *http.Request, se *session) error {
	return u.showRedriveConfirm(w, r, se, r.URL.Query(), shown{})
}

// showRedriveConfirm renders the confirmation of a redrive of the filter
// in v, with what s says of its form.
func (u *UI) showRedriveConfirm(w http.ResponseWriter, r *http.Request, se *session, v url.Values, s shown) error {
	project := r.PathValue("project")
	page := func(status int, msg string, data any) error {
		u.render(w, status, "redrive_confirm", view{Title: "Redrive", Session: se, Project: project, Error: msg, Data: data})
		return nil
	}
	c, f, err := redriveFilterOf(v)
	if err != nil {
		rf, ok := refused(err)
		if !ok {
			return err
		}
		return page(rf.status, rf.said(), nil)
	}
	if !slices.Contains(redriveStatuses, c.Status) {
		return page(http.StatusBadRequest, "A redrive takes exhausted, failed or succeeded deliveries, not "+c.Status+" (status).", nil)
	}
	if msg, err := unknownFilter(r.Context(), se, project, c.Webhook, ""); err != nil || msg != "" {
		if err != nil {
			return err
		}
		return page(http.StatusNotFound, msg, nil)
	}
	if c.Webhook != "" {
		wh, err := se.c.GetWebhook(r.Context(), project, c.Webhook)
		if err != nil {
			return err
		}
		c.WebhookName = listName(wh)
	}
	if c.Count, c.More, err = countRedrive(r.Context(), se, project, f); err != nil {
		return err
	}
	c.Key = randomToken()
	return page(s.code(), s.err, c)
}

// startRedrive starts the redrive of its confirmation's filter and leads
// to its progress; a refusal shows on the confirmation page.
func (u *UI) startRedrive(w http.ResponseWriter, r *http.Request, se *session) error {
	project := r.PathValue("project")
	_, f, err := redriveFilterOf(r.PostForm)
	var rd *client.Redrive
	if err == nil {
		rd, err = se.c.RedriveDeliveries(r.Context(), project, client.RedriveRequest{Filter: f, IdempotencyKey: r.PostFormValue("key")})
	}
	if err != nil {
		rf, ok := refused(err)
		if !ok {
			return err
		}
		return u.showRedriveConfirm(w, r, se, r.PostForm, shown{status: rf.status, err: rf.said()})
	}
	redirectDone(w, r, project, "redrives/"+url.PathEscape(rd.ID), doneRedriving)
	return nil
}

// redriveView is a redrive's progress.
type redriveView struct {
	*client.Redrive
	// Skipped counts the deliveries matched and not queued again.
	Skipped int64
	// Every is how often the page reloads while the redrive runs.
	Every int
}

// redrivePage shows a redrive's progress, reloading itself while it runs.
func (u *UI) redrivePage(w http.ResponseWriter, r *http.Request, se *session) error {
	project := r.PathValue("project")
	rd, err := se.c.GetRedrive(r.Context(), project, r.PathValue("id"))
	if err != nil {
		return err
	}
	v := view{Title: "Redrive", Session: se, Project: project, Flash: doneText(r), Data: redriveView{Redrive: rd, Skipped: rd.Matched - rd.Requeued, Every: redriveRefresh}}
	if rd.State == client.RedriveRunning {
		v.Refresh = redriveRefresh
	}
	u.render(w, http.StatusOK, "redrive", v)
	return nil
}

// said is the refusal's message with the parameter it names, for a page
// without a field of it.
func (rf refusal) said() string {
	if rf.param == "" {
		return rf.message
	}
	return rf.message + " (" + rf.param + ")"
}
