package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"iter"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/client"
)

var funcs = template.FuncMap{
	"ts": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
	},
	// A number and its unit stay on one line: no-break spaces.
	"pct": func(f float64) string { return fmt.Sprintf("%.1f\u00a0%%", 100*f) },
	"ms":  func(d time.Duration) string { return fmt.Sprintf("%d\u00a0ms", d.Milliseconds()) },
	"esc": url.PathEscape,
	"exchange": func(e *string) string {
		if *e == "" {
			return "(the default exchange)"
		}
		return *e
	},
	"short": shortID,
	"plural": func(n int, one, many string) string {
		if n == 1 {
			return one
		}
		return many
	},
	"pretty":  prettyJSON,
	"preview": previewJSON,
	// cause names the kind of an error that got no answer.
	"cause": func(err string) string { return unanswered(err).Class },
	"qs": func(kv ...string) string {
		v := url.Values{}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] != "" {
				v.Set(kv[i], kv[i+1])
			}
		}
		if len(v) == 0 {
			return ""
		}
		return "?" + v.Encode()
	},
	// input is a form's field for the "input" template (templates/fields.html).
	"input": newInput,
	// from says where a webhook's delivery setting in force comes from.
	"from": settingFrom,
	// waitsBehindItsKey, orderingKey and listKey tell a FIFO webhook's
	// deliveries (templates/ordering.html).
	"waitsBehindItsKey": waitsBehindItsKey,
	"orderingKey":       orderingKey,
	"listKey":           listKey,
	// tsp is ts of a time that may be absent.
	"tsp": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05") + " UTC"
	},
	// circuit names a circuit breaker's state as people read it.
	"circuit": func(state string) string { return strings.ReplaceAll(state, "_", " ") },
}

