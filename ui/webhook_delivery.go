package ui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/hookgate/hookgate/client"
)

// A webhook's own delivery settings in its create and edit forms: the
// retry schedule (comma-separated waits), the timeout of a request and
// the most attempts of a delivery. An empty field takes the project's or
// the server's. The dashboard checks nothing of them but that maxAttempts
// is a number: the API's checks are the rules, and its refusal shows next
// to the field it names.

// The form fields of the delivery settings, named as the API's fields.
const (
	fieldRetrySchedule = "retrySchedule"
	fieldTimeout       = "timeout"
	fieldMaxAttempts   = "maxAttempts"
)

// deliveryFields are the names of the Delivery fieldset's fields: the
// delivery settings and the ordering (webhook_ordering.go).
var deliveryFields = []string{fieldRetrySchedule, fieldTimeout, fieldMaxAttempts, fieldOrdering, fieldOrderingKey}

// typedAttempts reads the maxAttempts field: nil when empty.
func typedAttempts(v string) (*int, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return nil, &client.Error{Status: http.StatusBadRequest, Title: "Bad Request", Detail: "maxAttempts is a whole number, such as 5; empty for as many as the retry schedule gives", Parameter: fieldMaxAttempts}
	}
	return &n, nil
}

// createDelivery sets the delivery settings and the ordering typed in
// the registration form on in; the empty ones are left out.
func createDelivery(in *client.WebhookCreate, v url.Values) error {
	createOrdering(in, v)
	in.RetrySchedule = list(v.Get(fieldRetrySchedule))
	in.Timeout = strings.TrimSpace(v.Get(fieldTimeout))
	n, err := typedAttempts(v.Get(fieldMaxAttempts))
	if err != nil || n == nil {
		return err
	}
	if *n == 0 {
		// WebhookCreate leaves a 0 out, which would register the webhook
		// without a cap instead of refusing it: ask for the API's answer
		// to a cap of 0, the one the edit form gets.
		return errZeroAttempts
	}
	in.MaxAttempts = *n
	return nil
}

// errZeroAttempts is the refusal of a maxAttempts of 0 at registration,
// worded as the API words it in an update.
var errZeroAttempts = &client.Error{Status: http.StatusBadRequest, Title: "Bad Request", Detail: "maxAttempts must be at least 1", Parameter: fieldMaxAttempts}

// ownDelivery is wh's own delivery settings as the edit form shows them:
// empty where it takes the project's or the server's; and its ordering.
func ownDelivery(wh *client.Webhook) url.Values {
	v := ownOrdering(wh)
	v.Set(fieldRetrySchedule, strings.Join(wh.RetrySchedule, ", "))
	v.Set(fieldTimeout, "")
	v.Set(fieldMaxAttempts, "")
	if wh.Timeout != nil {
		v.Set(fieldTimeout, *wh.Timeout)
	}
	if wh.MaxAttempts != nil {
		v.Set(fieldMaxAttempts, strconv.Itoa(*wh.MaxAttempts))
	}
	return v
}

// patchDelivery adds to p the delivery settings typed that differ from
// wh's own, and the ordering (patchOrdering); an emptied field clears the
// webhook's own setting, and a field the form lacks leaves it. changed
// reports whether it added any.
func patchDelivery(p *client.WebhookUpdate, wh *client.Webhook, v url.Values) (changed bool, err error) {
	was, typed := ownDelivery(wh), url.Values{}
	for _, f := range deliveryFields {
		typed.Set(f, was.Get(f))
		if v.Has(f) {
			typed.Set(f, v.Get(f))
		}
	}
	v = typed
	if sched := list(v.Get(fieldRetrySchedule)); !slices.Equal(sched, list(was.Get(fieldRetrySchedule))) {
		p.RetrySchedule, changed = sched, true // empty: []string{}, which clears it
	}
	if t := strings.TrimSpace(v.Get(fieldTimeout)); t != was.Get(fieldTimeout) {
		if t == "" {
			p.ClearTimeout = true
		} else {
			p.Timeout = &t
		}
		changed = true
	}
	if typed := strings.TrimSpace(v.Get(fieldMaxAttempts)); typed != was.Get(fieldMaxAttempts) {
		n, err := typedAttempts(typed)
		if err != nil {
			return false, err
		}
		if n == nil {
			p.ClearMaxAttempts = true
		} else {
			p.MaxAttempts = n
		}
		changed = true
	}
	return patchOrdering(p, was, v) || changed, nil
}

// settingFrom says where a delivery setting in force comes from.
func settingFrom(from string) string {
	switch from {
	case "webhook":
		return "this webhook's own"
	case "project":
		return "the project's"
	case "server":
		return "the server's"
	}
	return from
}
