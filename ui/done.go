package ui

import (
	"net/http"
	"net/url"
)

// done is what a form did, carried by its redirect as ?done=CODE to the
// page it lands on. The page shows the code's fixed text, never text from
// the URL, so a link cannot make a page say something the server did not.
type done string

// The forms' outcomes.
const (
	doneActivated     done = "activated"
	doneDeactivated   done = "deactivated"
	doneTested        done = "tested"
	doneRecovering    done = "recovering"
	doneRetried       done = "retried"
	doneConnected     done = "connected"
	doneRegistered    done = "registered"
	doneNotRegistered done = "not-registered"
	doneCreated       done = "created"
	doneRotated       done = "rotated"
	doneUpdated       done = "updated"
	doneUnchanged     done = "unchanged"
	doneDeleted       done = "deleted"
	doneRedriving     done = "redriving"
)

// doneTexts are the texts of the codes.
var doneTexts = map[done]string{
	doneActivated:     "Activated: paused deliveries resume.",
	doneDeactivated:   "Deactivated: pending deliveries wait, paused.",
	doneTested:        "Sent a webhook.test event: its delivery is listed below.",
	doneRecovering:    "Recovering: the deliveries failed since that time are queued again, and the missed ones created.",
	doneRetried:       "Queued for one more attempt now.",
	doneConnected:     "Connected: the platform is listed below.",
	doneRegistered:    "Registered Hookgate's inbound URL with the platform.",
	doneNotRegistered: "Not registered: this platform does not take its inbound URL from Hookgate. Give the URL to it yourself.",
	doneCreated:       "Registered. Give the receiver its signing secret, shown below.",
	doneRotated:       "Rotated: the new secret below signs now; the previous one keeps signing until the time shown.",
	doneUpdated:       "Saved: the webhook's settings below are the new ones.",
	doneUnchanged:     "Nothing to save: the form held the webhook's settings as they were.",
	doneDeleted:       "Deleted: the webhook is gone, and its pending and paused deliveries are cancelled.",
	doneRedriving:     "Redrive started: the deliveries it finds are queued again, a batch at a time.",
}

// redirectDone sends the browser to a page of the project, which says
// what was done.
func redirectDone(w http.ResponseWriter, r *http.Request, project, page string, d done) {
	http.Redirect(w, r, "/ui/p/"+url.PathEscape(project)+"/"+page+"?done="+url.QueryEscape(string(d)), http.StatusSeeOther)
}

// doneText is the text of the request's ?done= code; "" for no code or
// one the dashboard does not use.
func doneText(r *http.Request) string {
	return doneTexts[done(r.URL.Query().Get("done"))]
}