func (u *UI) routes() {
	m := u.mux
	m.HandleFunc("GET /ui/{$}", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/ui/projects", http.StatusSeeOther) })
	m.HandleFunc("GET /ui/sign-in", u.signInPage)
	m.HandleFunc("GET /ui/portal/{token}", u.startPortal)
	m.HandleFunc("GET /ui/portal/{token}/open", u.openPortal)
	m.HandleFunc("POST /ui/sign-in", u.signInPost)
	m.HandleFunc("POST /ui/sign-out", u.form(func(w http.ResponseWriter, r *http.Request, se *session) error {
		u.signOut(w, r)
		if se.Portal() {
			u.render(w, http.StatusOK, "error", view{Title: "Signed out", Error: "You left the portal. Open a new link to come back."})
			return nil
		}
		http.Redirect(w, r, "/ui/sign-in", http.StatusSeeOther)
		return nil
	}))
	m.HandleFunc("GET /ui/projects", u.page(u.projectsPage))
	m.HandleFunc("GET /ui/p/{project}/webhooks", u.page(u.webhooksPage))
	m.HandleFunc("POST /ui/p/{project}/webhooks", u.form(u.createWebhook))
	m.HandleFunc("GET /ui/p/{project}/webhooks/{id}", u.page(u.webhookPage))
	m.HandleFunc("GET /ui/p/{project}/webhooks/{id}/secret", u.page(u.secretPage))
	m.HandleFunc("GET /ui/p/{project}/webhooks/{id}/edit", u.page(u.editPage))
	m.HandleFunc("POST /ui/p/{project}/webhooks/{id}/edit", u.form(u.editWebhook))
	m.HandleFunc("GET /ui/p/{project}/webhooks/{id}/delete", u.page(u.deletePage))
	m.HandleFunc("POST /ui/p/{project}/webhooks/{id}/delete", u.form(u.deleteWebhook))
	m.HandleFunc("POST /ui/p/{project}/webhooks/{id}/{action}", u.form(u.webhookAction))
	m.HandleFunc("GET /ui/p/{project}/events", u.page(u.eventsPage))
	m.HandleFunc("GET /ui/p/{project}/event-types", u.page(u.eventTypesPage))
	m.HandleFunc("GET /ui/p/{project}/live", u.page(u.livePage))
	m.HandleFunc("GET /ui/p/{project}/platforms", u.page(u.platformsPage))
	m.HandleFunc("GET /ui/p/{project}/sources", u.page(u.sourcesPage))
	m.HandleFunc("POST /ui/p/{project}/platforms", u.form(u.createPlatform))
	m.HandleFunc("POST /ui/p/{project}/platforms/{id}/register-webhook", u.form(u.registerPlatform))
	m.HandleFunc("GET /ui/p/{project}/deliveries", u.page(u.deliveriesPage))
	m.HandleFunc("GET /ui/p/{project}/deliveries/{id}", u.page(u.deliveryPage))
	m.HandleFunc("POST /ui/p/{project}/deliveries/{id}/retry", u.form(u.retryDelivery))
	m.HandleFunc("GET /ui/p/{project}/deliveries/redrive", u.page(u.redriveConfirmPage))
	m.HandleFunc("POST /ui/p/{project}/deliveries/redrive", u.form(u.startRedrive))
	m.HandleFunc("GET /ui/p/{project}/redrives/{id}", u.page(u.redrivePage))
	m.HandleFunc("GET /ui/p/{project}/portal.css", u.page(u.portalStylesheet))
	m.HandleFunc("GET /ui/p/{project}/portal-logo", u.page(u.portalLogo))
}

// view is what every page template gets. Every form that changes
// something answers with a redirect (303) when it succeeded, so that a
// reload does not send it again; when the API refused it, its page is
// shown again with what was typed (Form) and the problem.
type view struct {
	Title string
	// Refresh reloads the page every so many seconds (the live view).
	Refresh int
	// Next is a page to go to at once (a portal link's open).
	Next    string
	Session *session
	Project string
	Flash   string
	Error   string
	// Form is the page's form shown again after a refusal; nil shows it
	// afresh.
	Form *form
	// Catalog is the project's event types, offered as checkboxes by the
	// webhook forms (templates/fields.html, "catalogFields").
	Catalog []client.EventType
	// Editor is what a webhook form's expressions show besides their
	// fields (templates/fields.html, "expressionFields").
	Editor *editorView
	Data   any
}

// shown is what a page shows of a form besides its own data: the status
// line of one that was done, or the problem of one the API refused.
type shown struct {
	// status is the answer's; 0 is 200.
	status int
	flash  string
	// err is the problem of a button, a form without fields.
	err  string
	form *form
	// preview is the results of a webhook form's Preview.
	preview *previewView
}

// code is the status to answer with.
func (s shown) code() int {
	if s.status == 0 {
		return http.StatusOK
	}
	return s.status
}

// shownRefusal shows the API's refusal of a button on its page; ok is
// false when err is not a refusal (see refused).
func shownRefusal(err error) (shown, bool) {
	rf, ok := refused(err)
	return shown{status: rf.status, err: rf.message}, ok
}

func (u *UI) render(w http.ResponseWriter, status int, name string, v view) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := u.pages[name].Execute(w, v); err != nil {
		u.cfg.Logger.Error("dashboard template", "page", name, "err", err)
	}
}

// page wraps a signed-in GET page: without a session it sends the browser
// to sign in; an API error renders as a page with its message.
func (u *UI) page(fn func(w http.ResponseWriter, r *http.Request, se *session) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		se := u.session(r)
		if se == nil {
			if !u.endedInFrame(w, r) {
				http.Redirect(w, r, "/ui/sign-in", http.StatusSeeOther)
			}
			return
		}
		if se.Portal() {
			allowFraming(w, se.Settings)
			if !portalMay(r, se) {
				u.notFound(w, se)
				return
			}
		}
		if err := fn(w, r, se); err != nil {
			u.fail(w, r, se, err)
		}
	}
}

