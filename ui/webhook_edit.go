package ui

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hookgate/hookgate"
	"github.com/hookgate/hookgate/client"
)

// editView is the edit form of a webhook.
type editView struct {
	Webhook *client.Webhook
	// Secrets are the stored credentials that must be typed again when the
	// URL moves to another origin (the API refuses the move without them).
	Secrets []secretField
	// Redacted says the URL as shown holds "********" for credential
	// query values, which keep their stored values when left so.
	Redacted bool
}

// secretField is an input for a stored credential.
type secretField struct {
	// Field is the form's field; ID the input's id.
	Field, ID, Label string
}

// The form fields of credentials; a header's is headerField and its name.
const (
	fieldPassword     = "password"
	fieldClientSecret = "clientSecret"
	headerField       = "header:"
)

// secretsOf lists the credentials of wh a move to another origin needs
// again: the basic auth password, the OAuth2 client secret, and the value
// of every header that is not public.
func secretsOf(wh *client.Webhook) []secretField {
	var out []secretField
	switch wh.Auth.Type {
	case client.AuthBasic:
		out = append(out, secretField{Field: fieldPassword, Label: "Password (basic auth, user " + wh.Auth.Username + ")"})
	case client.AuthClientCredential:
		out = append(out, secretField{Field: fieldClientSecret, Label: "Client secret (OAuth2, client " + wh.Auth.ClientID + ")"})
	}
	names := make([]string, 0, len(wh.Headers))
	for k := range wh.Headers {
		names = append(names, k)
	}
	slices.Sort(names)
	public := hookgate.Webhook{PublicHeaders: wh.PublicHeaders}
	for _, k := range names {
		if !public.IsPublicHeader(k) {
			out = append(out, secretField{Field: headerField + k, Label: "Header " + k})
		}
	}
	for i := range out {
		out[i].ID = fmt.Sprintf("secret-%d", i)
	}
	return out
}

// secretNames are the fields of secrets, which a page never echoes.
func secretNames(secrets []secretField) []string {
	out := make([]string, len(secrets))
	for i, s := range secrets {
		out[i] = s.Field
	}
	return out
}

// editFieldOf maps the API's parameter to the edit form's field:
// auth.password and auth.clientSecret to theirs, headers.NAME to the
// header's, the rest by name.
func editFieldOf(wh *client.Webhook) func(param string) string {
	byName := withDestinationFields(fieldsNamed(append(append([]string{"url", "uid", "description", "events", "autoRecover"}, expressionFields...), deliveryFields...)...))
	return func(param string) string {
		switch param {
		case "auth.password":
			return fieldPassword
		case "auth.clientSecret":
			return fieldClientSecret
		}
		if h, ok := strings.CutPrefix(param, "headers."); ok {
			for _, s := range secretsOf(wh) {
				if name, ok := strings.CutPrefix(s.Field, headerField); ok && strings.EqualFold(name, h) {
					return s.Field
				}
			}
			return ""
		}
		return byName(param)
	}
}

// editPage is a webhook's edit form, filled with its settings.
func (u *UI) editPage(w http.ResponseWriter, r *http.Request, se *session) error {
	wh, err := se.c.GetWebhook(r.Context(), r.PathValue("project"), r.PathValue("id"))
	if err != nil {
		return err
	}
	catalog, err := catalogOf(r.Context(), se, r.PathValue("project"))
	if err != nil {
		return err
	}
	checked, typed := splitCatalog(wh.Events, catalog)
	f := &form{values: ownDelivery(wh)}
	for k, v := range map[string]string{"url": wh.URL, "uid": wh.UID, "description": wh.Description, "events": strings.Join(typed, ", ")} {
		f.values.Set(k, v)
	}
	f.values["eventType"] = checked
	f.values.Set("autoRecover", autoRecoverValue(wh.AutoRecover))
	if !se.Portal() {
		ownDestination(wh, f.values)
	}
	ownExpressions(wh, f.values)
	f.values.Set(fieldSampleEvent, defaultSample(wh.Events, catalog))
	return u.showEdit(w, r, se, wh, http.StatusOK, f, nil)
}

// showEdit renders the edit form f of wh, with the results p of its
// Preview (nil for none).
func (u *UI) showEdit(w http.ResponseWriter, r *http.Request, se *session, wh *client.Webhook, status int, f *form, p *previewView) error {
	project := r.PathValue("project")
	catalog, err := catalogOf(r.Context(), se, project)
	if err != nil {
		return err
	}
	ed, err := editorOf(r.Context(), se, project, p)
	if err != nil {
		return err
	}
	u.render(w, status, "webhook_edit", view{Title: "Edit webhook " + orID(wh), Session: se, Project: project, Form: f, Catalog: catalog, Editor: ed,
		Data: editView{Webhook: wh, Secrets: secretsOf(wh), Redacted: hookgate.HasRedactedQuery(wh.URL)}})
	return nil
}