// form wraps a signed-in POST: it checks the CSRF token first.
func (u *UI) form(fn func(w http.ResponseWriter, r *http.Request, se *session) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		se := u.session(r)
		if se == nil {
			if !u.endedInFrame(w, r) {
				http.Redirect(w, r, "/ui/sign-in", http.StatusSeeOther)
			}
			return
		}
		if se.Portal() {
			allowFraming(w, se.Settings)
			if !portalMay(r, se) {
				u.notFound(w, se)
				return
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if !u.checkForm(r, se) {
			u.render(w, http.StatusForbidden, "error", view{Title: "Refused", Session: se, Error: "This form was not sent from this dashboard (it came from another address, or its CSRF token is missing or wrong). Reload the page and try again."})
			return
		}
		if err := fn(w, r, se); err != nil {
			u.fail(w, r, se, err)
		}
	}
}

// fail renders an error: a revoked key ends the session.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, se *session, err error) {
	var e *client.Error
	if errors.As(err, &e) {
		if e.Status == http.StatusUnauthorized {
			u.signOut(w, r)
			http.Redirect(w, r, "/ui/sign-in?ended=1", http.StatusSeeOther)
			return
		}
		msg := e.Detail
		if e.Parameter != "" {
			msg += " (" + e.Parameter + ")"
		}
		u.render(w, e.Status, "error", view{Title: e.Title, Session: se, Project: r.PathValue("project"), Error: msg})
		return
	}
	u.cfg.Logger.Error("dashboard", "path", r.URL.Path, "err", err)
	u.render(w, http.StatusInternalServerError, "error", view{Title: "Error", Session: se, Error: "Something went wrong; the server's log has the details."})
}

func (u *UI) signInPage(w http.ResponseWriter, r *http.Request) {
	v := view{Title: "Sign in"}
	if r.URL.Query().Get("ended") != "" {
		v.Data = "Your session ended: its key was revoked or it expired. Sign in again."
	}
	u.render(w, http.StatusOK, "signin", v)
}

// signInRefused shows the sign-in form again with its problem, inside its
// card: next to the key field when it is about the key. The key itself
// is never sent back.
func (u *UI) signInRefused(w http.ResponseWriter, status int, field, msg string) {
	u.render(w, status, "signin", view{Title: "Sign in", Form: &form{field: field, problem: msg}})
}

func (u *UI) signInPost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 8<<10)
	if !u.fromHere(r) {
		u.signInRefused(w, http.StatusForbidden, "", "Sign in from this dashboard's own page.")
		return
	}
	if o, _ := statedOrigin(r); u.dropsSecureCookie(o) {
		// The browser would not keep the cookie: say why instead of
		// sending it back to this page signed out.
		u.signInRefused(w, http.StatusForbidden, "", "This dashboard signs in over HTTPS only (its session cookie is Secure): "+
			"open it at its https:// address, behind a TLS proxy with --public-url https://…, or on the server's own machine at http://127.0.0.1.")
		return
	}
	key := strings.TrimSpace(r.PostFormValue("key"))
	if key == "" {
		u.signInRefused(w, http.StatusBadRequest, "key", "Enter an API key.")
		return
	}
	to, err := u.signIn(w, r, key)
	if err != nil {
		status, field, msg := http.StatusUnauthorized, "key", "That key is not valid."
		var he *hookgate.Error
		if errors.As(err, &he) && he.Code == hookgate.ERateLimited {
			w.Header().Set("Retry-After", fmt.Sprint(int(he.RetryAfter.Seconds())+1))
			status, field, msg = http.StatusTooManyRequests, "", "Too many wrong keys from this address: try again in "+he.RetryAfter.Round(time.Second).String()+"."
		} else if hookgate.ErrorCode(err) == hookgate.EForbidden {
			status, msg = http.StatusForbidden, hookgate.ErrorMessage(err)
		} else if hookgate.ErrorCode(err) != hookgate.EUnauthorized {
			u.cfg.Logger.Error("dashboard sign-in", "err", err)
			status, field, msg = http.StatusInternalServerError, "", "Signing in failed; the server's log has the details."
		}
		u.signInRefused(w, status, field, msg)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (u *UI) projectsPage(w http.ResponseWriter, r *http.Request, se *session) error {
	if se.KeyID != "" {
		return u.ownProject(w, r, se) // a project key sees its own project only
	}
	list, err := gather(se.c.Projects(r.Context()))
	if err != nil {
		return err
	}
	u.render(w, http.StatusOK, "projects", view{Title: "Projects", Session: se, Data: list})
	return nil
}

// ownProject sends a project key's session to its project.
func (u *UI) ownProject(w http.ResponseWriter, r *http.Request, se *session) error {
	k, err := u.cfg.Store.FindAPIKey(r.Context(), se.KeyID)
	if err != nil {
		return &client.Error{Status: http.StatusUnauthorized}
	}
	p, err := se.c.GetProject(r.Context(), k.ProjectID)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/p/"+url.PathEscape(p.Slug)+"/webhooks", http.StatusSeeOther)
	return nil
}

type webhookRow struct {
	client.Webhook
	Name        string
	Stats       *client.Stats
	LastFailure *failure
}

func (u *UI) webhooksPage(w http.ResponseWriter, r *http.Request, se *session) error {
	return u.showWebhooks(w, r, se, shown{flash: doneText(r)})
}

// showWebhooks renders the webhooks page, with what s says of a form.
func (u *UI) showWebhooks(w http.ResponseWriter, r *http.Request, se *session, s shown) error {
	project := r.PathValue("project")
	var rows []webhookRow
	for wh, err := range se.c.Webhooks(r.Context(), project) {
		if err != nil {
			return err
		}
		st, err := se.c.GetWebhookStats(r.Context(), project, wh.ID, nil)
		if err != nil {
			return err
		}
		f, err := failureOf(r.Context(), se, project, st.LastFailure)
		if err != nil {
			return err
		}
		rows = append(rows, webhookRow{Webhook: wh, Name: listName(&wh), Stats: st, LastFailure: f})
	}
	catalog, err := catalogOf(r.Context(), se, project)
	if err != nil {
		return err
	}
	f := s.form
	if f == nil {
		f = &form{values: url.Values{fieldSampleEvent: {defaultSample(nil, catalog)}}}
	}
	ed, err := editorOf(r.Context(), se, project, s.preview)
	if err != nil {
		return err
	}
	u.render(w, s.code(), "webhooks", view{Title: "Webhooks", Session: se, Project: project, Flash: s.flash, Error: s.err, Form: f,
		Catalog: catalog, Editor: ed, Data: rows})
	return nil
}

type webhookView struct {
	// Secret is shown after "Reveal secret" or a rotation only.
	Secret      *client.Secret
	Webhook     *client.Webhook
	Stats       *client.Stats
	LastFailure *failure
	Deliveries  []client.Delivery
	Since       string
}

func (u *UI) webhookPage(w http.ResponseWriter, r *http.Request, se *session) error {
	return u.showWebhook(w, r, se, r.PathValue("id"), shown{flash: doneText(r)}, nil)
}

// secretPage is a webhook's page with its signing secret and URL in full
// shown: after "Reveal secret", and where registering and rotating
// redirect to. A GET, so that a reload shows the same secret again and
// does nothing else; the secret is never in an address.
func (u *UI) secretPage(w http.ResponseWriter, r *http.Request, se *session) error {
	id := r.PathValue("id")
	sec, err := se.c.GetWebhookSecret(r.Context(), r.PathValue("project"), id)
	if err != nil {
		return err
	}
	flash := doneText(r)
	if flash == "" {
		flash = "The signing secret and the URL in full are shown below; leave this page to hide them."
	}
	return u.showWebhook(w, r, se, id, shown{flash: flash}, sec)
}

// showWebhook renders a webhook's page, with what s says of a form and,
// when given, its secret.
func (u *UI) showWebhook(w http.ResponseWriter, r *http.Request, se *session, id string, s shown, secret *client.Secret) error {
	project := r.PathValue("project")
	wh, err := se.c.GetWebhook(r.Context(), project, id)
	if err != nil {
		return err
	}
	st, err := se.c.GetWebhookStats(r.Context(), project, wh.ID, nil)
	if err != nil {
		return err
	}
	f, err := failureOf(r.Context(), se, project, st.LastFailure)
	if err != nil {
		return err
	}
	recent := &client.Page[client.Delivery]{}
	if se.Can(hookgate.CapDeliveries) {
		if recent, err = se.c.ListDeliveries(r.Context(), project, &client.DeliveryListOptions{Webhook: wh.ID, ListOptions: client.ListOptions{Limit: 10}}); err != nil {
			return err
		}
	}
	since := u.cfg.Now().Add(-24 * time.Hour).UTC().Format(formTimeLayout)
	if typed := s.form.Get("since"); typed != "" {
		since = typed
	}
	v := view{Title: "Webhook " + orID(wh), Session: se, Project: project, Flash: s.flash, Error: s.err, Form: s.form,
		Data: webhookView{Secret: secret, Webhook: wh, Stats: st, LastFailure: f, Deliveries: recent.Data, Since: since}}
	u.render(w, s.code(), "webhook", v)
	return nil
}

func orID(wh *client.Webhook) string {
	if wh.UID != "" {
		return wh.UID
	}
	return wh.ID
}

// webhookAction runs a button of a webhook's page and redirects to the
// page that shows its outcome; a refusal shows on the webhook's page.
func (u *UI) webhookAction(w http.ResponseWriter, r *http.Request, se *session) error {
	project, id, action := r.PathValue("project"), r.PathValue("id"), r.PathValue("action")
	ctx := r.Context()
	to := "webhooks/" + url.PathEscape(id)
	var (
		d   done
		err error
	)
	switch action {
	case "activate":
		_, err = se.c.ActivateWebhook(ctx, project, id)
		d = doneActivated
	case "deactivate":
		_, err = se.c.DeactivateWebhook(ctx, project, id)
		d = doneDeactivated
	case "test":
		_, err = se.c.TestWebhook(ctx, project, id)
		d = doneTested
	case "rotate-secret":
		_, err = se.c.RotateWebhookSecret(ctx, project, id, client.SecretRotation{})
		d, to = doneRotated, to+"/secret"
	case "recover":
		var since time.Time
		if since, err = formTime("since", r.PostFormValue("since")); err == nil {
			_, err = se.c.RecoverWebhook(ctx, project, id, since)
		}
		d = doneRecovering
	default:
		return &client.Error{Status: http.StatusNotFound, Title: "Not Found", Detail: "no such action: " + action}
	}
	if err != nil {
		rf, ok := refused(err)
		if !ok {
			return err
		}
		s := shown{status: rf.status, err: rf.message}
		if action == "recover" {
			s = shown{status: rf.status, form: formOf(r.PostForm, rf, fieldsNamed("since"))}
		}
		return u.showWebhook(w, r, se, id, s, nil)
	}
	redirectDone(w, r, project, to, d)
	return nil
}

type deliveriesView struct {
	Items []client.Delivery
	Names webhookNames
	// Unknown is set when a filter names a webhook or an event the
	// project does not have: the page says so instead of listing.
	Unknown    bool
	Status     string
	Webhook    string
	Event      string
	EventType  string
	Since      string // datetime-local values, in UTC
	Until      string
	Cursor     string
	NextCursor string
	Statuses   []string
	// Redrive is the query of the confirmation of a redrive of this
	// filter; "" when a redrive cannot take it, RedriveWhy saying why.
	Redrive, RedriveWhy string
}

func (u *UI) deliveriesPage(w http.ResponseWriter, r *http.Request, se *session) error {
	project := r.PathValue("project")
	q := r.URL.Query()
	v := deliveriesView{Status: q.Get("status"), Webhook: q.Get("webhook"), Event: q.Get("event"), EventType: q.Get("eventType"),
		Since: q.Get("since"), Until: q.Get("until"), Cursor: q.Get("cursor"),
		Statuses: []string{"pending", "succeeded", "failed", "paused", "cancelled", "exhausted"}}
	opts := &client.DeliveryListOptions{Webhook: v.Webhook, Event: v.Event, EventType: v.EventType,
		Status: client.DeliveryStatus(v.Status), ListOptions: client.ListOptions{Limit: 50, Cursor: v.Cursor}}
	for _, f := range []struct {
		name, v string
		to      *time.Time
	}{{"since", v.Since, &opts.Since}, {"until", v.Until, &opts.Until}} {
		if f.v == "" {
			continue
		}
		t, err := formTime(f.name, f.v)
		if err != nil {
			return err
		}
		*f.to = t
	}
	if msg, err := unknownFilter(r.Context(), se, project, v.Webhook, v.Event); err != nil || msg != "" {
		if err != nil {
			return err
		}
		v.Unknown = true
		u.render(w, http.StatusNotFound, "deliveries", view{Title: "Deliveries", Session: se, Project: project, Error: msg, Data: v})
		return nil
	}
	page, err := se.c.ListDeliveries(r.Context(), project, opts)
	if err != nil {
		return err
	}
	v.Items, v.NextCursor = page.Data, page.NextCursor
	v.Redrive, v.RedriveWhy = redriveQuery(&v)
	if v.Names, err = namesOf(r.Context(), se, project, webhookIDs(v.Items)...); err != nil {
		return err
	}
	u.render(w, http.StatusOK, "deliveries", view{Title: "Deliveries", Session: se, Project: project, Data: v})
	return nil
}

// unknownFilter says which of the explorer's webhook and event filters
// names nothing in the project ("" when both are found or empty): a list
// filtered by it would only say that no delivery matches.
func unknownFilter(ctx context.Context, se *session, project, webhook, event string) (string, error) {
	if webhook != "" {
		if _, err := se.c.GetWebhook(ctx, project, webhook); isNotFound(err) {
			return "No webhook “" + webhook + "” in this project: give a webhook's ID or uid (webhook).", nil
		} else if err != nil {
			return "", err
		}
	}
	if event != "" {
		if _, err := se.c.GetEvent(ctx, project, event); isNotFound(err) {
			return "No event “" + event + "” in this project: give an event's ID (event).", nil
		} else if err != nil {
			return "", err
		}
	}
	return "", nil
}

type deliveryView struct {
	Delivery *client.Delivery
	// Webhook is nil when it was deleted; WebhookName is how it is named.
	Webhook     *client.Webhook
	WebhookName string
	Attempts    []attemptView
	// CanRetry is whether the API would send it again now (its webhook is
	// active); RetryHint says why not.
	CanRetry  bool
	RetryHint string
}

// attemptView is an attempt with its failure told (Failed) and its
// request (nil when none was made).
type attemptView struct {
	client.Attempt
	Failure outcome
	Failed  bool
	Request *requestView
	// TraceLink opens the attempt's trace in the operator's tracing UI
	// (Config.TraceURL); "" without one, and for a portal session.
	TraceLink string
}

func (u *UI) deliveryPage(w http.ResponseWriter, r *http.Request, se *session) error {
	return u.showDelivery(w, r, se, shown{flash: doneText(r)})
}

// showDelivery renders a delivery's page, with what s says of a form.
func (u *UI) showDelivery(w http.ResponseWriter, r *http.Request, se *session, s shown) error {
	project, id := r.PathValue("project"), r.PathValue("id")
	ctx := r.Context()
	d, err := se.c.GetDelivery(ctx, project, id)
	if err != nil {
		return err
	}
	atts, err := gather(se.c.Attempts(ctx, project, id))
	if err != nil {
		return err
	}
	v := deliveryView{Delivery: d, WebhookName: shortID(d.WebhookID)}
	if v.Webhook, err = se.c.GetWebhook(ctx, project, d.WebhookID); isNotFound(err) {
		v.Webhook, v.RetryHint = nil, "Its webhook was deleted: it cannot be sent again."
	} else if err != nil {
		return err
	} else {
		v.WebhookName = listName(v.Webhook)
		v.CanRetry = v.Webhook.Status == client.WebhookActive
		if !v.CanRetry {
			v.RetryHint = "The webhook is " + string(v.Webhook.Status) + ". Activate the webhook to send it again."
		}
		if v.CanRetry && waitsBehindItsKey(*d) {
			v.CanRetry, v.RetryHint = false, waitingRetryHint
		}
	}
	var ev *client.Event
	if d.Kind != client.KindTrigger && d.EventID != "" {
		if ev, err = se.c.GetEvent(ctx, project, d.EventID); isNotFound(err) {
			ev = nil
		} else if err != nil {
			return err
		}
	}
	for _, a := range atts {
		av := attemptView{Attempt: a}
		av.Failure, av.Failed = describe(a)
		if u.cfg.TraceURL != "" && a.TraceID != "" && !se.Portal() {
			av.TraceLink = strings.NewReplacer("{traceId}", a.TraceID, "{spanId}", a.SpanID).Replace(u.cfg.TraceURL)
		}
		switch {
		case a.RequestURL == "":
		case a.RequestHeaders != nil || d.Kind == client.KindTrigger:
			av.Request = recordedRequest(a)
		default:
			av.Request = eventRequest(a, d, v.Webhook, ev, u.cfg.API.UserAgent())
		}
		v.Attempts = append(v.Attempts, av)
	}
	u.render(w, s.code(), "delivery", view{Title: "Delivery", Session: se, Project: project, Flash: s.flash, Error: s.err, Data: v})
	return nil
}

func (u *UI) retryDelivery(w http.ResponseWriter, r *http.Request, se *session) error {
	project, id := r.PathValue("project"), r.PathValue("id")
	if _, err := se.c.RetryDelivery(r.Context(), project, id); err != nil {
		s, ok := shownRefusal(err)
		if !ok {
			return err
		}
		return u.showDelivery(w, r, se, s)
	}
	redirectDone(w, r, project, "deliveries/"+url.PathEscape(id), doneRetried)
	return nil
}

// createWebhook registers a webhook from the webhooks page's form.
func (u *UI) createWebhook(w http.ResponseWriter, r *http.Request, se *session) error {
	project := r.PathValue("project")
	if r.PostForm.Has(fieldPreview) {
		f, p, status, err := preview(r.Context(), se, project, r.PostForm, nil, fieldDestPassword, fieldDestToken)
		if err != nil {
			return err
		}
		return u.showWebhooks(w, r, se, shown{status: status, form: f, preview: p})
	}
	in := client.WebhookCreate{URL: strings.TrimSpace(r.PostFormValue("url")), UID: strings.TrimSpace(r.PostFormValue("uid")),
		Description: strings.TrimSpace(r.PostFormValue("description")), Events: eventsOf(r.PostForm)}
	createExpressions(&in, r.PostForm)
	var wh *client.Webhook
	err := createDelivery(&in, r.PostForm)
	if err == nil {
		in.Destination, err = destinationOf(r.PostForm, in.URL)
	}
	if err == nil {
		wh, err = se.c.CreateWebhook(r.Context(), project, in)
	}
	if err != nil {
		rf, ok := refused(err)
		if !ok {
			return err
		}
		return u.showWebhooks(w, r, se, shown{status: rf.status, form: formOf(r.PostForm, rf,
			withDestinationFields(fieldsNamed(append(append([]string{"url", "uid", "events", "description"}, expressionFields...), deliveryFields...)...)), fieldDestPassword, fieldDestToken)})
	}
	to := "webhooks/" + url.PathEscape(wh.ID) + "/secret"
	if !se.Can(hookgate.CapSecrets) {
		to = "webhooks/" + url.PathEscape(wh.ID) // a portal session that may not see secrets
	}
	redirectDone(w, r, project, to, doneCreated)
	return nil
}

type eventsView struct {
	Items      []client.Event
	Type       string
	NextCursor string
}

// prettyJSON indents a JSON value for reading; a value that is not JSON
// is shown as it is.
func prettyJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Indent(&b, raw, "", "  "); err != nil {
		return string(raw)
	}
	return b.String()
}