// editWebhook sends the fields of the edit form that differ from the
// webhook's settings as a PATCH; what the API refuses shows next to its
// field, with what was typed (less the credentials).
func (u *UI) editWebhook(w http.ResponseWriter, r *http.Request, se *session) error {
	project := r.PathValue("project")
	wh, err := se.c.GetWebhook(r.Context(), project, r.PathValue("id"))
	if err != nil {
		return err
	}
	secret := append(secretNames(secretsOf(wh)), fieldDestPassword, fieldDestToken)
	if r.PostForm.Has(fieldPreview) {
		f, p, status, err := preview(r.Context(), se, project, r.PostForm, wh.Metadata, secret...)
		if err != nil {
			return err
		}
		return u.showEdit(w, r, se, wh, status, f, p)
	}
	to := "webhooks/" + url.PathEscape(wh.ID)
	p, changed, err := patchOf(wh, r.PostForm)
	if err == nil && !changed {
		redirectDone(w, r, project, to, doneUnchanged)
		return nil
	}
	if err == nil {
		_, err = se.c.UpdateWebhook(r.Context(), project, wh.ID, p)
	}
	if err != nil {
		rf, ok := refused(err)
		if !ok {
			return err
		}
		return u.showEdit(w, r, se, wh, rf.status, formOf(r.PostForm, rf, editFieldOf(wh), secret...), nil)
	}
	redirectDone(w, r, project, to, doneUpdated)
	return nil
}

// patchOf is the update the edit form asks for: the fields whose value
// differs from wh's, and the credentials typed (an empty credential field
// keeps the stored value), and the delivery settings that differ
// (patchDelivery). changed is false when there is nothing to send.
func patchOf(wh *client.Webhook, v url.Values) (p client.WebhookUpdate, changed bool, err error) {
	for _, f := range []struct {
		field, was string
		to         **string
	}{{"url", wh.URL, &p.URL}, {"uid", wh.UID, &p.UID}, {"description", wh.Description, &p.Description}} {
		if s := strings.TrimSpace(v.Get(f.field)); s != f.was {
			*f.to, changed = &s, true
		}
	}
	if ev := eventsOf(v); !sameSet(ev, wh.Events) {
		p.Events, changed = ev, true
	}
	a := wh.Auth // sent back as read: the API keeps the redacted values
	switch {
	case a.Type == client.AuthBasic && v.Get(fieldPassword) != "":
		a.Password = v.Get(fieldPassword)
		p.Auth, changed = &a, true
	case a.Type == client.AuthClientCredential && v.Get(fieldClientSecret) != "":
		a.ClientSecret = v.Get(fieldClientSecret)
		p.Auth, changed = &a, true
	}
	headers, typed := map[string]string{}, false
	for k, was := range wh.Headers {
		headers[k] = was // as read: "********" keeps the stored value
		if s := v.Get(headerField + k); s != "" {
			headers[k], typed = s, true
		}
	}
	if typed {
		p.Headers, changed = headers, true
	}
	if v.Has("autoRecover") {
		if to := v.Get("autoRecover"); to != autoRecoverValue(wh.AutoRecover) {
			switch to {
			case "true", "false":
				b := to == "true"
				p.AutoRecover = &b
			default: // the project's
				p.ClearAutoRecover = true
			}
			changed = true
		}
	}
	delivery, err := patchDelivery(&p, wh, v)
	if err != nil {
		return p, false, err
	}
	exprs := patchExpressions(&p, wh, v)
	dest, err := patchDestination(&p, wh, v)
	return p, changed || delivery || exprs || dest, err
}

// autoRecoverValue is the edit form's value of a webhook's own
// autoRecover: "true", "false", or "" for the project's.
func autoRecoverValue(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

// deleteView is the confirmation of a webhook's deletion.
type deleteView struct {
	Webhook *client.Webhook
}

// deletePage asks to confirm a webhook's deletion: a page of its own
// rather than a script's dialog, so that it works without JS.
func (u *UI) deletePage(w http.ResponseWriter, r *http.Request, se *session) error {
	return u.showDelete(w, r, se, shown{})
}

func (u *UI) showDelete(w http.ResponseWriter, r *http.Request, se *session, s shown) error {
	wh, err := se.c.GetWebhook(r.Context(), r.PathValue("project"), r.PathValue("id"))
	if err != nil {
		return err
	}
	u.render(w, s.code(), "webhook_delete", view{Title: "Delete webhook " + orID(wh), Session: se, Project: r.PathValue("project"), Error: s.err,
		Data: deleteView{Webhook: wh}})
	return nil
}

// deleteWebhook deletes a webhook, from its confirmation page.
func (u *UI) deleteWebhook(w http.ResponseWriter, r *http.Request, se *session) error {
	project := r.PathValue("project")
	if err := se.c.DeleteWebhook(r.Context(), project, r.PathValue("id")); err != nil {
		s, ok := shownRefusal(err)
		if !ok {
			return err
		}
		return u.showDelete(w, r, se, s)
	}
	redirectDone(w, r, project, "webhooks", doneDeleted)
	return nil
}

// sameSet reports whether a and b hold the same events, in any order: the
// edit form shows a webhook's catalog types apart from the rest.
func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, e := range a {
		if !slices.Contains(b, e) {
			return false
		}
	}
	return true
}