// previewLength is how many characters of a payload an events list shows
// before it is opened.
const previewLength = 60

// previewJSON is the beginning of a JSON value on one line.
func previewJSON(raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return clip(strings.Join(strings.Fields(string(raw)), " "), previewLength)
	}
	return clip(b.String(), previewLength)
}

func (u *UI) eventsPage(w http.ResponseWriter, r *http.Request, se *session) error {
	project := r.PathValue("project")
	q := r.URL.Query()
	v := eventsView{Type: q.Get("type")}
	page, err := se.c.ListEvents(r.Context(), project, &client.EventListOptions{Type: v.Type, IncludeOperational: true,
		ListOptions: client.ListOptions{Limit: 25, Cursor: q.Get("cursor")}})
	if err != nil {
		return err
	}
	v.Items, v.NextCursor = page.Data, page.NextCursor
	u.render(w, http.StatusOK, "events", view{Title: "Events", Session: se, Project: project, Data: v})
	return nil
}

type platformsView struct {
	Items     []client.Platform
	Providers []string
	// Notice is what the API answered a registration that registered
	// nothing, for the platform it names.
	Notice *platformNotice
}

// platformNotice is a notice with its platform.
type platformNotice struct {
	notice
	Platform client.Platform
}

func (u *UI) platformsPage(w http.ResponseWriter, r *http.Request, se *session) error {
	return u.showPlatforms(w, r, se, shown{flash: doneText(r)})
}

// showPlatforms renders the platforms page, with what s says of a form.
func (u *UI) showPlatforms(w http.ResponseWriter, r *http.Request, se *session, s shown) error {
	project := r.PathValue("project")
	items, err := gather(se.c.Platforms(r.Context(), project))
	if err != nil {
		return err
	}
	v := platformsView{Items: items, Providers: u.cfg.API.Providers()}
	if done(r.URL.Query().Get("done")) == doneNotRegistered {
		if n := noticeOf(r, se); n != nil {
			for _, p := range items {
				if p.ID == n.Platform {
					// The notice says it all, and not in a success's colour.
					v.Notice, s.flash = &platformNotice{notice: *n, Platform: p}, ""
				}
			}
		}
	}
	u.render(w, s.code(), "platforms", view{Title: "Platforms", Session: se, Project: project, Flash: s.flash, Error: s.err, Form: s.form, Data: v})
	return nil
}

// createPlatform connects a platform from the platforms page's form.
func (u *UI) createPlatform(w http.ResponseWriter, r *http.Request, se *session) error {
	project := r.PathValue("project")
	creds := strings.TrimSpace(r.PostFormValue("credentials"))
	var err error
	if json.Valid([]byte(creds)) {
		_, err = se.c.CreatePlatform(r.Context(), project, client.PlatformCreate{Provider: r.PostFormValue("provider"),
			Name: strings.TrimSpace(r.PostFormValue("name")), Credentials: json.RawMessage(creds)})
	} else {
		err = &client.Error{Status: http.StatusBadRequest, Title: "Bad Request", Detail: `the credentials must be a JSON object, such as {"botToken": "…"}`, Parameter: "credentials"}
	}
	if err != nil {
		rf, ok := refused(err)
		if !ok {
			return err
		}
		return u.showPlatforms(w, r, se, shown{status: rf.status, form: formOf(r.PostForm, rf, fieldsNamed("provider", "name", "credentials"))})
	}
	redirectDone(w, r, project, "platforms", doneConnected)
	return nil
}

// registerPlatform registers the inbound URL with the platform, and says
// what the API answered: registered, or not, with the provider's
// instructions for giving it the URL by hand (a generic source, Slack
// without a configuration token).
func (u *UI) registerPlatform(w http.ResponseWriter, r *http.Request, se *session) error {
	project, id := r.PathValue("project"), r.PathValue("id")
	reg, err := se.c.RegisterPlatformWebhook(r.Context(), project, id)
	if err != nil {
		s, ok := shownRefusal(err)
		if !ok {
			return err
		}
		return u.showPlatforms(w, r, se, s)
	}
	if reg.Registered {
		redirectDone(w, r, project, "platforms", doneRegistered)
		return nil
	}
	var said struct {
		Instructions string `json:"instructions"`
	}
	_ = json.Unmarshal(reg.ProviderResponse, &said) // no instructions: the notice still gives the URL
	u.setNotice(w, se, notice{Platform: reg.PlatformID, InboundURL: reg.InboundURL, Instructions: said.Instructions})
	redirectDone(w, r, project, "platforms", doneNotRegistered)
	return nil
}

// formTimeLayout is the value of a datetime-local input; the pages read it
// as UTC.
const formTimeLayout = "2006-01-02T15:04"

// formTime reads a datetime-local field, naming it when it is not one.
func formTime(name, v string) (time.Time, error) {
	t, err := time.Parse(formTimeLayout, v)
	if err != nil {
		return time.Time{}, &client.Error{Status: http.StatusBadRequest, Title: "Bad Request", Detail: "give a time such as 2026-12-01T09:00 (UTC)", Parameter: name}
	}
	return t, nil
}

// gather collects every item an iterator yields, or its error.
func gather[T any](seq iter.Seq2[T, error]) ([]T, error) {
	var out []T
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
